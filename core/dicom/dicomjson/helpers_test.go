package dicomjson

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/internal/golden"
)

// golden compares got with testdata/name.golden, rewriting it under -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name+".golden"), got)
}

// el builds an element, failing the test on error.
func el(t testing.TB, tag dicom.Tag, vr dicom.VR, v any) dicom.Element {
	t.Helper()
	e, err := dicom.NewElement(tag, vr, v, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// raw builds an element holding the given bytes as they are.
func raw(tag dicom.Tag, vr dicom.VR, v string) dicom.Element {
	return dicom.Element{Tag: tag, VR: vr, Value: []byte(v)}
}

func dataset(elems ...dicom.Element) *dicom.Dataset {
	ds := &dicom.Dataset{}
	for _, e := range elems {
		ds.Put(e)
	}
	return ds
}

func sq(tag dicom.Tag, items ...*dicom.Dataset) dicom.Element {
	if items == nil {
		items = []*dicom.Dataset{}
	}
	return dicom.Element{Tag: tag, VR: dicom.SQ, Items: items}
}

// neg returns the two's complement encoding of -v.
func neg(v uint64) uint64 { return -v }

func le64(vs ...uint64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b
}

// textDataset exercises person names, character set, empty values and padding.
func textDataset(t testing.TB) *dicom.Dataset {
	return dataset(
		el(t, 0x00080005, dicom.CS, "ISO_IR 192"),
		el(t, 0x00080008, dicom.CS, []string{"ORIGINAL", "", "AXIAL"}),
		el(t, 0x00080016, dicom.UI, "1.2.840.10008.5.1.4.1.1.2"),
		el(t, 0x00080020, dicom.DA, "20240131"),
		raw(0x00080050, dicom.SH, ""),
		el(t, 0x00081030, dicom.LO, "Chest \"CT\" \\ control\x01"),
		el(t, 0x00100010, dicom.PN, []string{"Yamada^Tarou=山田^太郎=やまだ^たろう", "", "Doe^John", "=Ideo^Only"}),
		raw(0x00100020, dicom.LO, "ID 42  "),
		el(t, 0x00104000, dicom.LT, `line one\still one`),
		el(t, 0x00180015, dicom.CS, []string{"", ""}),
		el(t, 0x00321060, dicom.LO, "Ünïcödé"),
		el(t, 0x0040a160, dicom.UT, "text\nwith\ttabs"),
		el(t, 0x00080000, dicom.UL, uint32(1234)), // group length: omitted
	)
}

// numberDataset exercises IS and DS edge cases and every binary number VR.
func numberDataset(t testing.TB) *dicom.Dataset {
	fl := func(fs ...float32) []byte {
		var b []byte
		for _, f := range fs {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
		}
		return b
	}
	fd := func(fs ...float64) []byte {
		var b []byte
		for _, f := range fs {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
		}
		return b
	}
	return dataset(
		raw(0x00200013, dicom.IS, " 12\\+5\\-0007\\\\x1 "),
		raw(0x00281050, dicom.DS, "+1.5\\ 2\\1.\\.5\\1e5\\007\\-0.25E-3\\abc"),
		raw(0x00281051, dicom.DS, "40 "),
		raw(0x00180088, dicom.DS, "1e999 "),
		el(t, 0x00280010, dicom.US, []uint16{512, 65535}),
		el(t, 0x00289503, dicom.SS, []int64{-32768, 7}),
		el(t, 0x00081163, dicom.FD, nil),
		raw(0x00189219, dicom.SL, "\xff\xff\xff\xff"),
		el(t, 0x00720076, dicom.UL, []uint32{0, 4294967295}),
		dicom.Element{Tag: 0x00189806, VR: dicom.FL, Value: fl(0.1, -2.5, float32(math.Inf(1)), 1e-7, 3e38)},
		dicom.Element{Tag: 0x00189807, VR: dicom.FD, Value: fd(0.1, math.NaN(), math.Inf(-1), 1e21, math.Copysign(0, -1), 123456789.125)},
		dicom.Element{Tag: 0x00660040, VR: dicom.SV, Value: le64(1<<53, 1<<63, neg(1<<53), neg(1<<53+1))},
		dicom.Element{Tag: 0x00660041, VR: dicom.UV, Value: le64(1<<53, 1<<53+1, math.MaxUint64)},
		el(t, 0x00209165, dicom.AT, []dicom.Tag{0x00100010, 0x7fe00010}),
	)
}

// sequenceDataset has nested sequences, an empty sequence and an empty item.
func sequenceDataset(t testing.TB) *dicom.Dataset {
	inner := dataset(el(t, 0x00081150, dicom.UI, "1.2.3"), el(t, 0x00081155, dicom.UI, "1.2.3.4.5"))
	deep := dataset(sq(0x00400260, dataset(el(t, 0x00080100, dicom.SH, "T-123"))))
	return dataset(
		el(t, 0x00100010, dicom.PN, "Doe^Jane"),
		sq(0x00081115,
			dataset(sq(0x00081199, inner, dataset()), el(t, 0x00200000+0x000e, dicom.UI, "1.2.9")),
			dataset(),
			deep,
		),
		sq(0x00081140),
	)
}

// binaryDataset has inline and bulk binary values and encapsulated pixel data.
func binaryDataset(t testing.TB) *dicom.Dataset {
	big := bytes.Repeat([]byte{1, 2, 3, 4}, 64)
	return dataset(
		raw(0x00280106, dicom.US, "\x00\x00"),
		dicom.Element{Tag: 0x00091010, VR: dicom.UN, Value: []byte("private\x00")},
		dicom.Element{Tag: 0x00283006, VR: dicom.OW, Value: []byte{0, 1, 2, 3, 4, 5}},
		dicom.Element{Tag: 0x00660016, VR: dicom.OF, Value: big},
		dicom.Element{Tag: 0x00420011, VR: dicom.OB, Value: []byte{}},
		sq(0x00540016, dataset(dicom.Element{Tag: 0x00283006, VR: dicom.OW, Value: big})),
		dicom.Element{Tag: 0x7fe00010, VR: dicom.OB, UndefinedLength: true, Fragments: &dicom.Fragments{
			OffsetTable: []byte{0, 0, 0, 0}, Items: [][]byte{{0xff, 0xd8, 0xff, 0xd9}, {1, 2}}}},
	)
}

// equalDatasets reports the first difference between two data sets' elements
// (nil and empty values are equal; codecs are not compared).
func equalDatasets(a, b *dicom.Dataset) error {
	if a.Len() != b.Len() {
		return fmt.Errorf("%d elements, want %d:\n%s\nwant:\n%s", a.Len(), b.Len(), dump(a), dump(b))
	}
	for i := range a.Len() {
		x, y := a.At(i), b.At(i)
		if x.Tag != y.Tag || x.VR != y.VR {
			return fmt.Errorf("element %d is %s %s, want %s %s", i, x.Tag, x.VR, y.Tag, y.VR)
		}
		if !bytes.Equal(x.Value, y.Value) {
			return fmt.Errorf("%s value %q, want %q", x.Tag, x.Value, y.Value)
		}
		if (x.Items == nil) != (y.Items == nil) || len(x.Items) != len(y.Items) {
			return fmt.Errorf("%s has %d items, want %d", x.Tag, len(x.Items), len(y.Items))
		}
		for j := range x.Items {
			if err := equalDatasets(x.Items[j], y.Items[j]); err != nil {
				return fmt.Errorf("%s item %d: %w", x.Tag, j, err)
			}
		}
		if (x.Fragments == nil) != (y.Fragments == nil) {
			return fmt.Errorf("%s fragments %v, want %v", x.Tag, x.Fragments, y.Fragments)
		}
		if x.Fragments != nil {
			if !bytes.Equal(x.Fragments.OffsetTable, y.Fragments.OffsetTable) || len(x.Fragments.Items) != len(y.Fragments.Items) {
				return fmt.Errorf("%s fragments differ", x.Tag)
			}
			for j := range x.Fragments.Items {
				if !bytes.Equal(x.Fragments.Items[j], y.Fragments.Items[j]) {
					return fmt.Errorf("%s fragment %d differs", x.Tag, j)
				}
			}
		}
	}
	return nil
}

func dump(ds *dicom.Dataset) string {
	var sb strings.Builder
	for e := range ds.All() {
		fmt.Fprintf(&sb, "%s %s %q items=%d\n", e.Tag, e.VR, e.Value, len(e.Items))
	}
	return sb.String()
}
