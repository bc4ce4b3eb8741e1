package dicom

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
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

// ValidateValue checks one value of vr, as decoded (UTF-8) and split at
// backslash, against PS3.5 Table 6.2-1: length (characters for SH LO ST LT PN
// UC UT, bytes otherwise), character repertoire and syntax. Trailing spaces
// are insignificant padding; a trailing NUL is allowed only on UI. Text of
// binary VRs (US "12", FD "1.5", AT "(0010,0010)") is checked for range and
// form; OB, OW, OD, OF, OL, OV, UN and SQ accept anything. The error wraps
// ErrInvalidValue and names the rule broken, never the value.
func ValidateValue(vr VR, value string) error { return validateOne(vr, value, false) }

// ValidateQueryValue is ValidateValue for a key of a C-FIND identifier (PS3.4
// §C.2.2.2): DA, TM and DT also take ranges ("20240101-", "-1200",
// "20240101-20240131"), with the longer limits of Table 6.2-1 (18, 28 and 54
// bytes), and AE CS LO LT PN SH ST UC UR UT also take the wildcards * and ?.
func ValidateQueryValue(vr VR, value string) error { return validateOne(vr, value, true) }

func validateOne(vr VR, value string, query bool) error {
	var err error
	checkValue(vr, value, query, func(rule, msg string) {
		if err == nil {
			err = fmt.Errorf("%w: %s %s: %s", ErrInvalidValue, vr, rule, msg)
		}
	})
	return err
}

// maxChars returns the maximum length of one value of vr: characters for the
// character-set VRs (per component group for PN), bytes for the others.
func maxChars(vr VR, query bool) int {
	switch vr {
	case DA:
		if query {
			return 18
		}
		return 8
	case TM:
		if query {
			return 28
		}
		return 14
	case DT:
		if query {
			return 54
		}
		return 26
	case UC, UR, UT:
		return MaxLongValueLength
	}
	return vr.MaxLength()
}

// checkValue reports, by rule, what is wrong with the single value v of vr:
// at most one problem per rule.
func checkValue(vr VR, v string, query bool, report func(rule, msg string)) {
	switch {
	case vr == UI:
		t := strings.TrimRight(v, "\x00")
		if strings.HasSuffix(t, " ") {
			report(RulePadding, "UI is padded with NUL, not space")
		}
		v = strings.TrimRight(t, " ")
	case strings.HasSuffix(v, "\x00") && vr.IsText():
		report(RulePadding, "text is padded with space, not NUL")
		v = strings.TrimRight(v, " \x00")
	default:
		v = strings.TrimRight(v, " ")
	}
	if !vr.IsText() {
		checkBinaryText(vr, v, report)
		return
	}
	if max := maxChars(vr, query); max > 0 {
		if vr == PN {
			for g := range strings.SplitSeq(v, "=") {
				if n := utf8.RuneCountInString(g); n > max {
					report(RuleLength, fmt.Sprintf("a component group of %d characters exceeds %d", n, max))
					break
				}
			}
		} else if n := valueLen(vr, v); n > max {
			unit := "bytes"
			if vr.UsesCharset() {
				unit = "characters"
			}
			report(RuleLength, fmt.Sprintf("%d %s exceed %d", n, unit, max))
		}
	}
	if v == "" {
		return
	}
	if vr.UsesCharset() && !utf8.ValidString(v) {
		report(RuleCharset, "bytes that are not UTF-8, and no character set to decode them")
	} else if c, at, ok := badChar(vr, v, query); !ok {
		report(RuleCharset, fmt.Sprintf("%s at offset %d is not allowed in %s", describeChar(c), at, vr))
	}
	if msg := checkSyntax(vr, v, query); msg != "" {
		report(RuleSyntax, msg)
	}
}

func valueLen(vr VR, v string) int {
	if vr.UsesCharset() {
		return utf8.RuneCountInString(v)
	}
	return len(v)
}

