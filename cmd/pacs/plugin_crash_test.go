package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/internal/peertest"
)

// Limits of the plugin crash tests.
const (
	// crashStorescuTimeout bounds one storescu process: a store that
	// neither succeeds nor fails hangs the client past it.
	crashStorescuTimeout = 60 * time.Second
	// crashDIMSETimeout is storescu's own DIMSE timeout (-td), in seconds.
	crashDIMSETimeout = "30"
	// crashReadyTimeout bounds the wait for /ready after a plugin fault.
	crashReadyTimeout = 40 * time.Second
	// crashPluginCallTimeout is the call timeout of the hang test's plugin.
	crashPluginCallTimeout = "3s"
)

// s3Site is pacs serve's configuration with its first storage tier in a
// VersityGW bucket, served by the storage-s3 plugin of the pacs binary.
type s3Site struct {
	s3      *peertest.S3Server
	bucket  string
	bin     string
	cfg     string
	dataDir string
}

// newS3Site starts VersityGW, creates a bucket and writes the
// configuration. With callTimeout set, a plugin "s3" block runs the same
// first-party plugin (the pacs binary with plugin-serve storage-s3, pinned
// by its SHA-256) with that call timeout.
func newS3Site(t *testing.T, callTimeout string) *s3Site {
	t.Helper()
	peertest.Need(t, "storescu")
	srv := peertest.StartS3(t)
	s := &s3Site{s3: srv, bucket: "pacs-crash", bin: buildPacs(t), dataDir: t.TempDir()}
	srv.CreateBucket(t, s.bucket)
	var plugin string
	if callTimeout != "" {
		b, err := os.ReadFile(s.bin)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		plugin = fmt.Sprintf(`plugin "s3" {
  path         = %q
  sha256       = %q
  args         = ["plugin-serve", "storage-s3"]
  call_timeout = %q
}
`, s.bin, hex.EncodeToString(sum[:]), callTimeout)
	}
	cfg := fmt.Sprintf(`data_dir = %q
dicom {
  listen = "127.0.0.1:%d"
}
http {
  listen = "127.0.0.1:%d"
}
%sstorage "s3" {
  backend = "s3"
  config {
    bucket            = %q
    endpoint          = %q
    region            = %q
    access_key_id     = %q
    secret_access_key = %q
    path_style        = true
  }
}
`, s.dataDir, freePort(t), freePort(t), plugin, s.bucket, srv.Endpoint, srv.Region, srv.AccessKeyID, srv.SecretAccessKey)
	s.cfg = filepath.Join(t.TempDir(), "pacs.hcl")
	if err := os.WriteFile(s.cfg, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

// storeOutcome is what storescu -v said of one file it sent.
type storeOutcome struct {
	path string
	// response is the text of "Received Store Response (...)", "" when
	// none came.
	response string
}

func (o storeOutcome) success() bool { return o.response == "Success" }

// storeResponseRE matches storescu -v's line for a C-STORE response.
var storeResponseRE = regexp.MustCompile(`Received Store Response \((.*)\)`)

// storeOutcomes returns, in order, each file storescu -v reports sending
// with the response it received.
func storeOutcomes(out string) []storeOutcome {
	var res []storeOutcome
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if _, f, ok := strings.Cut(line, "Sending file: "); ok {
			res = append(res, storeOutcome{path: f})
			continue
		}
		if m := storeResponseRE.FindStringSubmatch(line); m != nil && len(res) > 0 && res[len(res)-1].response == "" {
			res[len(res)-1].response = m[1]
		}
	}
	return res
}

// crashStorescuOptions are the storescu options of the crash tests: no
// hostname lookup and crashDIMSETimeout.
var crashStorescuOptions = []string{"-nh", "-td", crashDIMSETimeout}

// splitGroups cuts files into n groups of equal size.
func splitGroups(files []sendable, n int) [][]sendable {
	var groups [][]sendable
	per := len(files) / n
	for i := range n {
		groups = append(groups, files[i*per:(i+1)*per])
	}
	return groups
}

// pluginProcess returns the PID of the child of parent whose command line
// holds "plugin-serve storage-s3" other than not (0: none).
func pluginProcess(parent, not int) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == not {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(parent) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if strings.Contains(string(cmdline), pluginServeCommand+"\x00storage-s3") {
			return pid
		}
	}
	return 0
}

