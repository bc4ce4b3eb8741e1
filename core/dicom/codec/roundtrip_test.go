package codec

import (
	"bytes"
	"strings"
	"testing"
)

// TestCorpusRoundTrip reads every corpus file, writes it in its own syntax
// and in Explicit VR Little Endian, reads it back and compares.
func TestCorpusRoundTrip(t *testing.T) {
	for _, cf := range corpus(t) {
		t.Run(cf.name, func(t *testing.T) {
			malformed := strings.Contains(cf.name, "malformed")
			ds, err := ReadDataset(cf.body, cf.syntax)
			if err != nil {
				if !malformed {
					t.Fatalf("ReadDataset() error = %v", err)
				}
				t.Logf("rejected: %v", err)
				return
			}
			// The stream reader must agree with the slice reader.
			rd := NewReader(bytes.NewReader(cf.body), cf.syntax)
			sds, err := rd.ReadDataset()
			if err != nil {
				t.Fatalf("Reader.ReadDataset() error = %v", err)
			}
			sameDataset(t, "stream", sds, ds)
			for _, out := range []Syntax{cf.syntax, ExplicitVRLittleEndian} {
				b, err := AppendDataset(nil, ds, out)
				if err != nil {
					t.Fatalf("AppendDataset(%s) error = %v", out.UID, err)
				}
				got, err := ReadDataset(b, out)
				if err != nil {
					t.Fatalf("re-read in %s: %v", out.UID, err)
				}
				sameDataset(t, out.UID, got, ds)
			}
		})
	}
}
