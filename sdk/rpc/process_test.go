package rpc_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"github.com/zclconf/go-cty/cty"

	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/rpc"
)

// helperEnv makes the test binary serve a plugin instead of running tests:
// "v1" serves the in-memory storage with sdk.Serve, "v2" the same under
// protocol version 2.
const helperEnv = "FORGEPACS_RPC_TEST_PLUGIN"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "v1":
		sdk.Serve(sdk.Plugin{Name: "mem", Version: "1.0.0", Storage: sdk.NewStorage(newMem)})
	case "v2":
		cfg, err := sdk.NewServeConfig(sdk.Plugin{Name: "mem", Version: "2.0.0", Storage: sdk.NewStorage(newMem)})
		if err != nil {
			panic(err)
		}
		cfg.VersionedPlugins = map[int]goplugin.PluginSet{2: cfg.VersionedPlugins[sdk.ProtocolVersion]}
		cfg.ProtocolVersion = 2
		goplugin.Serve(cfg)
	}
	os.Exit(0)
}

// launch starts the test binary as a plugin process serving version.
func launch(t *testing.T, version string) (*goplugin.Client, *bytes.Buffer) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), helperEnv+"="+version)
	var logs bytes.Buffer
	gc := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  rpc.Handshake,
		VersionedPlugins: rpc.VersionedPlugins(),
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "host", Output: &syncWriter{w: &logs}, Level: hclog.Debug}),
	})
	t.Cleanup(gc.Kill)
	return gc, &logs
}

func TestProcess(t *testing.T) {
	ctx := context.Background()
	gc, logs := launch(t, "v1")
	cp, err := gc.Client()
	if err != nil {
		t.Fatalf("Client() error = %v", err)
	}
	raw, err := cp.Dispense(rpc.PluginName)
	if err != nil {
		t.Fatalf("Dispense() error = %v", err)
	}
	c := raw.(*rpc.Client)
	info, err := c.Info(ctx)
	if err != nil || info.Name != "mem" || !info.Serves(sdk.KindStorage) || info.ProtocolVersion != 1 {
		t.Fatalf("Info() = %+v, %v", info, err)
	}
	if err := c.Configure(ctx, sdk.KindStorage, "p", cty.NullVal(cty.DynamicPseudoType)); err != nil {
		t.Fatalf("Configure() error = %v", err)
	}
	st := c.Storage("p")
	data := bytes.Repeat([]byte("0123456789abcdef"), 300000) // 4.6 MiB
	if _, err := st.Put(ctx, "x/y", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Put() error = %v", err)
	}
	rc, err := st.Get(ctx, "x/y", 0, -1)
	if err != nil {
		t.Fatalf("Get() error = %v", err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get() = %d bytes, %v", len(got), err)
	}
	if _, err := st.Stat(ctx, "nope"); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("Stat(missing) error = %v, want sdk.ErrNotFound", err)
	}
	// The plugin's JSON log lines are folded into the host's log.
	gc.Kill()
	if !strings.Contains(logs.String(), "instance configured") {
		t.Errorf("host log lacks the plugin's log line:\n%s", logs.String())
	}
	// A dead plugin is unavailable.
	if _, err := st.Stat(ctx, "x/y"); !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("Stat() on a killed plugin: error = %v, want sdk.ErrUnavailable", err)
	}
}

func TestProcessVersionMismatch(t *testing.T) {
	gc, _ := launch(t, "v2")
	_, err := gc.Client()
	if err == nil {
		t.Fatal("Client() of a protocol 2 plugin succeeded")
	}
	for _, want := range []string{"Plugin version: 2", "Client versions: [1]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Client() error = %q, want it to contain %q", err, want)
		}
	}
}
