package peertest

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Azurite's development account: the account name and key every Azurite
// accepts (they are public, documented by Microsoft, and grant nothing
// outside the emulator).
const (
	AzuriteAccount = "devstoreaccount1"
	AzuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// Limits of StartAzurite.
const (
	azuriteStartTimeout = 60 * time.Second // until the blob service answers HTTP
	azuriteStopTimeout  = 10 * time.Second // after SIGTERM, before SIGKILL
	azuriteStartTries   = 3                // a free port may be taken before Azurite binds it
	azuriteMemoryMiB    = 512              // --extentMemoryLimit: in-memory blob content
)

// Azurite is a running Azurite blob service started by StartAzurite, in
// memory, on 127.0.0.1.
type Azurite struct {
	// BlobEndpoint is the account's blob service URL,
	// http://127.0.0.1:PORT/devstoreaccount1.
	BlobEndpoint string
	// ConnectionString names the development account, its key and
	// BlobEndpoint, as the Azure SDKs parse it.
	ConnectionString string
	// Port is the blob service's TCP port on 127.0.0.1.
	Port int
}

// AzuriteBinary returns where scripts/install-peers.sh installs azurite-blob:
// azurite/node_modules/.bin/azurite-blob under $PACS_PEER_CACHE, or under
// ~/.cache/pacs-peers when that variable is unset.
func AzuriteBinary() string {
	dir := os.Getenv("PACS_PEER_CACHE")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = "."
		}
		dir = filepath.Join(home, ".cache", "pacs-peers")
	}
	return filepath.Join(dir, "azurite", "node_modules", ".bin", "azurite-blob")
}

// StartAzurite starts AzuriteBinary on a free loopback port with in-memory
// persistence (its blobs vanish with it), telemetry off and the API version
// check off (the Go SDK speaks a newer version than Azurite knows), and
// returns once the blob service answers HTTP. At the end of the test it sends
// SIGTERM to Azurite's process group and waits until the process is gone (a
// SIGKILL follows after azuriteStopTimeout). When the binary is missing the
// test is skipped, or failed under CI.
func StartAzurite(t testing.TB) *Azurite {
	t.Helper()
	bin := AzuriteBinary()
	if _, err := os.Stat(bin); err != nil {
		unavailable(t, "azurite-blob: %v; %s", err, "run scripts/install-peers.sh (npm install azurite under $PACS_PEER_CACHE)")
	}
	var lastErr error
	for try := 0; try < azuriteStartTries; try++ {
		a, err := startAzurite(t, bin)
		if err == nil {
			return a
		}
		lastErr = err
	}
	t.Fatalf("start Azurite: %v", lastErr)
	return nil
}

// startAzurite makes one attempt; on error the process is already stopped.
func startAzurite(t testing.TB, bin string) (*Azurite, error) {
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	port := ports[0]
	dir := t.TempDir() // working directory and log of the process
	cmd := exec.Command(bin,
		"--blobHost", "127.0.0.1",
		"--blobPort", strconv.Itoa(port),
		"--inMemoryPersistence",
		"--extentMemoryLimit", strconv.Itoa(azuriteMemoryMiB),
		"--disableTelemetry",
		"--skipApiVersionCheck",
		"--silent",
	)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logPath := filepath.Join(dir, "azurite.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child holds its own descriptor
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(azuriteStopTimeout):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		// Children left in the group after node exited.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	a := &Azurite{
		Port:         port,
		BlobEndpoint: fmt.Sprintf("http://127.0.0.1:%d/%s", port, AzuriteAccount),
	}
	a.ConnectionString = "DefaultEndpointsProtocol=http;AccountName=" + AzuriteAccount +
		";AccountKey=" + AzuriteKey + ";BlobEndpoint=" + a.BlobEndpoint + ";"
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(azuriteStartTimeout)
	for {
		// Any HTTP answer (an authorisation error for this anonymous
		// request) means the blob service is up.
		resp, err := client.Get(a.BlobEndpoint + "?comp=list")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case err := <-exited:
			exited <- err // for stop
			stop()
			msg, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("azurite-blob exited at start (%v): %s", err, bytes.TrimSpace(msg))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return nil, errors.New("azurite-blob on port " + strconv.Itoa(port) + " did not answer in " + azuriteStartTimeout.String())
		}
	}
	t.Cleanup(stop)
	return a, nil
}
