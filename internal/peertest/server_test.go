package peertest

import (
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

func testServer(log string) peerServer {
	return peerServer{name: "test server", ports: 1, tries: 1, startTimeout: 200 * time.Millisecond,
		poll: 10 * time.Millisecond, stopSignal: syscall.SIGTERM, stopTimeout: 5 * time.Second, log: log}
}

func TestStartServerExits(t *testing.T) {
	Need(t, "sh")
	_, err := startServerOnce(t, testServer("out.log"), func(dir string, ports []int) (int, *exec.Cmd, func() error, error) {
		return ports[0], exec.Command("sh", "-c", "echo no such option; exit 3"), func() error { return errors.New("not yet") }, nil
	})
	if err == nil || !strings.Contains(err.Error(), "exited at start") || !strings.Contains(err.Error(), "no such option") {
		t.Errorf("startServerOnce() error = %v, want an exit at start quoting the log", err)
	}
}

func TestStartServerNoAnswer(t *testing.T) {
	Need(t, "sleep")
	var cmd *exec.Cmd
	_, err := startServerOnce(t, testServer(""), func(dir string, ports []int) (int, *exec.Cmd, func() error, error) {
		cmd = exec.Command("sleep", "600")
		return ports[0], cmd, func() error { return errors.New("not yet") }, nil
	})
	if err == nil || !strings.Contains(err.Error(), "did not answer") {
		t.Fatalf("startServerOnce() error = %v, want no answer", err)
	}
	if cmd.ProcessState == nil || cmd.ProcessState.Success() {
		t.Errorf("the server was not stopped: %v", cmd.ProcessState)
	}
}

func TestStartServerStopsAtCleanup(t *testing.T) {
	Need(t, "sleep")
	var cmd *exec.Cmd
	t.Run("server", func(t *testing.T) {
		port := startServer(t, testServer("out.log"), func(dir string, ports []int) (int, *exec.Cmd, func() error, error) {
			cmd = exec.Command("sleep", "600")
			return ports[0], cmd, func() error { return nil }, nil
		})
		if port == 0 {
			t.Fatal("startServer() = 0, want the server's port")
		}
	})
	if cmd.ProcessState == nil {
		t.Error("the server runs on after the test")
	}
}
