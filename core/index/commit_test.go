package index

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pacsforge/pacs/core/dicom"
)

// smallInstance is a minimal instance: patient p, study s, series r, number n.
func smallInstance(t testing.TB, p, s, r, n int) *dicom.Dataset {
	ds := dicom.NewDataset(12)
	mustSet(t, ds, dicom.SOPClassUID, "1.2.840.10008.5.1.4.1.1.2")
	mustSet(t, ds, dicom.SOPInstanceUID, fmt.Sprintf("1.2.3.%d.%d.%d.%d", p, s, r, n))
	mustSet(t, ds, dicom.StudyDate, fmt.Sprintf("20%02d%02d%02d", 10+p%15, 1+s%12, 1+n%28))
	mustSet(t, ds, dicom.StudyTime, fmt.Sprintf("%02d%02d00", n%24, r%60))
	mustSet(t, ds, dicom.AccessionNumber, fmt.Sprintf("A%d-%d", p, s))
	mustSet(t, ds, dicom.Modality, []string{"CT", "MR", "US"}[r%3])
	mustSet(t, ds, dicom.PatientName, fmt.Sprintf("Name%04d^Given%d", p, p%7))
	mustSet(t, ds, dicom.PatientID, fmt.Sprintf("PID%06d", p))
	mustSet(t, ds, dicom.PatientBirthDate, fmt.Sprintf("19%02d0101", p%100))
	mustSet(t, ds, dicom.StudyInstanceUID, fmt.Sprintf("1.2.3.%d.%d", p, s))
	mustSet(t, ds, dicom.SeriesInstanceUID, fmt.Sprintf("1.2.3.%d.%d.%d", p, s, r))
	mustSet(t, ds, dicom.InstanceNumber, fmt.Sprint(n))
	return ds
}

func count(t testing.TB, ix *Index, tbl string) int {
	t.Helper()
	var n int
	if err := ix.reader.QueryRow(`SELECT COUNT(*) FROM ` + tbl).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestGroupCommitConcurrent(t *testing.T) {
	const goroutines, each = 100, 50
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "index.db")
	ix, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for n := range each {
				ds := smallInstance(t, g%37, g, n%3, n)
				if _, err := ix.Add(ctx, record(ds, g*each+n)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Add() error = %v", err)
	}
	st := ix.Stats()
	t.Logf("%d writes in %d batches", st.Writes, st.Batches)
	if st.Writes != goroutines*each || st.Batches >= st.Writes {
		t.Errorf("Stats() = %+v: no grouping", st)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	ix, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if got := count(t, ix, "instance"); got != goroutines*each {
		t.Errorf("instances after reopen = %d, want %d", got, goroutines*each)
	}
	if got := count(t, ix, "study"); got != goroutines {
		t.Errorf("studies after reopen = %d, want %d", got, goroutines)
	}
	if got := count(t, ix, "patient"); got != 37 {
		t.Errorf("patients after reopen = %d, want 37", got)
	}
	checkCounts(t, ix)
}

// checkCounts compares the maintained counts with counts of the rows.
func checkCounts(t *testing.T, ix *Index) {
	t.Helper()
	for _, q := range []string{
		`SELECT COUNT(*) FROM series se WHERE num_instances <> (SELECT COUNT(*) FROM instance WHERE series_fk = se.id)`,
		`SELECT COUNT(*) FROM study st WHERE num_series <> (SELECT COUNT(*) FROM series WHERE study_fk = st.id)
			OR num_instances <> (SELECT COUNT(*) FROM instance i JOIN series se ON se.id = i.series_fk WHERE se.study_fk = st.id)`,
		`SELECT COUNT(*) FROM patient p WHERE num_studies <> (SELECT COUNT(*) FROM study WHERE patient_fk = p.id)
			OR num_series <> (SELECT COUNT(*) FROM series se JOIN study st ON st.id = se.study_fk WHERE st.patient_fk = p.id)
			OR num_instances <> (SELECT COUNT(*) FROM instance i JOIN series se ON se.id = i.series_fk JOIN study st ON st.id = se.study_fk WHERE st.patient_fk = p.id)`,
		`SELECT COUNT(*) FROM series WHERE rep_instance NOT IN (SELECT id FROM instance WHERE series_fk = series.id)`,
		`SELECT COUNT(*) FROM study st WHERE rep_instance NOT IN (SELECT i.id FROM instance i JOIN series se ON se.id = i.series_fk WHERE se.study_fk = st.id)`,
		`SELECT COUNT(*) FROM patient p WHERE rep_instance NOT IN (SELECT i.id FROM instance i JOIN series se ON se.id = i.series_fk JOIN study st ON st.id = se.study_fk WHERE st.patient_fk = p.id)`,
		`SELECT COUNT(*) FROM study WHERE num_series = 0`,
		`SELECT COUNT(*) FROM patient WHERE num_studies = 0`,
	} {
		var n int
		if err := ix.reader.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d rows with wrong counts: %s", n, q)
		}
	}
}

func TestDeleteCascades(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t, Options{})
	dss := synthInstances(t, 7)
	load(t, ix, dss)
	// Delete half, checking the counts as we go, then the rest.
	for i, ds := range dss {
		if _, err := ix.Delete(ctx, ds.String(dicom.SOPInstanceUID)); err != nil {
			t.Fatalf("Delete() error = %v", err)
		}
		if i == len(dss)/2 {
			checkCounts(t, ix)
			left := dss[i+1:]
			for _, l := range []Level{Patient, Study, Series} {
				want := len(refEntities(left, l))
				if got := count(t, ix, table[l]); got != want {
					t.Errorf("%s rows after deleting %d = %d, want %d", table[l], i+1, got, want)
				}
			}
			checkModalities(t, ix, left)
		}
	}
	for _, tbl := range table {
		if n := count(t, ix, tbl); n != 0 {
			t.Errorf("%d rows left in %s", n, tbl)
		}
	}
}

