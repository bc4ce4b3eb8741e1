package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pacsforge/pacs/core/archive"
	"github.com/pacsforge/pacs/core/config"
	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/part10"
	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/services"
	"github.com/pacsforge/pacs/core/ul"
	"github.com/pacsforge/pacs/internal/peertest"
)

// peerCommandTimeout bounds one run of a dcmtk command in these tests.
const peerCommandTimeout = 2 * time.Minute

// startRetrieveServer starts a server on an archive in a temporary data
// directory, with the default config and the C-MOVE destinations remotes;
// it is stopped at the end of the test.
func startRetrieveServer(t *testing.T, remotes []services.Remote) *archiveServer {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := openArchive(ctx, cfg, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts := serveOptionsFrom(cfg.DICOM)
	opts.archive = st
	opts.remotes = remotes
	done := make(chan error, 1)
	go func() { done <- serveDICOM(ctx, opts, hclog.NewNullLogger(), ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serveDICOM() error = %v", err)
		}
		st.Close()
	})
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return &archiveServer{addr: ln.Addr().String(), port: port, dataDir: cfg.DataDir, store: st}
}

// loadCorpus stores the sendable corpus into the archive as the files are
// (their own transfer syntax) and returns what was stored, by study. Files
// the archive refuses (a series the index holds under another study, for
// instance) are left out.
func loadCorpus(t *testing.T, s *archiveServer) map[string][]sendable {
	t.Helper()
	ctx := context.Background()
	studies := map[string][]sendable{}
	n, refused := 0, 0
	for _, f := range sendableCorpus(t) {
		raw, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		pf, err := part10.ReadBytes(raw)
		if err != nil {
			t.Fatal(err)
		}
		err = s.store.archive.Store(ctx, archive.StoreRequest{SOPClassUID: f.ds.String(dicom.SOPClassUID), SOPInstanceUID: f.inst,
			TransferSyntaxUID: f.ts, CallingAE: "LOADER"}, bytes.NewReader(raw[pf.DatasetOffset:]))
		if err != nil {
			refused++
			t.Logf("%s not stored: %v", f.path, err)
			continue
		}
		study := f.ds.String(dicom.StudyInstanceUID)
		studies[study] = append(studies[study], f)
		n++
	}
	t.Logf("%d corpus files stored in %d studies, %d refused", n, len(studies), refused)
	return studies
}

// peerUnknownSyntaxes are transfer syntaxes of the corpus that dcmtk 3.6.7
// and Orthanc 1.10 do not know: they accept no context for them, so their
// instances cannot be sent to them (the archive never decompresses).
var peerUnknownSyntaxes = []string{
	"1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203", // HTJ2K
	"1.2.840.10008.1.2.8.1", // Deflated Image Frame Compression
}

// startDestinationSCP runs dcmtk's storescp as AE DEST on a free port, with
// the options extra, writing what it receives bit-preserved into a new
// directory, and returns the port and the directory.
func startDestinationSCP(t *testing.T, extra ...string) (int, string) {
	t.Helper()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	args := append(append([]string{"-aet", "DEST", "+xa", "-pm", "+B", "-od", dir}, extra...), strconv.Itoa(port))
	cmd := exec.CommandContext(ctx, "storescp", args...)
	peertest.SetNoDelay(cmd)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("storescp output:\n%s", out.String())
		}
	})
	for i := 0; i < 200; i++ {
		if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			c.Close()
			return port, dir
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal("storescp did not start")
	return 0, ""
}

// readReceived reads every DICOM file under dir, by SOP Instance UID.
func readReceived(t *testing.T, dir string) map[string]*part10.File {
	t.Helper()
	got := map[string]*part10.File{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		f, err := part10.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Errorf("received file %s unreadable: %v", e.Name(), err)
			continue
		}
		got[f.Dataset.String(dicom.SOPInstanceUID)] = f
	}
	return got
}

