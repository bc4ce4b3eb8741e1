package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
)

// enc builds fixtures: elements appended in one syntax's byte order.
type enc struct {
	b        []byte
	explicit bool
	be       bool
}

func (f *enc) u16(v uint16) *enc {
	if f.be {
		f.b = binary.BigEndian.AppendUint16(f.b, v)
	} else {
		f.b = binary.LittleEndian.AppendUint16(f.b, v)
	}
	return f
}

func (f *enc) u32(v uint32) *enc {
	if f.be {
		f.b = binary.BigEndian.AppendUint32(f.b, v)
	} else {
		f.b = binary.LittleEndian.AppendUint32(f.b, v)
	}
	return f
}

func (f *enc) tag(t dicom.Tag) *enc { return f.u16(t.Group()).u16(t.Element()) }

// el appends a header (vr "" in implicit) and the value bytes.
func (f *enc) el(t dicom.Tag, vr string, length uint32, value ...byte) *enc {
	f.tag(t)
	if f.explicit && t != dicom.ItemTag && t != dicom.ItemDelimitationItemTag && t != dicom.SequenceDelimitationItemTag {
		f.b = append(f.b, vr...)
		v, ok := dicom.ParseVR(vr)
		if !ok || v.HasLongLength() {
			f.b = append(f.b, 0, 0)
			f.u32(length)
		} else {
			f.u16(uint16(length))
		}
	} else {
		f.u32(length)
	}
	f.b = append(f.b, value...)
	return f
}

func (f *enc) str(t dicom.Tag, vr, s string) *enc { return f.el(t, vr, uint32(len(s)), []byte(s)...) }

func (f *enc) item(length uint32) *enc { return f.tag(dicom.ItemTag).u32(length) }
func (f *enc) itemEnd() *enc           { return f.tag(dicom.ItemDelimitationItemTag).u32(0) }
func (f *enc) seqEnd() *enc            { return f.tag(dicom.SequenceDelimitationItemTag).u32(0) }
func (f *enc) raw(b ...byte) *enc      { f.b = append(f.b, b...); return f }
func (f *enc) bytes() []byte           { return f.b }
func explicitLE() *enc                 { return &enc{explicit: true} }
func implicitLE() *enc                 { return &enc{} }
func explicitBE() *enc                 { return &enc{explicit: true, be: true} }

const (
	tagPatientName       dicom.Tag = 0x00100010
	tagPatientID         dicom.Tag = 0x00100020
	tagRows              dicom.Tag = 0x00280010
	tagSmallestPixel     dicom.Tag = 0x00280106
	tagFrameIncrementPtr dicom.Tag = 0x00280009
	tagRefSeriesSeq      dicom.Tag = 0x00081115
	tagRefImageSeq       dicom.Tag = 0x00081140
	tagRefSOPInstance    dicom.Tag = 0x00081155
	tagWindowCenter      dicom.Tag = 0x00281050
	tagFloatPixelData    dicom.Tag = 0x7fe00008
)