// checkModalities compares Modalities and SOP Classes in Study with the
// instances left.
func checkModalities(t *testing.T, ix *Index, left []*dicom.Dataset) {
	t.Helper()
	for _, st := range refEntities(left, Study) {
		var mods, classes string
		for _, ds := range st.insts {
			mods = joinSet(mods, ds.String(dicom.Modality))
			classes = joinSet(classes, ds.String(dicom.SOPClassUID))
		}
		q := Query{Level: Study, Root: StudyRoot, Keys: keys(t, dicom.StudyInstanceUID, st.key, dicom.ModalitiesInStudy, "", dicom.SOPClassesInStudy, "")}
		for ds, err := range ix.Find(context.Background(), q) {
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(ds.Strings(dicom.ModalitiesInStudy), `\`); got != mods {
				t.Errorf("study %s ModalitiesInStudy = %q, want %q", st.key, got, mods)
			}
			if got := strings.Join(ds.Strings(dicom.SOPClassesInStudy), `\`); got != classes {
				t.Errorf("study %s SOPClassesInStudy = %q, want %q", st.key, got, classes)
			}
		}
	}
}

func TestReturnedKeys(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t, Options{})
	dss := synthInstances(t, 8)
	load(t, ix, dss)
	checkModalities(t, ix, dss)
	byStudy := map[string]*refEntity{}
	for _, e := range refEntities(dss, Study) {
		byStudy[e.key] = e
	}
	q := Query{Level: Study, Root: StudyRoot, Keys: keys(t, dicom.NumberOfStudyRelatedSeries, "", dicom.NumberOfStudyRelatedInstances, "",
		dicom.PatientName, "", dicom.StudyTime, "", dicom.PatientAge, "", dicom.Modality, "CT", dicom.RetrieveAETitle, "")}
	n := 0
	for ds, err := range ix.Find(ctx, q) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		e := byStudy[ds.String(dicom.StudyInstanceUID)]
		series := len(refEntities(e.insts, Series))
		if got, _ := ds.Int(dicom.NumberOfStudyRelatedSeries); int(got) != series {
			t.Errorf("NumberOfStudyRelatedSeries = %d, want %d", got, series)
		}
		if got, _ := ds.Int(dicom.NumberOfStudyRelatedInstances); int(got) != len(e.insts) {
			t.Errorf("NumberOfStudyRelatedInstances = %d, want %d", got, len(e.insts))
		}
		want := e.insts[0]
		if got := ds.String(dicom.PatientName); got != normPN(want.String(dicom.PatientName)) {
			t.Errorf("PatientName = %q, want %q", got, want.String(dicom.PatientName))
		}
		if got := ds.String(dicom.PatientAge); got != want.String(dicom.PatientAge) {
			t.Errorf("PatientAge = %q, want %q", got, want.String(dicom.PatientAge))
		}
		if got, w := ds.String(dicom.StudyTime), want.String(dicom.StudyTime); normTM(got) != normTM(w) {
			t.Errorf("StudyTime = %q, want %q", got, w)
		}
		if e := ds.Get(dicom.Modality); e == nil || len(e.Value) != 0 {
			t.Errorf("Modality below the query level = %v, want empty", e)
		}
		if e := ds.Get(dicom.RetrieveAETitle); e == nil || len(e.Value) != 0 {
			t.Errorf("RetrieveAETitle = %v, want empty", e)
		}
		ascii := isASCII(ds)
		if got := ds.String(dicom.SpecificCharacterSet); (got == "ISO_IR 192") == ascii {
			t.Errorf("SpecificCharacterSet = %q for name %q", got, ds.String(dicom.PatientName))
		}
	}
	if want := len(byStudy); n != want {
		t.Errorf("Find() gave %d studies, want %d", n, want)
	}
	q = Query{Level: Patient, Keys: keys(t, dicom.PatientID, "P003", dicom.NumberOfPatientRelatedStudies, "",
		dicom.NumberOfPatientRelatedSeries, "", dicom.NumberOfPatientRelatedInstances, "", dicom.IssuerOfPatientID, "HOSP-A")}
	for ds, err := range ix.Find(ctx, q) {
		if err != nil {
			t.Fatal(err)
		}
		var insts []*dicom.Dataset
		for _, d := range dss {
			if d.String(dicom.PatientID) == "P003" && d.String(dicom.IssuerOfPatientID) == "HOSP-A" {
				insts = append(insts, d)
			}
		}
		for tag, want := range map[dicom.Tag]int{dicom.NumberOfPatientRelatedStudies: len(refEntities(insts, Study)),
			dicom.NumberOfPatientRelatedSeries: len(refEntities(insts, Series)), dicom.NumberOfPatientRelatedInstances: len(insts)} {
			if got, _ := ds.Int(tag); int(got) != want {
				t.Errorf("%s = %d, want %d", tag, got, want)
			}
		}
	}
}

func TestCombinedDateTime(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t, Options{})
	var dss []*dicom.Dataset
	for i, dt := range []string{"20200101 2300", "20200102 0500", "20200102 0700", "20200101 2100", "20191231 2330"} {
		ds := smallInstance(t, i, 0, 0, 0)
		d, tm, _ := strings.Cut(dt, " ")
		mustSet(t, ds, dicom.StudyDate, d)
		mustSet(t, ds, dicom.StudyTime, tm)
		dss = append(dss, ds)
	}
	load(t, ix, dss)
	tests := []struct {
		name, date, time string
		want             int
	}{
		{name: "night shift", date: "20200101-20200102", time: "2200-0600", want: 2},
		{name: "from", date: "20200101-", time: "2200-", want: 3},
		{name: "until", date: "-20200102", time: "-0600", want: 4},
		{name: "one day", date: "20200102", time: "0000-0600", want: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := Query{Level: Study, Root: StudyRoot, CombinedDateTime: true, Keys: keys(t, dicom.StudyDate, tc.date, dicom.StudyTime, tc.time)}
			n := 0
			for _, err := range ix.Find(ctx, q) {
				if err != nil {
					t.Fatal(err)
				}
				n++
			}
			if n != tc.want {
				t.Errorf("Find() = %d studies, want %d", n, tc.want)
			}
		})
	}
}

func TestStudyMovesToNewPatient(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t, Options{})
	a := smallInstance(t, 1, 1, 1, 1)
	b := smallInstance(t, 1, 1, 1, 2)
	mustSet(t, b, dicom.PatientID, "CORRECTED")
	load(t, ix, []*dicom.Dataset{a})
	load(t, ix, []*dicom.Dataset{b})
	if n := count(t, ix, "patient"); n != 1 {
		t.Errorf("patients = %d, want 1 (the old one removed)", n)
	}
	checkCounts(t, ix)
	for ds, err := range ix.Find(ctx, Query{Level: Study, Root: StudyRoot, Keys: keys(t, dicom.PatientID, "")}) {
		if err != nil || ds.String(dicom.PatientID) != "CORRECTED" {
			t.Errorf("Find() = %v, %v", ds, err)
		}
	}
	// A series cannot change study.
	c := smallInstance(t, 1, 2, 1, 3)
	mustSet(t, c, dicom.SeriesInstanceUID, a.String(dicom.SeriesInstanceUID))
	if _, err := ix.Add(ctx, record(c, 3)); err == nil {
		t.Errorf("Add() of a series in another study succeeded")
	}
	checkCounts(t, ix)
}

// crashEnv names the database a child process writes to until it is killed.
const crashEnv = "INDEX_CRASH_DB"

// TestCrashChild is the child of TestCrashLosesNothing: it adds instances
// and prints each UID once Add has returned.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("run by TestCrashLosesNothing")
	}
	ix, err := Open(context.Background(), path, Options{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for n := 0; ; n++ {
				ds := smallInstance(t, g, n/10, 0, n)
				if _, err := ix.Add(context.Background(), record(ds, n)); err != nil {
					fmt.Println("error", err)
					os.Exit(1)
				}
				mu.Lock()
				fmt.Println(ds.String(dicom.SOPInstanceUID))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func TestCrashLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "index.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	sc := bufio.NewScanner(out)
	deadline := time.Now().Add(30 * time.Second)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "error") {
			t.Fatalf("child: %s", line)
		}
		if strings.HasPrefix(line, "1.2.3.") {
			acked = append(acked, line)
		}
		if len(acked) == 500 || time.Now().After(deadline) {
			cmd.Process.Signal(syscall.SIGKILL)
			break
		}
	}
	// Lines written before the kill may still be in the pipe.
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "1.2.3.") {
			acked = append(acked, line)
		}
	}
	cmd.Wait()
	if len(acked) == 0 {
		t.Fatal("child acknowledged nothing")
	}
	ix, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatalf("Open() after kill error = %v", err)
	}
	defer ix.Close()
	missing := 0
	for _, uid := range acked {
		if _, err := ix.Instance(context.Background(), uid); err != nil {
			missing++
		}
	}
	t.Logf("%d acknowledged before SIGKILL, %d indexed after reopen", len(acked), count(t, ix, "instance"))
	if missing > 0 {
		t.Errorf("%d of %d acknowledged instances lost", missing, len(acked))
	}
	checkCounts(t, ix)
}
