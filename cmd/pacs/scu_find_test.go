package main

import (
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/dicomjson"
	"github.com/pacsforge/pacs/core/dicom/part10"
	"github.com/pacsforge/pacs/internal/peertest"
)

// orthancWithCorpus is an Orthanc loaded with the sendable corpus (the
// files it accepts), whose modalities list the archive server s as FORGE.
type orthancWithCorpus struct {
	*peertest.Orthanc
	port   string
	loaded []sendable
}

func startOrthancWithCorpus(t *testing.T, s *archiveServer) *orthancWithCorpus {
	t.Helper()
	opt := peertest.OrthancOptions{}
	if s != nil {
		opt.Modalities = map[string]string{"FORGE": s.addr}
	}
	o := peertest.StartOrthanc(t, opt)
	files := sendableCorpus(t)
	for _, f := range files {
		o.Upload(t, f.path)
	}
	in := o.Instances(t)
	var loaded []sendable
	for _, f := range files {
		if slices.Contains(in, f.inst) {
			loaded = append(loaded, f)
		}
	}
	return &orthancWithCorpus{Orthanc: o, port: strconv.Itoa(o.DICOMPort), loaded: loaded}
}

// studies maps each Study Instance UID of the loaded files to its files.
func (o *orthancWithCorpus) studies() map[string][]sendable {
	m := map[string][]sendable{}
	for _, f := range o.loaded {
		st := f.ds.String(dicom.StudyInstanceUID)
		m[st] = append(m[st], f)
	}
	return m
}

// biggestStudy returns the UID of the study with the most series, then
// instances.
func (o *orthancWithCorpus) biggestStudy() (string, []sendable) {
	var best string
	score := func(fs []sendable) int {
		series := map[string]bool{}
		for _, f := range fs {
			series[f.ds.String(dicom.SeriesInstanceUID)] = true
		}
		return len(series)*1000 + len(fs)
	}
	m := o.studies()
	for _, st := range slices.Sorted(maps.Keys(m)) {
		if best == "" || score(m[st]) > score(m[best]) {
			best = st
		}
	}
	return best, m[best]
}

// findJSON runs pacs find --json and decodes its matches.
func findJSON(t *testing.T, args ...string) []*dicom.Dataset {
	t.Helper()
	code, out, errOut := runCmd(t, runFind, append([]string{"--json"}, args...)...)
	if code != 0 {
		t.Fatalf("pacs find %v: exit %d\n%s", args, code, errOut)
	}
	matches, err := dicomjson.DecodeArray(strings.NewReader(out))
	if err != nil {
		t.Fatalf("pacs find --json output: %v\n%s", err, out)
	}
	return matches
}