// compareRetrieved checks that every file of want arrived with the data set
// it was stored with, except those whose syntax the peer cannot accept.
// It returns how many were compared.
func compareRetrieved(t *testing.T, got map[string]*part10.File, want []sendable, what string) int {
	t.Helper()
	n := 0
	for _, f := range want {
		g, ok := got[f.inst]
		if slices.Contains(peerUnknownSyntaxes, f.ts) {
			if ok {
				t.Errorf("%s: %s arrived although the peer does not know %s", what, f.path, f.ts)
			}
			continue
		}
		if !ok {
			t.Errorf("%s: %s (%s) not retrieved", what, f.path, f.ts)
			continue
		}
		if d := diffDatasets(g.Dataset, f.ds, ""); d != "" {
			t.Errorf("%s: %s: retrieved data set differs: %s", what, f.path, d)
		}
		n++
	}
	return n
}

// runPeer runs a dcmtk command with TCP_NODELAY and a time limit.
func runPeer(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), peerCommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	peertest.SetNoDelay(cmd)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// sortedStudies returns the study UIDs in a stable order.
func sortedStudies(studies map[string][]sendable) []string {
	var uids []string
	for u := range studies {
		uids = append(uids, u)
	}
	sort.Strings(uids)
	return uids
}

// TestMovescuToStorescp: dcmtk's movescu moves each study of the corpus from
// pacs serve to dcmtk's storescp; every instance arrives in its stored
// syntax with the data set it was stored with.
func TestMovescuToStorescp(t *testing.T) {
	peertest.Need(t, "movescu", "storescp")
	port, dir := startDestinationSCP(t)
	s := startRetrieveServer(t, []services.Remote{{AETitle: "DEST", Host: "127.0.0.1", Port: port}})
	studies := loadCorpus(t, s)
	for _, study := range sortedStudies(studies) {
		out, err := runPeer(t, "movescu", "-S", "-aet", "MOVESCU", "-aec", "FORGE", "-aem", "DEST",
			"-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID="+study, "127.0.0.1", s.port)
		// A study holding an instance dcmtk cannot accept ends with a
		// warning (B000), which movescu reports with a non-zero exit.
		unsendable := slices.ContainsFunc(studies[study], func(f sendable) bool { return slices.Contains(peerUnknownSyntaxes, f.ts) })
		if err != nil && !unsendable {
			t.Errorf("movescu study %s: %v\n%s", study, err, out)
		}
	}
	got := readReceived(t, dir)
	var all []sendable
	for _, files := range studies {
		all = append(all, files...)
	}
	n := compareRetrieved(t, got, all, "movescu")
	t.Logf("%d studies moved, %d instances compared, %d files received", len(studies), n, len(got))
}

// getscuSyntaxOption is getscu's option preferring a transfer syntax for the
// storage contexts it proposes.
var getscuSyntaxOption = map[string]string{
	"1.2.840.10008.1.2":      "+xi",
	"1.2.840.10008.1.2.1":    "+xe",
	"1.2.840.10008.1.2.2":    "+xb",
	"1.2.840.10008.1.2.1.99": "+xd",
	"1.2.840.10008.1.2.4.50": "+xy",
	"1.2.840.10008.1.2.4.51": "+xx",
	"1.2.840.10008.1.2.4.70": "+xs",
	"1.2.840.10008.1.2.4.80": "+xt",
	"1.2.840.10008.1.2.4.81": "+xu",
	"1.2.840.10008.1.2.4.90": "+xv",
	"1.2.840.10008.1.2.4.91": "+xw",
	"1.2.840.10008.1.2.5":    "+xr",
}

// getscuUnproposedClasses are Storage SOP classes of the corpus that
// getscu 3.6.7 does not propose.
var getscuUnproposedClasses = []string{
	"1.2.840.10008.5.1.4.1.1.30", // Parametric Map Storage
}

