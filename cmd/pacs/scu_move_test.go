package main

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/part10"
	"github.com/pacsforge/pacs/core/services"
	"github.com/pacsforge/pacs/internal/peertest"
)

// compareReceived checks that a received file holds the data set of the
// corpus file f. It returns false, without failing, when the file arrived in
// another transfer syntax (the sender transcoded it).
func compareReceived(t *testing.T, path string, f sendable) bool {
	t.Helper()
	got, err := part10.ReadFile(path)
	if err != nil {
		t.Errorf("%s: received object unreadable: %v", f.path, err)
		return true
	}
	if got.Syntax.UID != f.ts {
		return false
	}
	if d := diffDatasets(got.Dataset, f.ds, ""); d != "" {
		t.Errorf("%s: received data set differs: %s", f.path, d)
	}
	return true
}

// TestMoveFromOrthanc: pacs move asks Orthanc to send a study to the
// archive server (pacs serve); every instance is then indexed with the data
// set Orthanc was loaded with.
func TestMoveFromOrthanc(t *testing.T) {
	s := startArchiveServer(t)
	o := startOrthancWithCorpus(t, s)
	study, files := o.biggestStudy()
	code, out, errOut := runCmd(t, runMove, "-aec", o.AETitle, "-aem", "FORGE", "-k", "StudyInstanceUID="+study, "127.0.0.1", o.port)
	if code != 0 {
		t.Fatalf("pacs move: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "moved to FORGE: ") || !strings.Contains(out, " 0 failed") {
		t.Errorf("summary %q", out)
	}
	ctx := context.Background()
	compared := 0
	for _, f := range files {
		info, err := s.store.index.Instance(ctx, f.inst)
		if err != nil {
			t.Errorf("%s: not in the archive after the move: %v", f.path, err)
			continue
		}
		if compareReceived(t, filepath.Join(s.store.storage.Root(), filepath.FromSlash(info.Key)), f) {
			compared++
		}
	}
	if compared == 0 {
		t.Error("no moved instance arrived in its own transfer syntax")
	}
	t.Logf("study of %d instances moved, %d compared; %s", len(files), compared, strings.TrimSpace(out))

	t.Run("unknown destination", func(t *testing.T) {
		code, out, errOut := runCmd(t, runMove, "-aec", o.AETitle, "-aem", "NOWHERE", "-k", "StudyInstanceUID="+study, "127.0.0.1", o.port)
		if code != 1 {
			t.Errorf("pacs move to an unknown AE: exit %d, want 1\n%s%s", code, out, errOut)
		}
	})
}

// TestGetFromOrthanc: pacs get retrieves a study from Orthanc into a folder,
// one Part 10 file per instance with the data set Orthanc was loaded with.
func TestGetFromOrthanc(t *testing.T) {
	o := startOrthancWithCorpus(t, nil)
	study, files := o.biggestStudy()
	dir := filepath.Join(t.TempDir(), "out")
	code, out, errOut := runCmd(t, runGet, "-aec", o.AETitle, "-k", "StudyInstanceUID="+study, "-od", dir, "127.0.0.1", o.port)
	if code != 0 {
		t.Fatalf("pacs get: exit %d\n%s%s", code, out, errOut)
	}
	compared := 0
	for _, f := range files {
		if compareReceived(t, filepath.Join(dir, f.inst+".dcm"), f) {
			compared++
		}
	}
	if compared == 0 {
		t.Error("no instance arrived in its own transfer syntax")
	}
	t.Logf("study of %d instances retrieved, %d compared; %s", len(files), compared, strings.TrimSpace(out))

	// Every loaded instance, whatever its class and syntax, at IMAGE level.
	dir = filepath.Join(t.TempDir(), "all")
	code, out, errOut = runCmd(t, runGet, "-aec", o.AETitle, "-P", "-L", "PATIENT", "-k", "PatientID="+files[0].ds.String(dicom.PatientID), "-od", dir, "127.0.0.1", o.port)
	t.Logf("patient level: exit %d: %s%s", code, strings.TrimSpace(out), errOut)
	if code != 0 {
		t.Errorf("pacs get -P -L PATIENT: exit %d", code)
	}
}

// TestMoveFailedList: pacs move between the archive server and a dcmtk
// storescp that cannot take one of a study's instances (a transfer syntax
// dcmtk does not know) prints that instance's UID from the final response's
// Failed SOP Instance UID List and exits 1; the others arrive.
func TestMoveFailedList(t *testing.T) {
	peertest.Need(t, "storescp")
	port, dir := startDestinationSCP(t)
	s := startRetrieveServer(t, []services.Remote{{AETitle: "DEST", Host: "127.0.0.1", Port: port}})
	studies := loadCorpus(t, s)
	for _, study := range sortedStudies(studies) {
		var bad []string
		for _, f := range studies[study] {
			if slices.Contains(peerUnknownSyntaxes, f.ts) {
				bad = append(bad, f.inst)
			}
		}
		if len(bad) == 0 {
			continue
		}
		code, out, errOut := runCmd(t, runMove, "-aec", "FORGE", "-aem", "DEST", "-k", "StudyInstanceUID="+study, "127.0.0.1", s.port)
		if code != 1 {
			t.Errorf("pacs move of study %s: exit %d, want 1\n%s%s", study, code, out, errOut)
		}
		for _, inst := range bad {
			if !strings.Contains(out, "failed: "+inst+"\n") {
				t.Errorf("pacs move output does not list the failed instance %s:\n%s", inst, out)
			}
		}
		got := readReceived(t, dir)
		if want := len(studies[study]) - len(bad); len(got) != want {
			t.Errorf("%d instances received, want %d", len(got), want)
		}
		t.Logf("study %s: %s", study, strings.TrimSpace(out))
		return
	}
	t.Skip("no study of the corpus holds an instance storescp cannot accept")
}
