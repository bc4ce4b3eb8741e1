package part10

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/codec"
)

// MaxMetaLength bounds the File Meta Information read from a stream.
const MaxMetaLength = 64 << 10

// parseMeta decodes the group 0002 elements at the start of b and returns
// them with the number of bytes they took, stopping at the first element of
// another group. Each element is read in explicit VR little endian, as PS3.10
// requires, or in implicit VR when its VR bytes spell no VR (some writers get
// this wrong). Values are copied when clone is set. complete reports whether b
// held the whole group (false: b ended inside or right after it).
func parseMeta(b []byte, clone bool) (meta *dicom.Dataset, n int, complete bool, err error) {
	meta = dicom.NewDataset(8)
	for {
		if len(b)-n < 8 {
			return meta, n, len(b)-n >= 2 && binary.LittleEndian.Uint16(b[n:]) != 2, nil
		}
		h := b[n:]
		group := binary.LittleEndian.Uint16(h)
		if group != 2 {
			return meta, n, true, nil
		}
		tag := dicom.NewTag(group, binary.LittleEndian.Uint16(h[2:]))
		var vr dicom.VR
		var length uint32
		head := 8
		if v, ok := dicom.LookupVR(h[4], h[5]); ok {
			vr = v
			if vr.HasLongLength() {
				if len(h) < 12 {
					return meta, n, false, metaError(n, tag, codec.ErrTruncated)
				}
				length = binary.LittleEndian.Uint32(h[8:])
				head = 12
			} else {
				length = uint32(binary.LittleEndian.Uint16(h[6:]))
			}
		} else {
			length = binary.LittleEndian.Uint32(h[4:])
			if d, ok := dicom.LookupTag(tag); ok {
				vr = d.VR
			} else {
				vr = dicom.UN
			}
		}
		if length == dicom.UndefinedLength {
			return meta, n, false, metaError(n, tag, fmt.Errorf("undefined length in file meta information: %w", codec.ErrMalformed))
		}
		if int64(length) > int64(len(h)-head) {
			return meta, n, false, metaError(n, tag, codec.ErrTruncated)
		}
		v := h[head : head+int(length)]
		if clone {
			v = bytes.Clone(v)
		}
		if !meta.Append(dicom.Element{Tag: tag, VR: vr, Value: v}) {
			meta.Put(dicom.Element{Tag: tag, VR: vr, Value: v})
		}
		n += head + int(length)
	}
}

func metaError(off int, tag dicom.Tag, err error) error {
	return &codec.SyntaxError{Offset: int64(off), Tag: tag, Msg: "file meta information", Err: err}
}
