package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/pacsforge/pacs/core/config"
	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/part10"
	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/core/ul"
	"github.com/pacsforge/pacs/internal/peertest"
)

// archiveServer is a DICOM server with an archive under a temporary data
// directory, serving on 127.0.0.1.
type archiveServer struct {
	addr, port string
	dataDir    string
	store      *archiveStore
}

// startArchiveServer starts a server on an archive in a temporary data
// directory, with the default config and no C-MOVE destinations; it is
// stopped at the end of the test.
func startArchiveServer(t *testing.T) *archiveServer {
	t.Helper()
	return startRetrieveServer(t, nil)
}

// sendable is a corpus file storescu can send: a Part 10 file of a Storage
// SOP class, read cleanly by part10, one per SOP Instance UID.
type sendable struct {
	path, inst, ts string
	ds             *dicom.Dataset
}

func sendableCorpus(t *testing.T) []sendable {
	t.Helper()
	root := peertest.TestData(t)
	seen := map[string]bool{}
	var files []sendable
	for _, path := range peertest.TestDataFiles(t, root) {
		if strings.Contains(path, string(filepath.Separator)+"malformed"+string(filepath.Separator)) {
			continue
		}
		f, err := part10.ReadFile(path)
		if err != nil || f.Meta == nil || len(f.Problems) > 0 {
			continue
		}
		class, inst := f.Meta.String(dicom.MediaStorageSOPClassUID), f.Meta.String(dicom.MediaStorageSOPInstanceUID)
		if !uid.IsStorage(class) || uid.Valid(inst) != nil || seen[inst] ||
			f.Dataset.String(dicom.SOPInstanceUID) != inst || f.Dataset.String(dicom.SOPClassUID) != class ||
			uid.Valid(f.Dataset.String(dicom.StudyInstanceUID)) != nil || uid.Valid(f.Dataset.String(dicom.SeriesInstanceUID)) != nil {
			continue
		}
		seen[inst] = true
		files = append(files, sendable{path: path, inst: inst, ts: f.Syntax.UID, ds: f.Dataset})
	}
	if len(files) == 0 {
		t.Skip("no sendable files in the corpus")
	}
	return files
}

// storescuSyntaxOption is storescu's option proposing a transfer syntax
// first ("" for its default proposal).
var storescuSyntaxOption = map[string]string{
	uid.ExplicitVRLittleEndian:         "",
	uid.ImplicitVRLittleEndian:         "-xi",
	uid.ExplicitVRBigEndian:            "-xb",
	uid.DeflatedExplicitVRLittleEndian: "-xd",
	"1.2.840.10008.1.2.4.50":           "-xy", // JPEG Baseline
	"1.2.840.10008.1.2.4.51":           "-xx", // JPEG Extended
	"1.2.840.10008.1.2.4.70":           "-xs", // JPEG Lossless SV1
	"1.2.840.10008.1.2.4.80":           "-xt", // JPEG-LS lossless
	"1.2.840.10008.1.2.4.81":           "-xu", // JPEG-LS near-lossless
	"1.2.840.10008.1.2.4.90":           "-xv", // JPEG 2000 lossless
	"1.2.840.10008.1.2.4.91":           "-xw", // JPEG 2000
	"1.2.840.10008.1.2.5":              "-xr", // RLE Lossless
}

