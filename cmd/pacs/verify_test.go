package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/pacsforge/pacs/core/archive"
	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/part10"
	"github.com/pacsforge/pacs/core/index"
)

// storeFiles stores the first n sendable corpus files through the archive
// of the site at cfgPath, opened in process (plugins included), and returns
// their locations.
func storeFiles(t *testing.T, cfgPath string, n int) []index.Location {
	t.Helper()
	cfg := loadSite(t, cfgPath)
	ctx := context.Background()
	st, err := openArchive(ctx, cfg, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var locs []index.Location
	for _, f := range sendableCorpus(t) {
		if len(locs) == n {
			break
		}
		raw, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		pf, err := part10.ReadBytes(raw)
		if err != nil {
			t.Fatal(err)
		}
		err = st.archive.Store(ctx, archive.StoreRequest{SOPClassUID: f.ds.String(dicom.SOPClassUID), SOPInstanceUID: f.inst,
			TransferSyntaxUID: f.ts, CallingAE: "LOADER"}, bytes.NewReader(raw[pf.DatasetOffset:]))
		if err != nil {
			continue
		}
		info, err := st.index.Instance(ctx, f.inst)
		if err != nil {
			t.Fatal(err)
		}
		locs = append(locs, info.Location)
	}
	if len(locs) < n {
		t.Fatalf("%d files stored, want %d", len(locs), n)
	}
	return locs
}

// TestVerifyOutOfProcessFS: pacs verify --config checks an archive whose
// first tier is the filesystem backend served by a plugin process: clean
// after ingest; then a deleted, a tampered, a lengthened object and a stray
// file are each reported, and --quick (Stat only) reports all but the
// tampered one.
func TestVerifyOutOfProcessFS(t *testing.T) {
	root := t.TempDir()
	site := writeFSSite(t, t.TempDir(), root, true)
	locs := storeFiles(t, site, 4)
	code, out, errOut := runCmd(t, runVerify, "--config", site)
	if code != 0 || !strings.Contains(out, "4 instances, 4 objects checked: 0 missing, 0 size mismatches, 0 checksum mismatches, 0 orphans") {
		t.Fatalf("pacs verify after ingest = %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	path := func(i int) string { return filepath.Join(root, filepath.FromSlash(locs[i].Key)) }
	if err := os.Remove(path(0)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path(1))
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0xff
	if err := os.WriteFile(path(1), b, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path(2), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0})
	f.Close()
	if err := os.WriteFile(filepath.Join(root, "stray.dcm"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		args      []string
		want      []string
		wantNot   []string
		wantTotal string
	}{
		{
			name:      "checksums",
			want:      []string{"missing " + locs[0].Key, "checksum " + locs[1].Key, "size " + locs[2].Key, "orphan stray.dcm (1 bytes)"},
			wantTotal: "4 instances, 4 objects checked: 1 missing, 1 size mismatches, 1 checksum mismatches, 1 orphans",
		},
		{
			name:      "quick",
			args:      []string{"--quick"},
			want:      []string{"missing " + locs[0].Key, "size " + locs[2].Key, "orphan stray.dcm (1 bytes)"},
			wantNot:   []string{"checksum " + locs[1].Key},
			wantTotal: "4 instances, 4 objects checked: 1 missing, 1 size mismatches, 0 checksum mismatches, 1 orphans",
		},
		{
			name:      "no-checksum",
			args:      []string{"--no-checksum"},
			wantNot:   []string{"checksum " + locs[1].Key},
			wantTotal: "1 missing, 1 size mismatches, 0 checksum mismatches, 1 orphans",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, runVerify, append(tc.args, "--config", site)...)
			if code != 1 {
				t.Errorf("pacs verify = %d, want 1\nstderr:\n%s", code, errOut)
			}
			for _, want := range append(tc.want, tc.wantTotal) {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			for _, not := range tc.wantNot {
				if strings.Contains(out, not) {
					t.Errorf("output has %q:\n%s", not, out)
				}
			}
		})
	}
}

// TestVerifyPluginRefusesConfig: a plugin backend whose config {} the
// plugin refuses makes pacs verify fail with the diagnostic at the site's
// line, before it reads the index.
func TestVerifyPluginRefusesConfig(t *testing.T) {
	dataDir := t.TempDir()
	site := writeSite(t, `
data_dir = "`+dataDir+`"
storage "cold" {
  backend = "s3"
  config {
    region = "us-east-1"
  }
}
`)
	// An empty index, so that verify gets as far as the backend.
	ix, err := index.Open(context.Background(), filepath.Join(dataDir, indexFileName), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ix.Close()
	code, out, errOut := runCmd(t, runVerify, "--config", site)
	if code != 1 {
		t.Fatalf("pacs verify = %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{"site.hcl:5", "bucket", `storage "cold"`} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

// TestVerifyQuickInProcess: --quick works on the filesystem in process too.
func TestVerifyQuickInProcess(t *testing.T) {
	root := t.TempDir()
	site := writeFSSite(t, t.TempDir(), root, false)
	locs := storeFiles(t, site, 2)
	if err := os.Remove(filepath.Join(root, filepath.FromSlash(locs[1].Key))); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(t, runVerify, "--quick", "--config", site)
	if code != 1 || !strings.Contains(out, "missing "+locs[1].Key) || !strings.Contains(out, "2 instances, 1 objects checked: 1 missing") {
		t.Errorf("pacs verify --quick = %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}
