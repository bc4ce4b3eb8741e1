package index

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
)

// TestOptimizeGathersStatistics: the planner statistics are gathered on a
// filled index (sqlite_stat1 has rows for the match indexes).
func TestOptimizeGathersStatistics(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t, Options{Synchronous: SyncNormal})
	for i, ds := range synthInstances(t, 7) {
		if _, err := ix.Add(ctx, record(ds, i)); err != nil {
			t.Fatal(err)
		}
	}
	optimize(ctx, ix.writer)
	var n int
	if err := ix.writer.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_stat1").Scan(&n); err != nil {
		t.Fatalf("no sqlite_stat1 after optimize: %v", err)
	}
	if n == 0 {
		t.Error("sqlite_stat1 is empty after optimize")
	}
}

// TestStatisticsWhileFilling: an index opened empty has statistics of its
// tables once optimizeFirst instances are in, without being reopened.
func TestStatisticsWhileFilling(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t, Options{Synchronous: SyncOff})
	stat := func() (n int) {
		ix.writer.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'study'").Scan(&n)
		return n
	}
	if n := stat(); n != 0 {
		t.Fatalf("an empty index has %d statistics rows for study", n)
	}
	writes := 0
	for seed := uint64(1); writes < optimizeFirst+optimizeFirst/2; seed++ {
		for _, ds := range synthInstances(t, seed) {
			if _, err := ix.Add(ctx, record(ds, writes)); err != nil {
				t.Fatal(err)
			}
			writes++
		}
	}
	if n := stat(); n == 0 {
		t.Errorf("no statistics for study after %d writes", writes)
	}
}

// TestReadersUseNewStatistics: a reader connection opened while the index
// was empty does not keep planning without statistics once the committer
// has gathered them: a C-FIND by name wildcard and date range starts from
// the name index, not from the dates (which read a study per date and look
// its patient up).
func TestReadersUseNewStatistics(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t, Options{Synchronous: SyncOff})
	if _, err := ix.Instance(ctx, "1.2.3"); !errors.Is(err, ErrNotFound) { // a reader, opened empty
		t.Fatalf("Instance: %v", err)
	}
	for i := range optimizeFirst + 200 {
		ds := dicom.NewDataset(10)
		name := fmt.Sprintf("NAME%04d^PAT", i)
		if i%100 == 0 {
			name = fmt.Sprintf("SMITH^P%d", i)
		}
		mustSet(t, ds, dicom.PatientID, fmt.Sprintf("P%d", i))
		mustSet(t, ds, dicom.PatientName, name)
		mustSet(t, ds, dicom.StudyDate, fmt.Sprintf("20%02d%02d%02d", 10+i%10, 1+i%12, 1+i%28))
		mustSet(t, ds, dicom.StudyInstanceUID, fmt.Sprintf("1.2.9.%d", i))
		mustSet(t, ds, dicom.SeriesInstanceUID, fmt.Sprintf("1.2.9.%d.1", i))
		mustSet(t, ds, dicom.SOPInstanceUID, fmt.Sprintf("1.2.9.%d.1.1", i))
		mustSet(t, ds, dicom.SOPClassUID, "1.2.840.10008.5.1.4.1.1.7")
		if _, err := ix.Add(ctx, record(ds, i)); err != nil {
			t.Fatal(err)
		}
	}
	keys := dicom.NewDataset(4)
	mustSet(t, keys, dicom.PatientName, "SMITH*")
	mustSet(t, keys, dicom.StudyDate, "20120101-20181231")
	p, err := compile(&Query{Level: Study, Root: StudyRoot, Keys: keys, Relational: true})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := ix.reader.QueryContext(ctx, "EXPLAIN QUERY PLAN SELECT "+strings.Join(p.sel, ", ")+p.from()+p.whereClause(), p.args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if len(plan) == 0 || !strings.Contains(plan[0], "patient_name") {
		t.Errorf("the query starts %q, want the patient name index (plan %q)", plan[0], plan)
	}
}