// TestStorescuIngest: dcmtk's storescu sends the corpus (uncompressed and
// encapsulated) to pacs serve; every file is indexed, its stored data set
// equals the one sent, and pacs verify finds nothing, then finds a deleted
// and a tampered object.
func TestStorescuIngest(t *testing.T) {
	peertest.Need(t, "storescu")
	files := sendableCorpus(t)
	s := startArchiveServer(t)
	// storescu proposes a compressed syntax only when told to: group the
	// files by syntax and propose each group's own, so that every file is
	// sent as it is.
	groups := map[string][]sendable{}
	var sent []sendable
	for _, f := range files {
		if _, ok := storescuSyntaxOption[f.ts]; ok {
			groups[f.ts] = append(groups[f.ts], f)
			sent = append(sent, f)
		}
	}
	for ts, g := range groups {
		for i := 0; i < len(g); i += 12 {
			args := []string{"-R", "-aec", "FORGE"}
			if opt := storescuSyntaxOption[ts]; opt != "" {
				args = append(args, opt)
			}
			args = append(args, "127.0.0.1", s.port)
			for _, f := range g[i:min(i+12, len(g))] {
				args = append(args, f.path)
			}
			cmd := exec.Command("storescu", args...)
			peertest.SetNoDelay(cmd)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("storescu error = %v:\n%s", err, out)
			}
		}
	}
	t.Logf("%d of %d corpus files in a syntax storescu can propose", len(sent), len(files))
	files = sent
	ctx := context.Background()
	var encapsulated, transcoded int
	for _, f := range files {
		info, err := s.store.index.Instance(ctx, f.inst)
		if err != nil {
			t.Errorf("%s: not indexed: %v", f.path, err)
			continue
		}
		p := filepath.Join(s.store.storage.Root(), filepath.FromSlash(info.Key))
		got, err := part10.ReadFile(p)
		if err != nil {
			t.Errorf("%s: stored object unreadable: %v", f.path, err)
			continue
		}
		if got.Syntax.Encapsulated {
			encapsulated++
		}
		if got.Syntax.UID != f.ts {
			// storescu converted the data set to the syntax we accepted
			// for a context it proposed with several; its conversion is
			// not ours to compare.
			transcoded++
			continue
		}
		if d := diffDatasets(got.Dataset, f.ds, ""); d != "" {
			t.Errorf("%s: stored data set differs: %s", f.path, d)
		}
	}
	t.Logf("%d files sent, %d compared (%d encapsulated), %d converted by storescu", len(files), len(files)-transcoded, encapsulated, transcoded)

	code, out, errOut := runCmd(t, runVerify, "--data-dir", s.dataDir)
	if code != 0 {
		t.Fatalf("pacs verify after ingest: exit %d\n%s%s", code, out, errOut)
	}
	// Delete one object, tamper with another, add an orphan.
	locs := map[int]index.Location{}
	for i, f := range files[:2] {
		info, err := s.store.index.Instance(ctx, f.inst)
		if err != nil {
			t.Fatal(err)
		}
		locs[i] = info.Location
	}
	root := s.store.storage.Root()
	if err := os.Remove(filepath.Join(root, filepath.FromSlash(locs[0].Key))); err != nil {
		t.Fatal(err)
	}
	tampered := filepath.Join(root, filepath.FromSlash(locs[1].Key))
	b, err := os.ReadFile(tampered)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0xff
	if err := os.WriteFile(tampered, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "stray.dcm"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCmd(t, runVerify, "--data-dir", s.dataDir)
	if code != 1 {
		t.Errorf("pacs verify after damage: exit %d, want 1", code)
	}
	for _, want := range []string{"missing " + locs[0].Key, "checksum " + locs[1].Key, "orphan stray.dcm"} {
		if !strings.Contains(out, want) {
			t.Errorf("pacs verify output lacks %q:\n%s", want, out)
		}
	}
}

// TestStoreRefused: a data set whose SOP Instance UID is not the command's
// and an affected SOP Instance UID that is not a UID get failures, and
// nothing is stored.
func TestStoreRefused(t *testing.T) {
	s := startArchiveServer(t)
	ctx := context.Background()
	path := filepath.Join(peertest.TestData(t), "transfer-syntax", "explicit-vr-le", "CT_small.dcm")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("corpus file missing: %v", err)
	}
	f, err := part10.ReadBytes(raw)
	if err != nil {
		t.Fatal(err)
	}
	class := f.Dataset.String(dicom.SOPClassUID)
	data := raw[f.DatasetOffset:]
	c, err := dimse.Dial(ctx, s.addr, ul.DialOptions{CalledAE: "FORGE", CallingAE: "TESTSCU",
		Contexts: dimse.StorageContexts([]string{class}, f.Syntax.UID)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tests := []struct {
		name, inst string
		want       uint16
	}{
		{name: "instance mismatch", inst: "1.2.826.0.1.3680043.2.1125.999", want: dimse.CodeDataSetMismatch},
		{name: "path in UID", inst: "1.2/../../../etc", want: dimse.CodeCannotUnderstand},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := c.Store(ctx, class, tc.inst, f.Syntax.UID, bytes.NewReader(data), dimse.StoreOptions{})
			var se *dimse.StatusError
			if !errors.As(err, &se) || st.Code != tc.want {
				t.Fatalf("Store() = %v, %v; want status %04X", st, err, tc.want)
			}
			if _, err := s.store.index.Instance(ctx, tc.inst); !errors.Is(err, index.ErrNotFound) {
				t.Errorf("Instance() = %v, want ErrNotFound", err)
			}
		})
	}
	var objects []string
	filepath.WalkDir(s.dataDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.Contains(p, "objects") || strings.Contains(p, "spool")) && !strings.HasSuffix(p, ".lock") && !strings.HasSuffix(p, ".journal") {
			objects = append(objects, p)
		}
		return nil
	})
	if len(objects) != 0 {
		t.Errorf("files left after refused stores: %q", objects)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(s.dataDir), "etc")); err == nil {
		t.Error("a path outside the data directory was created")
	}
}

