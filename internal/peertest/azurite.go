package peertest

import (
	"fmt"
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
// azurite/node_modules/.bin/azurite-blob under PeerCache.
func AzuriteBinary() string {
	return filepath.Join(PeerCache(), "azurite", "node_modules", ".bin", "azurite-blob")
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
	return startServer(t, peerServer{
		name:         "azurite-blob",
		ports:        1,
		tries:        azuriteStartTries,
		startTimeout: azuriteStartTimeout,
		poll:         50 * time.Millisecond,
		stopSignal:   syscall.SIGTERM,
		stopTimeout:  azuriteStopTimeout,
		group:        true, // node's children too
		log:          "azurite.log",
	}, func(dir string, ports []int) (*Azurite, *exec.Cmd, func() error, error) {
		port := ports[0]
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
		a := &Azurite{
			Port:         port,
			BlobEndpoint: fmt.Sprintf("http://127.0.0.1:%d/%s", port, AzuriteAccount),
		}
		a.ConnectionString = "DefaultEndpointsProtocol=http;AccountName=" + AzuriteAccount +
			";AccountKey=" + AzuriteKey + ";BlobEndpoint=" + a.BlobEndpoint + ";"
		// Any HTTP answer (an authorisation error for this anonymous
		// request) means the blob service is up.
		return a, cmd, answersHTTP(a.BlobEndpoint+"?comp=list", 2*time.Second), nil
	})
}
