package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pacsforge/pacs/core/dicom/codec"
	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/internal/peertest"
)

// startStorescpInto runs dcmtk's storescp accepting every transfer syntax it
// knows (+xa) and writing what it receives into a new directory; it returns
// the port and the directory.
func startStorescpInto(t *testing.T) (port, dir string) {
	t.Helper()
	peertest.Need(t, "storescp")
	dir = t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "storescp", "-aet", "STORESCP", "+xa", "-od", dir, port)
	peertest.SetNoDelay(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	for i := 0; i < 200; i++ {
		if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
			c.Close()
			return port, dir
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal("storescp did not start")
	return "", ""
}

// receivedUIDs returns the SOP Instance UIDs of the files storescp wrote
// (named <modality>.<SOP Instance UID>).
func receivedUIDs(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var uids []string
	for _, e := range entries {
		if _, inst, ok := strings.Cut(e.Name(), "."); ok {
			uids = append(uids, inst)
		}
	}
	slices.Sort(uids)
	return uids
}

// sendableByStorescp is the corpus less the files in syntaxes dcmtk 3.6.7
// does not know (it refuses their contexts).
func sendableByStorescp(t *testing.T) []sendable {
	var out []sendable
	for _, f := range sendableCorpus(t) {
		if _, ok := storescuSyntaxOption[f.ts]; ok {
			out = append(out, f)
		}
	}
	return out
}

func instanceUIDs(files []sendable) []string {
	var uids []string
	for _, f := range files {
		uids = append(uids, f.inst)
	}
	slices.Sort(uids)
	return uids
}

func TestStoreToStorescp(t *testing.T) {
	files := sendableByStorescp(t)
	notDICOM := filepath.Join(t.TempDir(), "notes.bin")
	if err := os.WriteFile(notDICOM, []byte("not a DICOM file at all, but long enough to be read"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, jobs := range []int{1, 4} {
		t.Run(fmt.Sprintf("j%d", jobs), func(t *testing.T) {
			port, dir := startStorescpInto(t)
			args := []string{"-aec", "STORESCP", "-j", strconv.Itoa(jobs), "127.0.0.1", port, notDICOM}
			for _, f := range files {
				args = append(args, f.path)
			}
			code, out, errOut := runCmd(t, runStore, args...)
			if code != 0 {
				t.Fatalf("pacs store: exit %d\n%s%s", code, out, errOut)
			}
			want := fmt.Sprintf("sent %d of %d files", len(files), len(files))
			if !strings.Contains(out, want) || !strings.Contains(out, "0 failed, 1 skipped") {
				t.Errorf("summary %q, want %q and one skipped", out, want)
			}
			if !strings.Contains(errOut, "skipping "+notDICOM) {
				t.Errorf("no note on the skipped file:\n%s", errOut)
			}
			if got, want := receivedUIDs(t, dir), instanceUIDs(files); !slices.Equal(got, want) {
				t.Errorf("storescp received %d instances, want %d", len(got), len(want))
			}
		})
	}
}

// TestStoreDirectoryFailures: a directory is walked recursively; files whose
// syntax the peer refuses fail one by one, with exit code 1.
func TestStoreDirectoryFailures(t *testing.T) {
	port, dir := startStorescpInto(t)
	root := peertest.TestData(t)
	code, out, errOut := runCmd(t, runStore, "-aec", "STORESCP", "127.0.0.1", port, filepath.Join(root, "transfer-syntax"))
	if code != 1 {
		t.Fatalf("pacs store of a folder with HTJ2K files: exit %d, want 1\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "htj2k") || !strings.Contains(errOut, "no accepted presentation context") {
		t.Errorf("failures do not name the HTJ2K files:\n%s", errOut)
	}
	// The folder holds the same instances in several syntaxes: storescp
	// keeps one file per instance.
	var sent int
	fmt.Sscanf(out, "sent %d of", &sent)
	if n := len(receivedUIDs(t, dir)); n == 0 || sent < n {
		t.Errorf("storescp holds %d instances; summary %q", n, out)
	}
}

func TestStoreToOrthanc(t *testing.T) {
	files := sendableCorpus(t)
	o := peertest.StartOrthanc(t, peertest.OrthancOptions{})
	args := []string{"-aec", o.AETitle, "-j", "2", "127.0.0.1", strconv.Itoa(o.DICOMPort)}
	for _, f := range files {
		args = append(args, f.path)
	}
	code, out, errOut := runCmd(t, runStore, args...)
	// Orthanc 1.10 may refuse a few syntaxes (HTJ2K): every other file must
	// be in Orthanc, and every failure reported.
	got := o.Instances(t)
	slices.Sort(got)
	var missing []string
	for _, f := range files {
		if _, found := slices.BinarySearch(got, f.inst); !found {
			missing = append(missing, f.path)
			if !strings.Contains(errOut, f.path) {
				t.Errorf("%s is not in Orthanc and no failure was reported", f.path)
			}
		}
	}
	if len(missing) > 0 && code != 1 || len(missing) == 0 && code != 0 {
		t.Errorf("pacs store: exit %d with %d files missing\n%s%s", code, len(missing), out, errOut)
	}
	if len(missing) > len(files)/10 {
		t.Errorf("%d of %d files missing in Orthanc: %v\n%s", len(missing), len(files), missing, errOut)
	}
	t.Logf("%d files, %d in Orthanc; %s", len(files), len(got), strings.TrimSpace(out))
}

func TestStoreBatches(t *testing.T) {
	var files []storeFile
	for i := range 300 {
		files = append(files, storeFile{path: fmt.Sprint(i), class: fmt.Sprintf("1.2.3.%d", i%150), ts: uid.ExplicitVRLittleEndian, native: true})
	}
	files = append(files,
		storeFile{path: "be", class: "1.2.3.0", ts: uid.ExplicitVRBigEndian, native: true},
		storeFile{path: "jpeg", class: "1.2.3.0", ts: uid.JPEGBaseline8Bit})
	batches, contexts := storeBatches(files)
	if len(batches) != 2 || len(contexts[0]) != maxContexts || len(contexts[1]) != 151-maxContexts {
		t.Fatalf("storeBatches() gave %d batches with %d and %d contexts, want 2 with %d and %d",
			len(batches), len(contexts[0]), len(contexts[len(contexts)-1]), maxContexts, 151-maxContexts)
	}
	if n := len(batches[0]) + len(batches[1]); n != len(files) {
		t.Errorf("batches hold %d files, want %d", n, len(files))
	}
	first := contexts[0][0]
	if want := []string{uid.ExplicitVRLittleEndian, uid.ExplicitVRBigEndian, uid.ImplicitVRLittleEndian}; first.AbstractSyntax != "1.2.3.0" || !slices.Equal(first.TransferSyntaxes, want) {
		t.Errorf("first context = %+v, want 1.2.3.0 in %v", first, want)
	}
	last := contexts[1][len(contexts[1])-1]
	if last.AbstractSyntax != "1.2.3.0" || !slices.Equal(last.TransferSyntaxes, []string{uid.JPEGBaseline8Bit}) {
		t.Errorf("last context = %+v, want 1.2.3.0 in JPEG Baseline only", last)
	}
}

func TestStoreUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{name: "no files", args: []string{"127.0.0.1", "104"}, want: 2},
		{name: "bad port", args: []string{"127.0.0.1", "x", "f"}, want: 2},
		{name: "bad jobs", args: []string{"-j", "0", "127.0.0.1", "104", "f"}, want: 2},
		{name: "missing file", args: []string{"127.0.0.1", "104", filepath.Join(t.TempDir(), "absent")}, want: 1},
		{name: "nothing DICOM", args: []string{"127.0.0.1", "104", t.TempDir()}, want: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if code, out, errOut := runCmd(t, runStore, tc.args...); code != tc.want {
				t.Errorf("pacs store %v: exit %d, want %d\n%s%s", tc.args, code, tc.want, out, errOut)
			}
		})
	}
}

// TestStoreToArchive: pacs store -j 2 into the archive server, which grants
// an asynchronous operations window; every file is indexed with its data set.
func TestStoreToArchive(t *testing.T) {
	files := sendableCorpus(t)
	s := startArchiveServer(t)
	args := []string{"-aec", "FORGE", "-j", "2", "127.0.0.1", s.port}
	for _, f := range files {
		args = append(args, f.path)
	}
	code, out, errOut := runCmd(t, runStore, args...)
	if code != 0 {
		t.Fatalf("pacs store: exit %d\n%s%s", code, out, errOut)
	}
	ctx := context.Background()
	for _, f := range files {
		info, err := s.store.index.Instance(ctx, f.inst)
		if err != nil {
			t.Errorf("%s: not indexed: %v", f.path, err)
			continue
		}
		// An uncompressed file may go in the native syntax the server
		// preferred among those proposed; a compressed one goes as it is.
		syn, _ := codec.LookupSyntax(f.ts)
		if !compareReceived(t, filepath.Join(s.store.storage.Root(), filepath.FromSlash(info.Key)), f) && syn.Encapsulated {
			t.Errorf("%s: stored in another transfer syntax than its own", f.path)
		}
	}
	t.Log(strings.TrimSpace(out))
}

func TestStoreProgressLine(t *testing.T) {
	tests := []struct {
		done, files        int
		bytes, total, sent int64
		want               string
	}{
		{0, 4, 0, 4e6, 0, "[........................]   0% 0/4 files, 0.0/4.0 MB, 0.0 instances/s, 0.0 MB/s"},
		{2, 4, 1e6, 4e6, 2, "[######..................]  25% 2/4 files, 1.0/4.0 MB, 1.0 instances/s, 0.5 MB/s"},
		{4, 4, 4e6, 4e6, 4, "[########################] 100% 4/4 files, 4.0/4.0 MB, 2.0 instances/s, 2.0 MB/s"},
		{1, 2, 0, 0, 1, "[############............]  50% 1/2 files, 0.0/0.0 MB, 0.5 instances/s, 0.0 MB/s"},
	}
	for _, tc := range tests {
		if got := storeProgressLine(tc.done, tc.files, tc.bytes, tc.total, tc.sent, 2*time.Second); got != tc.want {
			t.Errorf("storeProgressLine(%d/%d files, %d/%d bytes) =\n%q, want\n%q", tc.done, tc.files, tc.bytes, tc.total, got, tc.want)
		}
	}
}
