package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pacsforge/pacs/core/config"
	"github.com/pacsforge/pacs/internal/peertest"
)

// writeFile writes content to name in a new temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigCommand(t *testing.T) {
	good := writeFile(t, "good.hcl", "dicom {\n  ae_title = \"SITE\"\n}\n")
	bad := writeFile(t, "bad.hcl", "dicom {\n  ae_title = \"\"\n  listen = \"nowhere\"\n}\nremotes {}\n")
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    []string
		wantErrOut []string
	}{
		{name: "valid", args: []string{"validate", good}, wantOut: []string{good + ": valid"}},
		{name: "example", args: []string{"validate", filepath.Join("..", "..", "examples", "configs", "single-node.hcl")}, wantOut: []string{"single-node.hcl: valid"}},
		{
			name: "every mistake of every file", args: []string{"validate", bad, good}, wantCode: 1,
			wantOut: []string{good + ": valid"},
			wantErrOut: []string{
				bad + ":2:3: error: Invalid AE title", bad + ":3:3: error: Invalid listen address",
				bad + ":5:1: error: Unsupported block type", bad + ": 3 error(s)",
			},
		},
		{name: "absent file", args: []string{"validate", filepath.Join(t.TempDir(), "absent.hcl")}, wantCode: 1, wantErrOut: []string{"Cannot read configuration file"}},
		{name: "no file", args: []string{"validate"}, wantCode: 2, wantErrOut: []string{"usage: pacs config validate"}},
		{name: "no subcommand", args: nil, wantCode: 2, wantErrOut: []string{"usage:"}},
		{name: "unknown subcommand", args: []string{"check"}, wantCode: 2, wantErrOut: []string{`unknown subcommand "check"`}},
		{name: "defaults", args: []string{"defaults"}, wantOut: []string{`ae_title                = "FORGE"`, `storage "default"`}},
		{name: "defaults takes no argument", args: []string{"defaults", "x"}, wantCode: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, runConfig, tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tc.wantCode, errOut)
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("stdout %q lacks %q", out, w)
				}
			}
			for _, w := range tc.wantErrOut {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
		})
	}
}

// TestConfigDefaultsParses reads the output of pacs config defaults back.
func TestConfigDefaultsParses(t *testing.T) {
	code, out, _ := runCmd(t, runConfig, "defaults")
	if code != 0 {
		t.Fatalf("exit code %d", code)
	}
	c, diags := config.Parse([]byte(out), "defaults.hcl")
	if len(diags) != 0 {
		t.Fatalf("Parse() diagnostics: %v", diags)
	}
	if got, want := serveOptionsFrom(c.DICOM), serveOptionsFrom(config.Default().DICOM); !reflect.DeepEqual(got, want) {
		t.Errorf("serve options %+v, want %+v", got, want)
	}
}

