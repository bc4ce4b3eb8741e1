package config

import (
	"bytes"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const testDigest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func TestParsePlugins(t *testing.T) {
	src := `
plugin_dir = "/opt/pacs/plugins"

plugin "dedup" {
  sha256 = "` + testDigest + `"
}
plugin "vault" {
  path = "/usr/local/bin/pacs-plugin-vault"
  sha256 = "` + strings.ToUpper(testDigest) + `"
  args = ["--verbose"]
  call_timeout = "2m"
  max_concurrency = 8
  required = true
}

storage "hot" { backend = "fs" }
storage "vaulted" {
  backend = "vault"
  after = "30d"
  config { token = env("VAULT_TOKEN") }
}
storage "cold" {
  backend = "fs"
  after = "1y"
  out_of_process = true
}

sop_handler "filter" {
  plugin = "dedup"
  sop_classes = ["CTImageStorage", "1.2.840.10008.5.1.4.1.1.4"]
  on_error = "accept"
  config { require_accession = true }
}
sop_handler "second" {
  plugin = "vault"
}
`
	p := testParser(map[string]string{"VAULT_TOKEN": "s3cr3t"})
	c, diags := p.Parse([]byte(src), "site.hcl")
	if len(diags) != 0 {
		t.Fatalf("Parse() diagnostics: %v", diags)
	}
	if len(c.Plugins) != 2 || c.PluginDir != "/opt/pacs/plugins" {
		t.Fatalf("plugins = %+v, plugin_dir %q", c.Plugins, c.PluginDir)
	}
	dedup, vault := c.Plugins[0], c.Plugins[1]
	if got, want := c.PluginPath(dedup), filepath.Join("/opt/pacs/plugins", "pacs-plugin-dedup"); got != want {
		t.Errorf("PluginPath(dedup) = %q, want %q", got, want)
	}
	if got := c.PluginPath(vault); got != "/usr/local/bin/pacs-plugin-vault" {
		t.Errorf("PluginPath(vault) = %q", got)
	}
	if dedup.Timeout() != 30*time.Second || dedup.CallTimeout != DefaultCallTimeout || dedup.Required || dedup.MaxConcurrency != 0 {
		t.Errorf("dedup defaults = %+v", dedup)
	}
	if vault.Timeout() != 2*time.Minute || !vault.Required || vault.MaxConcurrency != 8 || !reflect.DeepEqual(vault.Args, []string{"--verbose"}) {
		t.Errorf("vault = %+v", vault)
	}
	if c.PluginByName("vault") != vault || c.PluginByName("absent") != nil {
		t.Error("PluginByName does not find the blocks")
	}
	if !c.Storage[2].OutOfProcess || c.Storage[2].FS == nil || c.Storage[1].FS != nil || c.Storage[1].Config == nil {
		t.Errorf("storage = %+v %+v", c.Storage[1], c.Storage[2])
	}
	if len(c.SOPHandlers) != 2 {
		t.Fatalf("sop handlers = %+v", c.SOPHandlers)
	}
	f, s := c.SOPHandlers[0], c.SOPHandlers[1]
	if got, want := f.SOPClassUIDs(), []string{"1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.4"}; !reflect.DeepEqual(got, want) {
		t.Errorf("SOPClassUIDs() = %q, want %q", got, want)
	}
	if f.OnError != OnErrorAccept || f.Config == nil || f.CallTimeout() != 5*time.Second {
		t.Errorf("filter = %+v", f)
	}
	if s.OnError != OnErrorReject || s.SOPClassUIDs() != nil || !reflect.DeepEqual(s.Services, []string{ServiceCStore}) || s.Timeout != DefaultSOPHandlerTimeout {
		t.Errorf("second handler defaults = %+v", s)
	}

	enc := Encode(c)
	if bytes.Contains(enc, []byte("s3cr3t")) {
		t.Errorf("Encode() reproduces a plugin's config body:\n%s", enc)
	}
	again, diags := testParser(nil).Parse(enc, "encoded.hcl")
	if len(diags) != 0 {
		t.Fatalf("Parse(Encode()) diagnostics: %v\n%s", diags, enc)
	}
	zeroRanges(reflect.ValueOf(c))
	zeroRanges(reflect.ValueOf(again))
	if !reflect.DeepEqual(again.Plugins, c.Plugins) || !reflect.DeepEqual(again.SOPHandlers, c.SOPHandlers) || again.PluginDir != c.PluginDir {
		t.Errorf("Parse(Encode()) plugins differ:\n%s", enc)
	}
}

// TestPluginDiagnostics compares the printed diagnostics of mistakes in
// plugin and sop_handler blocks with testdata/<name>.golden.
func TestPluginDiagnostics(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		count int
	}{
		{name: "plugin_missing_path_and_digest", count: 2, src: "plugin \"x\" {}\n"},
		{name: "plugin_bad_values", count: 5, src: `plugin "a" {
  path = "/bin/a"
  sha256 = "abc"
  call_timeout = "soon"
  max_concurrency = -1
}
plugin "a" {
  path = "/bin/b"
  sha256 = "` + testDigest + `"
  call_timeout = "0s"
}
`},
		{name: "plugin_unknown_backend", count: 1, src: "storage \"hot\" {\n  backend = \"gcs\"\n}\n"},
		{name: "sop_handler_bad_values", count: 8, src: `sop_handler "h" {
  plugin = "absent"
  sop_classes = ["NotAClass", "ImplicitVRLittleEndian"]
  services = ["C-FIND"]
  timeout = "-1s"
  on_error = "ignore"
}
sop_handler "h" {
  plugin = ""
}
`},
		{name: "sop_handler_unknown_attribute", count: 1, src: "plugin \"p\" {\n  path = \"/p\"\n  sha256 = \"" + testDigest + "\"\n}\nsop_handler \"h\" {\n  plugin = \"p\"\n  retries = 3\n}\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := testParser(nil)
			_, diags := p.Parse([]byte(tc.src), "site.hcl")
			var out bytes.Buffer
			if err := WriteDiagnostics(&out, diags, p.Files()); err != nil {
				t.Fatal(err)
			}
			if got := len(diags.Errs()); got != tc.count {
				t.Errorf("%d errors, want %d:\n%s", got, tc.count, out.String())
			}
			for _, d := range diags {
				if d.Subject == nil {
					t.Errorf("diagnostic without a location: %s: %s", d.Summary, d.Detail)
				}
			}
			checkGolden(t, filepath.Join("testdata", tc.name+".golden"), out.Bytes())
		})
	}
}
