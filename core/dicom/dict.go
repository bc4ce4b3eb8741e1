package dicom

import (
	"sort"
	"sync"
)

//go:generate go run ./internal/gendict -standard ../../../shared/dicom-standard -out .

// DictEntry describes a public data element of PS3.6 (or a PS3.7 command
// element): its VR(s), value multiplicity, keyword, name and retired flag.
type DictEntry struct {
	Tag Tag
	// Mask selects the bits of a tag that must equal Tag for a repeating-group
	// entry such as (60xx,3000): 0xFF00FFFF. It is 0xFFFFFFFF for ordinary entries.
	Mask Tag
	// VR is the element's VR; for elements with several possible VRs (such as
	// "US or SS" or "OB or OW") it is the first, and VRs lists them all.
	VR      VR
	VRs     []VR
	VM      string // "1", "1-n", "2-2n", ...
	Keyword string
	Name    string
	Retired bool
}

// LookupTag returns the dictionary entry of t. Private tags are not in the
// dictionary (see PrivateDictionary); repeating groups (50xx, 60xx, 7Fxx and
// element ranges) are matched by mask. Group length tags (gggg,0000) of any
// group are reported as UL GroupLength.
func LookupTag(t Tag) (DictEntry, bool) {
	i := sort.Search(len(dictEntries), func(i int) bool { return dictEntries[i].Tag >= t })
	if i < len(dictEntries) && dictEntries[i].Tag == t {
		return dictEntries[i], true
	}
	for _, d := range dictMasked {
		if t&d.Mask == d.Tag {
			return d, true
		}
	}
	if t.Element() == 0 && !t.IsPrivate() {
		return DictEntry{Tag: t, Mask: 0xffffffff, VR: UL, VRs: []VR{UL}, VM: "1", Keyword: "GenericGroupLength", Name: "Group Length"}, true
	}
	return DictEntry{}, false
}

var keywordIndex = sync.OnceValue(func() map[string]Tag {
	m := make(map[string]Tag, len(dictEntries)+len(dictMasked))
	for _, d := range dictEntries {
		if d.Keyword != "" {
			m[d.Keyword] = d.Tag
		}
	}
	for _, d := range dictMasked {
		if _, ok := m[d.Keyword]; !ok && d.Keyword != "" {
			m[d.Keyword] = d.Tag
		}
	}
	return m
})

// LookupKeyword returns the tag whose keyword is kw ("PatientName"). For a
// repeating-group element it returns the first group's tag (6000,3000).
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
// order, followed by the repeating-group entries. The slice must not be modified.
func DictionaryEntries() []DictEntry {
	return append(append([]DictEntry(nil), dictEntries...), dictMasked...)
}
