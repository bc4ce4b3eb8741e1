package index

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/charset"
)

// TestCharacterSet: the character set an entity was received with is kept
// although its text is stored in UTF-8, at every level.
func TestCharacterSet(t *testing.T) {
	ix := openTest(t, Options{})
	ctx := context.Background()
	add := func(pid, study, series, sop string, cs []string, name string) {
		t.Helper()
		ds := dicom.NewDataset(8)
		if cs != nil {
			c, err := charset.New(cs)
			if err != nil {
				t.Fatal(err)
			}
			ds.Codec = c
			mustSet(t, ds, dicom.SpecificCharacterSet, cs...)
		}
		mustSet(t, ds, dicom.PatientID, pid)
		mustSet(t, ds, dicom.PatientName, name)
		mustSet(t, ds, dicom.StudyInstanceUID, study)
		mustSet(t, ds, dicom.SeriesInstanceUID, series)
		mustSet(t, ds, dicom.SOPInstanceUID, sop)
		mustSet(t, ds, dicom.SOPClassUID, "1.2.840.10008.5.1.4.1.1.7")
		if _, err := ix.Add(ctx, InstanceRecord{Dataset: ds, Backend: "fs", Key: sop}); err != nil {
			t.Fatal(err)
		}
	}
	add("P1", "1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.1", []string{"ISO_IR 100"}, "Müller^Jürgen")
	add("P2", "1.2.3.2", "1.2.3.2.1", "1.2.3.2.1.1", []string{"", "ISO 2022 IR 87"}, "Yamada^Tarou=山田^太郎")
	add("P3", "1.2.3.3", "1.2.3.3.1", "1.2.3.3.1.1", nil, "Doe^John")
	tests := []struct {
		name  string
		level Level
		uid   string
		want  []string
	}{
		{name: "patient latin-1", level: Patient, uid: "P1", want: []string{"ISO_IR 100"}},
		{name: "study iso 2022", level: Study, uid: "1.2.3.2", want: []string{"", "ISO 2022 IR 87"}},
		{name: "series latin-1", level: Series, uid: "1.2.3.1.1", want: []string{"ISO_IR 100"}},
		{name: "image iso 2022", level: Image, uid: "1.2.3.2.1.1", want: []string{"", "ISO 2022 IR 87"}},
		{name: "default repertoire", level: Study, uid: "1.2.3.3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ix.CharacterSet(ctx, tc.level, tc.uid)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("CharacterSet() = %q, %v; want %q", got, err, tc.want)
			}
			// FindMatches reads the same in the query's pass.
			keys := dicom.NewDataset(4)
			mustSet(t, keys, uniqueKey[tc.level], tc.uid)
			n := 0
			for m, err := range ix.FindMatches(ctx, Query{Level: tc.level, Root: PatientRoot, Keys: keys, Relational: true}) {
				if err != nil {
					t.Fatalf("FindMatches: %v", err)
				}
				n++
				if !slices.Equal(m.CharacterSet, tc.want) {
					t.Errorf("FindMatches CharacterSet = %q, want %q", m.CharacterSet, tc.want)
				}
				if got := m.Dataset.String(uniqueKey[tc.level]); got != tc.uid {
					t.Errorf("FindMatches data set has %q, want %q", got, tc.uid)
				}
			}
			if n != 1 {
				t.Errorf("FindMatches gave %d matches, want 1", n)
			}
		})
	}
	if _, err := ix.CharacterSet(ctx, Study, "9.9"); !errors.Is(err, ErrNotFound) {
		t.Errorf("CharacterSet(unknown) error = %v, want ErrNotFound", err)
	}
}