// waitPluginProcess waits for the storage-s3 plugin process of p other
// than not and returns its PID.
func waitPluginProcess(t *testing.T, p *pacsProcess, not int) int {
	t.Helper()
	deadline := time.Now().Add(crashReadyTimeout)
	for {
		if pid := pluginProcess(p.cmd.Process.Pid, not); pid != 0 {
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("no storage-s3 plugin process under pacs serve (pid %d):\n%s", p.cmd.Process.Pid, p.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitReady polls /ready until it answers 200 and returns how long that
// took; it fails the test after crashReadyTimeout. sawNotReady tells
// whether /ready answered something else meanwhile.
func waitReady(t *testing.T, p *pacsProcess) (took time.Duration, sawNotReady bool) {
	t.Helper()
	start := time.Now()
	for {
		code, _ := p.get("/ready", nil)
		if code == http.StatusOK {
			return time.Since(start), sawNotReady
		}
		sawNotReady = true
		if time.Since(start) > crashReadyTimeout {
			t.Fatalf("/ready not 200 %v after the plugin fault (last %d):\n%s", crashReadyTimeout, code, p.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// crashBatch is the outcome of one batch of stores.
type crashBatch struct {
	acked, failed, unanswered []sendable
	statuses                  map[string]int // failure response → count
}

// collect parses the storescu runs of files, failing the test for a hung
// client or a file reported that was not sent.
func collect(t *testing.T, files []sendable, runs []storescuRun) crashBatch {
	t.Helper()
	byPath := map[string]sendable{}
	for _, f := range files {
		byPath[f.path] = f
	}
	b := crashBatch{statuses: map[string]int{}}
	seen := map[string]bool{}
	for i, r := range runs {
		if r.hung {
			t.Errorf("storescu %d hung: killed after %v:\n%s", i, crashStorescuTimeout, r.out)
		}
		for _, o := range storeOutcomes(r.out) {
			f, ok := byPath[o.path]
			if !ok {
				t.Fatalf("storescu reported a file not sent: %q", o.path)
			}
			seen[o.path] = true
			switch {
			case o.success():
				b.acked = append(b.acked, f)
			case o.response == "":
				b.unanswered = append(b.unanswered, f)
			default:
				b.failed = append(b.failed, f)
				b.statuses[o.response]++
			}
		}
	}
	for _, f := range files {
		if !seen[f.path] {
			b.unanswered = append(b.unanswered, f)
		}
	}
	return b
}

func (b crashBatch) String() string {
	var st []string
	for s, n := range b.statuses {
		st = append(st, fmt.Sprintf("%q x%d", s, n))
	}
	sort.Strings(st)
	return fmt.Sprintf("%d acknowledged, %d failed (%s), %d unanswered", len(b.acked), len(b.failed), strings.Join(st, ", "), len(b.unanswered))
}

// checkBucket compares the index of s (pacs serve stopped) with its
// bucket. Every acknowledged instance must be indexed
// with its object of the indexed size and SHA-256; no failed store may be
// indexed; every indexed object must exist and every object must be
// indexed. It returns the keys of the objects no row references.
func (s *s3Site) checkBucket(t *testing.T, acked, failed []sendable) (orphans []string) {
	t.Helper()
	ctx := context.Background()
	ix, err := index.Open(ctx, filepath.Join(s.dataDir, indexFileName), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	cl := s.s3.Client()
	objects := map[string]int64{}
	pager := s3.NewListObjectsV2Paginator(cl, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket)})
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatalf("list bucket: %v", err)
		}
		for _, o := range page.Contents {
			objects[aws.ToString(o.Key)] = aws.ToInt64(o.Size)
		}
	}
	referenced := map[string]bool{}
	for loc, err := range ix.AllInstances(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		referenced[loc.Key] = true
		size, ok := objects[loc.Key]
		switch {
		case !ok:
			t.Errorf("indexed instance %s: no object %s in the bucket", loc.SOPInstanceUID, loc.Key)
		case size != loc.Size:
			t.Errorf("indexed instance %s: object %s of %d bytes, indexed %d", loc.SOPInstanceUID, loc.Key, size, loc.Size)
		}
	}
	for _, f := range acked {
		info, err := ix.Instance(ctx, f.inst)
		if err != nil {
			t.Errorf("acknowledged instance %s not indexed: %v", f.inst, err)
			continue
		}
		out, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(info.Key)})
		if err != nil {
			t.Errorf("acknowledged instance %s: object %s: %v", f.inst, info.Key, err)
			continue
		}
		h := sha256.New()
		n, err := io.Copy(h, out.Body)
		out.Body.Close()
		if got := hex.EncodeToString(h.Sum(nil)); err != nil || got != info.SHA256 || n != info.Size {
			t.Errorf("acknowledged instance %s: object of %d bytes with SHA-256 %s (%v), indexed %d bytes %s", f.inst, n, got, err, info.Size, info.SHA256)
		}
	}
	for _, f := range failed {
		if _, err := ix.Instance(ctx, f.inst); !errors.Is(err, index.ErrNotFound) {
			t.Errorf("instance %s answered with a failure is indexed (%v)", f.inst, err)
		}
	}
	for key := range objects {
		if !referenced[key] {
			orphans = append(orphans, key)
		}
	}
	sort.Strings(orphans)
	return orphans
}

// verifyS3 runs pacs verify on the site. It returns false when verify does
// not support the site's backend yet (the test's own bucket check stands
// in for it), and fails the test when it reports a problem.
func (s *s3Site) verifyS3(t *testing.T) bool {
	t.Helper()
	out, err := exec.Command(s.bin, "verify", "--config", s.cfg).CombinedOutput()
	if err != nil && strings.Contains(string(out), "only \"fs\" is built in") {
		t.Logf("pacs verify does not check S3 backends yet (%s); the bucket was checked against the index directly", strings.TrimSpace(string(out)))
		return false
	}
	if err != nil {
		t.Errorf("pacs verify: %v\n%s", err, out)
	} else {
		t.Logf("pacs verify: %s", strings.TrimSpace(string(out)))
	}
	return true
}

// crashScenario runs one fault against the storage plugin in the middle
// of four storescu clients' stores: fault receives the plugin's PID after
// killAfter acknowledgements. Then it waits for /ready, stores a second
// batch that must all succeed, stops the server and checks the bucket.
func crashScenario(t *testing.T, callTimeout, wantLog string, fault func(t *testing.T, pid int)) {
	const (
		clients   = 4
		perClient = 60 // the first batch: a fault in its middle
		afterAll  = 20 // per client, the batch after recovery
		killAfter = 40 // acknowledgements before the fault
	)
	site := newS3Site(t, callTimeout)
	src, _ := explicitImage(t, 0)
	corpus := t.TempDir()
	p := startPacs(t, site.bin, site.cfg)
	pid := waitPluginProcess(t, p, 0)

	files := syntheticCopies(t, src, corpus, "a", clients*perClient)
	acks := make(chan struct{}, len(files))
	done := make(chan []storescuRun, 1)
	go func() {
		done <- runStorescus(t, p.dicomPort, crashStorescuOptions, crashStorescuTimeout, splitGroups(files, clients), acks)
	}()
	var runs []storescuRun
wait:
	for seen := 0; seen < killAfter; {
		select {
		case <-acks:
			seen++
		case runs = <-done:
			break wait
		}
	}
	if runs != nil {
		t.Fatalf("every store ended before %d acknowledgements", killAfter)
	}
	faultAt := time.Now()
	fault(t, pid)
	newPID := waitPluginProcess(t, p, pid)
	restarted := time.Since(faultAt)
	took, sawNotReady := waitReady(t, p)
	runs = <-done
	first := collect(t, files, runs)
	t.Logf("plugin %d faulted after %d acknowledgements; new plugin process %d after %v, /ready 200 again %v later (not ready meanwhile: %v)",
		pid, killAfter, newPID, restarted.Round(time.Millisecond), took.Round(time.Millisecond), sawNotReady)
	t.Logf("first batch of %d: %s", len(files), first)
	if len(first.failed) == 0 {
		t.Errorf("no store failed although the plugin faulted in the middle of the batch: %s", first)
	}
	if len(first.unanswered) != 0 {
		t.Errorf("%d stores got no response (the association broke): %s", len(first.unanswered), first)
	}
	for s := range first.statuses {
		if !strings.Contains(s, "Out of Resources") && !strings.Contains(s, "OutOfResources") {
			t.Errorf("failure response %q, want Out of Resources (A700)", s)
		}
	}
	// The server's log lines arrive through a pipe, and may trail what the
	// test saw of the restart (the new process, /ready).
	told := func(log string) bool {
		return strings.Contains(log, wantLog) && strings.Contains(log, "restarting") && strings.Count(log, "plugin started") >= 2
	}
	for deadline := time.Now().Add(10 * time.Second); !told(p.log.String()) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if log := p.log.String(); !told(log) {
		t.Errorf("the log does not tell the plugin's restart:\n%s", log)
	}

	again := syntheticCopies(t, src, corpus, "b", clients*afterAll)
	second := collect(t, again, runStorescus(t, p.dicomPort, crashStorescuOptions, crashStorescuTimeout, splitGroups(again, clients), make(chan struct{}, len(again))))
	t.Logf("second batch of %d after the restart: %s", len(again), second)
	if len(second.acked) != len(again) {
		t.Errorf("after the restart: %s, want every store acknowledged", second)
	}
	stopAt := time.Now()
	p.stop(t)
	t.Logf("pacs serve stopped in %v", time.Since(stopAt).Round(time.Millisecond))
	for _, line := range strings.Split(p.log.String(), "\n") {
		if strings.Contains(line, "pacs.plugin.") && !strings.Contains(line, "instance configured") || strings.Contains(line, "failed store") {
			t.Logf("log: %s", line)
		}
	}

	acked := append(first.acked, second.acked...)
	orphans := site.checkBucket(t, acked, append(first.failed, second.failed...))
	t.Logf("bucket: %d acknowledged instances indexed with their objects; %d orphan objects", len(acked), len(orphans))
	if len(orphans) > 0 {
		t.Errorf("objects in the bucket that no index row references: %s", strings.Join(orphans, ", "))
	}
	site.verifyS3(t)
}

// TestPluginCrashSIGKILL: the storage-s3 plugin process of pacs serve is
// killed with SIGKILL while four storescu clients store into an S3 bucket.
// The stores in flight and those arriving while it is down are answered
// with Out of Resources (A700), none hangs; the host restarts the plugin,
// /ready answers 200 again, the next stores all succeed, and afterwards
// every acknowledged instance is indexed with its object in the bucket,
// no failed one is indexed, and no object is left unreferenced.
func TestPluginCrashSIGKILL(t *testing.T) {
	crashScenario(t, "", "plugin process exited", func(t *testing.T, pid int) {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatalf("kill plugin %d: %v", pid, err)
		}
	})
}

// TestPluginCrashSIGSTOP: the storage-s3 plugin process is stopped with
// SIGSTOP (it answers nothing, its connections stay open) while four
// storescu clients store. The stores in flight fail after the plugin's
// call timeout with Out of Resources, the supervisor declares the plugin
// hung after HungAfter overruns, kills it and starts it again; the next
// stores succeed and index and bucket agree.
func TestPluginCrashSIGSTOP(t *testing.T) {
	crashScenario(t, crashPluginCallTimeout, "plugin hung; killing it", func(t *testing.T, pid int) {
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatalf("stop plugin %d: %v", pid, err)
		}
		t.Cleanup(func() {
			// Should the host not have killed it, the stopped plugin
			// is not left behind.
			cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			if strings.Contains(string(cmdline), pluginServeCommand+"\x00storage-s3") {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		})
	})
}
