package dicom

import (
	"fmt"
	"iter"
	"slices"
	"strconv"
)

// TextCodec converts values of the character-set-dependent VRs (SH LO ST LT PN
// UC UT) between a data set's Specific Character Set and UTF-8. Package charset
// provides one for every character set of PS3.3 C.12.1.1.2; nil means the default
// repertoire, whose bytes are used as they are.
type TextCodec interface {
	// Decode converts an encoded value (all its backslash-separated values, and
	// for PN all its component groups) to UTF-8. Bytes that cannot be decoded are
	// replaced by U+FFFD and reported in the error; the string is still usable.
	Decode(vr VR, raw []byte) (string, error)
	// Encode converts a UTF-8 value to the character set. Characters that the
	// set cannot represent are an error.
	Encode(vr VR, s string) ([]byte, error)
}

// Dataset is an ordered collection of elements, sorted by tag, each tag at most
// once (PS3.5 §7). The zero value is an empty data set ready to use.
type Dataset struct {
	elems []Element
	// Codec decodes and encodes text values; readers set it from Specific
	// Character Set (0008,0005), and items inherit it from their parent unless
	// they carry their own.
	Codec TextCodec
}

// NewDataset returns an empty data set with room for n elements.
func NewDataset(n int) *Dataset { return &Dataset{elems: make([]Element, 0, n)} }

// Len returns the number of elements at the top level.
func (ds *Dataset) Len() int { return len(ds.elems) }