// diffDatasets compares two data sets element by element, ignoring group
// 0002, group lengths, and what storescu itself changes when it sends a
// file: Data Set Trailing Padding is dropped and trailing NUL and space
// padding of values is cut. It returns "" when they are equal.
func diffDatasets(got, want *dicom.Dataset, path string) string {
	filter := func(ds *dicom.Dataset) []dicom.Element {
		var out []dicom.Element
		for e := range ds.All() {
			if e.Tag.Group() == 2 || e.Tag.Element() == 0 || e.Tag == dicom.DataSetTrailingPadding {
				continue
			}
			out = append(out, *e)
		}
		return out
	}
	g, w := filter(got), filter(want)
	if len(g) != len(w) {
		return fmt.Sprintf("%s: %d elements, want %d", path, len(g), len(w))
	}
	for i := range g {
		a, b := g[i], w[i]
		where := path + a.Tag.String()
		switch {
		case a.Tag != b.Tag:
			return fmt.Sprintf("%s: tag %v, want %v", path, a.Tag, b.Tag)
		case a.VR != b.VR:
			return fmt.Sprintf("%s: VR %v, want %v", where, a.VR, b.VR)
		case !bytes.Equal(bytes.TrimRight(a.Value, "\x00 "), bytes.TrimRight(b.Value, "\x00 ")):
			return fmt.Sprintf("%s: value differs", where)
		case len(a.Items) != len(b.Items):
			return fmt.Sprintf("%s: %d items, want %d", where, len(a.Items), len(b.Items))
		case (a.Fragments == nil) != (b.Fragments == nil):
			return fmt.Sprintf("%s: fragments differ", where)
		}
		if a.Fragments != nil {
			if !bytes.Equal(a.Fragments.OffsetTable, b.Fragments.OffsetTable) || len(a.Fragments.Items) != len(b.Fragments.Items) {
				return fmt.Sprintf("%s: fragments differ", where)
			}
			for j := range a.Fragments.Items {
				if !bytes.Equal(a.Fragments.Items[j], b.Fragments.Items[j]) {
					return fmt.Sprintf("%s: fragment %d differs", where, j)
				}
			}
		}
		for j := range a.Items {
			if d := diffDatasets(a.Items[j], b.Items[j], fmt.Sprintf("%s[%d].", where, j)); d != "" {
				return d
			}
		}
	}
	return ""
}

// TestServeDataDirInUse: a second pacs serve on a data directory in use is
// refused at start-up, naming the reason, and the first keeps serving.
func TestServeDataDirInUse(t *testing.T) {
	s := startArchiveServer(t)
	cfg := config.Default()
	cfg.DataDir = s.dataDir
	_, err := openArchive(context.Background(), cfg, hclog.NewNullLogger())
	if err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("openArchive() on a data directory in use: error = %v", err)
	}
	c, err := dimse.Dial(context.Background(), s.addr, ul.DialOptions{CalledAE: "FORGE", Contexts: []ul.ProposedContext{dimse.VerificationContext()}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Echo(context.Background()); err != nil {
		t.Errorf("C-ECHO after the refused start: %v", err)
	}
}
