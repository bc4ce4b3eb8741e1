package part10

import (
	"fmt"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/codec"
	"github.com/pacsforge/pacs/core/dicom/uid"
)

// Meta tags (group 0002).
const (
	tagGroupLength       dicom.Tag = 0x00020000
	tagVersion           dicom.Tag = 0x00020001
	tagMediaSOPClass     dicom.Tag = 0x00020002
	tagMediaSOPInstance  dicom.Tag = 0x00020003
	tagTransferSyntax    dicom.Tag = 0x00020010
	tagImplClassUID      dicom.Tag = 0x00020012
	tagImplVersionName   dicom.Tag = 0x00020013
	tagSourceAE          dicom.Tag = 0x00020016
	tagSOPClassUID       dicom.Tag = 0x00080016
	tagSOPInstanceUID    dicom.Tag = 0x00080018
	tagSpecificCharset   dicom.Tag = 0x00080005
	tagPixelData         dicom.Tag = 0x7fe00010
	tagFirstNonMetaGroup dicom.Tag = 0x00030000
)

// NewMeta returns File Meta Information for an instance of sopClassUID with
// sopInstanceUID, encoded in transferSyntaxUID, carrying Forge PACS's
// implementation class UID and version name (uid.ImplementationClassUID).
func NewMeta(sopClassUID, sopInstanceUID, transferSyntaxUID string) *dicom.Dataset {
	m := dicom.NewDataset(8)
	m.Put(dicom.Element{Tag: tagVersion, VR: dicom.OB, Value: []byte{0, 1}})
	putUI(m, tagMediaSOPClass, sopClassUID)
	putUI(m, tagMediaSOPInstance, sopInstanceUID)
	putUI(m, tagTransferSyntax, transferSyntaxUID)
	putUI(m, tagImplClassUID, uid.ImplementationClassUID)
	m.Put(dicom.Element{Tag: tagImplVersionName, VR: dicom.SH, Value: dicom.PadValue([]byte(uid.ImplementationVersionName), dicom.SH)})
	return m
}

func putUI(m *dicom.Dataset, t dicom.Tag, v string) {
	m.Put(dicom.Element{Tag: t, VR: dicom.UI, Value: dicom.PadValue([]byte(v), dicom.UI)})
}

// TransferSyntaxUID returns the Transfer Syntax UID (0002,0010) of meta,
// without padding, or "".
func TransferSyntaxUID(meta *dicom.Dataset) string { return meta.String(tagTransferSyntax) }

// prepareMeta returns a copy of meta completed for writing ds in syntax s:
// version 00\01, the SOP class and instance from ds when missing, the transfer
// syntax of s, our implementation identity, and a recomputed group length.
// Elements outside group 0002 are dropped.
func prepareMeta(meta, ds *dicom.Dataset, s codec.Syntax) (*dicom.Dataset, error) {
	m := dicom.NewDataset(10)
	for e := range meta.All() {
		if e.Tag.Group() == 2 && e.Tag != tagGroupLength {
			m.Put(e.Clone())
		}
	}
	if !m.Contains(tagVersion) {
		m.Put(dicom.Element{Tag: tagVersion, VR: dicom.OB, Value: []byte{0, 1}})
	}
	if m.String(tagMediaSOPClass) == "" && ds != nil {
		putUI(m, tagMediaSOPClass, ds.String(tagSOPClassUID))
	}
	if m.String(tagMediaSOPInstance) == "" && ds != nil {
		putUI(m, tagMediaSOPInstance, ds.String(tagSOPInstanceUID))
	}
	putUI(m, tagTransferSyntax, s.UID)
	putUI(m, tagImplClassUID, uid.ImplementationClassUID)
	m.Put(dicom.Element{Tag: tagImplVersionName, VR: dicom.SH, Value: dicom.PadValue([]byte(uid.ImplementationVersionName), dicom.SH)})
	var n int64
	for e := range m.All() {
		l, err := codec.EncodedLength(e, codec.ExplicitVRLittleEndian)
		if err != nil {
			return nil, fmt.Errorf("file meta %s: %w", e.Tag, err)
		}
		n += l
	}
	gl, _ := dicom.NewElement(tagGroupLength, dicom.UL, uint32(n), nil)
	m.Put(gl)
	return m, nil
}
