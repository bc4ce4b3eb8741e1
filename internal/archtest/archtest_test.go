package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/pacsforge/pacs"

type pkg struct {
	ImportPath string
	Imports    []string
	Standard   bool
}

// rule says which non-standard imports a package (by path prefix) may have.
type rule struct {
	prefix string
	allow  func(imp string) bool
	why    string
}

func under(imp string, prefixes ...string) bool {
	for _, p := range prefixes {
		if imp == p || strings.HasPrefix(imp, p+"/") {
			return true
		}
	}
	return false
}

var rules = []rule{
	{
		prefix: module + "/core/dicom",
		allow: func(imp string) bool {
			return under(imp, module+"/core/dicom", "golang.org/x/text")
		},
		why: "the DICOM data layer depends on the standard library, itself and golang.org/x/text only",
	},
	{
		prefix: module + "/core",
		allow: func(imp string) bool {
			return !under(imp, module+"/plugins", module+"/cmd", module+"/examples")
		},
		why: "core never imports plugins, cmd or examples",
	},
	{
		prefix: module + "/sdk",
		allow: func(imp string) bool {
			return !strings.HasPrefix(imp, module+"/") || under(imp, module+"/sdk", module+"/core/dicom")
		},
		why: "sdk imports nothing of core but core/dicom",
	},
	{
		// The filesystem backend is the archive's embedded default
		// (core/storage); its plugin serves the same code out of process.
		prefix: module + "/plugins/storage-fs",
		allow: func(imp string) bool {
			return !strings.HasPrefix(imp, module+"/") || under(imp, module+"/sdk", module+"/plugins", module+"/core/dicom", module+"/core/storage")
		},
		why: "the filesystem plugin is built on sdk and the embedded filesystem backend only",
	},
	{
		prefix: module + "/plugins",
		allow: func(imp string) bool {
			return !strings.HasPrefix(imp, module+"/") || under(imp, module+"/sdk", module+"/plugins", module+"/core/dicom")
		},
		why: "first-party plugins are built on sdk (and the public data model) only",
	},
}

// TestImportLayers lists every package of the module with `go list` and checks
// each import against the rules of the design.
func TestImportLayers(t *testing.T) {
	cmd := exec.Command("go", "list", "-json", module+"/...")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	dec := json.NewDecoder(out)
	var n int
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		n++
		for _, r := range rules {
			if !under(p.ImportPath, r.prefix) {
				continue
			}
			for _, imp := range p.Imports {
				if !strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
					continue // standard library
				}
				if !r.allow(imp) {
					t.Errorf("%s imports %s: %s", p.ImportPath, imp, r.why)
				}
			}
			break // the first (most specific) matching rule applies
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("go list: %v", err)
	}
	if n == 0 {
		t.Fatal("go list found no packages")
	}
}
