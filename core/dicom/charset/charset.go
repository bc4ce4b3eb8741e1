package charset

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/pacsforge/pacs/core/dicom"
)

var (
	// ErrUnknownCharset reports a value of Specific Character Set that is not a
	// defined term of PS3.3 C.12.1.1.2, or defined terms combined in a way the
	// standard does not allow (a stand-alone set such as ISO_IR 192 together
	// with code extensions). New still returns a usable Codec with it.
	ErrUnknownCharset = errors.New("unknown specific character set")
	// ErrUnencodable reports a character that none of the Codec's character
	// sets can represent, or a string that is not valid UTF-8.
	ErrUnencodable = errors.New("character not representable in specific character set")
	// ErrInvalidBytes reports bytes that are not valid in the Codec's character
	// sets. Decode replaces them with U+FFFD and still returns the text.
	ErrInvalidBytes = errors.New("invalid bytes for specific character set")
)

var _ dicom.TextCodec = (*Codec)(nil)

// kind says how a Codec converts text.
type kind uint8

const (
	kindTable   kind = iota // single-byte sets, JIS X 0201 and ISO 2022 code extensions
	kindDefault             // ISO_IR 6 without code extensions
	kindUTF8                // ISO_IR 192
	kindGB18030             // GB18030
	kindGBK                 // GBK
)

// Codec implements dicom.TextCodec for one value of Specific Character Set
// (0008,0005). The zero Codec is not usable; build one with New. A Codec is
// immutable and safe for concurrent use.
type Codec struct {
	terms   []string
	kind    kind
	iso2022 bool    // escape sequences switch sets (PS3.5 §6.1.2.5)
	init0   *gset   // G0 at the start of a value, line, value or PN component
	init1   *gset   // G1 at those points; nil if none is designated
	sets    []*gset // non-ASCII sets in the order of the terms, for Encode
	name    string  // the terms joined by backslash, for messages
}

// term is one defined term of PS3.3 Tables C.12-2 to C.12-5.
type term struct {
	name    string
	iso2022 bool  // written "ISO 2022 ...": a code extension term
	g0, g1  *gset // sets the term designates; g0 nil means ASCII
	kind    kind  // kindTable, kindDefault or a stand-alone kind
}

var terms = []term{
	{name: "ISO_IR 6", kind: kindDefault},
	{name: "ISO_IR 100", g1: setLatin1},
	{name: "ISO_IR 101", g1: setLatin2},
	{name: "ISO_IR 109", g1: setLatin3},
	{name: "ISO_IR 110", g1: setLatin4},
	{name: "ISO_IR 144", g1: setCyrillic},
	{name: "ISO_IR 127", g1: setArabic},
	{name: "ISO_IR 126", g1: setGreek},
	{name: "ISO_IR 138", g1: setHebrew},
	{name: "ISO_IR 148", g1: setLatin5},
	{name: "ISO_IR 203", g1: setLatin9},
	{name: "ISO_IR 166", g1: setThai},
	{name: "ISO_IR 13", g0: setRomaji, g1: setKatakana},
	{name: "ISO_IR 192", kind: kindUTF8},
	{name: "GB18030", kind: kindGB18030},
	{name: "GBK", kind: kindGBK},
	{name: "ISO 2022 IR 6", iso2022: true},
	{name: "ISO 2022 IR 100", iso2022: true, g1: setLatin1},
	{name: "ISO 2022 IR 101", iso2022: true, g1: setLatin2},
	{name: "ISO 2022 IR 109", iso2022: true, g1: setLatin3},
	{name: "ISO 2022 IR 110", iso2022: true, g1: setLatin4},
	{name: "ISO 2022 IR 144", iso2022: true, g1: setCyrillic},
	{name: "ISO 2022 IR 127", iso2022: true, g1: setArabic},
	{name: "ISO 2022 IR 126", iso2022: true, g1: setGreek},
	{name: "ISO 2022 IR 138", iso2022: true, g1: setHebrew},
	{name: "ISO 2022 IR 148", iso2022: true, g1: setLatin5},
	{name: "ISO 2022 IR 203", iso2022: true, g1: setLatin9},
	{name: "ISO 2022 IR 166", iso2022: true, g1: setThai},
	{name: "ISO 2022 IR 13", iso2022: true, g0: setRomaji, g1: setKatakana},
	{name: "ISO 2022 IR 87", iso2022: true, g0: setJIS0208},
	{name: "ISO 2022 IR 159", iso2022: true, g0: setJIS0212},
	{name: "ISO 2022 IR 149", iso2022: true, g1: setKSX1001},
	{name: "ISO 2022 IR 58", iso2022: true, g1: setGB2312},
}

// termsByName maps each defined term, and a compact spelling of it (upper
// case without spaces, '_' and '-'), to its entry. The compact spellings let
// New read common misspellings such as "ISO-IR 100" or "ISO_IR100"; the
// multi-byte sets, which exist only with code extensions, are also found as
// "ISO_IR 87" and the like, and "UTF-8" as ISO_IR 192.
var termsByName = func() map[string]*term {
	m := make(map[string]*term, 3*len(terms))
	for i := range terms {
		t := &terms[i]
		m[t.name] = t
		m[compact(t.name)] = t
	}
	for _, n := range []string{"87", "159", "149", "58"} {
		m["ISOIR"+n] = m["ISO 2022 IR "+n]
	}
	m["UTF8"] = m["ISO_IR 192"]
	return m
}()