// TestGetscu: dcmtk's getscu retrieves each study of the corpus from pacs
// serve with C-GET. A storage context carries one transfer syntax, chosen
// by the archive among those getscu proposes, so each study is retrieved
// once per stored syntax of its instances, with getscu preferring that
// syntax; the instances of that syntax must arrive with the data set they
// were stored with. getscu proposes a fixed list of Storage SOP classes
// (it has no option to add one): instances of other classes fail, and are
// counted but not compared.
func TestGetscu(t *testing.T) {
	peertest.Need(t, "getscu")
	s := startRetrieveServer(t, nil)
	studies := loadCorpus(t, s)
	compared, runs := 0, 0
	var missing []string
	for _, study := range sortedStudies(studies) {
		byTS := map[string][]sendable{}
		for _, f := range studies[study] {
			byTS[f.ts] = append(byTS[f.ts], f)
		}
		for ts, files := range byTS {
			opt, ok := getscuSyntaxOption[ts]
			if !ok {
				continue
			}
			dir := t.TempDir()
			runs++
			out, err := runPeer(t, "getscu", "-S", "-aet", "GETSCU", "-aec", "FORGE", opt, "-od", dir,
				"-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID="+study, "127.0.0.1", s.port)
			if err != nil {
				t.Errorf("getscu study %s %s: %v\n%s", study, opt, err, out)
				continue
			}
			got := readReceived(t, dir)
			for _, f := range files {
				g, ok := got[f.inst]
				if !ok {
					missing = append(missing, f.ds.String(dicom.SOPClassUID)+" "+f.path)
					continue
				}
				if d := diffDatasets(g.Dataset, f.ds, ""); d != "" {
					t.Errorf("getscu: %s: retrieved data set differs: %s", f.path, d)
				}
				compared++
			}
		}
	}
	t.Logf("%d getscu runs, %d instances compared, %d not retrieved", runs, compared, len(missing))
	for _, m := range missing {
		class, path, _ := strings.Cut(m, " ")
		if !slices.Contains(getscuUnproposedClasses, class) {
			t.Errorf("getscu: %s (%s) not retrieved", path, class)
		}
	}
	if compared == 0 {
		t.Fatal("nothing retrieved")
	}
}

// TestMoveToOrthanc: pacs serve moves every corpus study to Orthanc (a known
// remote) at the request of our own C-MOVE SCU; every instance Orthanc can
// accept arrives with the data set it was stored with.
func TestMoveToOrthanc(t *testing.T) {
	o := peertest.StartOrthanc(t, peertest.OrthancOptions{})
	s := startRetrieveServer(t, []services.Remote{{AETitle: o.AETitle, Host: "127.0.0.1", Port: o.DICOMPort}})
	studies := loadCorpus(t, s)
	ctx := context.Background()
	c, err := dimse.Dial(ctx, s.addr, ul.DialOptions{CallingAE: "MOVESCU", CalledAE: "FORGE",
		Contexts: []ul.ProposedContext{{AbstractSyntax: uid.StudyRootQueryRetrieveInformationModelMove, TransferSyntaxes: services.RetrieveSyntaxes}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var all []sendable
	for _, study := range sortedStudies(studies) {
		id := &dicom.Dataset{}
		id.SetString(dicom.QueryRetrieveLevel, "STUDY")
		id.SetString(dicom.StudyInstanceUID, study)
		st, n, err := c.Move(ctx, uid.StudyRootQueryRetrieveInformationModelMove, o.AETitle, id, nil)
		files := studies[study]
		all = append(all, files...)
		if err != nil || int(n.Completed) != len(files) {
			t.Logf("study %s: %v %+v %v", study, st, n, err)
		}
	}
	got := map[string]*part10.File{}
	for _, in := range o.InstancesDetail(t) {
		f, err := part10.ReadBytes(o.File(t, in.ID))
		if err != nil {
			t.Errorf("Orthanc's copy of %s unreadable: %v", in.SOPInstanceUID, err)
			continue
		}
		got[in.SOPInstanceUID] = f
	}
	n := 0
	for _, f := range all {
		g, ok := got[f.inst]
		if !ok {
			if !slices.Contains(peerUnknownSyntaxes, f.ts) {
				t.Errorf("%s (%s) not moved to Orthanc", f.path, f.ts)
			}
			continue
		}
		if g.Syntax.UID != f.ts {
			t.Errorf("%s: Orthanc received %s, stored in %s", f.path, g.Syntax.UID, f.ts)
		}
		if d := diffDatasets(g.Dataset, f.ds, ""); d != "" {
			t.Errorf("%s: Orthanc's data set differs: %s", f.path, d)
		}
		n++
	}
	t.Logf("%d studies moved, %d instances compared", len(studies), n)
}
