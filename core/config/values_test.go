package config

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

func TestValidAETitle(t *testing.T) {
	tests := []struct {
		ae     string
		wantOK bool
	}{
		{"FORGE", true}, {"A", true}, {"SIXTEEN_CHARS_OK", true}, {" PADDED ", true}, {"lower-case.1", true},
		{"", false}, {"    ", false}, {"SEVENTEEN_CHARS_X", false}, {`A\B`, false}, {"A\tB", false}, {"É", false}, {"A\x7f", false},
	}
	for _, tc := range tests {
		if err := ValidAETitle(tc.ae); (err == nil) != tc.wantOK {
			t.Errorf("ValidAETitle(%q) = %v, want ok %v", tc.ae, err, tc.wantOK)
		}
	}
}

func TestParseAge(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "12h", want: 12 * time.Hour}, {in: "30d", want: 30 * day}, {in: "2w", want: 14 * day},
		{in: "1y", want: 365 * day}, {in: "0d", want: 0}, {in: "200y", want: 200 * 365 * day},
		{in: "", wantErr: true}, {in: "d", wantErr: true}, {in: "30", wantErr: true}, {in: "30m", wantErr: true},
		{in: "-1d", wantErr: true}, {in: "+1d", wantErr: true}, {in: "1.5d", wantErr: true}, {in: "30 d", wantErr: true},
		{in: "201y", wantErr: true}, {in: "99999999999h", wantErr: true}, {in: "1000000000w", wantErr: true},
	}
	for _, tc := range tests {
		got, err := ParseAge(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseAge(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestCheckListen(t *testing.T) {
	tests := []struct {
		in     string
		wantOK bool
	}{
		{"0.0.0.0:11112", true}, {":104", true}, {"[::1]:8042", true}, {"localhost:8042", true}, {"pacs.example.org:1", true},
		{"11112", false}, {"host:0", false}, {"host:65536", false}, {"host:http", false}, {"bad host:104", false},
		{"-x:104", false}, {"host:+1", false}, {"", false},
	}
	for _, tc := range tests {
		if err := CheckListen(tc.in); (err == nil) != tc.wantOK {
			t.Errorf("CheckListen(%q) = %v, want ok %v", tc.in, err, tc.wantOK)
		}
	}
}

func TestEnvFunc(t *testing.T) {
	p := testParser(map[string]string{"SET": "v"})
	for _, tc := range []struct {
		src     string
		want    string
		wantErr bool
	}{
		{src: `env("SET")`, want: "v"},
		{src: `env("SET", "fallback")`, want: "v"},
		{src: `env("UNSET", "fallback")`, want: "fallback"},
		{src: `env("UNSET")`, wantErr: true},
		{src: `env("UNSET", "a", "b")`, wantErr: true},
		{src: `env()`, wantErr: true},
		{src: `env(null)`, wantErr: true},
		{src: `file("/etc/passwd")`, wantErr: true},
	} {
		c, diags := p.Parse([]byte("data_dir = "+tc.src+"\n"), "env.hcl")
		if diags.HasErrors() != tc.wantErr || !tc.wantErr && c.DataDir != tc.want {
			t.Errorf("data_dir = %s: diagnostics %v; want %q, error %v", tc.src, diags, tc.want, tc.wantErr)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "dicom {}", `data_dir = env("X", "y")`, "storage \"a\" {\n  backend = \"fs\"\n  config { layout = \"date\" }\n}",
		"remote \"A\" {\n  host = \"h\"\n  port = 1\n}", "dicom {\n  max_pdu_length = \"64KiB\"\n  sop_classes = [\"CTImageStorage\"]\n}",
		"storage \"a\" { backend = \"fs\" }\nstorage \"b\" {\n  backend = \"s3\"\n  after = \"1y\"\n  config { x = upper(\"y\") }\n}", `log { level = lower("INFO") }`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := testParser(map[string]string{"X": "x"})
		c, diags := p.Parse(b, "fuzz.hcl")
		if err := WriteDiagnostics(io.Discard, diags, p.Files()); err != nil {
			t.Fatal(err)
		}
		if diags.HasErrors() || c == nil {
			return
		}
		if _, diags := testParser(nil).Parse(Encode(c), "encoded.hcl"); diags.HasErrors() {
			t.Fatalf("valid config does not read back: %v\n%s", diags, Encode(c))
		}
	})
}

func TestWriteDiagnostics(t *testing.T) {
	src := []byte("a = 1\n\tb = \"\u00e9t\u00e9\"\r\n")
	files := map[string]*hcl.File{"f.hcl": {Bytes: src}}
	diags := hcl.Diagnostics{
		{Severity: hcl.DiagError, Summary: "No location", Detail: "Two\nlines."},
		{Severity: hcl.DiagWarning, Summary: "Accented", Subject: &hcl.Range{Filename: "f.hcl",
			Start: hcl.Pos{Line: 2, Column: 6, Byte: 11}, End: hcl.Pos{Line: 2, Column: 10, Byte: 18}}},
		{Severity: hcl.DiagError, Summary: "Unknown file", Subject: &hcl.Range{Filename: "g.hcl", Start: hcl.Pos{Line: 3, Column: 1}}},
		{Severity: hcl.DiagError, Summary: "Out of range", Subject: &hcl.Range{Filename: "f.hcl", Start: hcl.Pos{Line: 9, Column: 1, Byte: 999}}},
	}
	var out strings.Builder
	if err := WriteDiagnostics(&out, diags, files); err != nil {
		t.Fatal(err)
	}
	want := "error: No location\n  Two\n  lines.\n" +
		"f.hcl:2:6: warning: Accented\n     2 | \tb = \"\u00e9t\u00e9\"\n       | \t    ^^^^^\n" +
		"g.hcl:3:1: error: Unknown file\n" +
		"f.hcl:9:1: error: Out of range\n"
	if got := out.String(); got != want {
		t.Errorf("WriteDiagnostics() =\n%s\nwant\n%s", got, want)
	}
}
