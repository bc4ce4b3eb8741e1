package main

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pacsforge/pacs/internal/peertest"
)

// startStorescp runs dcmtk's storescp (which answers C-ECHO) on a free
// loopback port until the test ends and returns the port.
func startStorescp(t *testing.T) string {
	t.Helper()
	peertest.Need(t, "storescp")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "storescp", "-aet", "STORESCP", "--ignore", port)
	peertest.SetNoDelay(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	for i := 0; i < 200; i++ {
		if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
			c.Close()
			return port
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal("storescp did not start")
	return ""
}

func TestEchoToStorescp(t *testing.T) {
	port := startStorescp(t)
	var out bytes.Buffer
	o := echoOptions{scuFlags: scuFlags{callingAE: "PACS", calledAE: "STORESCP", timeout: 10 * time.Second}, addr: "127.0.0.1:" + port, repeat: 3, verbose: true}
	if err := echo(context.Background(), o, &out); err != nil {
		t.Fatalf("echo() error = %v", err)
	}
	if n := strings.Count(out.String(), ": success in "); n != 3 {
		t.Errorf("echo printed %d successes, want 3:\n%s", n, out.String())
	}
}

// TestEchoBinary builds pacs and runs `pacs echo` against storescp, then
// against a closed port (exit code 1).
func TestEchoBinary(t *testing.T) {
	port := startStorescp(t)
	bin := filepath.Join(t.TempDir(), "pacs")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "echo", "-v", "-aec", "STORESCP", "127.0.0.1", port, "--repeat", "2").CombinedOutput()
	if err != nil || strings.Count(string(out), "success") != 2 {
		t.Fatalf("pacs echo: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "echo", "--timeout", "2s", "127.0.0.1", "1")
	if err := cmd.Run(); cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 1 {
		t.Errorf("pacs echo to a closed port: %v, want exit code 1", err)
	}
}

// TestServeAnswersEchoscu runs the server wiring of pacs serve and checks
// echoscu gets answers, then that cancelling shuts it down.
func TestServeAnswersEchoscu(t *testing.T) {
	peertest.Need(t, "echoscu")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serveDICOM(ctx, serveOptions{aeTitle: "FORGE", strictAE: true}, hclog.NewNullLogger(), ln)
	}()
	run := func(aec string) (string, error) {
		cmd := exec.Command("echoscu", "-v", "-aec", aec, "127.0.0.1", port)
		peertest.SetNoDelay(cmd)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("FORGE"); err != nil {
		t.Errorf("echoscu: %v\n%s", err, out)
	}
	if out, err := run("OTHER"); err == nil || !strings.Contains(out, "Called AE Title Not Recognized") {
		t.Errorf("echoscu with a wrong called AE: %v\n%s", err, out)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serveDICOM() error = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not shut down")
	}
}
