package storagetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
)

// testConcurrentDistinct has goroutines put, read back and replace their own
// keys at the same time.
func testConcurrentDistinct(t *testing.T, e *env) {
	const goroutines, rounds = 8, 3
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			key := e.key(fmt.Sprintf("g%d.dcm", g))
			for r := range rounds {
				o := newObject(uint64(800+g*rounds+r), 10<<10+g*30<<10+r)
				info, err := e.s.Put(t.Context(), key, newStream(o.data), int64(len(o.data)))
				if err != nil {
					t.Errorf("Put(%q) error = %v", key, err)
					return
				}
				if info.Size != int64(len(o.data)) || info.SHA256 != o.sum {
					t.Errorf("Put(%q) = size %d, sha256 %s; want %d, %s", key, info.Size, info.SHA256, len(o.data), o.sum)
				}
				got, err := e.read(t.Context(), key, 0, -1)
				if err != nil {
					t.Errorf("Get(%q) error = %v", key, err)
					return
				}
				if !bytes.Equal(got, o.data) {
					t.Errorf("Get(%q) in round %d = %d bytes, want the %d bytes just put", key, r, len(got), len(o.data))
				}
			}
		})
	}
	wg.Wait()
	if got := len(e.list(t, e.prefix, 0)); got != goroutines {
		t.Errorf("List holds %d objects, want %d", got, goroutines)
	}
}

// testConcurrentSameKey has writers replace one key with versions of
// different sizes while readers read it: every read must be one whole
// version.
func testConcurrentSameKey(t *testing.T, e *env) {
	const writers, puts, readers, gets = 4, 3, 4, 8
	key := e.key("same.dcm")
	versions := make([]object, writers*puts+1)
	sums := map[string]bool{}
	for i := range versions {
		versions[i] = newObject(uint64(900+i), 1<<10+i*(131<<10))
		sums[versions[i].sum] = true
	}
	e.put(t, key, versions[0], true)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for p := range puts {
				o := versions[1+w*puts+p]
				size := int64(len(o.data))
				if p%2 == 1 {
					size = -1
				}
				if _, err := e.s.Put(t.Context(), key, newStream(o.data), size); err != nil {
					t.Errorf("Put(%q) error = %v", key, err)
				}
			}
		})
	}
	for range readers {
		wg.Go(func() {
			for range gets {
				got, err := e.read(t.Context(), key, 0, -1)
				if err != nil {
					t.Errorf("Get(%q) during replacements error = %v", key, err)
					return
				}
				if o := newObjectOf(got); !sums[o.sum] {
					t.Errorf("Get(%q) during replacements = %d bytes that are no version put (torn read)", key, len(got))
				}
			}
		})
	}
	wg.Wait()
	got := e.get(t, key, 0, -1)
	final := newObjectOf(got)
	if !sums[final.sum] {
		t.Fatalf("Get(%q) after replacements = %d bytes that are no version put", key, len(got))
	}
	info, err := e.s.Stat(t.Context(), key)
	if err != nil {
		t.Fatalf("Stat(%q) error = %v", key, err)
	}
	e.checkInfo(t, "Stat", key, info, final)
}
