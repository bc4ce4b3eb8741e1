package services

import (
	"bytes"
	"unicode/utf8"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/charset"
)

// responseCharset chooses the character set of each C-FIND response. The
// index yields text in UTF-8; a response is sent:
//
//  1. as it is, without Specific Character Set, when all its text is ASCII
//     (the default repertoire);
//  2. else in the query's Specific Character Set, when the identifier had
//     one and every value of the response can be encoded in it: the SCU
//     gets the character set it asked in;
//  3. else in the character set the entity's data was received with
//     (index.Match.CharacterSet), when every value can be encoded in it;
//  4. else in UTF-8, Specific Character Set "ISO_IR 192", which holds every
//     value.
//
// A response is encoded in one character set as a whole, sequence items
// included (they inherit it: an item's own Specific Character Set is
// dropped).
type responseCharset struct {
	query *charset.Codec // the identifier's character set; nil when none or not usable
}

// utf8Codec is the codec of ISO_IR 192.
var utf8Codec, _ = charset.New([]string{"ISO_IR 192"})

func newResponseCharset(identifier *dicom.Dataset) *responseCharset {
	rc := &responseCharset{}
	if terms := identifier.Strings(dicom.SpecificCharacterSet); len(terms) > 0 {
		if c, err := charset.New(terms); err == nil && !c.IsDefault() {
			rc.query = c
		}
	}
	return rc
}

// encode returns ds, a response as the index yields it, in the character
// set chosen by the rules of responseCharset; stored is the character set
// the entity was received with (index.Match.CharacterSet).
func (rc *responseCharset) encode(ds *dicom.Dataset, stored []string) *dicom.Dataset {
	if isASCII(ds) {
		return ds
	}
	if rc.query != nil {
		if out, ok := recode(ds, rc.query); ok {
			return out
		}
	}
	if c := storedCodec(stored); c != nil && c != rc.query {
		if out, ok := recode(ds, c); ok {
			return out
		}
	}
	if out, ok := recode(ds, utf8Codec); ok {
		return out
	}
	return ds // text that is not even UTF-8: sent as the index has it
}

// storedCodec returns the codec of a stored character set (charset.New keeps
// the codecs it made), nil for the default repertoire or one that is not
// usable.
func storedCodec(terms []string) *charset.Codec {
	if len(terms) == 0 {
		return nil
	}
	c, err := charset.New(terms)
	if err != nil || c.IsDefault() {
		return nil
	}
	return c
}

// recode returns a copy of ds, whose text is UTF-8, with the values of the
// character-set VRs encoded with c and Specific Character Set naming c;
// false if a value cannot be encoded in c.
func recode(ds *dicom.Dataset, c *charset.Codec) (*dicom.Dataset, bool) {
	out, ok := recodeItem(ds, c, 0)
	if !ok {
		return nil, false
	}
	if err := out.SetString(dicom.SpecificCharacterSet, c.Terms()...); err != nil {
		return nil, false
	}
	return out, true
}

// maxRecodeDepth bounds the nesting of sequences recode enters (the index
// keeps fewer levels).
const maxRecodeDepth = 64

func recodeItem(ds *dicom.Dataset, c *charset.Codec, depth int) (*dicom.Dataset, bool) {
	if depth > maxRecodeDepth {
		return nil, false
	}
	out := dicom.NewDataset(ds.Len())
	out.Codec = c
	for e := range ds.All() {
		n := *e
		switch {
		case depth > 0 && e.Tag == dicom.SpecificCharacterSet:
			continue
		case e.Items != nil:
			n.Items = make([]*dicom.Dataset, len(e.Items))
			for i, it := range e.Items {
				var ok bool
				if n.Items[i], ok = recodeItem(it, c, depth+1); !ok {
					return nil, false
				}
			}
		case e.VR.UsesCharset() && !asciiBytes(e.Value):
			if !utf8.Valid(e.Value) {
				return nil, false
			}
			b, err := c.Encode(e.VR, string(e.Value))
			if err != nil {
				return nil, false
			}
			if len(b)%2 == 1 {
				b = append(b, ' ')
			}
			n.Value = b
		}
		out.Append(n)
	}
	return out, true
}

// isASCII reports whether every text value of ds and of its items is
// ASCII.
func isASCII(ds *dicom.Dataset) bool {
	for e := range ds.All() {
		for _, it := range e.Items {
			if !isASCII(it) {
				return false
			}
		}
		if e.VR.IsText() && !asciiBytes(e.Value) {
			return false
		}
	}
	return true
}

func asciiBytes(b []byte) bool {
	return bytes.IndexFunc(b, func(r rune) bool { return r >= utf8.RuneSelf }) < 0
}
