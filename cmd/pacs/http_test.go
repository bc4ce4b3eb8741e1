package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pacsforge/pacs/core/web"
	"github.com/pacsforge/pacs/internal/peertest"
)

// buildPacs builds the pacs binary into a temporary directory of t.
func buildPacs(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go"
	}
	bin := filepath.Join(t.TempDir(), "pacs")
	cmd := exec.Command(goBin, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// pacsProcess is pacs serve running as a child process on 127.0.0.1.
type pacsProcess struct {
	cmd       *exec.Cmd
	dataDir   string
	config    string // the configuration file it was started with
	dicomPort int
	httpAddr  string
	log       *peertest.SyncBuffer // its standard error
	exited    chan struct{}        // closed when it has exited
	err       error                // Wait's result, once exited
}

// writeServeConfig writes a configuration for a pacs serve on 127.0.0.1
// with its data under dataDir, and returns its path.
func writeServeConfig(t *testing.T, dataDir string, dicomPort, httpPort int) string {
	t.Helper()
	cfg := fmt.Sprintf(`data_dir = %q
dicom {
  listen = "127.0.0.1:%d"
}
http {
  listen = "127.0.0.1:%d"
}
`, dataDir, dicomPort, httpPort)
	path := filepath.Join(t.TempDir(), "pacs.hcl")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// startPacs starts bin serve with the configuration at cfgPath, running it
// under the command prefix wrap (such as nsenter) if given, and waits
// until /ready answers 200. The process is killed at cleanup if still
// running.
func startPacs(t *testing.T, bin, cfgPath string, wrap ...string) *pacsProcess {
	t.Helper()
	c := loadSite(t, cfgPath)
	_, port, _ := net.SplitHostPort(c.DICOM.Listen)
	p := &pacsProcess{dataDir: c.DataDir, config: cfgPath, httpAddr: c.HTTP.Listen, log: &peertest.SyncBuffer{}, exited: make(chan struct{})}
	p.dicomPort, _ = strconv.Atoi(port)
	args := append(append([]string(nil), wrap...), bin, "serve", "--config", cfgPath)
	p.cmd = exec.Command(args[0], args[1:]...)
	p.cmd.Stdout = p.log
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { p.kill() })
	deadline := time.Now().Add(time.Minute)
	for {
		if code, _ := p.get("/ready", nil); code == http.StatusOK {
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("pacs serve exited at start-up (%v):\n%s", p.err, p.log.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("pacs serve not ready after a minute:\n%s", p.log.String())
		}
	}
}

// get GETs path from the HTTP server, decoding the JSON body into v if not
// nil; code is 0 when the request failed.
func (p *pacsProcess) get(path string, v any) (int, error) {
	c := http.Client{Timeout: 10 * time.Second}
	res, err := c.Get("http://" + p.httpAddr + path)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if v != nil {
		if err := json.NewDecoder(res.Body).Decode(v); err != nil {
			return res.StatusCode, err
		}
	}
	return res.StatusCode, nil
}

// kill sends SIGKILL and waits for the process to exit.
func (p *pacsProcess) kill() {
	p.cmd.Process.Kill()
	<-p.exited
}

// stop sends SIGTERM and waits for a clean exit.
func (p *pacsProcess) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(time.Minute):
		t.Fatalf("pacs serve still running a minute after SIGTERM:\n%s", p.log.String())
	}
	if p.err != nil {
		t.Errorf("pacs serve after SIGTERM: %v\n%s", p.err, p.log.String())
	}
}

// TestServeHTTPProbes: pacs serve answers /health, /live and /ready (every
// check passing) over HTTP, logs the HTTP address, and stops on SIGTERM.
func TestServeHTTPProbes(t *testing.T) {
	bin := buildPacs(t)
	p := startPacs(t, bin, writeServeConfig(t, t.TempDir(), freePort(t), freePort(t)))
	for _, path := range []string{"/health", "/live"} {
		var live web.Liveness
		code, err := p.get(path, &live)
		if code != http.StatusOK || err != nil || live.Status != web.StatusOK || live.Version == "" {
			t.Errorf("GET %s = %d %+v (%v), want 200, status ok and a version", path, code, live, err)
		}
	}
	var ready web.Readiness
	code, err := p.get("/ready", &ready)
	if code != http.StatusOK || err != nil || ready.Status != web.StatusOK {
		t.Errorf("GET /ready = %d %+v (%v), want 200 and status ok", code, ready, err)
	}
	var names []string
	for _, c := range ready.Checks {
		names = append(names, c.Name)
	}
	if got, want := strings.Join(names, ","), "index,storage,dicom"; got != want {
		t.Errorf("readiness checks = %s, want %s", got, want)
	}
	if want := "HTTP server listening: addr=" + p.httpAddr; !strings.Contains(p.log.String(), want) {
		t.Errorf("log lacks %q:\n%s", want, p.log.String())
	}
	p.stop(t)
}

// TestServeHTTPPortInUse: when the HTTP port cannot be bound, pacs serve
// stops at start-up with exit code 1 and says why.
func TestServeHTTPPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := writeServeConfig(t, t.TempDir(), freePort(t), ln.Addr().(*net.TCPAddr).Port)
	code, _, errOut := runCmd(t, runServe, "--config", cfg)
	if code != 1 {
		t.Errorf("pacs serve with its HTTP port taken: exit %d, want 1", code)
	}
	for _, want := range []string{"cannot start the HTTP server", "address already in use"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("error output lacks %q:\n%s", want, errOut)
		}
	}
}

// TestReadinessChecks: the checks of pacs serve fail with what is wrong: a
// storage root that is gone, a closed index, a server shutting down.
func TestReadinessChecks(t *testing.T) {
	s := startArchiveServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	dicomListening.CompareAndSwap(nil, new(string)) // as listenDICOM does
	if got := newHealth(ctx, s.store).Ready(ctx); got.Status != web.StatusOK {
		t.Fatalf("Ready() = %+v, want ok", got)
	}
	if err := os.RemoveAll(s.store.storage.Root()); err != nil {
		t.Fatal(err)
	}
	// A new Health: the storage check's result is cached for a while.
	if got := newHealth(ctx, s.store).Ready(ctx); strings.Join(got.Failing, ",") != "storage" {
		t.Errorf("failing without a storage root = %q, want storage", got.Failing)
	}
	s.store.index.Close()
	cancel()
	if got := newHealth(ctx, s.store).Ready(context.Background()); strings.Join(got.Failing, ",") != "index,storage,dicom" {
		t.Errorf("failing with the index closed and shutting down = %+v, want index, storage and dicom", got)
	}
}
