package fsstorage

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"github.com/zclconf/go-cty/cty"

	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/rpc"
	"github.com/pacsforge/pacs/sdk/storagetest"
)

// buildPlugin builds cmd/pacs-plugin-storage-fs into a temporary directory.
func buildPlugin(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the plugin executable; not with -short")
	}
	bin := filepath.Join(t.TempDir(), "pacs-plugin-storage-fs")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "./cmd/pacs-plugin-storage-fs")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestConformanceProcess runs the storage suite against the plugin
// executable, launched as the archive launches plugins (go-plugin, gRPC,
// AutoMTLS), one configured instance per subtest.
func TestConformanceProcess(t *testing.T) {
	bin := buildPlugin(t)
	gc := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  rpc.Handshake,
		VersionedPlugins: rpc.VersionedPlugins(),
		Cmd:              exec.Command(bin),
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "storage-fs", Output: hclog.DefaultOutput, Level: hclog.Warn}),
	})
	t.Cleanup(gc.Kill)
	cp, err := gc.Client()
	if err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	raw, err := cp.Dispense(rpc.PluginName)
	if err != nil {
		t.Fatal(err)
	}
	c := raw.(*rpc.Client)
	info, err := c.Info(t.Context())
	if err != nil || info.Name != "storage-fs" || !info.Serves(sdk.KindStorage) {
		t.Fatalf("Info() = %+v, %v", info, err)
	}
	var n atomic.Int64
	storagetest.Run(t, func(t *testing.T) sdk.Storage {
		instance := fmt.Sprintf("fs%d", n.Add(1))
		cfg := cty.ObjectVal(map[string]cty.Value{"root": cty.StringVal(t.TempDir()), "layout": cty.NullVal(cty.String)})
		if err := c.Configure(t.Context(), sdk.KindStorage, instance, cfg); err != nil {
			t.Fatalf("Configure(%s) error = %v", instance, err)
		}
		return c.Storage(instance)
	})
	// A bad config comes back as a ConfigError at its attribute.
	bad := cty.ObjectVal(map[string]cty.Value{"root": cty.StringVal(t.TempDir()), "layout": cty.StringVal("flat")})
	err = c.Configure(t.Context(), sdk.KindStorage, "bad", bad)
	if ces := rpc.ConfigErrors(err); len(ces) != 1 || ces[0].Path != "layout" {
		t.Errorf("Configure(layout = flat) = %v, want a ConfigError at layout", err)
	}
}

// TestStartedByHand checks that the executable, run without the host,
// says it is a plugin and fails.
func TestStartedByHand(t *testing.T) {
	bin := buildPlugin(t)
	out, err := exec.CommandContext(t.Context(), bin).CombinedOutput()
	if err == nil || !strings.Contains(strings.ToLower(string(out)), "plugin") {
		t.Errorf("%s by hand = %v, %q; want a failure naming it a plugin", bin, err, out)
	}
}