// compact returns s in upper case without spaces, underscores and hyphens.
func compact(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '_', '-':
			return -1
		}
		if r >= 'a' && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, s)
}

// lookupTerm returns the entry of the defined term s, read leniently.
func lookupTerm(s string) *term {
	if t, ok := termsByName[s]; ok {
		return t
	}
	return termsByName[compact(s)]
}

// cache holds the Codec and error New built for each distinct list of terms.
var cache sync.Map // string (terms joined by backslash) → cached

type cached struct {
	c   *Codec
	err error
}

// maxCached bounds the number of distinct term lists cached, so that files
// with random (0008,0005) values cannot grow memory without bound.
const maxCached = 1024

var cacheMu sync.Mutex // guards cacheCount
var cacheCount int

// New returns the Codec for the values of Specific Character Set (0008,0005),
// as read from a data set with padding removed (leading and trailing spaces
// are ignored). No values, or one empty value, mean the default repertoire
// (ISO_IR 6). Several values, or one value starting "ISO 2022", select the
// code extension technique of PS3.5 §6.1.2.5; an empty first value then
// stands for ISO 2022 IR 6.
//
// Unknown terms yield an error wrapping ErrUnknownCharset together with a
// usable Codec that reads them as ISO_IR 6 (or, among several values, skips
// them), so that reading can go on. New is cheap: Codecs are cached per
// distinct list of terms. The returned Codec is shared; it is immutable.
func New(specificCharacterSet []string) (*Codec, error) {
	key := strings.Join(specificCharacterSet, `\`)
	if len(specificCharacterSet) == 0 {
		key = "\x00" // not the key of one empty value
	}
	if v, ok := cache.Load(key); ok {
		e := v.(cached)
		return e.c, e.err
	}
	c, err := build(specificCharacterSet)
	cacheMu.Lock()
	if cacheCount < maxCached {
		if _, loaded := cache.LoadOrStore(key, cached{c, err}); !loaded {
			cacheCount++
		}
	}
	cacheMu.Unlock()
	return c, err
}

// build makes the Codec for the terms.
func build(values []string) (*Codec, error) {
	var errs []error
	c := &Codec{kind: kindTable, init0: setASCII}
	ts := make([]*term, len(values))
	c.terms = make([]string, len(values))
	for i, v := range values {
		v = strings.TrimSpace(v)
		c.terms[i] = v
		if v == "" {
			ts[i] = termsByName["ISO_IR 6"]
			if len(values) > 1 {
				ts[i] = termsByName["ISO 2022 IR 6"]
			}
			continue
		}
		if ts[i] = lookupTerm(v); ts[i] == nil {
			errs = append(errs, fmt.Errorf("%w: %q", ErrUnknownCharset, v))
			continue
		}
		c.terms[i] = ts[i].name
	}
	c.name = strings.Join(c.terms, `\`)

	if len(ts) == 0 || (len(ts) == 1 && (ts[0] == nil || !ts[0].iso2022)) {
		// One character set, no code extensions.
		switch t := firstTerm(ts); {
		case t == nil || t.kind == kindDefault:
			c.kind = kindDefault
		case t.kind != kindTable:
			c.kind = t.kind
		default:
			if t.g0 != nil {
				c.init0 = t.g0
			}
			c.init1 = t.g1
		}
		return c, errors.Join(errs...)
	}

	c.iso2022 = true
	for i, t := range ts {
		if t == nil {
			continue
		}
		if t.kind != kindTable && t.kind != kindDefault {
			errs = append(errs, fmt.Errorf("%w: %s cannot be used with code extensions", ErrUnknownCharset, t.name))
			if i == 0 {
				c.kind, c.iso2022 = t.kind, false
				return c, errors.Join(errs...)
			}
			continue
		}
		if i == 0 {
			if t.g0 != nil && t.g0.ascii {
				c.init0 = t.g0
			}
			c.init1 = t.g1
		}
		for _, s := range []*gset{t.g0, t.g1} {
			if s != nil && !s.ascii && !contains(c.sets, s) {
				c.sets = append(c.sets, s)
			}
		}
	}
	return c, errors.Join(errs...)
}

func firstTerm(ts []*term) *term {
	if len(ts) == 0 {
		return nil
	}
	return ts[0]
}

func contains(sets []*gset, s *gset) bool {
	for _, x := range sets {
		if x == s {
			return true
		}
	}
	return false
}

// Terms returns the values of Specific Character Set the Codec was built from,
// with known terms in their canonical spelling ("ISO_IR 100" for "ISO-IR 100").
// The caller may modify the returned slice.
func (c *Codec) Terms() []string { return append([]string(nil), c.terms...) }

// IsDefault reports whether the Codec is for the default repertoire (ISO_IR 6
// without code extensions), whose ASCII bytes need no conversion: a caller may
// then use value bytes as they are.
func (c *Codec) IsDefault() bool { return c.kind == kindDefault }

// String returns the terms joined by backslash, as in (0008,0005).
func (c *Codec) String() string { return c.name }

// isDelimiter reports whether the ASCII byte b ends a value or PN component for
// vr, where the initial character sets are active again (PS3.5 §6.1.2.5.3).
func isDelimiter(vr dicom.VR, b byte) bool {
	switch {
	case b < 0x20: // CR, LF, FF, TAB and other control characters
		return true
	case b == '\\':
		return vr.IsMultiValued()
	case b == '^' || b == '=':
		return vr == dicom.PN
	}
	return false
}
