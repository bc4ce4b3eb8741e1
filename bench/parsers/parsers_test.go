package parsers

import "testing"

// BenchmarkFull parses each fixture whole, pixel data included.
func BenchmarkFull(b *testing.B) { Full(b, Forge, Suyash, SuyashRaw) }

// BenchmarkHeader parses each fixture up to its pixel data.
func BenchmarkHeader(b *testing.B) { Header(b, Forge, Suyash) }

// TestForgeFixtures checks that the header-only parse holds exactly the
// elements of the full parse that precede Pixel Data.
func TestForgeFixtures(t *testing.T) {
	for _, f := range Fixtures(t) {
		meta, full, err := forgeReadFile(f.Path)
		if err != nil {
			t.Fatalf("full parse of %s: %v", f.Name, err)
		}
		hmeta, header, err := forgeReadHeader(f.Path)
		if err != nil {
			t.Fatalf("header-only parse of %s: %v", f.Name, err)
		}
		if full.Get(tagPixelData) == nil {
			t.Errorf("%s: full parse has no Pixel Data", f.Name)
		}
		want := 0
		for e := range full.All() {
			if e.Tag < tagPixelData {
				want++
			}
		}
		if got := header.Len(); got != want || hmeta.Len() != meta.Len() {
			t.Errorf("%s: header-only parse has %d elements (meta %d), want %d (meta %d)", f.Name, got, hmeta.Len(), want, meta.Len())
		}
	}
}
