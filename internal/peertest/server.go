package peertest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// peerServer describes a peer server process for startServer.
type peerServer struct {
	name         string         // in messages, such as "Orthanc"
	ports        int            // free loopback ports each attempt listens on
	tries        int            // attempts: a free port may be taken before the server binds it
	startTimeout time.Duration  // until the readiness probe answers
	poll         time.Duration  // between two calls of the probe
	stopSignal   syscall.Signal // sent first at the end of the test
	stopTimeout  time.Duration  // after stopSignal, before SIGKILL
	group        bool           // the server leads its own process group, signalled as a whole
	log          string         // file of the attempt's directory that gets the output, quoted when the server exits at start; "" leaves the output alone
}

// launchFunc builds one attempt to start a peer server listening on ports,
// with dir a fresh temporary directory of its own: the peer as the test sees
// it, its command (not started) and its readiness probe, which returns nil
// once the server answers.
type launchFunc[P any] func(dir string, ports []int) (peer P, cmd *exec.Cmd, ready func() error, err error)

// startServer starts a peer server and returns once it answers. Each attempt
// takes s.ports free loopback ports and a new temporary directory; one whose
// server exits or does not answer within s.startTimeout is stopped and
// followed by another on other ports, and the test fails after s.tries. At
// the end of the test the server is sent s.stopSignal and waited for, with a
// SIGKILL after s.stopTimeout.
func startServer[P any](t testing.TB, s peerServer, launch launchFunc[P]) P {
	t.Helper()
	var lastErr error
	for range s.tries {
		p, err := startServerOnce(t, s, launch)
		if err == nil {
			return p
		}
		lastErr = err
	}
	t.Fatalf("start %s: %v", s.name, lastErr)
	var zero P
	return zero
}

// startServerOnce makes one attempt of startServer; on error the process is
// already stopped.
func startServerOnce[P any](t testing.TB, s peerServer, launch launchFunc[P]) (P, error) {
	var zero P
	ports, err := freePorts(s.ports)
	if err != nil {
		return zero, err
	}
	dir := t.TempDir()
	p, cmd, ready, err := launch(dir, ports)
	if err != nil {
		return zero, err
	}
	if s.group {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	logPath := filepath.Join(dir, s.log)
	if s.log != "" {
		logFile, err := os.Create(logPath)
		if err != nil {
			return zero, err
		}
		defer logFile.Close() // the child holds its own descriptor
		cmd.Stdout, cmd.Stderr = logFile, logFile
	}
	if err := cmd.Start(); err != nil {
		return zero, err
	}
	exited := make(chan struct{})
	var exitErr error
	go func() { exitErr = cmd.Wait(); close(exited) }()
	signal := func(sig syscall.Signal) {
		if s.group {
			_ = syscall.Kill(-cmd.Process.Pid, sig)
		} else {
			_ = cmd.Process.Signal(sig)
		}
	}
	stop := func() {
		signal(s.stopSignal)
		select {
		case <-exited:
		case <-time.After(s.stopTimeout):
			signal(syscall.SIGKILL)
			<-exited
		}
		if s.group {
			signal(syscall.SIGKILL) // children left in the group after the leader exited
		}
	}
	deadline := time.Now().Add(s.startTimeout)
	for ready() != nil {
		select {
		case <-exited:
			stop()
			if s.log == "" {
				return zero, fmt.Errorf("%s exited at start (%v); its files are in %s", s.name, exitErr, dir)
			}
			msg, _ := os.ReadFile(logPath)
			return zero, fmt.Errorf("%s exited at start (%v): %s", s.name, exitErr, bytes.TrimSpace(msg))
		case <-time.After(s.poll):
		}
		if time.Now().After(deadline) {
			stop()
			return zero, fmt.Errorf("%s on port %v did not answer in %v", s.name, ports, s.startTimeout)
		}
	}
	t.Cleanup(stop)
	return p, nil
}

// answersHTTP returns a readiness probe that is nil once GET url has any
// HTTP answer, each request bounded by timeout.
func answersHTTP(url string, timeout time.Duration) func() error {
	client := &http.Client{Timeout: timeout}
	return func() error {
		resp, err := client.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
}

// freePorts returns n distinct TCP ports that were free on 127.0.0.1 a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
