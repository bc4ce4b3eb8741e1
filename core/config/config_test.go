package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/pacsforge/pacs/internal/golden"
)

// testParser returns a Parser whose env() sees only vars.
func testParser(vars map[string]string) *Parser {
	p := NewParser()
	p.LookupEnv = func(name string) (string, bool) { v, ok := vars[name]; return v, ok }
	return p
}

// zeroRanges clears every hcl.Range and *PluginConfig in v (a pointer),
// so values parsed from different sources compare equal.
func zeroRanges(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.Type() == reflect.TypeOf((*PluginConfig)(nil)) {
			v.Set(reflect.Zero(v.Type()))
		} else if !v.IsNil() {
			zeroRanges(v.Elem())
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			zeroRanges(v.Index(i))
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(hcl.Range{}) {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			zeroRanges(v.Field(i))
		}
	}
}

func TestDefault(t *testing.T) {
	if diags := Default().Validate(); len(diags) != 0 {
		t.Fatalf("Default().Validate() = %v", diags)
	}
	for _, src := range []string{"", "\n# nothing\n", "log {}\ndicom {}\nhttp {}\n"} {
		got, diags := testParser(nil).Parse([]byte(src), "empty.hcl")
		if len(diags) != 0 {
			t.Fatalf("Parse(%q) diagnostics: %v", src, diags)
		}
		zeroRanges(reflect.ValueOf(got))
		if want := Default(); !reflect.DeepEqual(got, want) {
			t.Errorf("Parse(%q) = %s\nwant Default() = %s", src, Encode(got), Encode(want))
		}
	}
	if Default() == Default() || Default().DICOM == Default().DICOM {
		t.Error("Default() shares values between calls")
	}
}

func TestDefaultValues(t *testing.T) {
	c := Default()
	d := c.DICOM
	if d.AETitle != "FORGE" || d.Listen != ":11112" || c.HTTP.Listen != "127.0.0.1:8042" || c.DataDir != "./pacs-data" {
		t.Errorf("Default() = %s", Encode(c))
	}
	if got, want := d.Timeouts(), (Timeouts{Association: 30 * time.Second, Idle: 5 * time.Minute, DIMSE: time.Minute, Release: 30 * time.Second}); got != want {
		t.Errorf("Timeouts() = %+v, want %+v", got, want)
	}
	if got := d.MaxPDU(); got != 65536 {
		t.Errorf("MaxPDU() = %d, want 65536", got)
	}
	if len(c.Storage) != 1 || c.Storage[0].Backend != BackendFS || c.Storage[0].FS.Layout != LayoutUID {
		t.Fatalf("Default().Storage = %+v", c.Storage)
	}
	if got, want := c.Storage[0].FS.RootDir(c.DataDir), filepath.Join("pacs-data", "objects"); got != want {
		t.Errorf("RootDir() = %q, want %q", got, want)
	}
}

// TestEncodeRoundTrip parses Encode's output back to the same values.
func TestEncodeRoundTrip(t *testing.T) {
	src := `
data_dir = "/srv/pacs"
log { level = "debug" }
dicom {
  ae_title = "SITE"
  max_pdu_length = "1MiB"
  accepted_calling_aes = ["A", "B"]
  sop_classes = ["CTImageStorage", "1.2.840.10008.5.1.4.1.1.4"]
  transfer_syntaxes = ["JPEGLosslessSV1", "1.2.840.10008.1.2.1"]
}
storage "hot" {
  backend = "fs"
  config { root = "/srv/objects" }
}
storage "cold" {
  backend = "fs"
  after = "1y"
  config { layout = "date" }
}
remote "PEER" { host = "peer.example" }
`
	for _, c := range []*Config{Default(), mustParse(t, src)} {
		back, diags := testParser(nil).Parse(Encode(c), "encoded.hcl")
		if len(diags) != 0 {
			t.Fatalf("Parse(Encode()) diagnostics: %v\n%s", diags, Encode(c))
		}
		zeroRanges(reflect.ValueOf(back))
		zeroRanges(reflect.ValueOf(c))
		if !reflect.DeepEqual(back, c) {
			t.Errorf("Parse(Encode(c)) = %s\nwant %s", Encode(back), Encode(c))
		}
	}
}

