package config

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// MaxFileSize bounds the size of a configuration file.
const MaxFileSize = 4 << 20

// Parser parses site files and keeps their sources, so diagnostics can be
// printed with snippets (Files); parsing a name again replaces its source.
// The zero value is not usable; use NewParser. Not safe for concurrent use.
type Parser struct {
	files map[string]*hcl.File
	// LookupEnv looks up the variables of env(); NewParser sets os.LookupEnv.
	LookupEnv func(name string) (string, bool)
}

// NewParser returns a Parser whose env() reads the process environment.
func NewParser() *Parser {
	return &Parser{files: map[string]*hcl.File{}, LookupEnv: os.LookupEnv}
}

// Files returns the files parsed so far by name, for WriteDiagnostics.
func (p *Parser) Files() map[string]*hcl.File { return p.files }

// EvalContext returns the evaluation context of site files (env, lower,
// upper, trimspace), for decoding plugin config bodies later.
func (p *Parser) EvalContext() *hcl.EvalContext { return evalContext(p.LookupEnv) }

// Load reads and parses the file at path; see Parse.
func (p *Parser) Load(path string) (*Config, hcl.Diagnostics) {
	src, err := readFile(path)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read configuration file", Detail: err.Error()}}
	}
	return p.Parse(src, path)
}

// Parse decodes src (HCL native syntax; filename names it in diagnostics),
// applies the defaults of absent attributes and blocks and validates
// everything. The diagnostics hold every problem found; when they have
// errors the returned Config (which may be nil) must not be used.
func (p *Parser) Parse(src []byte, filename string) (*Config, hcl.Diagnostics) {
	f, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	p.files[filename] = f
	if diags.HasErrors() {
		return nil, diags
	}
	ctx := p.EvalContext()
	c := newBlocks()
	diags = append(diags, gohcl.DecodeBody(f.Body, ctx, c)...)
	c.applyDefaults()
	for _, s := range c.Storage {
		if s.Backend == BackendFS && s.FS == nil {
			var d hcl.Diagnostics
			s.FS, d = DecodeFS(s.Config, ctx)
			diags = append(diags, d...)
		}
	}
	for _, r := range c.Remotes {
		if r.TLS && r.CAFile != "" {
			var err error
			if r.CAs, err = r.readCAs(); err != nil {
				diags = append(diags, errorAt(r.CAFileRange, "Invalid CA file", upperFirst(err.Error())+"."))
			}
		}
	}
	if t := c.DICOM.TLS; t != nil {
		diags = append(diags, t.read(time.Now())...)
	}
	diags = append(dropUnknownValueErrors(diags), c.Validate()...)
	sortDiagnostics(diags)
	return c, diags
}

// sortDiagnostics orders diags by file and position (those without a
// location first), so the report reads top to bottom and does not depend
// on map order inside gohcl.
func sortDiagnostics(diags hcl.Diagnostics) {
	key := func(d *hcl.Diagnostic) (string, int) {
		if d.Subject == nil {
			return "", -1
		}
		return d.Subject.Filename, d.Subject.Start.Byte
	}
	sort.SliceStable(diags, func(i, j int) bool {
		fi, bi := key(diags[i])
		fj, bj := key(diags[j])
		if fi != fj {
			return fi < fj
		}
		return bi < bj
	})
}

// dropUnknownValueErrors removes the "value must be known" errors gohcl
// adds after a function call failed (the call's result is unknown): the
// call's own diagnostic says what is wrong. Site files have no variables,
// so no other value is unknown.
func dropUnknownValueErrors(diags hcl.Diagnostics) hcl.Diagnostics {
	out := diags[:0]
	for _, d := range diags {
		if d.Summary == "Unsuitable value type" && strings.HasSuffix(d.Detail, "value must be known") {
			continue
		}
		out = append(out, d)
	}
	return out
}

// Load reads, decodes and validates the file at path with a new Parser;
// see Parser.Parse. Use a Parser to print the diagnostics with snippets.
func Load(path string) (*Config, hcl.Diagnostics) { return NewParser().Load(path) }

// Parse decodes and validates src with a new Parser; see Parser.Parse.
func Parse(src []byte, filename string) (*Config, hcl.Diagnostics) {
	return NewParser().Parse(src, filename)
}

// readFile reads at most MaxFileSize bytes of path.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(src) > MaxFileSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, MaxFileSize)
	}
	return src, nil
}

// subject returns a pointer to r for a diagnostic, or nil when r is the
// zero range of a value not written in a file.
func subject(r hcl.Range) *hcl.Range {
	if r == (hcl.Range{}) {
		return nil
	}
	return r.Ptr()
}