// TestServeConfigPrecedence checks defaults < file < flags.
func TestServeConfigPrecedence(t *testing.T) {
	site := writeFile(t, "site.hcl", `data_dir = "/srv/pacs"
log { level = "warn" }
dicom {
  ae_title = "SITE"
  listen = "127.0.0.1:4242"
  strict_called_ae = true
  max_associations = 10
}
`)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		check    func(t *testing.T, c *config.Config)
	}{
		{name: "defaults", check: func(t *testing.T, c *config.Config) {
			if !reflect.DeepEqual(c, config.Default()) {
				t.Errorf("config = %s", config.Encode(c))
			}
		}},
		{name: "flags without a file", args: []string{"--port", "11113", "--ae-title", "X", "--data-dir", "D", "--strict-ae", "-log-level", "debug", "-log-json"}, check: func(t *testing.T, c *config.Config) {
			d := c.DICOM
			if d.Listen != ":11113" || d.AETitle != "X" || c.DataDir != "D" || !d.StrictCalledAE || c.Log.Level != "debug" || c.Log.Format != "json" {
				t.Errorf("config = %s", config.Encode(c))
			}
		}},
		{name: "file", args: []string{"--config", site}, check: func(t *testing.T, c *config.Config) {
			d := c.DICOM
			if d.Listen != "127.0.0.1:4242" || d.AETitle != "SITE" || c.DataDir != "/srv/pacs" || !d.StrictCalledAE || d.MaxAssociations != 10 || c.Log.Level != "warn" {
				t.Errorf("config = %s", config.Encode(c))
			}
		}},
		{name: "flags over the file", args: []string{"--config", site, "--port", "11113", "--ae-title", "X", "--data-dir", "D", "--strict-ae=false", "-log-level", "error"}, check: func(t *testing.T, c *config.Config) {
			d := c.DICOM
			if d.Listen != "127.0.0.1:11113" || d.AETitle != "X" || c.DataDir != "D" || d.StrictCalledAE || d.MaxAssociations != 10 || c.Log.Level != "error" {
				t.Errorf("config = %s", config.Encode(c))
			}
		}},
		{name: "bad flag value", args: []string{"--ae-title", `A\B`}, wantCode: 2},
		{name: "bad port", args: []string{"--port", "70000"}, wantCode: 2},
		{name: "bad log level", args: []string{"-log-level", "loud"}, wantCode: 2},
		{name: "bad file", args: []string{"--config", writeFile(t, "bad.hcl", "dicom { ae_title = \"\" }\n")}, wantCode: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, code := parseServeFlags(tc.args)
			if code != 0 {
				t.Fatalf("parseServeFlags() = %d", code)
			}
			var c *config.Config
			code, _, errOut := runCmd(t, func([]string) int {
				var code int
				c, code = loadServeConfig(f)
				return code
			})
			if code != tc.wantCode {
				t.Fatalf("exit code %d, want %d (stderr %q)", code, tc.wantCode, errOut)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

// TestServeBadConfig runs pacs serve with a mistaken file: it prints the
// diagnostic with file:line:col and exits 1 without listening.
func TestServeBadConfig(t *testing.T) {
	bad := writeFile(t, "bad.hcl", "dicom {\n  idle_timeout = \"forever\"\n}\n")
	code, _, errOut := runCmd(t, runServe, "--config", bad, "--port", "0")
	if code != 1 || !strings.Contains(errOut, bad+":2:3: error: Invalid duration") || !strings.Contains(errOut, "not starting") {
		t.Errorf("exit code %d, stderr %q", code, errOut)
	}
}

// TestConfigValidateFirstPartyBodies: the config { } bodies of storage
// blocks on the first-party S3 and Azure backends are checked against
// their schemas by pacs config validate, without starting anything: an
// unknown attribute, a missing required one and an unset environment
// variable are reported at their line; the shipped examples pass with
// their variables set.
func TestConfigValidateFirstPartyBodies(t *testing.T) {
	bad := writeFile(t, "bad.hcl", `storage "cloud" {
  backend = "s3"
  config {
    buckett = "x"
  }
}
storage "cold" {
  backend = "azure"
  after   = "30d"
  config {
    container         = env("PACS_TEST_UNSET_VARIABLE")
    connection_string = "UseDevelopmentStorage=true"
  }
}
`)
	code, _, errOut := runCmd(t, runConfig, "validate", bad)
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	for _, w := range []string{bad + ":4:5: error: Unsupported argument", `The argument "bucket" is required`, bad + ":11:30: error: Invalid function argument"} {
		if !strings.Contains(errOut, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errOut)
		}
	}
	for k, v := range map[string]string{"S3_BUCKET": "b", "S3_ENDPOINT": "http://127.0.0.1:9", "AZURE_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true", "AZURE_CONTAINER": "c"} {
		t.Setenv(k, v)
	}
	for _, ex := range []string{"s3.hcl", "azure.hcl"} {
		path := filepath.Join("..", "..", "examples", "configs", ex)
		if code, out, errOut := runCmd(t, runConfig, "validate", path); code != 0 || !strings.Contains(out, ": valid") {
			t.Errorf("pacs config validate %s: exit %d\n%s%s", ex, code, out, errOut)
		}
	}
}

// TestServeOptionsFromConfig: the association limits, timeouts and remotes
// of a file reach the server's options.
func TestServeOptionsFromConfig(t *testing.T) {
	c, diags := config.Parse([]byte(`dicom {
  max_associations        = 10
  max_associations_per_ae = 2
  idle_timeout            = "2m"
  dimse_timeout           = "15s"
  case_insensitive_names  = true
}
remote "SECURE" {
  host = "pacs.example.org"
  port = 2762
  tls  = true
}
remote "PLAIN" {
  host = "10.0.0.5"
}
`), "site.hcl")
	if diags.HasErrors() {
		t.Fatalf("Parse() diagnostics: %v", diags)
	}
	o := serveOptionsFrom(c.DICOM)
	if o.maxAssociations != 10 || o.maxAssocPerAE != 2 || o.timeouts.Idle != 2*time.Minute || o.timeouts.DIMSE != 15*time.Second || !o.caseInsensitivePN {
		t.Errorf("serve options %+v, want the file's limits and timeouts", o)
	}
	rs := remotesFrom(c, nil)
	if len(rs) != 2 || rs[0].TLS == nil || rs[0].TLS.ServerName != "pacs.example.org" || rs[0].TLS.InsecureSkipVerify ||
		rs[0].TLS.RootCAs != nil || rs[1].TLS != nil {
		t.Errorf("remotes %+v; want TLS verified for pacs.example.org by the system's CAs, on SECURE only", rs)
	}

	// A site CA file replaces the system's CAs for its remote.
	sc := peertest.NewServerCert(t)
	c, diags = config.Parse([]byte(fmt.Sprintf(`remote "SITE" {
  host    = "127.0.0.1"
  tls     = true
  ca_file = %q
}
`, sc.CertFile)), "site.hcl")
	if diags.HasErrors() {
		t.Fatalf("Parse() diagnostics: %v", diags)
	}
	rs = remotesFrom(c, nil)
	if len(rs) != 1 || rs[0].TLS == nil || rs[0].TLS.RootCAs == nil || !rs[0].TLS.RootCAs.Equal(sc.Pool) || len(rs[0].TLS.Certificates) != 0 {
		t.Errorf("remotes %+v; want the CA file's pool, and no client certificate", rs)
	}

	// With a dicom.tls block, its certificate is the client certificate
	// offered to remotes reached with TLS.
	node := peertest.NewNodeCert(t)
	c, diags = config.Parse([]byte(fmt.Sprintf(`dicom {
  tls {
    listen    = ":2762"
    cert_file = %q
    key_file  = %q
  }
}
remote "SITE" {
  host = "127.0.0.1"
  tls  = true
}
remote "PLAIN" {
  host = "10.0.0.5"
}
`, node.CertFile, node.KeyFile)), "site.hcl")
	if diags.HasErrors() {
		t.Fatalf("Parse() diagnostics: %v", diags)
	}
	rs = remotesFrom(c, newTLSFiles(c.DICOM.TLS, hclog.NewNullLogger()))
	if len(rs) != 2 || rs[0].TLS == nil || rs[0].TLS.GetClientCertificate == nil || rs[1].TLS != nil {
		t.Fatalf("remotes %+v; want dicom.tls's certificate offered to SITE", rs)
	}
	if cert, err := rs[0].TLS.GetClientCertificate(nil); err != nil || !cert.Leaf.Equal(node.Cert.Leaf) {
		t.Errorf("client certificate offered to SITE: %v; want dicom.tls's", err)
	}
}

// TestNewLogger: the log block's format and level reach the server's log.
func TestNewLogger(t *testing.T) {
	var buf bytes.Buffer
	old := stderr
	stderr = &buf
	defer func() { stderr = old }()

	newLogger(&config.Log{Level: "info", Format: "json"}).Info("association accepted", "calling_ae", "CT1")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("JSON log line %q: %v", buf.String(), err)
	}
	if rec["@message"] != "association accepted" || rec["@level"] != "info" || rec["@module"] != "pacs" || rec["calling_ae"] != "CT1" {
		t.Errorf("JSON log record %v", rec)
	}

	buf.Reset()
	log := newLogger(&config.Log{Level: "warn", Format: "text"})
	log.Info("not shown")
	log.Warn("disk almost full", "free", "1%")
	if got := buf.String(); strings.Contains(got, "not shown") || !strings.Contains(got, `[WARN]  pacs: disk almost full: free="1%"`) {
		t.Errorf("text log %q, want only the warning", got)
	}
}