func describeChar(c rune) string {
	if c < 0x20 || c == 0x7f || c == utf8.RuneError || c >= 0x80 && c < 0xa0 {
		return fmt.Sprintf("character %U", c)
	}
	return fmt.Sprintf("character %q", c)
}

// isWildcard reports whether c is a C-FIND wildcard allowed for vr (PS3.4
// §C.2.2.2.4).
func isWildcard(vr VR, c rune, query bool) bool {
	if !query || (c != '*' && c != '?') {
		return false
	}
	switch vr {
	case AE, CS, LO, LT, PN, SH, ST, UC, UR, UT:
		return true
	}
	return false
}

// badChar returns the first character of v outside vr's repertoire, its byte
// offset, and false; or true when every character is allowed.
func badChar(vr VR, v string, query bool) (rune, int, bool) {
	for i, c := range v {
		if isWildcard(vr, c, query) || allowedChar(vr, c, query) {
			continue
		}
		return c, i, false
	}
	return 0, 0, true
}

func isDigit(c rune) bool { return c >= '0' && c <= '9' }

func allowedChar(vr VR, c rune, query bool) bool {
	switch vr {
	case AE:
		return c >= 0x20 && c < 0x7f && c != '\\'
	case AS:
		return isDigit(c) || c == 'D' || c == 'W' || c == 'M' || c == 'Y'
	case CS:
		return c >= 'A' && c <= 'Z' || isDigit(c) || c == ' ' || c == '_'
	case DA:
		return isDigit(c) || query && c == '-'
	case DS:
		return isDigit(c) || strings.ContainsRune("+-Ee. ", c)
	case DT:
		return isDigit(c) || c == '.' || c == '+' || c == '-'
	case IS:
		return isDigit(c) || c == '+' || c == '-' || c == ' '
	case TM:
		return isDigit(c) || c == '.' || query && c == '-'
	case UI:
		return isDigit(c) || c == '.'
	case UR:
		return c < 0x80 && (c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || isDigit(c) ||
			strings.ContainsRune("-._~:/?#[]@!$&'()*+,;=% ", c))
	case LO, SH, UC, PN:
		return c != '\\' && (c >= 0x20 && c != 0x7f || c == 0x1b)
	case LT, ST, UT:
		return (c >= 0x20 && c != 0x7f || c == '\r' || c == '\n' || c == '\f' || c == '\t' || c == 0x1b)
	}
	return true
}

