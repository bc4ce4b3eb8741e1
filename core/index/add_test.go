package index

import (
	"context"
	"fmt"
	"maps"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
)

// findOne runs q and returns its only result.
func findOne(t *testing.T, ix *Index, q Query) *dicom.Dataset {
	t.Helper()
	var got []*dicom.Dataset
	for ds, err := range ix.Find(context.Background(), q) {
		if err != nil {
			t.Fatalf("Find() error = %v", err)
		}
		got = append(got, ds)
	}
	if len(got) != 1 {
		t.Fatalf("Find() = %d results, want 1", len(got))
	}
	return got[0]
}

// findCount returns the number of results of q.
func findCount(t *testing.T, ix *Index, q Query) int {
	t.Helper()
	n := 0
	for _, err := range ix.Find(context.Background(), q) {
		if err != nil {
			t.Fatalf("Find() error = %v", err)
		}
		n++
	}
	return n
}

// TestNewestInstanceWins checks that the patient, study and series take the
// attributes of their newest instance, an empty value included, whether it
// joins its series, starts a series or replaces an instance; and that an
// instance with the first values brings them back.
func TestNewestInstanceWins(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		level  Level
		tag    dicom.Tag
		change string // "" removes the attribute
		want   string // as Find returns the changed value
	}{
		{name: "patient name", level: Patient, tag: dicom.PatientName, change: "Renamed^Ann", want: "Renamed^Ann"},
		{name: "patient birth date removed", level: Patient, tag: dicom.PatientBirthDate},
		{name: "patient sex", level: Patient, tag: dicom.PatientSex, change: "M", want: "M"},
		{name: "study date", level: Study, tag: dicom.StudyDate, change: "20240103", want: "20240103"},
		{name: "study time removed", level: Study, tag: dicom.StudyTime},
		{name: "accession number", level: Study, tag: dicom.AccessionNumber, change: "NEW1", want: "NEW1"},
		{name: "study description", level: Study, tag: dicom.StudyDescription, change: "CT ABDOMEN", want: "CT ABDOMEN"},
		{name: "referring physician", level: Study, tag: dicom.ReferringPhysicianName, change: "House^Gregory", want: "House^Gregory"},
		{name: "series description removed", level: Series, tag: dicom.SeriesDescription},
		{name: "modality", level: Series, tag: dicom.Modality, change: "PT", want: "PT"},
		{name: "series number", level: Series, tag: dicom.SeriesNumber, change: "07", want: "7"},
		{name: "body part", level: Series, tag: dicom.BodyPartExamined, change: "HEAD", want: "HEAD"},
	}
	// How the changed instance arrives: in the same series (series 0), in a
	// new series of the same study (series 1), or replacing the first
	// instance.
	arrivals := []struct {
		name      string
		series    int
		n         int
		overwrite bool
	}{
		{name: "same series", series: 0, n: 2},
		{name: "new series", series: 1, n: 2},
		{name: "overwrite", series: 0, n: 1, overwrite: true},
	}
	for _, tc := range tests {
		for _, a := range arrivals {
			if tc.level == Series && a.series != 0 {
				continue // a new series has its own attributes
			}
			t.Run(tc.name+"/"+a.name, func(t *testing.T) {
				ix := openTest(t, Options{})
				first := seriesInstance(t, 0, 1)
				if _, err := ix.Add(ctx, record(first, 1)); err != nil {
					t.Fatal(err)
				}
				q := Query{Level: tc.level, Root: PatientRoot, Keys: keys(t, tc.tag, "")}
				if tc.level == Study {
					q.Keys = keys(t, dicom.PatientID, first.String(dicom.PatientID), tc.tag, "")
				}
				if tc.level == Series {
					q.Keys = keys(t, dicom.PatientID, first.String(dicom.PatientID),
						dicom.StudyInstanceUID, first.String(dicom.StudyInstanceUID), tc.tag, "")
				}
				orig := findOne(t, ix, q).String(tc.tag)
				if orig == "" || orig == tc.want {
					t.Fatalf("first instance's %s = %q: the test changes nothing", tc.tag, orig)
				}

				ds := seriesInstance(t, a.series, a.n)
				if tc.change == "" {
					ds.Delete(tc.tag)
				} else {
					mustSet(t, ds, tc.tag, tc.change)
				}
				if res, err := ix.Add(ctx, record(ds, 2)); err != nil || !res.Stored || res.Existed != a.overwrite {
					t.Fatalf("Add() of the changed instance = %+v, %v", res, err)
				}
				if got := findOne(t, ix, q).String(tc.tag); got != tc.want {
					t.Errorf("after the changed instance: %s = %q, want %q", tc.tag, got, tc.want)
				}
				checkCounts(t, ix)

				// The next instance has the first values again.
				if _, err := ix.Add(ctx, record(seriesInstance(t, a.series, 3), 3)); err != nil {
					t.Fatal(err)
				}
				if got := findOne(t, ix, q).String(tc.tag); got != orig {
					t.Errorf("after an instance with the first values: %s = %q, want %q", tc.tag, got, orig)
				}
				checkCounts(t, ix)
			})
		}
	}
}

