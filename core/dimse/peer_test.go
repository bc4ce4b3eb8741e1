package dimse_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/part10"
	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/ul"
	"github.com/pacsforge/pacs/internal/peertest"
)

// run runs a dcmtk tool with TCP_NODELAY and returns its combined output.
func run(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	peertest.SetNoDelay(cmd)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestEchoscuToOurSCP(t *testing.T) {
	peertest.Need(t, "echoscu")
	policy := storagePolicy()
	policy.StrictCalledAE = true
	s := startSCP(t, policy, dimse.NewMux(nil))
	tests := []struct {
		name     string
		args     []string
		wantFail bool
		wantOut  string
	}{
		{name: "max pdu 4096", args: []string{"--max-pdu", "4096", "--repeat", "3"}},
		{name: "max pdu 16384", args: []string{"--max-pdu", "16384", "--repeat", "3"}},
		{name: "max pdu 131072", args: []string{"--max-pdu", "131072", "--repeat", "3"}},
		{name: "128 contexts of 38 syntaxes", args: []string{"--propose-pc", "128", "--propose-ts", "38"}},
		{name: "unknown called AE", args: []string{"-aec", "SOMEONE"}, wantFail: true, wantOut: "Called AE Title Not Recognized"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-v", "-aec", "TEST"}, tc.args...)
			out, err := run(t, "echoscu", append(args, "127.0.0.1", s.port)...)
			if (err != nil) != tc.wantFail {
				t.Fatalf("echoscu error = %v, want failure %v; output:\n%s", err, tc.wantFail, out)
			}
			if !strings.Contains(out, tc.wantOut) {
				t.Errorf("echoscu output lacks %q:\n%s", tc.wantOut, out)
			}
			if !tc.wantFail && !strings.Contains(out, "Received Echo Response (Success)") {
				t.Errorf("no successful echo in:\n%s", out)
			}
		})
	}
}