// checkSyntax returns what is wrong with the form of v (trailing padding
// removed, characters already checked), or "".
func checkSyntax(vr VR, v string, query bool) string {
	switch vr {
	case AS:
		if len(v) != 4 || !allDigits(v[:3]) || !strings.ContainsRune("DWMY", rune(v[3])) {
			return "not an age of the form nnnD, nnnW, nnnM or nnnY"
		}
	case DA:
		if query {
			return checkRange(v, checkDA)
		}
		return checkDA(v)
	case DS:
		return checkDS(v)
	case DT:
		if query {
			return checkDTRange(v)
		}
		return checkDT(v)
	case IS:
		return checkIS(v)
	case TM:
		if query {
			return checkRange(v, checkTM)
		}
		return checkTM(v)
	case UI:
		return checkUID(v)
	case UR:
		return checkURI(v)
	case PN:
		groups := strings.Split(v, "=")
		if len(groups) > 3 {
			return fmt.Sprintf("%d component groups, at most 3 are allowed", len(groups))
		}
		for _, g := range groups {
			if n := strings.Count(g, "^") + 1; n > 5 {
				return fmt.Sprintf("%d components in a group, at most 5 are allowed", n)
			}
		}
	}
	return ""
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// atoi2 decodes the two digits at s[i:i+2]; s is known to be all digits.
func atoi2(s string, i int) int { return int(s[i]-'0')*10 + int(s[i+1]-'0') }

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// checkDate checks the digits of YYYY[MM[DD]] (len 4, 6 or 8).
func checkDate(s string) string {
	if !allDigits(s) {
		return "a date has digits only"
	}
	if len(s) >= 6 {
		if m := atoi2(s, 4); m < 1 || m > 12 {
			return fmt.Sprintf("month %02d is out of range", m)
		}
	}
	if len(s) >= 8 {
		y, _ := strconv.Atoi(s[:4])
		m, d := atoi2(s, 4), atoi2(s, 6)
		if d < 1 || d > daysIn(y, m) {
			return fmt.Sprintf("day %02d is out of range for month %02d", d, m)
		}
	}
	return ""
}

// checkDA checks a date YYYYMMDD (PS3.5 Table 6.2-1).
func checkDA(s string) string {
	if len(s) != 8 {
		return "a date has the form YYYYMMDD"
	}
	return checkDate(s)
}

// checkTM checks a time HH[MM[SS[.F{1,6}]]]; SS may be 60 (leap second).
func checkTM(s string) string {
	hms, frac, hasFrac := strings.Cut(s, ".")
	if hasFrac && (len(hms) != 6 || len(frac) < 1 || len(frac) > 6 || !allDigits(frac)) {
		return "a fraction of a second needs HHMMSS and 1 to 6 digits"
	}
	if (len(hms) != 2 && len(hms) != 4 && len(hms) != 6) || !allDigits(hms) {
		return "a time has the form HH[MM[SS[.FFFFFF]]]"
	}
	return checkClock(hms)
}

// checkClock checks HH[MM[SS]] digits.
func checkClock(s string) string {
	if h := atoi2(s, 0); h > 23 {
		return fmt.Sprintf("hour %02d is out of range", h)
	}
	if len(s) >= 4 {
		if m := atoi2(s, 2); m > 59 {
			return fmt.Sprintf("minute %02d is out of range", m)
		}
	}
	if len(s) >= 6 {
		if sec := atoi2(s, 4); sec > 60 {
			return fmt.Sprintf("second %02d is out of range", sec)
		}
	}
	return ""
}

// checkDT checks a date time YYYY[MM[DD[HH[MM[SS[.F{1,6}]]]]]][&ZZXX].
func checkDT(s string) string {
	if i := strings.LastIndexAny(s, "+-"); i >= 0 {
		off := s[i:]
		if i < 4 || len(off) != 5 || !allDigits(off[1:]) {
			return "a UTC offset has the form &ZZXX"
		}
		h, m := atoi2(off, 1), atoi2(off, 3)
		if m > 59 || (off[0] == '-' && h*60+m > 12*60) || (off[0] == '+' && h*60+m > 14*60) {
			return "a UTC offset is within -1200 and +1400"
		}
		s = s[:i]
	}
	main, frac, hasFrac := strings.Cut(s, ".")
	if hasFrac && (len(main) != 14 || len(frac) < 1 || len(frac) > 6 || !allDigits(frac)) {
		return "a fraction of a second needs YYYYMMDDHHMMSS and 1 to 6 digits"
	}
	if len(main) < 4 || len(main) > 14 || len(main)%2 == 1 || !allDigits(main) {
		return "a date time has the form YYYY[MM[DD[HH[MM[SS[.FFFFFF]]]]]][&ZZXX]"
	}
	if msg := checkDate(main[:min(len(main), 8)]); msg != "" {
		return msg
	}
	if len(main) > 8 {
		return checkClock(main[8:])
	}
	return ""
}

// checkRange checks a C-FIND range "a-b", "a-" or "-b" of values that contain
// no '-' themselves (DA, TM), or a single value.
func checkRange(s string, one func(string) string) string {
	lo, hi, isRange := strings.Cut(s, "-")
	if !isRange {
		return one(s)
	}
	if lo == "" && hi == "" || strings.Contains(hi, "-") {
		return "a range has the form a-b, a- or -b"
	}
	for _, x := range []string{lo, hi} {
		if x == "" {
			continue
		}
		if msg := one(x); msg != "" {
			return msg
		}
	}
	return ""
}

// checkDTRange checks a DT query value: a single date time or a range, whose
// separating '-' must be told apart from the '-' of a UTC offset.
func checkDTRange(s string) string {
	first := checkDT(s)
	if first == "" {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '-' {
			continue
		}
		lo, hi := s[:i], s[i+1:]
		if lo == "" && hi == "" {
			break
		}
		if (lo == "" || checkDT(lo) == "") && (hi == "" || checkDT(hi) == "") {
			return ""
		}
	}
	return first
}

// checkDS checks a decimal string: a fixed or floating point number, with
// leading and trailing spaces but none embedded.
func checkDS(s string) string {
	t := strings.TrimLeft(s, " ")
	if strings.ContainsRune(t, ' ') {
		return "a decimal string has no embedded spaces"
	}
	if _, err := strconv.ParseFloat(t, 64); err != nil {
		return "not a decimal number"
	}
	return ""
}

// checkIS checks an integer string in the range -2^31 to 2^31-1.
func checkIS(s string) string {
	t := strings.TrimLeft(s, " ")
	if strings.ContainsRune(t, ' ') {
		return "an integer string has no embedded spaces"
	}
	digits := strings.TrimPrefix(strings.TrimPrefix(t, "+"), "-")
	if digits == "" || !allDigits(digits) {
		return "not a decimal integer"
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < math.MinInt32 || n > math.MaxInt32 {
		return "an integer string is within -2^31 and 2^31-1"
	}
	return ""
}

// checkUID checks the form of a UID (PS3.5 §9.1): components of digits
// separated by '.', none empty, none with a leading zero.
func checkUID(s string) string {
	for c := range strings.SplitSeq(s, ".") {
		switch {
		case c == "":
			return "a UID has no empty component"
		case len(c) > 1 && c[0] == '0':
			return "a UID component has no leading zero"
		}
	}
	return ""
}

// validUID reports whether s is a UID (PS3.5 §9.1): at most 64 bytes, digits
// and dots only, no empty component and no leading zero. Padding must have
// been removed.
func validUID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	if _, _, ok := badChar(UI, s, false); !ok {
		return false
	}
	return checkUID(s) == ""
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// checkURI checks a URI or URL (RFC 3986): no leading or embedded spaces and a
// percent sign only before two hexadecimal digits.
func checkURI(s string) string {
	if strings.HasPrefix(s, " ") {
		return "a URI has no leading spaces"
	}
	if strings.ContainsRune(s, ' ') {
		return "a URI has no embedded spaces"
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && (i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2])) {
			return "a percent sign is followed by two hexadecimal digits"
		}
	}
	return ""
}

// checkBinaryText checks a binary VR's value given as text.
func checkBinaryText(vr VR, v string, report func(rule, msg string)) {
	v = strings.TrimSpace(v)
	var bits int
	signed := true
	switch vr {
	case US:
		bits, signed = 16, false
	case UL:
		bits, signed = 32, false
	case UV:
		bits, signed = 64, false
	case SS:
		bits = 16
	case SL:
		bits = 32
	case SV:
		bits = 64
	case FL, FD:
		size := 64
		if vr == FL {
			size = 32
		}
		if _, err := strconv.ParseFloat(v, size); err != nil {
			report(RuleSyntax, fmt.Sprintf("not a number in the range of %s", vr))
		}
		return
	case AT:
		if _, err := ParseTag(v); err != nil {
			report(RuleSyntax, "not a tag of the form (gggg,eeee)")
		}
		return
	default:
		return
	}
	var err error
	if signed {
		_, err = strconv.ParseInt(v, 10, bits)
	} else {
		_, err = strconv.ParseUint(v, 10, bits)
	}
	if err != nil {
		report(RuleSyntax, fmt.Sprintf("not an integer in the range of %s", vr))
	}
}
