package dicom

import (
	"errors"
	"fmt"
	"sync"
)

// The Private Creator elements (gggg,0010-00FF) each reserve a block of 256
// elements (gggg,bb00-bbFF) for one creator (PS3.5 §7.8.1).
const (
	FirstPrivateBlock = 0x10
	LastPrivateBlock  = 0xff
)

var (
	// ErrNotPrivate is returned for a group that is not a private group: an even
	// group, or one of 0001, 0003, 0005, 0007 and FFFF.
	ErrNotPrivate = errors.New("dicom: not a private group")
	// ErrNoFreeBlock is returned when all 240 private blocks of a group are in use.
	ErrNoFreeBlock = errors.New("dicom: no free private block")
)

func isPrivateGroup(group uint16) bool { return NewTag(group, 0).IsPrivate() }

// PrivateCreator returns the value of the Private Creator element
// (group,00block), decoded and trimmed, or "" if there is none or group and
// block are not a private group and a block 10-FF. A creator read as UN (from
// implicit VR) is decoded as LO.
func (ds *Dataset) PrivateCreator(group uint16, block uint8) string {
	if !isPrivateGroup(group) || block < FirstPrivateBlock {
		return ""
	}
	return ds.creatorValue(ds.Get(NewTag(group, uint16(block))))
}

