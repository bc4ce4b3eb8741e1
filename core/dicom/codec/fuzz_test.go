package codec

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
)

var fuzzSyntaxes = []Syntax{ImplicitVRLittleEndian, ExplicitVRLittleEndian, ExplicitVRBigEndian, DeflatedExplicitVRLittleEndian}

func fuzzSeeds(f *testing.F) {
	for _, cf := range corpus(f) {
		if len(cf.body) > 64<<10 {
			continue
		}
		for i, s := range fuzzSyntaxes {
			if s.UID == cf.syntax.UID || (cf.syntax.Encapsulated && i == 1) {
				f.Add(cf.body, uint8(i))
			}
		}
	}
	f.Add(explicitLE().el(tagRefImageSeq, "SQ", 0xffffffff).item(0xffffffff).str(tagPatientID, "LO", "42").itemEnd().seqEnd().bytes(), uint8(1))
	f.Add(explicitLE().el(0x7fe00010, "OB", 0xffffffff).item(0).item(2).raw(1, 2).seqEnd().bytes(), uint8(1))
}

// FuzzReadDataset: any accepted input re-encodes and re-decodes to the same
// elements.
func FuzzReadDataset(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte, which uint8) {
		s := fuzzSyntaxes[int(which)%len(fuzzSyntaxes)]
		lim := WithLimits(Limits{MaxValueLength: 1 << 20, MaxElements: 1 << 16})
		ds, err := ReadDataset(b, s, lim)
		if err != nil {
			return
		}
		out, err := AppendDataset(nil, ds, s)
		if err != nil {
			return // e.g. a VR whose value cannot be re-encoded
		}
		got, err := ReadDataset(out, s, lim)
		if err != nil {
			t.Fatalf("re-encoded data set does not decode: %v", err)
		}
		sameDataset(t, "fuzz", got, ds)
	})
}

// FuzzReader: the three ways in (a slice, a sized stream that can seek, a
// plain stream of unknown length) accept and reject the same inputs and read
// the same elements, byte for byte; the two sized ones report the same
// problems and errors.
func FuzzReader(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte, which uint8) {
		s := fuzzSyntaxes[int(which)%len(fuzzSyntaxes)]
		lim := WithLimits(Limits{MaxValueLength: 1 << 20, MaxElements: 1 << 16})
		br := NewBytesReader(b, s, lim)
		ds, err := br.ReadDataset()
		sr := NewReader(bytes.NewReader(b), s, lim)
		sds, serr := sr.ReadDataset()
		pr := NewReader(struct{ io.Reader }{bytes.NewReader(b)}, s, lim)
		pds, perr := pr.ReadDataset()
		if (err == nil) != (serr == nil) || (err == nil) != (perr == nil) {
			t.Fatalf("slice error %v, sized stream error %v, plain stream error %v", err, serr, perr)
		}
		if err != nil {
			if !s.Deflated && err.Error() != serr.Error() {
				t.Fatalf("slice error %v, sized stream error %v", err, serr)
			}
			return
		}
		if d := datasetDiff(sds, ds); d != "" {
			t.Fatalf("sized stream: %s", d)
		}
		if d := datasetDiff(pds, ds); d != "" {
			t.Fatalf("plain stream: %s", d)
		}
		if fmt.Sprint(sr.Problems()) != fmt.Sprint(br.Problems()) {
			t.Fatalf("problems differ:\nsized stream %v\nslice        %v", sr.Problems(), br.Problems())
		}
	})
}

// datasetDiff describes the first difference between two data sets, or
// returns "" when they hold the same elements with the same bytes.
func datasetDiff(got, want *dicom.Dataset) string {
	if got.Len() != want.Len() {
		return fmt.Sprintf("%d elements, want %d (%v, want %v)", got.Len(), want.Len(), tagList(got), tagList(want))
	}
	for i := 0; i < want.Len(); i++ {
		g, w := got.At(i), want.At(i)
		if g.Tag != w.Tag || g.VR != w.VR || g.UndefinedLength != w.UndefinedLength {
			return fmt.Sprintf("%s %s (undefined %v), want %s %s (undefined %v)", g.Tag, g.VR, g.UndefinedLength, w.Tag, w.VR, w.UndefinedLength)
		}
		if !bytes.Equal(g.Value, w.Value) || (g.Value == nil) != (w.Value == nil) {
			return fmt.Sprintf("%s: value % x, want % x", w.Tag, head(g.Value), head(w.Value))
		}
		if (g.Items == nil) != (w.Items == nil) || len(g.Items) != len(w.Items) {
			return fmt.Sprintf("%s: %d items, want %d", w.Tag, len(g.Items), len(w.Items))
		}
		for j := range w.Items {
			if d := datasetDiff(g.Items[j], w.Items[j]); d != "" {
				return fmt.Sprintf("%s item %d: %s", w.Tag, j, d)
			}
		}
		if (g.Fragments == nil) != (w.Fragments == nil) || (g.Bulk == nil) != (w.Bulk == nil) {
			return fmt.Sprintf("%s: fragments or bulk reference differ", w.Tag)
		}
		if w.Fragments != nil {
			if !bytes.Equal(g.Fragments.OffsetTable, w.Fragments.OffsetTable) || len(g.Fragments.Items) != len(w.Fragments.Items) {
				return fmt.Sprintf("%s: fragments differ", w.Tag)
			}
			for j := range w.Fragments.Items {
				if !bytes.Equal(g.Fragments.Items[j], w.Fragments.Items[j]) {
					return fmt.Sprintf("%s: fragment %d differs", w.Tag, j)
				}
			}
		}
	}
	return ""
}
