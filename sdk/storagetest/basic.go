package storagetest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pacsforge/pacs/sdk"
)

// testRoundTrip puts objects of several sizes, with the size unknown and
// given, and reads them back.
func testRoundTrip(t *testing.T, e *env) {
	for i, n := range []int{0, 1, 4096, 1<<20 + 1} {
		for _, known := range []bool{false, true} {
			o := newObject(uint64(i), n)
			key := e.key(fmt.Sprintf("%d-%t.dcm", n, known))
			e.put(t, key, o, known)
			e.wantObject(t, key, o)
		}
	}
}

// testReplace replaces an object by a shorter and then a longer one.
func testReplace(t *testing.T, e *env) {
	key := e.key("1.2/1.2.3/1.2.3.4.dcm")
	for i, n := range []int{2000, 10, 300000, 0, 7} {
		o := newObject(uint64(100+i), n)
		e.put(t, key, o, i%2 == 0)
		e.wantObject(t, key, o)
		objs := e.list(t, e.key("1.2/"), 0)
		if len(objs) != 1 {
			t.Fatalf("List after replacing holds %d objects, want 1", len(objs))
		}
		e.checkInfo(t, "List", key, objs[0], o)
	}
}

// testRange reads ranges of an object past one 1 MiB chunk.
func testRange(t *testing.T, e *env) {
	const n = 2<<20 + 123
	o := newObject(7, n)
	key := e.key("range.dcm")
	e.put(t, key, o, true)
	tests := []struct {
		name           string
		offset, length int64
	}{
		{"whole", 0, -1},
		{"whole given", 0, n},
		{"first byte", 0, 1},
		{"middle", 1000, 5000},
		{"across 1 MiB", 1<<20 - 7, 14},
		{"across 2 MiB", 2<<20 - 1, 2},
		{"to the end", n - 100, -1},
		{"cut at the end", n - 100, 1000},
		{"last byte", n - 1, 1},
		{"at the end", n, -1},
		{"at the end with length", n, 10},
		{"past the end", n + 1000, 10},
		{"past the end to the end", n + 5, -1},
		{"zero length", 500, 0},
		{"zero length at start", 0, 0},
		{"huge length", 10, 1 << 62},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lo := min(tc.offset, n)
			hi := int64(n)
			if tc.length >= 0 {
				hi = min(lo+tc.length, n)
			}
			got := e.get(t, key, tc.offset, tc.length)
			if want := o.data[lo:hi]; !bytes.Equal(got, want) {
				t.Errorf("Get(%d, %d) = %d bytes, want %d bytes [%d, %d)", tc.offset, tc.length, len(got), len(want), lo, hi)
			}
		})
	}
}

// testStat checks Stat's size, digest and modification time.
func testStat(t *testing.T, e *env) {
	start := time.Now()
	for i, n := range []int{0, 1, 65536} {
		o := newObject(uint64(200+i), n)
		key := e.key(fmt.Sprintf("stat/%d.dcm", n))
		e.put(t, key, o, true)
		info, err := e.s.Stat(t.Context(), key)
		if err != nil {
			t.Fatalf("Stat(%q) error = %v", key, err)
		}
		e.checkInfo(t, "Stat", key, info, o)
		if info.ModTime.Before(start.Add(-modTimeSlack)) || info.ModTime.After(time.Now().Add(modTimeSlack)) {
			t.Errorf("Stat(%q) ModTime = %v, not near the time of the Put (%v)", key, info.ModTime, start)
		}
	}
}

// testDelete deletes one object among neighbours with similar keys.
func testDelete(t *testing.T, e *env) {
	keys := []string{e.key("d/a.dcm"), e.key("d/a.dcmx"), e.key("d/a.dc"), e.key("d/a.dcm.1/b.dcm")}
	objs := make([]object, len(keys))
	for i, k := range keys {
		objs[i] = newObject(uint64(300+i), 100+i)
		e.put(t, k, objs[i], false)
	}
	if err := e.s.Delete(t.Context(), keys[0]); err != nil {
		t.Fatalf("Delete(%q) error = %v", keys[0], err)
	}
	e.wantAbsent(t, keys[0])
	if err := e.s.Delete(t.Context(), keys[0]); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("second Delete(%q) error = %v, want sdk.ErrNotFound", keys[0], err)
	}
	for i, k := range keys[1:] {
		e.wantObject(t, k, objs[i+1])
	}
	if got := len(e.list(t, e.key("d/"), 0)); got != len(keys)-1 {
		t.Errorf("List after Delete holds %d objects, want %d", got, len(keys)-1)
	}
	// The key can be used again.
	again := newObject(399, 5)
	e.put(t, keys[0], again, true)
	e.wantObject(t, keys[0], again)
}

// testNotFound checks that every operation on a key without an object gives
// sdk.ErrNotFound, including keys that are "directories" of stored keys or
// below a stored object.
func testNotFound(t *testing.T, e *env) {
	stored := e.key("p/q/r.dcm")
	o := newObject(400, 10)
	e.put(t, stored, o, true)
	for _, key := range []string{e.key("never.dcm"), e.key("p/q"), e.key("p"), stored + "/s", e.key("p/q/r"), e.key("p/q/r.dc")} {
		ctx := t.Context()
		if _, err := e.read(ctx, key, 0, -1); !errors.Is(err, sdk.ErrNotFound) {
			t.Errorf("Get(%q) error = %v, want sdk.ErrNotFound", key, err)
		}
		if _, err := e.read(ctx, key, 3, 4); !errors.Is(err, sdk.ErrNotFound) {
			t.Errorf("Get(%q, 3, 4) error = %v, want sdk.ErrNotFound", key, err)
		}
		if _, err := e.s.Stat(ctx, key); !errors.Is(err, sdk.ErrNotFound) {
			t.Errorf("Stat(%q) error = %v, want sdk.ErrNotFound", key, err)
		}
		if err := e.s.Delete(ctx, key); !errors.Is(err, sdk.ErrNotFound) {
			t.Errorf("Delete(%q) error = %v, want sdk.ErrNotFound", key, err)
		}
	}
	e.wantObject(t, stored, o)
	page, err := e.s.List(t.Context(), e.key("nothing/"), "", 0)
	if err != nil || len(page.Objects) != 0 || page.NextPageToken != "" {
		t.Errorf("List of an empty prefix = %+v, %v; want no objects and no token", page, err)
	}
}
