package azurestorage

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/pacsforge/pacs/internal/peertest"
	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/plugintest"
	"github.com/pacsforge/pacs/sdk/rpc"
	"github.com/pacsforge/pacs/sdk/storagetest"
)

// startProcess builds pacs-plugin-storage-azure and launches it as the
// host does, returning the connected client.
func startProcess(t *testing.T) *rpc.Client {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pacs-plugin-storage-azure")
	build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "./cmd/pacs-plugin-storage-azure")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	c, _ := plugintest.StartProcess(t, exec.Command(bin), hclog.New(&hclog.LoggerOptions{Output: os.Stderr, Level: hclog.Warn}))
	return c
}

// configure decodes src, a config { } body in HCL, with the plugin's schema
// and configures instance with it; it returns the diagnostics.
func configure(t *testing.T, c *rpc.Client, instance, src string) hcl.Diagnostics {
	t.Helper()
	ctx := context.Background()
	sch, err := c.Schema(ctx, sdk.KindStorage)
	if err != nil {
		t.Fatalf("Schema: %v", err)
	}
	f, diags := hclsyntax.ParseConfig([]byte(src), "site.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("parse: %v", diags)
	}
	val, diags := rpc.DecodeConfig(f.Body, sch.Spec, nil)
	if diags.HasErrors() {
		return diags
	}
	return rpc.ConfigDiagnostics(f.Body, c.Configure(ctx, sdk.KindStorage, instance, val))
}

// TestProcess runs the plugin executable out of process, as the archive
// does: its description and schema, configuration errors at their line, and
// the conformance suite through it.
func TestProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin executable")
	}
	az := peertest.StartAzurite(t)
	c := startProcess(t)
	ctx := context.Background()

	info, err := c.Info(ctx)
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	if info.Name != Name || !info.Serves(sdk.KindStorage) {
		t.Errorf("Info = %+v, want %s serving storage", info, Name)
	}
	sch, err := c.Schema(ctx, sdk.KindStorage)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(sch.Sensitive)
	if got := strings.Join(sch.Sensitive, " "); got != "account_key connection_string" {
		t.Errorf("sensitive attributes %q, want account_key connection_string", got)
	}

	diags := configure(t, c, "bad", fmt.Sprintf(`
connection_string = %q
container         = "Not_Valid"
`, az.ConnectionString))
	if len(diags) != 1 || diags[0].Subject == nil || diags[0].Subject.Start.Line != 3 || !strings.Contains(diags[0].Detail+diags[0].Summary, "container") {
		t.Errorf("bad container: diagnostics %v, want one at site.hcl:3", diags)
	}
	if strings.Contains(diags.Error(), peertest.AzuriteKey) {
		t.Errorf("the diagnostics quote the key: %v", diags)
	}
	diags = configure(t, c, "absent", fmt.Sprintf(`
connection_string = %q
container         = "absent"
max_retries       = -1
`, az.ConnectionString))
	if len(diags) != 1 || diags[0].Subject == nil || diags[0].Subject.Start.Line != 3 || !strings.Contains(diags.Error(), "does not exist") {
		t.Errorf("missing container: diagnostics %v, want one at site.hcl:3", diags)
	}

	if diags := configure(t, c, "cloud", fmt.Sprintf(`
connection_string = %q
container         = "process"
create_container  = true
block_size        = "2MiB"
concurrency       = 3
`, az.ConnectionString)); diags.HasErrors() {
		t.Fatalf("configure: %v", diags)
	}
	st := c.Storage("cloud")
	storagetest.RunWith(t, func(t *testing.T) sdk.Storage { return st }, storagetest.Options{KeepsSHA256: true})
}