func mustParse(t *testing.T, src string) *Config {
	t.Helper()
	c, diags := testParser(nil).Parse([]byte(src), "test.hcl")
	if len(diags) != 0 {
		t.Fatalf("Parse() diagnostics: %v", diags)
	}
	return c
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		env   map[string]string
		check func(t *testing.T, c *Config)
	}{
		{
			name: "attributes keep defaults beside them",
			src:  `dicom { ae_title = "SITE" }`,
			check: func(t *testing.T, c *Config) {
				if c.DICOM.AETitle != "SITE" || c.DICOM.Listen != DefaultDICOMListen || c.DICOM.MaxAssociations != 64 {
					t.Errorf("dicom = %+v", c.DICOM)
				}
			},
		},
		{
			name: "env and string functions",
			src:  `data_dir = lower(env("DIR"))` + "\n" + `dicom { ae_title = upper(trimspace(env("AE_UNSET", " site "))) }`,
			env:  map[string]string{"DIR": "/SRV/PACS"},
			check: func(t *testing.T, c *Config) {
				if c.DataDir != "/srv/pacs" || c.DICOM.AETitle != "SITE" {
					t.Errorf("data_dir = %q, ae_title = %q", c.DataDir, c.DICOM.AETitle)
				}
			},
		},
		{
			name: "env set but empty is empty",
			src:  `log { level = env("LEVEL", "debug") }` + "\n" + `dicom { ae_title = "A${env("EMPTY")}" }`,
			env:  map[string]string{"LEVEL": "warn", "EMPTY": ""},
			check: func(t *testing.T, c *Config) {
				if c.Log.Level != "warn" || c.DICOM.AETitle != "A" {
					t.Errorf("level = %q, ae_title = %q", c.Log.Level, c.DICOM.AETitle)
				}
			},
		},
		{
			name: "sizes, durations, keywords",
			src: `dicom {
  max_pdu_length = 16384
  idle_timeout = "0s"
  dimse_timeout = "1h30m"
  sop_classes = ["CTImageStorage", "1.2.3.4"]
  transfer_syntaxes = ["ExplicitVRLittleEndian", "1.2.840.10008.1.2.4.50"]
}`,
			check: func(t *testing.T, c *Config) {
				if c.DICOM.MaxPDU() != 16384 || c.DICOM.Timeouts().Idle != 0 || c.DICOM.Timeouts().DIMSE != 90*time.Minute {
					t.Errorf("dicom = %+v", c.DICOM)
				}
				if got, want := c.DICOM.SOPClassUIDs(), []string{"1.2.840.10008.5.1.4.1.1.2", "1.2.3.4"}; !reflect.DeepEqual(got, want) {
					t.Errorf("SOPClassUIDs() = %q, want %q", got, want)
				}
				if got, want := c.DICOM.TransferSyntaxUIDs(), []string{"1.2.840.10008.1.2.1", "1.2.840.10008.1.2.4.50"}; !reflect.DeepEqual(got, want) {
					t.Errorf("TransferSyntaxUIDs() = %q, want %q", got, want)
				}
			},
		},
		{
			name: "tiers, unknown backend kept undecoded, remotes",
			src: `
storage "hot" { backend = "fs" }
storage "warm" {
  backend = "s3"
  after = "30d"
  config {
    bucket = "b"
    nested { anything = env("NOT_EVALUATED_YET") }
  }
}
storage "cold" {
  backend = "fs"
  after = "1y"
  config {
    root = "/cold"
    layout = "date"
  }
}
remote "ARCHIVE" { host = "10.0.0.5" }
remote "WS" {
  host = "ws.example.org"
  port = 11112
  tls = true
}`,
			check: func(t *testing.T, c *Config) {
				if len(c.Storage) != 3 || c.Storage[1].FS != nil || c.Storage[1].Config == nil || c.Storage[1].Config.Body == nil {
					t.Fatalf("storage = %+v", c.Storage)
				}
				if c.Storage[0].FS.Root != "" || c.Storage[2].FS.Root != "/cold" || c.Storage[2].FS.Layout != LayoutDate {
					t.Errorf("fs configs = %+v, %+v", c.Storage[0].FS, c.Storage[2].FS)
				}
				if c.Storage[1].Age() != 30*24*time.Hour || c.Storage[2].Age() != 365*24*time.Hour {
					t.Errorf("ages = %v, %v", c.Storage[1].Age(), c.Storage[2].Age())
				}
				if len(c.Remotes) != 2 || c.Remotes[0].Port != 104 || c.Remotes[1].Port != 11112 || !c.Remotes[1].TLS {
					t.Errorf("remotes = %+v, %+v", c.Remotes[0], c.Remotes[1])
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, diags := testParser(tc.env).Parse([]byte(tc.src), "site.hcl")
			if len(diags) != 0 {
				t.Fatalf("Parse() diagnostics: %v", diags)
			}
			tc.check(t, c)
		})
	}
}

