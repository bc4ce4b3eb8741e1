package dicomjson

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzUnmarshal checks that no input panics and that whatever decodes is a
// fixed point: Marshal then Unmarshal gives the same elements.
func FuzzUnmarshal(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.golden"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{}`, `{"00100010":{"Value":["A=B"],"vr":"PN"}}`,
		`{"00200013":{"vr":"IS","Value":["+5",null," 7","x"]}}`,
		`{"00281050":{"vr":"DS","Value":["1.",".5","1e999",1E3]}}`,
		`{"00660041":{"vr":"UV","Value":["18446744073709551615",1]}}`,
		`{"00189807":{"vr":"FD","Value":["NaN","Infinity",-0]}}`,
		`{"7FE00010":{"vr":"OB","InlineBinary":"/v8A4AAAAAD+/93gAAAAAA=="}}`,
		`{"00081115":{"vr":"SQ","Value":[{},{"00100010":{"vr":"PN","Value":[{"Ideographic":"山田"}]}}]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ds, err := Unmarshal(b)
		if err != nil {
			return // rejecting is fine; panicking is not
		}
		if !json.Valid(b) {
			t.Fatalf("Unmarshal accepted invalid JSON %q", b)
		}
		out, err := Marshal(ds, Options{IncludeGroupLength: true})
		if err != nil {
			t.Fatalf("Marshal(decoded) error = %v", err)
		}
		again, err := Unmarshal(out)
		if err != nil {
			t.Fatalf("Unmarshal(Marshal(decoded)) error = %v\n%s", err, out)
		}
		if err := equalDatasets(again, ds); err != nil {
			t.Fatalf("decoded data set does not round-trip: %v\n%s", err, out)
		}
	})
}