// TestUnsupportedSyntaxContext: storescu proposes each transfer syntax in a
// context of its own (JPEG 2000 among them); the SCP, accepting only native
// syntaxes, rejects that context with result 4 and the association proceeds
// on the others.
func TestUnsupportedSyntaxContext(t *testing.T) {
	peertest.Need(t, "storescu")
	dir := t.TempDir()
	mux := dimse.NewMux(nil)
	mux.HandleCStore(dimse.AnySOPClass, writeToDir(dir))
	policy := storagePolicy()
	policy.AcceptAny = false
	policy.Syntaxes[uid.CTImageStorage] = nativeSyntaxes
	s := startSCP(t, policy, mux)
	file := writeCT(t, "1.2.826.0.1.3680043.2.1143.7")
	out, err := run(t, "storescu", "-d", "-xv", "-aec", "TEST", "127.0.0.1", s.port, file)
	if err != nil {
		t.Fatalf("storescu error = %v:\n%s", err, out)
	}
	if !strings.Contains(out, "Transfer Syntax(es) Not Supported") && !strings.Contains(out, "Transfer Syntaxes Not Supported") {
		t.Errorf("no context rejected for its transfer syntax in storescu's log:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "1.2.826.0.1.3680043.2.1143.7.dcm")); err != nil {
		t.Errorf("the object was not stored: %v", err)
	}
}

// writeCT writes a small CT image in Explicit VR Little Endian and returns
// its path.
func writeCT(t *testing.T, inst string) string {
	t.Helper()
	ds := dicom.NewDataset(12)
	ds.SetString(dicom.SOPClassUID, uid.CTImageStorage)
	ds.SetString(dicom.SOPInstanceUID, inst)
	ds.SetString(dicom.PatientName, "Test^Peer")
	ds.SetString(dicom.Modality, "CT")
	ds.SetInts(dicom.Rows, 16)
	ds.SetInts(dicom.Columns, 16)
	ds.SetInts(dicom.BitsAllocated, 16)
	ds.SetBytes(dicom.PixelData, dicom.OW, make([]byte, 512))
	path := filepath.Join(t.TempDir(), "ct.dcm")
	if err := part10.WriteFile(path, &part10.File{Dataset: ds, Meta: part10.NewMeta(uid.CTImageStorage, inst, uid.ExplicitVRLittleEndian)}); err != nil {
		t.Fatal(err)
	}
	return path
}

// corpusFile is an uncompressed corpus file that can be sent.
type corpusFile struct {
	path, class, inst, ts string
	ds                    *dicom.Dataset
}

// uncompressedCorpus returns the corpus files in a native transfer syntax
// that part10 reads, with a storage SOP class, one per SOP instance UID.
func uncompressedCorpus(t *testing.T) []corpusFile {
	root := peertest.TestData(t)
	seen := map[string]bool{}
	var files []corpusFile
	for _, path := range peertest.TestDataFiles(t, root) {
		if strings.Contains(path, string(filepath.Separator)+"malformed"+string(filepath.Separator)) {
			continue
		}
		f, err := part10.ReadFile(path)
		if err != nil || f.Meta == nil || f.Syntax.Encapsulated {
			continue
		}
		ts := part10.TransferSyntaxUID(f.Meta)
		class, inst := f.Meta.String(dicom.MediaStorageSOPClassUID), f.Meta.String(dicom.MediaStorageSOPInstanceUID)
		if !isNative(ts) || !uid.IsStorage(class) || inst == "" || seen[inst] ||
			f.Dataset.String(dicom.SOPInstanceUID) != inst || len(f.Problems) > 0 {
			continue
		}
		seen[inst] = true
		files = append(files, corpusFile{path: path, class: class, inst: inst, ts: ts, ds: f.Dataset})
	}
	if len(files) == 0 {
		t.Skip("no uncompressed files in the corpus")
	}
	return files
}

func isNative(ts string) bool {
	for _, n := range nativeSyntaxes {
		if ts == n {
			return true
		}
	}
	return false
}

func chunks(files []corpusFile, n int) [][]corpusFile {
	var out [][]corpusFile
	for len(files) > 0 {
		k := min(n, len(files))
		out = append(out, files[:k])
		files = files[k:]
	}
	return out
}

// TestStorescuToOurSCP: dcmtk's storescu sends every uncompressed corpus
// file to a test SCP writing what it receives; the data sets received equal
// those sent.
func TestStorescuToOurSCP(t *testing.T) {
	peertest.Need(t, "storescu")
	files := uncompressedCorpus(t)
	dir := t.TempDir()
	mux := dimse.NewMux(nil)
	mux.HandleCStore(dimse.AnySOPClass, writeToDir(dir))
	s := startSCP(t, storagePolicy(), mux)
	for _, chunk := range chunks(files, 12) {
		args := []string{"-v", "-R", "-aec", "TEST", "-xd", "127.0.0.1", s.port}
		for _, f := range chunk {
			args = append(args, f.path)
		}
		if out, err := run(t, "storescu", args...); err != nil {
			t.Errorf("storescu error = %v:\n%s", err, out)
		}
	}
	compareReceived(t, files, func(f corpusFile) string { return filepath.Join(dir, f.inst+".dcm") })
	t.Logf("%d files sent by storescu and compared", len(files))
}

// TestOurSCUToStorescp: our Client sends every uncompressed corpus file to
// dcmtk's storescp, and the files it writes carry the same elements.
func TestOurSCUToStorescp(t *testing.T) {
	peertest.Need(t, "storescp")
	files := uncompressedCorpus(t)
	dir := t.TempDir()
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "storescp", "-d", "-aet", "STORESCP", "+xa", "-od", dir, strconv.Itoa(port))
	peertest.SetNoDelay(cmd)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); cmd.Wait() }()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	waitListening(t, addr)
	for _, chunk := range chunks(files, 20) {
		var pcs []ul.ProposedContext
		have := map[string]bool{}
		for _, f := range chunk {
			for _, ts := range []string{f.ts, uid.ExplicitVRLittleEndian} {
				if !have[f.class+ts] {
					have[f.class+ts] = true
					pcs = append(pcs, ul.ProposedContext{AbstractSyntax: f.class, TransferSyntaxes: []string{ts}})
				}
			}
		}
		c := dialTest(t, addr, ul.DialOptions{CalledAE: "STORESCP", Contexts: pcs})
		for _, f := range chunk {
			if _, err := c.StoreFile(context.Background(), f.path, dimse.StoreOptions{}); err != nil {
				t.Errorf("StoreFile(%s) error = %v", f.path, err)
			}
		}
		if err := c.Close(); err != nil {
			t.Errorf("Close() error = %v", err)
		}
	}
	written := map[string]string{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if f, err := part10.ReadFile(p, part10.WithStopAtPixelData()); err == nil {
			written[f.Meta.String(dicom.MediaStorageSOPInstanceUID)] = p
		}
	}
	compareReceived(t, files, func(f corpusFile) string { return written[f.inst] })
	t.Logf("%d files sent to storescp and compared", len(files))
	if t.Failed() {
		t.Logf("storescp log:\n%s", log.String())
	}
}

func compareReceived(t *testing.T, files []corpusFile, where func(corpusFile) string) {
	t.Helper()
	for _, f := range files {
		p := where(f)
		if p == "" {
			t.Errorf("%s: not received", f.path)
			continue
		}
		got, err := part10.ReadFile(p)
		if err != nil {
			t.Errorf("%s: received file unreadable: %v", f.path, err)
			continue
		}
		if d := compareDatasets(got.Dataset, f.ds, ""); d != "" {
			t.Errorf("%s: received data set differs: %s", f.path, d)
		}
	}
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitListening(t *testing.T, addr string) {
	for i := 0; i < 200; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s", addr)
}