// TestParseDiagnostics compares the printed diagnostics of each mistake
// with testdata/<name>.golden (rewritten by go test -update).
func TestParseDiagnostics(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		count int // error diagnostics expected
	}{
		{name: "unknown_block", count: 1, src: "dicom {}\nplugins {}\n"},
		{name: "unknown_attribute", count: 1, src: "dicom {\n  ae_title = \"X\"\n  port = 104\n}\n"},
		{name: "wrong_type", count: 2, src: "dicom {\n  max_associations = \"many\"\n  strict_called_ae = [1]\n}\n"},
		{name: "missing_backend", count: 1, src: "storage \"hot\" {\n  config { root = \"/x\" }\n}\n"},
		{name: "missing_label", count: 1, src: "remote {\n  host = \"h\"\n}\n"},
		{name: "duplicate_block", count: 1, src: "dicom {}\ndicom {}\n"},
		{name: "bad_duration", count: 2, src: "dicom {\n  idle_timeout = \"5 minutes\"\n  association_timeout = \"0s\"\n}\n"},
		{name: "bad_ae_title", count: 3, src: "dicom {\n  ae_title = \"A_TITLE_LONGER_THAN_16\"\n  accepted_calling_aes = [\"OK\", \"BACK\\\\SLASH\"]\n}\nremote \"   \" { host = \"h\" }\n"},
		{name: "duplicate_remote", count: 1, src: "remote \"PEER\" { host = \"a\" }\nremote \"PEER \" { host = \"b\" }\n"},
		{name: "env_unset", count: 1, src: "data_dir = env(\"PACS_TEST_UNSET\")\n"},
		{name: "bad_fs_config", count: 2, src: "storage \"hot\" {\n  backend = \"fs\"\n  config {\n    layout = \"flat\"\n    bucket = \"b\"\n  }\n}\n"},
		{name: "bad_tiers", count: 5, src: "storage \"a\" {\n  backend = \"fs\"\n  after = \"1d\"\n}\nstorage \"b\" { backend = \"fs\" }\nstorage \"a\" {\n  backend = \"x\"\n  after = \"30 days\"\n}\n"},
		{name: "bad_values", count: 11, src: `log {
  level = "verbose"
  format = "xml"
}
dicom {
  listen = "11112"
  max_associations = 0
  max_associations_per_ae = -1
  max_pdu_length = "1KiB"
  async_ops = 1000
  sop_classes = ["ExplicitVRLittleEndian", "1.2.x"]
  duplicate_policy = "replace"
}
http { listen = "localhost:99999" }
`},
		{name: "syntax_error", count: 3, src: "dicom {\n  ae_title = \"X\n}\n"},
		{name: "several_mistakes", count: 6, src: `data_dir = ""
dicom {
  ae_title = ""
  listne = "0.0.0.0:104"
  release_timeout = "soon"
}
remote "PEER" {
  host = "bad host"
  port = 0
}
`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := testParser(nil)
			_, diags := p.Parse([]byte(tc.src), "site.hcl")
			if got := len(diags.Errs()); got != tc.count {
				t.Errorf("%d errors, want %d: %v", got, tc.count, diags)
			}
			for _, d := range diags {
				if d.Subject == nil {
					t.Errorf("diagnostic without a location: %s: %s", d.Summary, d.Detail)
				}
			}
			var out bytes.Buffer
			if err := WriteDiagnostics(&out, diags, p.Files()); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join("testdata", tc.name+".golden"), out.Bytes())
		})
	}
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	golden.Check(t, path, got)
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "site.hcl")
	if err := os.WriteFile(path, []byte("dicom {\n  ae_title = \"\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, diags := Load(path)
	if len(diags) != 1 || !strings.Contains(diags.Error(), "site.hcl:2,3-16") {
		t.Errorf("Load() diagnostics = %v, want one at site.hcl:2,3-16", diags)
	}
	if _, diags := Load(filepath.Join(t.TempDir(), "absent.hcl")); !diags.HasErrors() {
		t.Error("Load() of an absent file has no error")
	}
	big := filepath.Join(t.TempDir(), "big.hcl")
	if err := os.WriteFile(big, bytes.Repeat([]byte("#\n"), MaxFileSize/2+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, diags := Load(big); !diags.HasErrors() {
		t.Error("Load() of a file over MaxFileSize has no error")
	}
}

// TestExamples loads every file of examples/configs.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "configs", "*.hcl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no example configs: %v", err)
	}
	t.Setenv("S3_ENDPOINT", "https://s3.example.org")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			p := NewParser()
			c, diags := p.Load(f)
			if len(diags) != 0 {
				var out bytes.Buffer
				WriteDiagnostics(&out, diags, p.Files())
				t.Fatalf("Load(%s):\n%s", f, out.String())
			}
			if _, diags := testParser(nil).Parse(Encode(c), "encoded.hcl"); len(diags) != 0 {
				t.Errorf("Parse(Encode()) diagnostics: %v", diags)
			}
		})
	}
}

// TestRemoteCAFile: a remote's ca_file needs tls = true and a readable file
// of PEM certificates; each mistake is reported at the attribute.
func TestRemoteCAFile(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, tls, file, summary string
	}{
		{"without tls", "false", notPEM, "CA file without TLS"},
		{"missing file", "true", filepath.Join(dir, "missing.pem"), "Invalid CA file"},
		{"no certificate", "true", notPEM, "Invalid CA file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := fmt.Sprintf("remote \"SITE\" {\n  host    = \"127.0.0.1\"\n  tls     = %s\n  ca_file = %q\n}\n", tc.tls, tc.file)
			_, diags := Parse([]byte(src), "site.hcl")
			if len(diags) != 1 || diags[0].Summary != tc.summary || diags[0].Subject == nil || diags[0].Subject.Start.Line != 4 {
				t.Errorf("diagnostics %v, want one %q on line 4", diags, tc.summary)
			}
		})
	}
}