func TestReadFixtures(t *testing.T) {
	type elem struct {
		tag   dicom.Tag
		vr    dicom.VR
		value string // raw bytes
		items int
	}
	tests := []struct {
		name     string
		in       []byte
		syntax   Syntax
		want     []elem
		problems int
	}{
		{
			name:   "implicit VR from the dictionary",
			syntax: ImplicitVRLittleEndian,
			in: implicitLE().el(0x00080000, "", 4, 1, 0, 0, 0).str(0x00090010, "", "ACME").str(0x00091001, "", "ab").
				str(tagPatientName, "", "Doe^John").str(0x7fe00010, "", "\x01\x02").bytes(),
			want: []elem{{tag: 0x00080000, vr: dicom.UL, value: "\x01\x00\x00\x00"}, {tag: 0x00090010, vr: dicom.LO, value: "ACME"},
				{tag: 0x00091001, vr: dicom.UN, value: "ab"}, {tag: tagPatientName, vr: dicom.PN, value: "Doe^John"}, {tag: 0x7fe00010, vr: dicom.OW, value: "\x01\x02"}},
		},
		{
			name:   "implicit US or SS follows PixelRepresentation",
			syntax: ImplicitVRLittleEndian,
			in:     implicitLE().el(0x00280103, "", 2, 1, 0).el(tagSmallestPixel, "", 2, 0xff, 0xff).bytes(),
			want:   []elem{{tag: 0x00280103, vr: dicom.US, value: "\x01\x00"}, {tag: tagSmallestPixel, vr: dicom.SS, value: "\xff\xff"}},
		},
		{
			name:   "implicit US or SS defaults to US",
			syntax: ImplicitVRLittleEndian,
			in:     implicitLE().el(tagSmallestPixel, "", 2, 0xff, 0xff).bytes(),
			want:   []elem{{tag: tagSmallestPixel, vr: dicom.US, value: "\xff\xff"}},
		},
		{
			name:   "implicit undefined length unknown tag is a sequence",
			syntax: ImplicitVRLittleEndian,
			in:     implicitLE().el(0x00091001, "", 0xffffffff).item(0xffffffff).str(tagPatientID, "", "42").itemEnd().seqEnd().bytes(),
			want:   []elem{{tag: 0x00091001, vr: dicom.SQ, items: 1}},
		},
		{
			name:     "explicit LE with odd length",
			syntax:   ExplicitVRLittleEndian,
			in:       explicitLE().str(tagPatientName, "PN", "Doe").el(tagRows, "US", 2, 0, 2).bytes(),
			want:     []elem{{tag: tagPatientName, vr: dicom.PN, value: "Doe"}, {tag: tagRows, vr: dicom.US, value: "\x00\x02"}},
			problems: 1,
		},
		{
			name:   "explicit BE swaps binary values",
			syntax: ExplicitVRBigEndian,
			in: explicitBE().str(tagPatientName, "PN", "AB").el(tagFrameIncrementPtr, "AT", 4, 0x00, 0x18, 0x10, 0x63).
				el(tagRows, "US", 2, 0x02, 0x00).el(0x7fe00010, "OW", 4, 1, 2, 3, 4).bytes(),
			want: []elem{{tag: tagPatientName, vr: dicom.PN, value: "AB"}, {tag: tagFrameIncrementPtr, vr: dicom.AT, value: "\x18\x00\x63\x10"},
				{tag: tagRows, vr: dicom.US, value: "\x00\x02"}, {tag: 0x7fe00010, vr: dicom.OW, value: "\x02\x01\x04\x03"}},
		},
		{
			name:   "explicit BE OB is not swapped",
			syntax: ExplicitVRBigEndian,
			in:     explicitBE().el(0x7fe00010, "OB", 4, 1, 2, 3, 4).bytes(),
			want:   []elem{{tag: 0x7fe00010, vr: dicom.OB, value: "\x01\x02\x03\x04"}},
		},
		{
			name:   "defined sequence with defined and undefined items",
			syntax: ExplicitVRLittleEndian,
			in: explicitLE().el(tagRefImageSeq, "SQ", 8+18+8+18+8).item(18).str(tagRefSOPInstance, "UI", "1.2.3.4.5\x00").
				item(0xffffffff).str(tagRefSOPInstance, "UI", "1.2.3.4.6\x00").itemEnd().bytes(),
			want: []elem{{tag: tagRefImageSeq, vr: dicom.SQ, items: 2}},
		},
		{
			name:   "undefined sequence with a defined item and an empty item",
			syntax: ExplicitVRLittleEndian,
			in: explicitLE().el(tagRefImageSeq, "SQ", 0xffffffff).item(18).str(tagRefSOPInstance, "UI", "1.2.3.4.5\x00").
				item(0).seqEnd().str(tagWindowCenter, "DS", "40").bytes(),
			want: []elem{{tag: tagRefImageSeq, vr: dicom.SQ, items: 2}, {tag: tagWindowCenter, vr: dicom.DS, value: "40"}},
		},
		{
			name:   "UN of undefined length is an implicit sequence",
			syntax: ExplicitVRLittleEndian,
			in: explicitLE().el(tagRefSeriesSeq, "UN", 0xffffffff).item(0xffffffff).tag(tagRefSOPInstance).u32(4).raw('1', '.', '2', 0).itemEnd().seqEnd().
				str(tagPatientName, "PN", "X^").bytes(),
			want:     []elem{{tag: tagRefSeriesSeq, vr: dicom.SQ, items: 1}, {tag: tagPatientName, vr: dicom.PN, value: "X^"}},
			problems: 1,
		},
		{
			name:     "unknown VR read as UN with 32-bit length",
			syntax:   ExplicitVRLittleEndian,
			in:       explicitLE().el(0x00091001, "ZZ", 2, 'a', 'b').bytes(),
			want:     []elem{{tag: 0x00091001, vr: dicom.UN, value: "ab"}},
			problems: 1,
		},
		{
			name:     "duplicate keeps the first",
			syntax:   ExplicitVRLittleEndian,
			in:       explicitLE().str(tagPatientName, "PN", "A^").str(tagPatientName, "PN", "B^").bytes(),
			want:     []elem{{tag: tagPatientName, vr: dicom.PN, value: "A^"}},
			problems: 1,
		},
		{
			name:     "out of order is sorted in",
			syntax:   ExplicitVRLittleEndian,
			in:       explicitLE().str(tagPatientID, "LO", "42").str(tagPatientName, "PN", "A^").bytes(),
			want:     []elem{{tag: tagPatientName, vr: dicom.PN, value: "A^"}, {tag: tagPatientID, vr: dicom.LO, value: "42"}},
			problems: 1,
		},
		{
			name:     "stray sequence delimiter at top level skipped",
			syntax:   ExplicitVRLittleEndian,
			in:       explicitLE().str(tagPatientName, "PN", "A^").seqEnd().str(tagPatientID, "LO", "42").bytes(),
			want:     []elem{{tag: tagPatientName, vr: dicom.PN, value: "A^"}, {tag: tagPatientID, vr: dicom.LO, value: "42"}},
			problems: 1,
		},
		{
			name:     "defined sequence length past the end is kept",
			syntax:   ExplicitVRLittleEndian,
			in:       explicitLE().str(0x00080060, "CS", "CT").el(tagRefImageSeq, "SQ", 0x30303030).bytes(),
			want:     []elem{{tag: 0x00080060, vr: dicom.CS, value: "CT"}, {tag: tagRefImageSeq, vr: dicom.SQ}},
			problems: 1,
		},
		{
			name:     "defined item length past the end is kept",
			syntax:   ExplicitVRLittleEndian,
			in:       explicitLE().el(tagRefImageSeq, "SQ", 100).item(100).str(tagRefSOPInstance, "UI", "1\x00").bytes(),
			want:     []elem{{tag: tagRefImageSeq, vr: dicom.SQ, items: 1}},
			problems: 2,
		},
		{
			name:   "group FFFE tags other than items and delimiters are elements (as dcmtk)",
			syntax: ExplicitVRLittleEndian,
			in: explicitLE().el(tagRefImageSeq, "SQ", 28).item(20).str(tagRefSOPInstance, "UI", "1\x00").str(0xfffe3030, "LO", "ab").
				str(0xfffe3031, "SH", "cd").bytes(),
			want: []elem{{tag: tagRefImageSeq, vr: dicom.SQ, items: 1}, {tag: 0xfffe3031, vr: dicom.SH, value: "cd"}},
		},
		{
			name:   "empty input",
			syntax: ExplicitVRLittleEndian,
			in:     nil,
		},
	}
	for _, tc := range tests {
		for _, stream := range []bool{false, true} {
			name := tc.name
			if stream {
				name += " (stream)"
			}
			t.Run(name, func(t *testing.T) {
				var ds *dicom.Dataset
				var err error
				var problems []Problem
				if stream {
					r := NewReader(struct{ io.Reader }{bytes.NewReader(tc.in)}, tc.syntax)
					ds, err = r.ReadDataset()
					problems = r.Problems()
				} else {
					r := NewBytesReader(tc.in, tc.syntax)
					ds, err = r.ReadDataset()
					problems = r.Problems()
				}
				if err != nil {
					t.Fatalf("ReadDataset() error = %v", err)
				}
				if ds.Len() != len(tc.want) {
					t.Fatalf("got %d elements %v, want %d", ds.Len(), tagList(ds), len(tc.want))
				}
				for i, w := range tc.want {
					g := ds.At(i)
					if g.Tag != w.tag || g.VR != w.vr || string(g.Value) != w.value || len(g.Items) != w.items {
						t.Errorf("element %d = %s %s %q items %d, want %s %s %q items %d", i, g.Tag, g.VR, g.Value, len(g.Items), w.tag, w.vr, w.value, w.items)
					}
				}
				if len(problems) != tc.problems {
					t.Errorf("problems = %v, want %d", problems, tc.problems)
				}
			})
		}
	}
}

