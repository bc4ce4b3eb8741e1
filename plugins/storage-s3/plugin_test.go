package s3storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
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

// pluginEnv makes the test binary serve the plugin (Serve) instead of
// running tests, as the plugin's executable does.
const pluginEnv = "FORGEPACS_S3_TEST_PLUGIN"

func TestMain(m *testing.M) {
	if os.Getenv(pluginEnv) == "1" {
		Serve()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// configBody parses the attributes of a config { } body.
func configBody(t testing.TB, src string) hcl.Body {
	t.Helper()
	f, diags := hclsyntax.ParseConfig([]byte(src), "site.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("parse %q: %v", src, diags)
	}
	return f.Body
}

// siteConfig is a config { } body for a bucket on srv, with extra lines.
func siteConfig(srv *peertest.S3Server, bucket string, extra ...string) string {
	lines := []string{
		fmt.Sprintf("bucket = %q", bucket),
		fmt.Sprintf("endpoint = %q", srv.Endpoint),
		fmt.Sprintf("region = %q", srv.Region),
		"path_style = true",
		fmt.Sprintf("access_key_id = %q", srv.AccessKeyID),
		fmt.Sprintf("secret_access_key = %q", srv.SecretAccessKey),
		"max_retries = 0",
	}
	return strings.Join(append(lines, extra...), "\n") + "\n"
}

// configure decodes src with the plugin's schema and configures instance.
func configure(t testing.TB, c *rpc.Client, instance, src string) (hcl.Body, error) {
	t.Helper()
	sch, err := c.Schema(context.Background(), sdk.KindStorage)
	if err != nil {
		t.Fatalf("Schema() error = %v", err)
	}
	body := configBody(t, src)
	val, diags := rpc.DecodeConfig(body, sch.Spec, nil)
	if diags.HasErrors() {
		t.Fatalf("DecodeConfig(%q): %v", src, diags)
	}
	return body, c.Configure(context.Background(), sdk.KindStorage, instance, val)
}

// TestPluginConformance runs the conformance suite through the plugin
// protocol (a real gRPC connection to the plugin served in process).
func TestPluginConformance(t *testing.T) {
	srv := peertest.StartS3(t)
	srv.CreateBucket(t, "pacs")
	c := plugintest.Start(t, Plugin())
	info, err := c.Info(t.Context())
	if err != nil || info.Name != Name || info.Version != Version || !info.Serves(sdk.KindStorage) {
		t.Fatalf("Info() = %+v, %v", info, err)
	}
	if _, err := configure(t, c, "warm", siteConfig(srv, "pacs", `part_size = "5MiB"`)); err != nil {
		t.Fatalf("Configure() error = %v", err)
	}
	if err := c.Health(t.Context(), sdk.KindStorage, "warm"); err != nil {
		t.Errorf("Health() error = %v", err)
	}
	storagetest.Run(t, func(t *testing.T) sdk.Storage { return c.Storage("warm") })
}

func TestPluginSchema(t *testing.T) {
	sch, err := sdk.SchemaOf[Config]()
	if err != nil {
		t.Fatalf("SchemaOf() error = %v", err)
	}
	want := []string{"access_key_id", "secret_access_key", "session_token"}
	got := slices.Sorted(slices.Values(sch.Sensitive))
	if !slices.Equal(got, want) {
		t.Errorf("Sensitive = %v, want %v", got, want)
	}
}

// TestPluginConfigErrors checks that the plugin's objections come back
// through the protocol at the attribute's line of the site's file.
func TestPluginConfigErrors(t *testing.T) {
	srv := peertest.StartS3(t)
	srv.CreateBucket(t, "pacs")
	c := plugintest.Start(t, Plugin())
	tests := []struct {
		name     string
		src      string
		wantPath string
		wantLine int
	}{
		{name: "part size", src: siteConfig(srv, "pacs", `part_size = "1MiB"`), wantPath: "part_size", wantLine: 8},
		{name: "missing bucket", src: siteConfig(srv, "absent"), wantPath: "bucket", wantLine: 1},
		{name: "wrong secret", src: strings.Replace(siteConfig(srv, "pacs"), srv.SecretAccessKey, "wrong-secret", 1), wantPath: "access_key_id", wantLine: 5},
		{name: "encryption", src: siteConfig(srv, "pacs", `server_side_encryption = "DES"`), wantPath: "server_side_encryption", wantLine: 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, err := configure(t, c, "warm", tc.src)
			ces := rpc.ConfigErrors(err)
			if len(ces) != 1 || ces[0].Path != tc.wantPath {
				t.Fatalf("Configure() error = %v, want one ConfigError at %s", err, tc.wantPath)
			}
			diags := rpc.ConfigDiagnostics(body, err)
			if len(diags) != 1 || diags[0].Subject == nil || diags[0].Subject.Start.Line != tc.wantLine {
				t.Fatalf("ConfigDiagnostics() = %v, want one at line %d", diags, tc.wantLine)
			}
			if strings.Contains(err.Error(), "wrong-secret") || strings.Contains(err.Error(), srv.SecretAccessKey) {
				t.Errorf("Configure() error %q shows a secret", err)
			}
		})
	}
}

// TestPluginProcess runs the plugin as its own process (this test binary
// calling Serve, as the executable's main does), the way the archive
// launches it, and stores, reads and lists through it.
func TestPluginProcess(t *testing.T) {
	srv := peertest.StartS3(t)
	srv.CreateBucket(t, "pacs")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), pluginEnv+"=1", sdk.LogLevelEnv+"=trace")
	var logs peertest.SyncBuffer
	c, gc := plugintest.StartProcess(t, cmd, hclog.New(&hclog.LoggerOptions{Name: "host", Output: &logs, Level: hclog.Trace}))
	if _, err := configure(t, c, "warm", siteConfig(srv, "pacs", `prefix = "site-a"`)); err != nil {
		t.Fatalf("Configure() error = %v", err)
	}
	st := c.Storage("warm")
	data, sum := randomBytes(24 << 20)
	info, err := st.Put(t.Context(), "1.2/3.4/5.6.dcm", stream{bytes.NewReader(data)}, int64(len(data)))
	if err != nil || info.SHA256 != sum {
		t.Fatalf("Put() = %+v, %v; want sha256 %s", info, err, sum)
	}
	rc, err := st.Get(t.Context(), "1.2/3.4/5.6.dcm", 0, -1)
	if err != nil {
		t.Fatalf("Get() error = %v", err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get() = %d bytes, %v; want the %d stored", len(got), err, len(data))
	}
	if info, err := st.Stat(t.Context(), "1.2/3.4/5.6.dcm"); err != nil || info.SHA256 != sum {
		t.Errorf("Stat() = %+v, %v", info, err)
	}
	page, err := st.List(t.Context(), "1.2/", "", 0)
	if err != nil || len(page.Objects) != 1 || page.Objects[0].Key != "1.2/3.4/5.6.dcm" {
		t.Errorf("List() = %+v, %v", page, err)
	}
	if _, err := st.Stat(t.Context(), "absent"); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("Stat(absent) error = %v, want sdk.ErrNotFound", err)
	}
	if n := pendingUploads(t, srv, "pacs"); n != 0 {
		t.Errorf("%d multipart uploads pending", n)
	}
	gc.Kill()
	if !strings.Contains(logs.String(), "plugin") {
		t.Errorf("the host logged nothing of the plugin: %q", logs.String())
	}
	for _, secret := range []string{srv.SecretAccessKey, srv.AccessKeyID} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the plugin's log shows a credential")
		}
	}
}
