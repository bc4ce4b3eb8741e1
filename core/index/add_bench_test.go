package index

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
)

// BenchmarkAdd measures one Add (an op) with 1 and 4 concurrent writers, as
// pacs serve sees them with 1 to 4 associations: batches of a few writes.
// Each writer sends the instances of its own series in turn (20 a series,
// 3 series a study, 2 studies a patient). SyncNormal leaves the fsync of the
// log out of the time; SyncFull has one per batch.
func BenchmarkAdd(b *testing.B) {
	for _, sync := range []struct {
		name string
		mode Synchronous
	}{{"normal", SyncNormal}, {"full", SyncFull}} {
		for _, writers := range []int{1, 4} {
			b.Run(fmt.Sprintf("sync=%s/writers=%d", sync.name, writers), func(b *testing.B) {
				benchAdd(b, Options{Synchronous: sync.mode}, writers)
			})
		}
	}
}

func benchAdd(b *testing.B, opt Options, writers int) {
	ix := openTest(b, opt)
	each := (b.N + writers - 1) / writers
	dss := make([][]*dicom.Dataset, writers)
	for w := range dss {
		dss[w] = make([]*dicom.Dataset, each)
		for i := range each {
			dss[w][i] = smallInstance(b, w*1000000+i/120, i/60, i/20, i)
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if next.Add(1) > int64(b.N) {
					return
				}
				if _, err := ix.Add(context.Background(), record(dss[w][i], w*each+i)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
}
