package index

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pacsforge/pacs/core/dicom"
)

// benchTotal is the number of instances BenchmarkAddBatch grows the index
// to; INDEX_BENCH_TOTAL overrides it (the figures in the report use 100000).
func benchTotal() int {
	if n, err := strconv.Atoi(os.Getenv("INDEX_BENCH_TOTAL")); err == nil && n > 0 {
		return n
	}
	return 20000
}

// addBatch adds instances [from, to) concurrently, so that they are
// committed in batches, and returns how long it took.
func addBatch(b *testing.B, ix *Index, from, to int) time.Duration {
	start := time.Now()
	const workers = 64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := from + w; i < to; i += workers {
				// 20 instances a series, 3 series a study, 2 studies a patient.
				ds := smallInstance(b, i/120, i/60, i/20, i)
				if _, err := ix.Add(context.Background(), record(ds, i)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// BenchmarkAddBatch adds batches of 5000 small instances until the index
// holds benchTotal() of them, and reports the first and last batch time.
func BenchmarkAddBatch(b *testing.B) {
	const batch = 5000
	total := benchTotal()
	for b.Loop() {
		ix := openTest(b, Options{MaxBatch: batch})
		var first, last time.Duration
		for from := 0; from < total; from += batch {
			d := addBatch(b, ix, from, from+batch)
			if from == 0 {
				first = d
			}
			last = d
			if os.Getenv("INDEX_BENCH_CURVE") != "" {
				fmt.Fprintf(os.Stderr, "batch ending at %d: %v (%.1f µs/instance)\n", from+batch, d, float64(d.Microseconds())/batch)
			}
		}
		b.ReportMetric(float64(first.Milliseconds()), "first-batch-ms")
		b.ReportMetric(float64(last.Milliseconds()), "last-batch-ms")
		b.ReportMetric(float64(last)/float64(first), "last/first")
		ix.Close()
	}
}

// BenchmarkFindStudy runs study-level queries against an index of
// benchTotal() instances.
func BenchmarkFindStudy(b *testing.B) {
	total := benchTotal()
	ix := openTest(b, Options{MaxBatch: 5000})
	for from := 0; from < total; from += 5000 {
		addBatch(b, ix, from, min(from+5000, total))
	}
	ret := []any{dicom.StudyInstanceUID, "", dicom.StudyDate, "", dicom.PatientName, "", dicom.NumberOfStudyRelatedInstances, "", dicom.ModalitiesInStudy, ""}
	benches := []struct {
		name string
		kv   []any
	}{
		{name: "patient id", kv: []any{dicom.PatientID, "PID000123"}},
		{name: "name wildcard", kv: []any{dicom.PatientName, "Name012*"}},
		{name: "name wildcard ci", kv: []any{dicom.PatientName, "name012*"}},
		{name: "date range", kv: []any{dicom.StudyDate, "20200301-20200305"}},
		{name: "date range and modality", kv: []any{dicom.StudyDate, "20200301-20200305", dicom.ModalitiesInStudy, "MR"}},
		{name: "accession", kv: []any{dicom.AccessionNumber, "A77-154"}},
	}
	for _, bc := range benches {
		b.Run(bc.name, func(b *testing.B) {
			k := keys(b, ret...)
			for i := 0; i < len(bc.kv); i += 2 {
				mustSet(b, k, bc.kv[i].(dicom.Tag), bc.kv[i+1].(string))
			}
			q := Query{Level: Study, Root: StudyRoot, Keys: k, CaseInsensitivePN: bc.name == "name wildcard ci"}
			n := 0
			for b.Loop() {
				n = 0
				for _, err := range ix.Find(context.Background(), q) {
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
			}
			b.ReportMetric(float64(n), "studies")
		})
	}
}
