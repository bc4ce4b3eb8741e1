package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/pacsforge/pacs/core/config"
)

// TestMain lets the test binary serve first-party plugins, as the pacs
// executable does, when the plugin manager re-executes it.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == pluginServeCommand {
		os.Exit(runPluginServe(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// writeSite writes the configuration src into a temporary site.hcl and
// returns its path.
func writeSite(t *testing.T, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "site.hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeFSSite writes a site whose data directory is dataDir and whose first
// tier is the filesystem backend at root, served by a plugin process when
// outOfProcess, and returns its path.
func writeFSSite(t *testing.T, dataDir, root string, outOfProcess bool) string {
	t.Helper()
	plugin := ""
	if outOfProcess {
		plugin = "\n  out_of_process = true"
	}
	return writeSite(t, `
data_dir = "`+dataDir+`"
storage "hot" {
  backend = "fs"`+plugin+`
  config { root = "`+root+`" }
}
`)
}

// loadSite parses the configuration at path, failing the test on an error.
func loadSite(t *testing.T, path string) *config.Config {
	t.Helper()
	cfg, diags := config.NewParser().Load(path)
	if diags.HasErrors() {
		t.Fatalf("test configuration: %v", diags)
	}
	return cfg
}

// TestPluginsCheckOutOfProcessFS starts the filesystem backend as a plugin
// process served by the executable itself.
func TestPluginsCheckOutOfProcessFS(t *testing.T) {
	site := writeFSSite(t, t.TempDir(), t.TempDir(), true)
	code, out, errOut := runCmd(t, runPlugins, "check", "--config", site)
	if code != 0 {
		t.Fatalf("pacs plugins check = %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{"fs", "plugin-serve storage-fs", "built in", "up", "1 plugin(s) ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCmd(t, runPlugins, "list", "--config", site)
	if code != 0 || !strings.Contains(out, "storage") {
		t.Errorf("pacs plugins list = %d:\n%s", code, out)
	}
}

// TestPluginsCheckMismatch: a plugin whose executable does not match its
// pinned sha256 is not started and check fails, printing the real digest.
func TestPluginsCheckMismatch(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	site := writeSite(t, `
plugin "third" {
  path = "`+exe+`"
  sha256 = "`+strings.Repeat("ab", 32)+`"
  args = ["--api-token=hunter2"]
}
`)
	code, out, errOut := runCmd(t, runPlugins, "check", "--config", site)
	if code != 1 {
		t.Fatalf("pacs plugins check = %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "MISMATCH") || !strings.Contains(errOut, "does not match its pinned sha256") {
		t.Errorf("no mismatch reported:\nstdout:\n%s\nstderr:\n%s", out, errOut)
	}
	if strings.Contains(out+errOut, "hunter2") || !strings.Contains(out, "--api-token=<redacted>") {
		t.Errorf("the secret argument is shown:\n%s\n%s", out, errOut)
	}
}

// TestOpenArchiveCreatesDataDir: with its storage in a plugin process, the
// archive still creates its data directory (index and spool) when absent.
func TestOpenArchiveCreatesDataDir(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "not", "yet")
	cfg := loadSite(t, writeFSSite(t, dataDir, t.TempDir(), true))
	s, err := openArchive(context.Background(), cfg, hclog.NewNullLogger())
	if err != nil {
		t.Fatalf("openArchive() error = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, indexFileName)); err != nil {
		t.Errorf("no index in the new data directory: %v", err)
	}
}
