package dicom

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Rules reported in Violation.Rule.
const (
	RuleLength    = "length"     // a value, or the whole element, is too long or not a multiple of the VR's width
	RuleCharset   = "charset"    // a character outside the VR's repertoire, or bytes the character set cannot decode
	RuleSyntax    = "syntax"     // the value does not have the VR's form (a date that is no date, an IS out of range)
	RuleVM        = "vm"         // the number of values does not match the dictionary's value multiplicity
	RuleVR        = "vr"         // the VR is invalid or not one the dictionary allows for the tag
	RulePadding   = "padding"    // the wrong padding byte: UI padded with space, other text padded with NUL
	RuleOddLength = "odd-length" // the value has an odd number of bytes
)

// MaxLongValueLength is the largest value length of the VRs with a 32-bit
// length field (PS3.5 Table 6.2-1: 2^32-2 bytes, since 2^32-1 means undefined).
const MaxLongValueLength = 1<<32 - 2

// maxShortValueLength is the largest even length that fits the 16-bit length
// field of the other VRs in explicit VR (PS3.5 Table 7.1-2).
const maxShortValueLength = 0xfffe

// ErrInvalidValue is wrapped by the errors of ValidateValue and ValidateQueryValue.
var ErrInvalidValue = errors.New("dicom: invalid value")

// Violation is one way in which an element breaks the encoding rules of
// PS3.5 §6.2 (Table 6.2-1) or §6.4. Msg describes the problem without quoting
// the value, so violations can be logged without leaking patient data.
type Violation struct {
	// Path locates the element in its data set: "(0040,0100)[0].(0008,0060)".
	Path string
	Tag  Tag
	VR   VR
	// Index is the number of the offending value (from 0), or -1 when the rule
	// concerns the whole element.
	Index int
	// Rule is one of the Rule* constants.
	Rule string
	Msg  string
}

// String formats v as "(0008,0060) CS value 0: charset: ...".
func (v Violation) String() string {
	if v.Index >= 0 {
		return fmt.Sprintf("%s %s value %d: %s: %s", v.Path, v.VR, v.Index, v.Rule, v.Msg)
	}
	return fmt.Sprintf("%s %s: %s: %s", v.Path, v.VR, v.Rule, v.Msg)
}

// Validate checks e against the rules of its VR (PS3.5 §6.2): the length of
// each value (in characters after decoding with tc for SH LO ST LT PN UC UT, in
// bytes otherwise), its character repertoire and syntax, odd lengths, wrong
// padding bytes, and for binary VRs a length that is a whole number of values.
// tc decodes the character-set VRs (nil: the bytes must be ASCII or UTF-8).
// Trailing spaces are taken as insignificant padding and do not count toward
// a value's length. Sequences are not entered (see Dataset.Validate), nor are
// encapsulated values; a bulk reference is checked for its length only. Value
// multiplicity needs the dictionary and is checked by Dataset.Validate. It
// returns nil when e is valid.
func (e *Element) Validate(tc TextCodec) []Violation {
	var out []Violation
	validateElement(e, tc, func(index int, rule, msg string) {
		out = append(out, Violation{Path: e.Tag.String(), Tag: e.Tag, VR: e.VR, Index: index, Rule: rule, Msg: msg})
	})
	return out
}

// Validate checks every element of ds and, recursively, of its items, as
// Element.Validate does (items use their own Codec, else their parent's), and
// adds the dictionary's checks: for public tags, that the VR is one the
// dictionary allows (UN is accepted) and that the number of values matches its
// value multiplicity (PS3.5 §6.4; an empty value is always allowed); for private
// elements, the same against the private dictionary (see RegisterPrivate), and
// that Private Creator elements are LO. Items nested deeper than MaxWalkDepth
// are reported, not entered. Violations come in walk order; nil means valid.
func (ds *Dataset) Validate() []Violation {
	var out []Violation
	ds.validate(make(Path, 0, 8), ds.Codec, &out)
	return out
}

func (ds *Dataset) validate(prefix Path, tc TextCodec, out *[]Violation) {
	if ds == nil {
		return
	}
	for i := range ds.elems {
		e := &ds.elems[i]
		start := len(*out)
		report := func(index int, rule, msg string) {
			*out = append(*out, Violation{Tag: e.Tag, VR: e.VR, Index: index, Rule: rule, Msg: msg})
		}
		vm := validateElement(e, tc, report)
		ds.checkDictionary(e, vm, report)
		if len(*out) > start {
			p := append(prefix, PathStep{Tag: e.Tag, Index: -1}).String()
			for j := start; j < len(*out); j++ {
				(*out)[j].Path = p
			}
		}
		if len(e.Items) == 0 {
			continue
		}
		if len(prefix)+1 >= MaxWalkDepth {
			report(-1, RuleSyntax, fmt.Sprintf("items nested deeper than %d levels are not checked", MaxWalkDepth))
			(*out)[len(*out)-1].Path = append(prefix, PathStep{Tag: e.Tag, Index: -1}).String()
			continue
		}
		for k, item := range e.Items {
			itc := tc
			if item != nil && item.Codec != nil {
				itc = item.Codec
			}
			item.validate(append(prefix, PathStep{Tag: e.Tag, Index: k}), itc, out)
		}
	}
}