// TestNewestNameMatches checks that the folded copy of a person name
// follows its name: a case-insensitive match finds the newest name only.
func TestNewestNameMatches(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t, Options{})
	for n := 1; n <= 3; n++ {
		ds := seriesInstance(t, 0, n)
		if n == 2 {
			mustSet(t, ds, dicom.PatientName, "Renamed^Ann")
			mustSet(t, ds, dicom.ReferringPhysicianName, "House^Gregory")
		}
		if _, err := ix.Add(ctx, record(ds, n)); err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			continue
		}
		tests := []struct {
			level Level
			tag   dicom.Tag
			value string
			want  int
		}{
			{Patient, dicom.PatientName, "renamed^ann", 1},
			{Patient, dicom.PatientName, "name0000^given", 0},
			{Study, dicom.ReferringPhysicianName, "HOUSE^GREG*", 1},
			{Study, dicom.ReferringPhysicianName, "welby^marcus", 0},
		}
		for _, tc := range tests {
			q := Query{Level: tc.level, Root: PatientRoot, CaseInsensitivePN: true, Keys: keys(t, tc.tag, tc.value)}
			if tc.level == Study {
				q.Keys = keys(t, dicom.PatientID, ds.String(dicom.PatientID), tc.tag, tc.value)
			}
			want := tc.want
			if n == 3 {
				want = 1 - want // the first names are back
			}
			if got := findCount(t, ix, q); got != want {
				t.Errorf("after instance %d: %s %q matches %d, want %d", n, tc.tag, tc.value, got, want)
			}
		}
	}
}

