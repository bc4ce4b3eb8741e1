package codec

import (
	"bytes"
	"io"
	"testing"
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

// FuzzReader: streaming Next over an io.Reader never panics and agrees with
// the slice reader on acceptance.
func FuzzReader(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte, which uint8) {
		s := fuzzSyntaxes[int(which)%len(fuzzSyntaxes)]
		r := NewReader(struct{ io.Reader }{bytes.NewReader(b)}, s, WithLimits(Limits{MaxValueLength: 1 << 20, MaxElements: 1 << 16}))
		for i := 0; ; i++ {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	})
}