// checkDictionary reports a VR the dictionary does not allow for e and a value
// count (vm, or -1 when unknown) that breaks its value multiplicity.
func (ds *Dataset) checkDictionary(e *Element, vm int, report func(int, string, string)) {
	var vrs []VR
	var vmRule string
	switch {
	case e.Tag.IsPrivateCreator():
		if e.VR != LO && e.VR != UN {
			report(-1, RuleVR, fmt.Sprintf("a Private Creator element is LO, not %s", e.VR))
		}
		return
	case e.Tag.IsPrivate():
		p, ok := ds.LookupPrivateTag(e.Tag)
		if !ok {
			return
		}
		vrs, vmRule = []VR{p.VR}, p.VM
	default:
		d, ok := LookupTag(e.Tag)
		if !ok {
			return
		}
		vrs, vmRule = d.VRs, d.VM
		if len(vrs) == 0 {
			vrs = []VR{d.VR}
		}
	}
	if !e.VR.Valid() || e.VR == UN || (len(vrs) == 1 && vrs[0] == NoVR) {
		return
	}
	if !slices.Contains(vrs, e.VR) {
		report(-1, RuleVR, fmt.Sprintf("the dictionary gives %s, not %s", vrNames(vrs), e.VR))
		return
	}
	if vm <= 0 || e.VR == SQ {
		return
	}
	if ok, known := vmAllows(vmRule, vm); known && !ok {
		report(-1, RuleVM, fmt.Sprintf("%d values, the dictionary allows %s", vm, vmRule))
	}
}

func vrNames(vrs []VR) string {
	names := make([]string, len(vrs))
	for i, v := range vrs {
		names[i] = v.String()
	}
	return strings.Join(names, " or ")
}

// vmAllows reports whether n values satisfy the value multiplicity vm of
// PS3.6 ("1", "1-3", "1-n", "2-2n"); known is false when vm has none of these
// forms.
func vmAllows(vm string, n int) (ok, known bool) {
	lo, hi, found := strings.Cut(vm, "-")
	least, err := strconv.Atoi(lo)
	if err != nil || least < 0 {
		return false, false
	}
	if !found {
		return n == least, true
	}
	if !strings.HasSuffix(hi, "n") {
		most, err := strconv.Atoi(hi)
		if err != nil {
			return false, false
		}
		return n >= least && n <= most, true
	}
	step := 1
	if k := strings.TrimSuffix(hi, "n"); k != "" {
		if step, err = strconv.Atoi(k); err != nil || step <= 0 {
			return false, false
		}
	}
	return n >= least && n%step == 0, true
}

// validateElement checks e and returns the number of values it holds (-1 when
// it cannot tell: sequences, encapsulated and bulk values).
func validateElement(e *Element, tc TextCodec, report func(index int, rule, msg string)) int {
	vr := e.VR
	switch {
	case !vr.Valid():
		report(-1, RuleVR, "the element has no valid VR")
		return -1
	case e.Fragments != nil:
		return -1
	case e.Bulk != nil:
		checkLength(vr, e.Bulk.Length, report)
		return -1
	case vr == SQ || e.Items != nil:
		return -1
	}
	v := e.Value
	checkLength(vr, int64(len(v)), report)
	if !vr.IsText() {
		return e.VM()
	}
	if n := len(v); n > 0 {
		switch last := v[n-1]; {
		case vr == UI && last == ' ':
			report(-1, RulePadding, "UI is padded with NUL, not space")
		case vr != UI && last == 0:
			report(-1, RulePadding, "text is padded with space, not NUL")
		}
	}
	var s string
	if tc != nil && vr.UsesCharset() {
		var err error
		if s, err = tc.Decode(vr, v); err != nil {
			report(-1, RuleCharset, fmt.Sprintf("cannot be decoded in the character set: %v", err))
		}
	} else {
		s = string(v)
	}
	s = strings.TrimRight(s, " \x00")
	if s == "" {
		return 0
	}
	if !vr.IsMultiValued() {
		checkValue(vr, s, false, func(rule, msg string) { report(0, rule, msg) })
		return 1
	}
	n := 0
	for part := range strings.SplitSeq(s, `\`) {
		i := n
		if vr == UI && strings.HasSuffix(part, "\x00") {
			report(i, RulePadding, "only the last UI value is padded with NUL")
		}
		checkValue(vr, part, false, func(rule, msg string) { report(i, rule, msg) })
		n++
	}
	return n
}

// checkLength reports an odd length, a binary length that is not a whole
// number of values, and lengths the VR's length field cannot hold.
func checkLength(vr VR, n int64, report func(int, string, string)) {
	ok := true
	if n%2 == 1 {
		report(-1, RuleOddLength, fmt.Sprintf("the value has odd length %d", n))
		ok = false
	}
	w := int64(vr.ByteWidth())
	if vr == AT {
		w = 4
	}
	if ok && w > 1 && n%w != 0 {
		report(-1, RuleLength, fmt.Sprintf("length %d is not a multiple of %d, the size of one %s value", n, w, vr))
		ok = false
	}
	switch {
	case vr.HasLongLength() && n > MaxLongValueLength:
		report(-1, RuleLength, fmt.Sprintf("length %d exceeds %d bytes", n, int64(MaxLongValueLength)))
	case !vr.HasLongLength() && n > maxShortValueLength:
		report(-1, RuleLength, fmt.Sprintf("length %d exceeds %d bytes, the most a 16-bit length field holds", n, maxShortValueLength))
	}
}
