package plugin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/rpc"
)

// ErrProtocolVersion: the plugin speaks a protocol version the host does
// not; it was stopped.
var ErrProtocolVersion = errors.New("plugin speaks another plugin protocol version")

// launchTimeout bounds the wait for a plugin's handshake.
const launchTimeout = 30 * time.Second

// killGrace bounds go-plugin's graceful stop of a plugin process (its
// Shutdown call, then a wait for the exit) before the process is killed
// outright: a process that is stopped (SIGSTOP) or wedged never answers
// the Shutdown call, and go-plugin would wait for that answer forever.
const killGrace = 3 * time.Second

// launchGoPlugin starts s's executable with go-plugin: checksum checked
// by SecureConfig, gRPC only, AutoMTLS, the protocol's handshake and
// versions; the process's log lines go to log.
func launchGoPlugin(ctx context.Context, s *Spec, log hclog.Logger) (*process, error) {
	sc, err := secureConfig(s)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(s.Path, s.Args...)
	cmd.Env = append(os.Environ(), sdk.LogLevelEnv+"="+levelName(log.GetLevel()))
	gc := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  rpc.Handshake,
		VersionedPlugins: rpc.VersionedPlugins(),
		Cmd:              cmd,
		SecureConfig:     sc,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		StartTimeout:     launchTimeout,
		Logger:           fixedName{log},
	})
	cp, err := gc.Client()
	if err != nil {
		gc.Kill()
		switch {
		case errors.Is(err, goplugin.ErrChecksumsDoNotMatch):
			return nil, fmt.Errorf("plugin %s: %w: %s changed since it was checked", s.Name, ErrChecksumMismatch, s.Path)
		case strings.Contains(err.Error(), "incompatible API version"):
			return nil, fmt.Errorf("plugin %s: %w (the host speaks version %d): %v", s.Name, ErrProtocolVersion, rpc.ProtocolVersion, err)
		}
		return nil, fmt.Errorf("plugin %s: start %s: %w", s.Name, s.Path, err)
	}
	raw, err := cp.Dispense(rpc.PluginName)
	if err != nil {
		gc.Kill()
		return nil, fmt.Errorf("plugin %s: %w", s.Name, err)
	}
	c, ok := raw.(*rpc.Client)
	if !ok {
		gc.Kill()
		return nil, fmt.Errorf("plugin %s: unexpected client %T", s.Name, raw)
	}
	pid := 0
	if rc := gc.ReattachConfig(); rc != nil {
		pid = rc.Pid
	}
	kill := func() { stopProcess(gc, cmd) }
	return &process{client: c, protocol: gc.NegotiatedVersion(), pid: pid, exited: c.Exited(), kill: kill}, nil
}

// stopProcess stops the plugin process of gc, started from cmd: gracefully
// through go-plugin, and with SIGKILL when that has not ended within
// killGrace. It returns once go-plugin has let the process go.
func stopProcess(gc *goplugin.Client, cmd *exec.Cmd) {
	done := make(chan struct{})
	go func() {
		gc.Kill()
		close(done)
	}()
	t := time.NewTimer(killGrace)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	}
	if cmd.Process != nil {
		// After the process was waited for this is a no-op (os.Process
		// does not signal a reaped process).
		_ = cmd.Process.Kill()
	}
	<-done
}

// fixedName is a logger that keeps its name: go-plugin names the
// logger of a plugin's output after the executable, which would be
// "pacs" for every first-party plugin; the name is plugin.<name> instead.
type fixedName struct{ hclog.Logger }

// Named returns the logger itself.
func (f fixedName) Named(string) hclog.Logger { return f }

func levelName(l hclog.Level) string {
	switch l {
	case hclog.Trace:
		return "trace"
	case hclog.Debug:
		return "debug"
	case hclog.Warn:
		return "warn"
	case hclog.Error, hclog.Off:
		return "error"
	}
	return "info"
}
