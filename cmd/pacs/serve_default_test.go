package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/ul"
	"github.com/pacsforge/pacs/internal/peertest"
)

// TestServeWithoutConfig: pacs serve with no configuration and no flags
// keeps its data under ./pacs-data, answers C-ECHO as FORGE on port 11112
// and /health on 127.0.0.1:8042.
func TestServeWithoutConfig(t *testing.T) {
	for _, addr := range []string{":11112", "127.0.0.1:8042"} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			if peertest.UnderCI() {
				t.Fatalf("default port %s is taken under CI=true: %v", addr, err)
			}
			t.Skipf("WARNING: default-configuration test not run: port %s is taken (%v)", addr, err)
		}
		ln.Close()
	}
	bin := buildPacs(t)
	dir := t.TempDir()
	log := &peertest.SyncBuffer{}
	cmd := exec.Command(bin, "serve")
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("pacs serve after SIGTERM: %v\n%s", err, log.String())
			}
		case <-time.After(time.Minute):
			cmd.Process.Kill()
			t.Errorf("pacs serve still running a minute after SIGTERM:\n%s", log.String())
		}
	}()

	client := http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(time.Minute)
	for {
		res, err := client.Get("http://127.0.0.1:8042/health")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("pacs serve exited at start-up (%v):\n%s", err, log.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("/health not answering 200 after a minute:\n%s", log.String())
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := dimse.Dial(ctx, "127.0.0.1:11112", ul.DialOptions{CallingAE: "ECHOSCU", CalledAE: "FORGE",
		Contexts: []ul.ProposedContext{{AbstractSyntax: uid.Verification, TransferSyntaxes: []string{uid.ImplicitVRLittleEndian}}}})
	if err != nil {
		t.Fatalf("association with FORGE on port 11112: %v\n%s", err, log.String())
	}
	if err := c.Echo(ctx); err != nil {
		t.Errorf("C-ECHO: %v", err)
	}
	c.Close()
	if _, err := os.Stat(filepath.Join(dir, "pacs-data")); err != nil {
		t.Errorf("no ./pacs-data: %v", err)
	}
}
