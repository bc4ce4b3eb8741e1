// Package plugintest runs a plugin in the test's own process and connects
// to it the way the archive does: go-plugin's client over a real gRPC
// connection (a unix socket), with the server options, panic recovery and
// error mapping of sdk.Serve. A plugin author tests the plugin end to end
// without building its binary:
//
//	c := plugintest.Start(t, sdk.Plugin{Name: "s3", Version: "1", Storage: sdk.NewStorage(newBackend)})
//	if err := c.Configure(ctx, sdk.KindStorage, "warm", cfg); err != nil { ... }
//	st := c.Storage("warm")
//
// StartProcess launches a built plugin executable instead, as the archive
// does (AutoMTLS included), for a test of the binary itself.
package plugintest

import (
	"context"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/rpc"
)

// startTimeout bounds how long Start waits for the plugin to listen.
const startTimeout = 30 * time.Second

// Start serves p in process, connects a client to it and returns the
// client. Both are stopped when the test ends. Logs of the plugin and of
// go-plugin go to t.Log unless p.Logger is set.
func Start(t testing.TB, p sdk.Plugin) *rpc.Client {
	t.Helper()
	c, _ := StartClient(t, p)
	return c
}

// StartClient is Start that also returns go-plugin's client, to stop the
// plugin (Kill) or look at its state in the test.
func StartClient(t testing.TB, p sdk.Plugin) (*rpc.Client, *goplugin.Client) {
	t.Helper()
	w := &testWriter{t: t}
	t.Cleanup(w.stop) // registered first: runs after the plugin has stopped
	log := hclog.New(&hclog.LoggerOptions{Name: "plugintest", Output: w, Level: hclog.Debug})
	if p.Logger == nil {
		p.Logger = log.Named(p.Name)
	}
	cfg, err := sdk.NewServeConfig(p)
	if err != nil {
		t.Fatalf("plugintest: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	reattach := make(chan *goplugin.ReattachConfig, 1)
	closed := make(chan struct{})
	cfg.Test = &goplugin.ServeTestConfig{Context: ctx, ReattachConfigCh: reattach, CloseCh: closed}
	go goplugin.Serve(cfg)
	t.Cleanup(func() {
		cancel()
		<-closed
	})

	var rc *goplugin.ReattachConfig
	select {
	case rc = <-reattach:
	case <-time.After(startTimeout):
		t.Fatalf("plugintest: plugin %q did not start within %v", p.Name, startTimeout)
	}
	gc := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig: rpc.Handshake,
		// A reattached client uses Plugins, not VersionedPlugins.
		Plugins:          rpc.VersionedPlugins()[rpc.ProtocolVersion],
		Reattach:         rc,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Logger:           log.Named("client"),
	})
	t.Cleanup(gc.Kill)
	cp, err := gc.Client()
	if err != nil {
		t.Fatalf("plugintest: connect to plugin %q: %v", p.Name, err)
	}
	raw, err := cp.Dispense(rpc.PluginName)
	if err != nil {
		t.Fatalf("plugintest: dispense plugin %q: %v", p.Name, err)
	}
	return raw.(*rpc.Client), gc
}

// testWriter sends log lines to t.Log until the test ends; later lines
// (of goroutines still winding down) are dropped.
type testWriter struct {
	t       testing.TB
	mu      sync.Mutex
	stopped bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testWriter) stop() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
}

// StartProcess launches the plugin executable of cmd as the archive
// launches plugins (go-plugin's handshake at protocol version 1, gRPC,
// AutoMTLS), with go-plugin's and the plugin's log going to log (to t.Log
// when nil), and returns its client and go-plugin's client, to stop it or
// look at its state. The process is killed when the test ends.
func StartProcess(t testing.TB, cmd *exec.Cmd, log hclog.Logger) (*rpc.Client, *goplugin.Client) {
	t.Helper()
	if log == nil {
		w := &testWriter{t: t}
		t.Cleanup(w.stop) // registered first: runs after the process is killed
		log = hclog.New(&hclog.LoggerOptions{Name: "plugintest", Output: w, Level: hclog.Debug})
	}
	gc := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  rpc.Handshake,
		VersionedPlugins: rpc.VersionedPlugins(),
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           log,
	})
	t.Cleanup(gc.Kill)
	cp, err := gc.Client()
	if err != nil {
		t.Fatalf("plugintest: start %s: %v", cmd.Path, err)
	}
	raw, err := cp.Dispense(rpc.PluginName)
	if err != nil {
		t.Fatalf("plugintest: dispense %s: %v", cmd.Path, err)
	}
	return raw.(*rpc.Client), gc
}
