package storagetest

import (
	"bytes"
	"testing"
)

// testLarge puts, reads and replaces an object of Options.LargeSize bytes,
// with ranges across chunk and part boundaries.
func testLarge(t *testing.T, e *env) {
	n := e.opts.LargeSize
	switch {
	case n < 0:
		t.Skip("large objects are not tested (Options.LargeSize < 0)")
	case testing.Short():
		t.Skip("large objects are not tested with -short")
	case n == 0:
		n = DefaultLargeSize
	}
	key := e.key("large.dcm")
	for i, known := range []bool{false, true} {
		o := newObject(uint64(700+i), int(n))
		e.put(t, key, o, known)
		if got := e.get(t, key, 0, -1); !bytes.Equal(got, o.data) {
			t.Fatalf("Get(%q) = %d bytes (sha256 %s), want %d bytes (sha256 %s)", key, len(got), newObjectOf(got).sum, n, o.sum)
		}
		info, err := e.s.Stat(t.Context(), key)
		if err != nil {
			t.Fatalf("Stat(%q) error = %v", key, err)
		}
		e.checkInfo(t, "Stat", key, info, o)
		for _, r := range [][2]int64{
			{1<<20 - 3, 6},
			{4<<20 - 1, 2},
			{5<<20 - 1, 2},
			{8<<20 - 1, 2},
			{n/2 - 3, 1<<20 + 6},
			{n - 10, -1},
			{n - 1<<20 - 1, 1 << 21},
		} {
			lo := min(max(r[0], 0), n)
			hi := n
			if r[1] >= 0 {
				hi = min(lo+r[1], n)
			}
			if got := e.get(t, key, r[0], r[1]); !bytes.Equal(got, o.data[lo:hi]) {
				t.Errorf("Get(%q, %d, %d) = %d bytes, want %d bytes [%d, %d)", key, r[0], r[1], len(got), hi-lo, lo, hi)
			}
		}
	}
}