// rewriteCounter counts, with temporary triggers on the writer's
// connection, the UPDATEs that set each attribute column of patient, study
// or series (whether or not the value changes), by "table.column". The
// function it returns reads and clears the counts.
func rewriteCounter(t *testing.T, ix *Index) func() map[string]int {
	t.Helper()
	ctx := context.Background()
	stmts := []string{`CREATE TEMP TABLE rewrites (col TEXT NOT NULL)`}
	for _, c := range columns {
		if c.level > Series || c.kind == kCount {
			continue
		}
		for _, name := range []string{c.name, c.norm} {
			if name == "" {
				continue
			}
			stmts = append(stmts, fmt.Sprintf(`CREATE TEMP TRIGGER %[1]s_%[2]s AFTER UPDATE OF %[2]s ON main.%[1]s
				BEGIN INSERT INTO rewrites VALUES ('%[1]s.%[2]s'); END`, table[c.level], name))
		}
	}
	for _, s := range stmts {
		// The writer's one connection, between batches.
		if _, err := ix.writer.ExecContext(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	return func() map[string]int {
		t.Helper()
		rows, err := ix.writer.QueryContext(ctx, `SELECT col, COUNT(*) FROM rewrites GROUP BY col`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		got := map[string]int{}
		for rows.Next() {
			var col string
			var n int
			if err := rows.Scan(&col, &n); err != nil {
				t.Fatal(err)
			}
			got[col] = n
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := ix.writer.ExecContext(ctx, `DELETE FROM rewrites`); err != nil {
			t.Fatal(err)
		}
		return got
	}
}

// TestUnchangedAttributesNotRewritten checks that Add sets an attribute
// column of a patient, study or series only when the new instance changes
// its value.
func TestUnchangedAttributesNotRewritten(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t, Options{})
	rewrites := rewriteCounter(t, ix)
	// Each step's instance carries the changes of the steps before it too.
	changes := map[dicom.Tag]string{}
	tests := []struct {
		name      string
		series, n int
		change    map[dicom.Tag]string
		policy    DuplicatePolicy
		want      map[string]int
	}{
		{name: "first instance", series: 0, n: 1},
		{name: "same series", series: 0, n: 2},
		{name: "new series", series: 1, n: 3},
		{name: "new study", series: 3, n: 4},
		{name: "series description", series: 0, n: 5, change: map[dicom.Tag]string{dicom.SeriesDescription: "CORONAL"},
			want: map[string]int{"series.series_description": 1}},
		{name: "study description", series: 0, n: 6, change: map[dicom.Tag]string{dicom.StudyDescription: "CT LUNG"},
			want: map[string]int{"study.study_description": 1}},
		{name: "study date and time", series: 0, n: 7, change: map[dicom.Tag]string{dicom.StudyDate: "20240105", dicom.StudyTime: "0930"},
			want: map[string]int{"study.study_date": 1, "study.study_time": 1}},
		{name: "referring physician's case", series: 0, n: 8, change: map[dicom.Tag]string{dicom.ReferringPhysicianName: "WELBY^MARCUS"},
			want: map[string]int{"study.referring_physician_name": 1}},
		{name: "patient name in a new series", series: 2, n: 9, change: map[dicom.Tag]string{dicom.PatientName: "Renamed^Ann"},
			want: map[string]int{"patient.patient_name": 1, "patient.patient_name_norm": 1}},
		{name: "duplicate replaced unchanged", series: 2, n: 9},
		{name: "duplicate kept", series: 0, n: 1, policy: DuplicateKeep},
		{name: "birth date removed", series: 0, n: 10, change: map[dicom.Tag]string{dicom.PatientBirthDate: ""},
			want: map[string]int{"patient.patient_birth_date": 1}},
	}
	for i, tc := range tests {
		maps.Copy(changes, tc.change)
		ds := seriesInstance(t, tc.series, tc.n)
		for tag, v := range changes {
			if v == "" {
				ds.Delete(tag)
			} else {
				mustSet(t, ds, tag, v)
			}
		}
		rec := record(ds, i)
		rec.Duplicate = tc.policy
		if res, err := ix.Add(ctx, rec); err != nil || res.Stored != (tc.policy != DuplicateKeep) {
			t.Fatalf("%s: Add() = %+v, %v", tc.name, res, err)
		}
		if got := rewrites(); !maps.Equal(got, tc.want) && (len(got) > 0 || len(tc.want) > 0) {
			t.Errorf("%s: rewritten columns = %v, want %v", tc.name, got, tc.want)
		}
	}
	checkCounts(t, ix)
}

// TestAddWritesFewPages checks that adding an instance to a series whose
// patient, study and series attributes it repeats appends few pages to the
// write-ahead log: the instance's row and index entries and the three
// parents' rows, not their index entries.
func TestAddWritesFewPages(t *testing.T) {
	const (
		n = 40
		// maxFrames is the pages one such Add may write: the instance row,
		// its four index entries, three parent rows and a page split now
		// and then. Rewriting the parents' attributes wrote about 20.
		maxFrames = 10
	)
	ctx := context.Background()
	perAdd := func(change func(ds *dicom.Dataset, i int)) float64 {
		ix := openTest(t, Options{Synchronous: SyncOff})
		if _, err := ix.Add(ctx, record(seriesInstance(t, 0, 0), 0)); err != nil {
			t.Fatal(err)
		}
		wal := newWALCounter(t, ix)
		for i := 1; i <= n; i++ {
			ds := seriesInstance(t, 0, i)
			change(ds, i)
			if _, err := ix.Add(ctx, record(ds, i)); err != nil {
				t.Fatal(err)
			}
		}
		return float64(wal.frames(t)) / n
	}
	same := perAdd(func(*dicom.Dataset, int) {})
	changing := perAdd(func(ds *dicom.Dataset, i int) {
		// Indexed columns, each in its own index.
		mustSet(t, ds, dicom.PatientName, fmt.Sprintf("Name^V%d", i))
		mustSet(t, ds, dicom.AccessionNumber, fmt.Sprintf("ACC%d", i))
		mustSet(t, ds, dicom.Modality, []string{"CT", "PT"}[i%2])
	})
	t.Logf("frames per Add: %.2f repeating the attributes, %.2f changing them", same, changing)
	if same > maxFrames {
		t.Errorf("frames per Add repeating the attributes = %.2f, want at most %d", same, maxFrames)
	}
	if same >= changing {
		t.Errorf("frames per Add repeating the attributes = %.2f, not fewer than changing them (%.2f)", same, changing)
	}
}