func TestFindOrthanc(t *testing.T) {
	o := startOrthancWithCorpus(t, nil)
	host := []string{"-aec", o.AETitle, "127.0.0.1", o.port}

	t.Run("study level", func(t *testing.T) {
		matches := findJSON(t, append([]string{"-k", "StudyInstanceUID", "-k", "PatientID"}, host...)...)
		var got []string
		for _, m := range matches {
			got = append(got, m.String(dicom.StudyInstanceUID))
		}
		slices.Sort(got)
		if want := slices.Sorted(maps.Keys(o.studies())); !slices.Equal(got, want) {
			t.Errorf("STUDY matches: %d studies, want %d:\n got %v\nwant %v", len(got), len(want), got, want)
		}
	})

	t.Run("series level", func(t *testing.T) {
		study, files := o.biggestStudy()
		want := map[string]string{} // series UID -> modality
		for _, f := range files {
			want[f.ds.String(dicom.SeriesInstanceUID)] = f.ds.String(dicom.Modality)
		}
		matches := findJSON(t, append([]string{"-L", "SERIES", "-k", "StudyInstanceUID=" + study,
			"-k", "SeriesInstanceUID", "-k", "Modality"}, host...)...)
		got := map[string]string{}
		for _, m := range matches {
			got[m.String(dicom.SeriesInstanceUID)] = m.String(dicom.Modality)
		}
		if !maps.Equal(got, want) {
			t.Errorf("SERIES matches of %s = %v, want %v", study, got, want)
		}
	})

	t.Run("table", func(t *testing.T) {
		study, files := o.biggestStudy()
		code, out, errOut := runCmd(t, runFind, append([]string{"-S", "-k", "QueryRetrieveLevel=STUDY",
			"-k", "StudyInstanceUID=" + study, "-k", "PatientID", "-k", "0008,0061"}, host...)...)
		if code != 0 {
			t.Fatalf("pacs find: exit %d\n%s", code, errOut)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 || strings.Fields(lines[0])[0] != "StudyInstanceUID" || strings.Fields(lines[0])[2] != "0008,0061" {
			t.Fatalf("table:\n%s", out)
		}
		row := strings.Fields(lines[1])
		if row[0] != study || row[1] != files[0].ds.String(dicom.PatientID) {
			t.Errorf("row %q, want %s %s", lines[1], study, files[0].ds.String(dicom.PatientID))
		}
	})

	t.Run("character sets", func(t *testing.T) {
		// Each charset file's patient name, decoded from the file, equals the
		// one found by its study when Orthanc's answer can hold it.
		var checked int
		for _, f := range o.loaded {
			if !strings.Contains(f.path, string(filepath.Separator)+"charset"+string(filepath.Separator)) {
				continue
			}
			file, err := part10.ReadFile(f.path)
			if err != nil {
				t.Fatal(err)
			}
			want := file.Dataset.String(dicom.PatientName)
			matches := findJSON(t, append([]string{"-k", "StudyInstanceUID=" + f.ds.String(dicom.StudyInstanceUID), "-k", "PatientName"}, host...)...)
			if len(matches) != 1 {
				t.Errorf("%s: %d matches", f.path, len(matches))
				continue
			}
			if !latin1(want) {
				continue // Orthanc answers in Latin-1 (its DefaultEncoding) and drops the rest
			}
			if got := matches[0].String(dicom.PatientName); got != want {
				t.Errorf("%s: PatientName %q, want %q", filepath.Base(f.path), got, want)
			}
			checked++
		}
		if checked == 0 {
			t.Error("no character-set file with a Latin-1 name was checked")
		}
		t.Logf("%d character-set files checked", checked)
	})

	t.Run("refused", func(t *testing.T) {
		code, _, errOut := runCmd(t, runFind, "-aec", o.AETitle, "-L", "SERIES", "-k", "NoSuchKeyword=1", "127.0.0.1", o.port)
		if code != 2 || !strings.Contains(errOut, "NoSuchKeyword") {
			t.Errorf("unknown keyword: exit %d, %s", code, errOut)
		}
	})
}

func TestQueryIdentifier(t *testing.T) {
	tests := []struct {
		name      string
		q         queryFlags
		wantLevel string
		wantKeys  []string
		check     func(*dicom.Dataset) bool
		wantErr   bool
	}{
		{name: "default level", q: queryFlags{keys: keyList{"PatientName=Doe^*", "StudyDate"}}, wantLevel: "STUDY",
			wantKeys: []string{"PatientName", "StudyDate"},
			check: func(ds *dicom.Dataset) bool {
				return ds.String(dicom.PatientName) == "Doe^*" && ds.Contains(dicom.StudyDate)
			}},
		{name: "level from key", q: queryFlags{keys: keyList{"0008,0052=SERIES", "0020,000E"}}, wantLevel: "SERIES",
			wantKeys: []string{"0020,000E"}},
		{name: "sequence path", q: queryFlags{level: "image", keys: keyList{"ReferencedStudySequence.ReferencedSOPInstanceUID"}}, wantLevel: "IMAGE",
			check: func(ds *dicom.Dataset) bool {
				items := ds.Items(dicom.ReferencedStudySequence)
				return len(items) == 1 && items[0].Contains(dicom.ReferencedSOPInstanceUID)
			}},
		{name: "UTF-8 value", q: queryFlags{keys: keyList{"PatientName=Müller"}}, wantLevel: "STUDY",
			check: func(ds *dicom.Dataset) bool { return ds.String(dicom.SpecificCharacterSet) == "ISO_IR 192" }},
		{name: "bad level", q: queryFlags{level: "FRAME"}, wantErr: true},
		{name: "bad date", q: queryFlags{keys: keyList{"StudyDate=yesterday"}}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds, keys, err := tc.q.identifier()
			if (err != nil) != tc.wantErr {
				t.Fatalf("identifier() error = %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if got := ds.String(dicom.QueryRetrieveLevel); got != tc.wantLevel {
				t.Errorf("level = %q, want %q", got, tc.wantLevel)
			}
			if tc.wantKeys != nil {
				var got []string
				for _, k := range keys {
					got = append(got, k.expr)
				}
				if !slices.Equal(got, tc.wantKeys) {
					t.Errorf("keys = %v, want %v", got, tc.wantKeys)
				}
			}
			if tc.check != nil && !tc.check(ds) {
				t.Errorf("identifier does not hold the keys")
			}
		})
	}
}

// latin1 reports whether ISO 8859-1 can represent s.
func latin1(s string) bool {
	for _, r := range s {
		if r > 0xff {
			return false
		}
	}
	return true
}
