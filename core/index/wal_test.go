package index

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/pacsforge/pacs/core/dicom"
)

// walCounter counts the frames (pages) the writer appends to the write-ahead
// log. It turns the writer's automatic checkpoints off, so that the log only
// grows while it counts; reset empties the log.
type walCounter struct {
	ix    *Index
	frame int64 // bytes of one frame: a 24-byte header and a page
}

// newWALCounter turns ix's automatic checkpoints off and empties its log.
func newWALCounter(t testing.TB, ix *Index) *walCounter {
	t.Helper()
	ctx := context.Background()
	// The writer has one connection, which the committer holds only during a
	// batch: these run on it between batches.
	if _, err := ix.writer.ExecContext(ctx, `PRAGMA wal_autocheckpoint = 0`); err != nil {
		t.Fatal(err)
	}
	var page int64
	if err := ix.writer.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&page); err != nil {
		t.Fatal(err)
	}
	c := &walCounter{ix: ix, frame: page + 24}
	c.reset(t)
	return c
}

// reset checkpoints the whole log into the database and truncates it.
func (c *walCounter) reset(t testing.TB) {
	t.Helper()
	var busy, log, done int64
	if err := c.ix.writer.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &log, &done); err != nil {
		t.Fatal(err)
	}
	if busy != 0 {
		t.Fatalf("wal_checkpoint(TRUNCATE) was blocked")
	}
}

// frames returns the number of frames in the log.
func (c *walCounter) frames(t testing.TB) int64 {
	t.Helper()
	fi, err := os.Stat(c.ix.path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	const header = 32 // the log's own header
	if fi.Size() <= header {
		return 0
	}
	return (fi.Size() - header) / c.frame
}

// seriesInstance returns instance n of a series as a modality sends it: the
// patient, study and series attributes are the same in every instance.
func seriesInstance(t testing.TB, series, n int) *dicom.Dataset {
	t.Helper()
	ds := dicom.NewDataset(20)
	mustSet(t, ds, dicom.SOPClassUID, "1.2.840.10008.5.1.4.1.1.2")
	mustSet(t, ds, dicom.SOPInstanceUID, fmt.Sprintf("1.2.4.%d.%d", series, n))
	mustSet(t, ds, dicom.PatientName, fmt.Sprintf("Name%04d^Given", series/6))
	mustSet(t, ds, dicom.PatientID, fmt.Sprintf("PID%06d", series/6))
	mustSet(t, ds, dicom.PatientBirthDate, "19700101")
	mustSet(t, ds, dicom.PatientSex, "F")
	mustSet(t, ds, dicom.StudyInstanceUID, fmt.Sprintf("1.2.4.%d", series/3))
	mustSet(t, ds, dicom.StudyDate, "20240102")
	mustSet(t, ds, dicom.StudyTime, "101500")
	mustSet(t, ds, dicom.AccessionNumber, fmt.Sprintf("ACC%d", series/3))
	mustSet(t, ds, dicom.StudyID, "1")
	mustSet(t, ds, dicom.StudyDescription, "CT CHEST")
	mustSet(t, ds, dicom.ReferringPhysicianName, "Welby^Marcus")
	mustSet(t, ds, dicom.SeriesInstanceUID, fmt.Sprintf("1.2.4.%d.%d", series/3, series))
	mustSet(t, ds, dicom.Modality, []string{"CT", "MR", "US"}[series%3])
	mustSet(t, ds, dicom.SeriesNumber, fmt.Sprint(series%3+1))
	mustSet(t, ds, dicom.SeriesDescription, "AXIAL")
	mustSet(t, ds, dicom.BodyPartExamined, "CHEST")
	mustSet(t, ds, dicom.SeriesDate, "20240102")
	mustSet(t, ds, dicom.SeriesTime, "101600")
	mustSet(t, ds, dicom.InstanceNumber, fmt.Sprint(n))
	return ds
}

// BenchmarkAddPages measures the pages one Add appends to the write-ahead
// log (frames/op, with automatic checkpoints off), its time without fsync
// or checkpoints, and the CPU time of the process per Add (cpu-ns/op); one
// writer, one Add per batch. "series" sends 100 instances a series with the
// same patient, study and series attributes, as a modality does; "varied"
// is BenchmarkAdd's data, whose study date and time change with every
// instance.
func BenchmarkAddPages(b *testing.B) {
	for _, data := range []struct {
		name string
		ds   func(b *testing.B, i int) *dicom.Dataset
	}{
		{"series", func(b *testing.B, i int) *dicom.Dataset { return seriesInstance(b, i/100, i) }},
		{"varied", func(b *testing.B, i int) *dicom.Dataset { return smallInstance(b, i/120, i/60, i/20, i) }},
	} {
		b.Run(data.name, func(b *testing.B) {
			ix := openTest(b, Options{Synchronous: SyncOff})
			dss := make([]*dicom.Dataset, b.N)
			for i := range dss {
				dss[i] = data.ds(b, i)
			}
			wal := newWALCounter(b, ix)
			// The log is emptied every so often with the timer stopped, so
			// that its size stays that of a running archive's.
			const every = 500
			var frames int64
			var cpu time.Duration // of the process, while timed
			b.ReportAllocs()
			b.ResetTimer()
			start := processCPU()
			for i, ds := range dss {
				if i > 0 && i%every == 0 {
					b.StopTimer()
					cpu += processCPU() - start
					frames += wal.frames(b)
					wal.reset(b)
					start = processCPU()
					b.StartTimer()
				}
				if _, err := ix.Add(context.Background(), record(ds, i)); err != nil {
					b.Fatal(err)
				}
			}
			cpu += processCPU() - start
			b.StopTimer()
			frames += wal.frames(b)
			b.ReportMetric(float64(frames)/float64(b.N), "frames/op")
			if cpu > 0 {
				// CPU time is less disturbed than ns/op by other work on
				// the machine.
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			}
		})
	}
}