func (ds *Dataset) creatorValue(e *Element) string {
	if e == nil || e.Value == nil {
		return ""
	}
	lo := Element{Tag: e.Tag, VR: LO, Value: e.Value}
	v := lo.Strings(ds.Codec)
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// creatorIs reports whether the Private Creator element e holds creator
// (trimmed). Printable ASCII, the usual case, is compared without decoding.
func (ds *Dataset) creatorIs(e *Element, creator string) bool {
	raw := trimPadding(e.Value, LO)
	for _, c := range raw {
		if c < 0x20 || c > 0x7e {
			return ds.creatorValue(e) == creator
		}
	}
	return string(raw) == creator
}

// FindPrivateBlock returns the lowest block of group reserved by creator
// (compared exactly, after removing insignificant spaces), and false if no
// block is.
func (ds *Dataset) FindPrivateBlock(group uint16, creator string) (block uint8, ok bool) {
	if !isPrivateGroup(group) || ds == nil {
		return 0, false
	}
	creator = TrimValue(creator, LO)
	if creator == "" {
		return 0, false
	}
	i, _ := ds.index(NewTag(group, FirstPrivateBlock))
	for ; i < len(ds.elems) && ds.elems[i].Tag <= NewTag(group, LastPrivateBlock); i++ {
		if ds.creatorIs(&ds.elems[i], creator) {
			return uint8(ds.elems[i].Tag.Element()), true
		}
	}
	return 0, false
}

// privateBlock returns the block reserved by creator in group, or the lowest
// free block with isNew true. A block is free when neither its Private Creator
// element nor any element of its range is present.
func (ds *Dataset) privateBlock(group uint16, creator string) (block uint8, isNew bool, err error) {
	if !isPrivateGroup(group) {
		return 0, false, fmt.Errorf("dicom: group %04x: %w", group, ErrNotPrivate)
	}
	creator = TrimValue(creator, LO)
	if creator == "" {
		return 0, false, fmt.Errorf("dicom: group %04x: a private creator cannot be empty", group)
	}
	if err := ValidateValue(LO, creator); err != nil {
		return 0, false, fmt.Errorf("dicom: group %04x: private creator: %w", group, err)
	}
	if b, ok := ds.FindPrivateBlock(group, creator); ok {
		return b, false, nil
	}
	var used [256]bool
	i, _ := ds.index(NewTag(group, 0))
	for ; i < len(ds.elems) && ds.elems[i].Tag.Group() == group; i++ {
		switch el := ds.elems[i].Tag.Element(); {
		case el >= FirstPrivateBlock && el <= LastPrivateBlock:
			used[el] = true
		case el >= FirstPrivateBlock<<8:
			used[el>>8] = true
		}
	}
	for b := FirstPrivateBlock; b <= LastPrivateBlock; b++ {
		if !used[b] {
			return uint8(b), true, nil
		}
	}
	return 0, false, fmt.Errorf("dicom: group %04x: %w", group, ErrNoFreeBlock)
}

// ReservePrivateBlock returns the block of group reserved by creator, reserving
// the lowest free block (10-FF) with a new LO Private Creator element if there
// is none. A block whose range already holds elements without a creator is not
// taken. Errors wrap ErrNotPrivate, ErrNoFreeBlock, or report a creator that is
// empty or not a valid LO value.
func (ds *Dataset) ReservePrivateBlock(group uint16, creator string) (uint8, error) {
	b, isNew, err := ds.privateBlock(group, creator)
	if err != nil || !isNew {
		return b, err
	}
	if err := ds.putCreator(group, b, creator); err != nil {
		return 0, err
	}
	return b, nil
}

func (ds *Dataset) putCreator(group uint16, block uint8, creator string) error {
	e, err := NewElement(NewTag(group, uint16(block)), LO, TrimValue(creator, LO), ds.Codec)
	if err != nil {
		return err
	}
	ds.Put(e)
	return nil
}

// PrivateTag returns the tag (group,bbxx) of the element at elementOffset xx in
// the block bb that creator has reserved, and false if creator has no block.
func (ds *Dataset) PrivateTag(group uint16, creator string, elementOffset uint8) (Tag, bool) {
	b, ok := ds.FindPrivateBlock(group, creator)
	if !ok {
		return 0, false
	}
	return privateTag(group, b, elementOffset), true
}

func privateTag(group uint16, block, offset uint8) Tag {
	return NewTag(group, uint16(block)<<8|uint16(offset))
}

// SetPrivate puts a private element at elementOffset in creator's block of
// group, reserving the block as ReservePrivateBlock does; value is encoded as
// NewElement does, with ds.Codec. It returns the element's tag. Nothing is
// changed when an error is returned.
func (ds *Dataset) SetPrivate(group uint16, creator string, elementOffset uint8, vr VR, value any) (Tag, error) {
	b, isNew, err := ds.privateBlock(group, creator)
	if err != nil {
		return 0, err
	}
	t := privateTag(group, b, elementOffset)
	e, err := NewElement(t, vr, value, ds.Codec)
	if err != nil {
		return 0, err
	}
	if isNew {
		if err := ds.putCreator(group, b, creator); err != nil {
			return 0, err
		}
	}
	ds.Put(e)
	return t, nil
}

// PrivateEntry describes a private data element of one creator: the element
// at ElementOffset (the low byte) of the block that Creator reserves in Group.
type PrivateEntry struct {
	Creator       string
	Group         uint16
	ElementOffset uint8
	VR            VR
	VM            string
	Keyword       string
	Name          string
}

type privateKey struct {
	creator string
	group   uint16
	offset  uint8
}

// privateDict is the private dictionary: a few well-known entries, plus those
// registered with RegisterPrivate.
var privateDict = struct {
	sync.RWMutex
	m map[privateKey]PrivateEntry
}{m: make(map[privateKey]PrivateEntry)}

func init() { RegisterPrivate(wellKnownPrivate...) }

// wellKnownPrivate are private elements of common vendors, as documented in
// their conformance statements and carried by dcmtk's and pydicom's private
// dictionaries.
var wellKnownPrivate = []PrivateEntry{
	{Creator: "SIEMENS CSA HEADER", Group: 0x0029, ElementOffset: 0x08, VR: CS, VM: "1", Keyword: "CSAImageHeaderType", Name: "CSA Image Header Type"},
	{Creator: "SIEMENS CSA HEADER", Group: 0x0029, ElementOffset: 0x09, VR: LO, VM: "1", Keyword: "CSAImageHeaderVersion", Name: "CSA Image Header Version"},
	{Creator: "SIEMENS CSA HEADER", Group: 0x0029, ElementOffset: 0x10, VR: OB, VM: "1", Keyword: "CSAImageHeaderInfo", Name: "CSA Image Header Info"},
	{Creator: "SIEMENS CSA HEADER", Group: 0x0029, ElementOffset: 0x18, VR: CS, VM: "1", Keyword: "CSASeriesHeaderType", Name: "CSA Series Header Type"},
	{Creator: "SIEMENS CSA HEADER", Group: 0x0029, ElementOffset: 0x19, VR: LO, VM: "1", Keyword: "CSASeriesHeaderVersion", Name: "CSA Series Header Version"},
	{Creator: "SIEMENS CSA HEADER", Group: 0x0029, ElementOffset: 0x20, VR: OB, VM: "1", Keyword: "CSASeriesHeaderInfo", Name: "CSA Series Header Info"},
	{Creator: "SIEMENS MR HEADER", Group: 0x0019, ElementOffset: 0x0a, VR: US, VM: "1", Keyword: "NumberOfImagesInMosaic", Name: "Number Of Images In Mosaic"},
	{Creator: "SIEMENS MR HEADER", Group: 0x0019, ElementOffset: 0x0c, VR: IS, VM: "1", Keyword: "SiemensBValue", Name: "B Value"},
	{Creator: "SIEMENS MR HEADER", Group: 0x0019, ElementOffset: 0x0e, VR: FD, VM: "3", Keyword: "DiffusionGradientDirection", Name: "Diffusion Gradient Direction"},
	{Creator: "GEMS_IDEN_01", Group: 0x0009, ElementOffset: 0x01, VR: LO, VM: "1", Keyword: "GEFullFidelity", Name: "Full Fidelity"},
	{Creator: "GEMS_IDEN_01", Group: 0x0009, ElementOffset: 0x02, VR: SH, VM: "1", Keyword: "GESuiteID", Name: "Suite ID"},
	{Creator: "Philips Imaging DD 001", Group: 0x2001, ElementOffset: 0x03, VR: FL, VM: "1", Keyword: "PhilipsDiffusionBFactor", Name: "Diffusion B-Factor"},
	{Creator: "Philips Imaging DD 001", Group: 0x2001, ElementOffset: 0x0a, VR: IS, VM: "1", Keyword: "PhilipsSliceNumberMR", Name: "Slice Number MR"},
}

// RegisterPrivate adds entries to the private dictionary, replacing entries
// with the same creator, group and offset. It panics on an entry with an empty
// creator, a group that is not private or an invalid VR: the dictionary is
// program data. Safe for concurrent use with LookupPrivate.
func RegisterPrivate(entries ...PrivateEntry) {
	for _, p := range entries {
		if TrimValue(p.Creator, LO) == "" || !isPrivateGroup(p.Group) || !p.VR.Valid() {
			panic(fmt.Sprintf("dicom: RegisterPrivate: invalid entry %q (%04x,xx%02x) %s", p.Creator, p.Group, p.ElementOffset, p.VR))
		}
	}
	privateDict.Lock()
	defer privateDict.Unlock()
	for _, p := range entries {
		p.Creator = TrimValue(p.Creator, LO)
		privateDict.m[privateKey{p.Creator, p.Group, p.ElementOffset}] = p
	}
}

// LookupPrivate returns the private dictionary's entry for the element at
// offset in the block that creator reserves in group. Safe for concurrent use.
func LookupPrivate(creator string, group uint16, offset uint8) (PrivateEntry, bool) {
	privateDict.RLock()
	defer privateDict.RUnlock()
	p, ok := privateDict.m[privateKey{TrimValue(creator, LO), group, offset}]
	return p, ok
}

// LookupPrivateTag returns the private dictionary's entry for the private
// element t of ds, whose creator it reads from ds; false if t is not a private
// data element, its block has no creator in ds, or the entry is unknown.
func (ds *Dataset) LookupPrivateTag(t Tag) (PrivateEntry, bool) {
	ct, ok := t.PrivateCreator()
	if !ok {
		return PrivateEntry{}, false
	}
	creator := ds.PrivateCreator(t.Group(), uint8(ct.Element()))
	if creator == "" {
		return PrivateEntry{}, false
	}
	return LookupPrivate(creator, t.Group(), uint8(t.Element()))
}
