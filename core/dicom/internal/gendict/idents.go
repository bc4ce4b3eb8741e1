package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// declaredIdents returns the package-level identifiers declared in the Go
// files of dir (test files of the same package included), except the files
// named in skip, which are the generator's own output. A missing directory
// declares nothing.
func declaredIdents(dir string, skip ...string) (map[string]string, error) {
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	idents := make(map[string]string)
	fset := token.NewFileSet()
	pkgName := ""
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || slices.Contains(skip, name) {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		if strings.HasSuffix(f.Name.Name, "_test") {
			continue // external test package: its names do not share the scope
		}
		if pkgName == "" {
			pkgName = f.Name.Name
		}
		add := func(id *ast.Ident) {
			if id != nil && id.Name != "_" {
				idents[id.Name] = fset.Position(id.Pos()).String()
			}
		}
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					add(d.Name)
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						add(s.Name)
					case *ast.ValueSpec:
						for _, n := range s.Names {
							add(n)
						}
					}
				}
			}
		}
	}
	return idents, nil
}

// collisions reports the generated names that are also declared by hand.
func collisions(generated []string, declared map[string]string) error {
	var msgs []string
	for _, n := range generated {
		if pos, ok := declared[n]; ok {
			msgs = append(msgs, fmt.Sprintf("  %s (declared at %s)", n, pos))
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	sort.Strings(msgs)
	return fmt.Errorf("generated constants collide with hand-written identifiers; rename these:\n%s", strings.Join(msgs, "\n"))
}
