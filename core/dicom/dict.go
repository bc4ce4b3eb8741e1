package dicom

import "sync"

//go:generate go run ./internal/gendict -standard ../../../shared/dicom-standard -out .

// DictEntry describes a public data element of PS3.6 (or a PS3.7 command
// element): its VR(s), value multiplicity, keyword, name and retired flag.
type DictEntry struct {
	// Tag is the element's tag; for a repeating entry such as (60xx,3000)
	// it is the first tag of the range (6000,3000).
	Tag Tag
	// Mask selects the bits of a tag that identify the entry: t matches when
	// t&Mask == Tag&Mask. It is 0xFFFFFFFF for ordinary entries, 0xFF01FFFF for
	// the repeating groups (50xx, 60xx, 7Fxx: even groups only, PS3.5 §7.6) and,
	// for example, 0xFFFFFF00 for (0020,31xx).
	Mask Tag
	// VR is the element's VR; for elements with several possible VRs (such as
	// "US or SS" or "OB or OW") it is the first, and VRs lists them all. Items
	// and delimiters (FFFE,eeee) have NoVR and no VRs. VRs is shared by many
	// entries and must not be modified.
	VR      VR
	VRs     []VR
	VM      string // "1", "1-n", "2-2n", ...
	Keyword string // as in PS3.6, e.g. "PatientName"; a few start in lower case ("dBdt")
	Name    string // as in PS3.6, e.g. "Patient's Name"
	Retired bool
}

// genericGroupLength is the entry reported for a group length (gggg,0000)
// that the dictionary does not list by name.
var genericGroupLength = DictEntry{Mask: 0xffffffff, VR: UL, VRs: []VR{UL}, VM: "1", Keyword: "GenericGroupLength", Name: "Group Length"}

// LookupTag returns the dictionary entry of t. Private tags are not in the
// dictionary: their meaning depends on the Private Creator. Repeating entries
// (50xx, 60xx and 7Fxx groups, element ranges such as (0020,31xx)) are matched
// by mask after the single-tag entries; their Tag field is the first tag of
// the range. Group length tags (gggg,0000) of a non-private group that the
// dictionary does not name are reported as UL GenericGroupLength with Tag t.
// LookupTag does not allocate and is safe for concurrent use.
func LookupTag(t Tag) (DictEntry, bool) {
	if t.IsPrivate() {
		return DictEntry{}, false
	}
	lo, hi := 0, len(dictTags)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if dictTags[m] < t {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(dictTags) && dictTags[lo] == t {
		return dictEntries[lo], true
	}
	if t.Element() == 0 {
		d := genericGroupLength
		d.Tag = t
		return d, true
	}
	b := maskedBuckets[t>>24]
	for i := b.lo; i < b.hi; i++ {
		if d := &dictMasked[i]; t&d.Mask == d.Tag&d.Mask {
			return *d, true
		}
	}
	return DictEntry{}, false
}

// dictTags holds the tags of dictEntries, so that the binary search of
// LookupTag stays within a few cache lines.
var dictTags = func() []Tag {
	ts := make([]Tag, len(dictEntries))
	for i, d := range dictEntries {
		ts[i] = d.Tag
	}
	return ts
}()

// maskedBuckets indexes dictMasked by the high byte of the group: the range
// of entries that can match a tag with that byte. An entry whose mask leaves
// bits of the high byte free is put in every bucket.
var maskedBuckets = func() (bs [256]struct{ lo, hi int }) {
	for hb := range bs {
		bs[hb].lo = len(dictMasked)
		for i, d := range dictMasked {
			if Tag(hb)<<24&d.Mask == d.Tag&d.Mask&0xff000000 {
				bs[hb].lo = min(bs[hb].lo, i)
				bs[hb].hi = i + 1
			}
		}
		bs[hb].lo = min(bs[hb].lo, bs[hb].hi)
	}
	return bs
}()

var keywordIndex = sync.OnceValue(func() map[string]Tag {
	m := make(map[string]Tag, len(dictEntries)+len(dictMasked))
	for _, list := range [][]DictEntry{dictEntries, dictMasked} {
		for _, d := range list {
			if _, ok := m[d.Keyword]; !ok && d.Keyword != "" {
				m[d.Keyword] = d.Tag
			}
		}
	}
	return m
})

// LookupKeyword returns the tag whose keyword is kw ("PatientName"), as
// spelled in PS3.6 (case-sensitive). For a repeating element it returns the
// first tag of the range: (6000,3000) for "OverlayData". Safe for concurrent use.
func LookupKeyword(kw string) (Tag, bool) {
	t, ok := keywordIndex()[kw]
	return t, ok
}

// Keyword returns the keyword of t, or "" if t is not in the dictionary.
func (t Tag) Keyword() string {
	d, _ := LookupTag(t)
	return d.Keyword
}

// DictionaryEntries returns every non-repeating entry of the dictionary in tag
// order, followed by the repeating entries in order of their first tag. The
// slice is a new copy; the VRs slices of its entries are shared and must not
// be modified.
func DictionaryEntries() []DictEntry {
	return append(append([]DictEntry(nil), dictEntries...), dictMasked...)
}