func TestReadEncapsulated(t *testing.T) {
	in := explicitLE().str(tagRows, "US", "\x02\x00").el(0x7fe00010, "OB", 0xffffffff).
		item(0).item(4).raw(1, 2, 3, 4).item(2).raw(5, 6).seqEnd().bytes()
	ds, err := ReadDataset(in, ExplicitVRLittleEndian)
	if err != nil {
		t.Fatal(err)
	}
	e := ds.Get(0x7fe00010)
	if e == nil || e.Fragments == nil || !e.UndefinedLength {
		t.Fatalf("pixel data = %+v, want fragments", e)
	}
	if len(e.Fragments.OffsetTable) != 0 || len(e.Fragments.Items) != 2 || string(e.Fragments.Items[1]) != "\x05\x06" {
		t.Errorf("fragments = %+v", e.Fragments)
	}
	out, err := AppendDataset(nil, ds, ExplicitVRLittleEndian)
	if err != nil || !bytes.Equal(out, in) {
		t.Errorf("AppendDataset() = % x, %v; want % x", out, err, in)
	}
}

func TestReadErrors(t *testing.T) {
	deep := explicitLE()
	for i := 0; i < 70; i++ {
		deep.el(tagRefImageSeq, "SQ", 0xffffffff).item(0xffffffff)
	}
	tests := []struct {
		name    string
		in      []byte
		opts    []Option
		wantErr error
	}{
		{name: "4 GB value in 20 bytes", in: explicitLE().el(0x7fe00010, "OB", 0xfffffff0).raw(1, 2, 3, 4, 5, 6, 7, 8).bytes(), wantErr: ErrTruncated},
		{name: "truncated header", in: []byte{0x10, 0x00, 0x10}, wantErr: ErrTruncated},
		{name: "truncated short value", in: explicitLE().el(tagPatientName, "PN", 8, 'a').bytes(), wantErr: ErrTruncated},
		{name: "unterminated sequence", in: explicitLE().el(tagRefImageSeq, "SQ", 0xffffffff).item(0).bytes(), wantErr: ErrTruncated},
		{name: "unterminated fragments", in: explicitLE().el(0x7fe00010, "OB", 0xffffffff).item(0).bytes(), wantErr: ErrTruncated},
		{name: "item at top level", in: explicitLE().item(0).bytes(), wantErr: ErrMalformed},
		{name: "non-item in sequence", in: explicitLE().el(tagRefImageSeq, "SQ", 0xffffffff).str(tagPatientName, "PN", "ab").bytes(), wantErr: ErrMalformed},
		{name: "too deep", in: deep.bytes(), wantErr: ErrTooDeep},
		{name: "value over limit", in: explicitLE().str(tagPatientName, "PN", "abcd").bytes(), opts: []Option{WithLimits(Limits{MaxValueLength: 2})}, wantErr: ErrValueTooLong},
		{name: "too many elements", in: explicitLE().str(tagPatientName, "PN", "ab").str(tagPatientID, "LO", "cd").bytes(), opts: []Option{WithLimits(Limits{MaxElements: 1})}, wantErr: ErrTooManyElements},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadDataset(tc.in, ExplicitVRLittleEndian, tc.opts...)
			var se *SyntaxError
			if !errors.Is(err, tc.wantErr) || !errors.As(err, &se) {
				t.Fatalf("ReadDataset() error = %v, want %v in a *SyntaxError", err, tc.wantErr)
			}
			_, err = NewReader(struct{ io.Reader }{bytes.NewReader(tc.in)}, ExplicitVRLittleEndian, tc.opts...).ReadDataset()
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Reader.ReadDataset() error = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// TestHugeLengthDoesNotAllocate checks that a declared 4 GB value in a short
// input is rejected without allocating it.
func TestHugeLengthDoesNotAllocate(t *testing.T) {
	in := explicitLE().el(0x7fe00010, "OW", 0xfffffff0).raw(1, 2, 3, 4, 5, 6, 7, 8).bytes()
	for _, tc := range []struct {
		name string
		read func() error
	}{
		{name: "slice", read: func() error { _, err := ReadDataset(in, ExplicitVRLittleEndian); return err }},
		{name: "seeker", read: func() error {
			_, err := NewReader(bytes.NewReader(in), ExplicitVRLittleEndian).ReadDataset()
			return err
		}},
		{name: "plain reader", read: func() error {
			_, err := NewReader(struct{ io.Reader }{bytes.NewReader(in)}, ExplicitVRLittleEndian).ReadDataset()
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			allocs := testing.AllocsPerRun(5, func() { err = tc.read() })
			if !errors.Is(err, ErrTruncated) {
				t.Fatalf("error = %v, want ErrTruncated", err)
			}
			if allocs > 20 {
				t.Errorf("allocs = %v", allocs)
			}
			// Bytes: the reader's buffer and at most one growth chunk.
			if b := bytesAllocated(func() { _ = tc.read() }); b > 4<<20 {
				t.Errorf("allocated %d bytes for a 20-byte input", b)
			}
		})
	}
}

func TestCharsetInheritance(t *testing.T) {
	in := explicitLE().str(tagSpecificCharacterSet, "CS", "ISO_IR 100").
		el(tagRefImageSeq, "SQ", 0xffffffff).
		item(0xffffffff).str(tagRefSOPInstance, "UI", "1\x00").itemEnd().
		item(0xffffffff).str(tagSpecificCharacterSet, "CS", "ISO_IR 192").itemEnd().
		seqEnd().bytes()
	var calls []string
	fn := func(terms []string) (dicom.TextCodec, error) {
		calls = append(calls, strings.Join(terms, `\`))
		return fakeCodec(terms[0]), nil
	}
	ds, err := ReadDataset(in, ExplicitVRLittleEndian, WithCharset(fn))
	if err != nil {
		t.Fatal(err)
	}
	items := ds.Items(tagRefImageSeq)
	if got := []any{ds.Codec, items[0].Codec, items[1].Codec}; got[0] != fakeCodec("ISO_IR 100") || got[1] != fakeCodec("ISO_IR 100") || got[2] != fakeCodec("ISO_IR 192") {
		t.Errorf("codecs = %v", got)
	}
	if len(calls) != 2 {
		t.Errorf("charset calls = %q", calls)
	}
}

type fakeCodec string

func (fakeCodec) Decode(vr dicom.VR, raw []byte) (string, error) { return string(raw), nil }
func (fakeCodec) Encode(vr dicom.VR, s string) ([]byte, error)   { return []byte(s), nil }

func TestNextStreams(t *testing.T) {
	in := explicitLE().str(tagPatientName, "PN", "A^").el(tagRefImageSeq, "SQ", 0xffffffff).item(0).seqEnd().str(tagWindowCenter, "DS", "40").bytes()
	r := NewReader(struct{ io.Reader }{bytes.NewReader(in)}, ExplicitVRLittleEndian)
	var tags []dicom.Tag
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		tags = append(tags, e.Tag)
	}
	if len(tags) != 3 || r.Offset() != int64(len(in)) {
		t.Errorf("tags = %v, offset %d, want 3 tags and offset %d", tags, r.Offset(), len(in))
	}
}

// TestStopSkipsStrayDelimiter checks that a stray delimiter at the top level,
// whose tag sorts after any stop tag, is skipped as in a full read.
func TestStopSkipsStrayDelimiter(t *testing.T) {
	in := explicitLE().str(tagPatientName, "PN", "A^").seqEnd().str(tagPatientID, "LO", "42").el(0x7fe00010, "OW", 2, 1, 2).bytes()
	ds, err := ReadDataset(in, ExplicitVRLittleEndian, WithStopAt(dicom.PixelData))
	if err != nil || ds.Len() != 2 || ds.Get(tagPatientID) == nil {
		t.Fatalf("ReadDataset() = %v, %v; want PatientName and PatientID", tagList(ds), err)
	}
}

// TestRelease: a stream Reader stopped before Pixel Data and released
// keeps the values it returned valid and fails every later read.
func TestRelease(t *testing.T) {
	in := explicitLE().str(tagPatientName, "PN", "A^").str(tagPatientID, "LO", "42").el(0x7fe00010, "OW", 2, 1, 2).bytes()
	r := NewReader(bytes.NewReader(in), ExplicitVRLittleEndian, WithStopAt(dicom.PixelData))
	ds, err := r.ReadDataset()
	if err != nil || ds.Len() != 2 {
		t.Fatalf("ReadDataset() = %v, %v; want 2 elements", tagList(ds), err)
	}
	r.Release()
	r.Release() // twice is harmless
	// Another Reader may now hold the buffer and overwrite it.
	other := NewReader(bytes.NewReader(bytes.Repeat([]byte{0xff}, 4096)), ExplicitVRLittleEndian)
	other.Next()
	if got := ds.String(tagPatientID); got != "42" {
		t.Errorf("PatientID after Release = %q, want 42", got)
	}
	if _, err := r.Next(); !errors.Is(err, ErrReleased) {
		t.Errorf("Next after Release: %v, want ErrReleased", err)
	}
	if _, err := io.ReadAll(r.Remaining()); !errors.Is(err, ErrReleased) {
		t.Errorf("Remaining after Release: %v, want ErrReleased", err)
	}
	// A Reader over bytes holds no pooled buffer: Release does nothing.
	br := NewBytesReader(in, ExplicitVRLittleEndian)
	br.Release()
	if ds, err := br.ReadDataset(); err != nil || ds.Len() != 3 {
		t.Errorf("bytes Reader after Release: %v, %v; want 3 elements", tagList(ds), err)
	}
}