// index returns the position of t, or where it would be inserted.
func (ds *Dataset) index(t Tag) (int, bool) {
	// Binary search; the common cases (append, lookup) are logarithmic.
	lo, hi := 0, len(ds.elems)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ds.elems[m].Tag < t {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(ds.elems) && ds.elems[lo].Tag == t
}

// Get returns the element with tag t, or nil. The pointer is valid until the
// data set is next modified.
func (ds *Dataset) Get(t Tag) *Element {
	if ds == nil {
		return nil
	}
	if i, ok := ds.index(t); ok {
		return &ds.elems[i]
	}
	return nil
}

// Contains reports whether ds has an element with tag t.
func (ds *Dataset) Contains(t Tag) bool { return ds.Get(t) != nil }

// Put adds e, replacing any element with the same tag.
func (ds *Dataset) Put(e Element) {
	if n := len(ds.elems); n == 0 || ds.elems[n-1].Tag < e.Tag {
		ds.elems = append(ds.elems, e)
		return
	}
	i, ok := ds.index(e.Tag)
	if ok {
		ds.elems[i] = e
		return
	}
	ds.elems = slices.Insert(ds.elems, i, e)
}

// Append adds e after the last element if its tag is greater than every tag in
// ds, and reports false (adding nothing) otherwise. Decoders use it to keep the
// first of duplicated or out-of-order elements visible to their caller.
func (ds *Dataset) Append(e Element) bool {
	if n := len(ds.elems); n > 0 && ds.elems[n-1].Tag >= e.Tag {
		return false
	}
	ds.elems = append(ds.elems, e)
	return true
}

// Delete removes the element with tag t and reports whether there was one.
func (ds *Dataset) Delete(t Tag) bool {
	i, ok := ds.index(t)
	if ok {
		ds.elems = slices.Delete(ds.elems, i, i+1)
	}
	return ok
}

// DeleteFunc removes every top-level element for which del returns true.
func (ds *Dataset) DeleteFunc(del func(*Element) bool) {
	ds.elems = slices.DeleteFunc(ds.elems, func(e Element) bool { return del(&e) })
}

// All iterates over the top-level elements in tag order. The data set must not
// be modified during the iteration.
func (ds *Dataset) All() iter.Seq[*Element] {
	return func(yield func(*Element) bool) {
		if ds == nil {
			return
		}
		for i := range ds.elems {
			if !yield(&ds.elems[i]) {
				return
			}
		}
	}
}

// At returns the i-th element in tag order (0 <= i < Len()).
func (ds *Dataset) At(i int) *Element { return &ds.elems[i] }

// Clone returns a deep copy of ds, sharing no memory with it.
func (ds *Dataset) Clone() *Dataset {
	if ds == nil {
		return nil
	}
	c := &Dataset{elems: make([]Element, len(ds.elems)), Codec: ds.Codec}
	for i := range ds.elems {
		c.elems[i] = ds.elems[i].Clone()
	}
	return c
}

// Merge copies every element of other into ds (deep copies), replacing
// elements with the same tag. Sequences are replaced whole, not merged item by
// item.
func (ds *Dataset) Merge(other *Dataset) {
	for e := range other.All() {
		ds.Put(e.Clone())
	}
}

// String returns the first value of a text element, decoded and trimmed, or ""
// if it is absent or empty.
func (ds *Dataset) String(t Tag) string {
	e := ds.Get(t)
	if e == nil {
		return ""
	}
	v := e.Strings(ds.Codec)
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// Strings returns all values of a text element, decoded and trimmed, or nil.
func (ds *Dataset) Strings(t Tag) []string {
	e := ds.Get(t)
	if e == nil {
		return nil
	}
	return e.Strings(ds.Codec)
}

// Int returns the first value of an integer element (binary or IS), and false
// if it is absent, empty or not an integer.
func (ds *Dataset) Int(t Tag) (int64, bool) {
	e := ds.Get(t)
	if e == nil {
		return 0, false
	}
	v, err := e.Ints()
	if len(v) == 0 || (err != nil && len(v) == 0) {
		return 0, false
	}
	return v[0], true
}

// Ints returns all values of an integer element.
func (ds *Dataset) Ints(t Tag) ([]int64, error) {
	e := ds.Get(t)
	if e == nil {
		return nil, fmt.Errorf("dicom: %s: %w", t, ErrNotFound)
	}
	return e.Ints()
}

// Float returns the first value of a numeric element, and false if it is
// absent, empty or not a number.
func (ds *Dataset) Float(t Tag) (float64, bool) {
	e := ds.Get(t)
	if e == nil {
		return 0, false
	}
	v, _ := e.Floats()
	if len(v) == 0 {
		return 0, false
	}
	return v[0], true
}

// Floats returns all values of a numeric element.
func (ds *Dataset) Floats(t Tag) ([]float64, error) {
	e := ds.Get(t)
	if e == nil {
		return nil, fmt.Errorf("dicom: %s: %w", t, ErrNotFound)
	}
	return e.Floats()
}

// Bytes returns the encoded value of an element, or nil.
func (ds *Dataset) Bytes(t Tag) []byte {
	if e := ds.Get(t); e != nil {
		return e.Value
	}
	return nil
}

// Items returns the items of a sequence element, or nil.
func (ds *Dataset) Items(t Tag) []*Dataset {
	if e := ds.Get(t); e != nil {
		return e.Items
	}
	return nil
}

// Tags returns the values of an AT element.
func (ds *Dataset) Tags(t Tag) ([]Tag, error) {
	e := ds.Get(t)
	if e == nil {
		return nil, fmt.Errorf("dicom: %s: %w", t, ErrNotFound)
	}
	return e.Tags()
}

// vrFor returns the VR of t from the dictionary, for setters.
func vrFor(t Tag) (VR, error) {
	if d, ok := LookupTag(t); ok && d.VR != NoVR {
		return d.VR, nil
	}
	return NoVR, fmt.Errorf("dicom: %s: VR unknown (not in the dictionary); use Put with an explicit VR", t)
}

// SetString sets a text element to the given values (joined with backslash,
// padded to even length, encoded with ds.Codec for character-set VRs). The VR
// comes from the dictionary. Numeric VRs accept decimal text too.
func (ds *Dataset) SetString(t Tag, values ...string) error { return ds.set(t, values, ds.Codec) }

// SetInts sets an integer element (US SS UL SL SV UV IS, or AT as raw tags).
func (ds *Dataset) SetInts(t Tag, values ...int64) error { return ds.set(t, values, nil) }

// SetFloats sets a numeric element (FL FD OF OD DS).
func (ds *Dataset) SetFloats(t Tag, values ...float64) error { return ds.set(t, values, nil) }

// set encodes value with the dictionary VR of t and puts the element.
func (ds *Dataset) set(t Tag, value any, tc TextCodec) error {
	vr, err := vrFor(t)
	if err != nil {
		return err
	}
	e, err := NewElement(t, vr, value, tc)
	if err != nil {
		return err
	}
	ds.Put(e)
	return nil
}

// SetBytes sets the encoded value of an element; vr NoVR takes the dictionary's.
// The slice is kept, not copied.
func (ds *Dataset) SetBytes(t Tag, vr VR, value []byte) error {
	if vr == NoVR {
		var err error
		if vr, err = vrFor(t); err != nil {
			return err
		}
	}
	ds.Put(Element{Tag: t, VR: vr, Value: value})
	return nil
}

// SetTags sets an AT element.
func (ds *Dataset) SetTags(t Tag, values ...Tag) error {
	e, err := NewElement(t, AT, values, nil)
	if err != nil {
		return err
	}
	ds.Put(e)
	return nil
}

// SetItems sets a sequence element to the given items (kept, not copied).
func (ds *Dataset) SetItems(t Tag, items ...*Dataset) {
	if items == nil {
		items = []*Dataset{}
	}
	ds.Put(Element{Tag: t, VR: SQ, Items: items})
}

// formatDS formats f in at most 16 characters, as a DS value must be.
func formatDS(f float64) string {
	for prec := 16; prec > 0; prec-- {
		s := strconv.FormatFloat(f, 'g', prec, 64)
		if len(s) <= 16 {
			return s
		}
	}
	return strconv.FormatFloat(f, 'g', 1, 64)
}
