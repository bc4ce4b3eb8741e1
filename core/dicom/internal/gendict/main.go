// Command gendict generates the data dictionary of package dicom (dict_gen.go)
// and the UID registry of package dicom/uid (uid/uid_gen.go) from the
// machine-readable tables of the DICOM standard. It is run by `go generate` in
// core/dicom:
//
//	go run ./internal/gendict -standard ../../../shared/dicom-standard -out .
//
// Inputs, relative to -standard:
//
//	dictionary/dcmtk-dicom.dic          PS3.6 and PS3.7 elements: tag, VR, keyword, VM, retired (primary)
//	dictionary/dicom3tools-*.tpl        human-readable names, repeating-group notation
//	dictionary/innolitics-attributes.json  names and repeating-group notation (second source)
//	uids/uid_registry.json              PS3.6 Annex A UID registry
//
// Keywords become Go constants. The generator fails if a keyword collides with
// an identifier declared by the hand-written files of the target package (read
// from -pkg), so a new type or function in package dicom can never be silently
// shadowed by a tag constant.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
)

func main() {
	std := flag.String("standard", "../../../shared/dicom-standard", "directory of the DICOM standard tables")
	out := flag.String("out", ".", "output directory: dict_gen.go is written there, uid_gen.go to its uid subdirectory")
	pkg := flag.String("pkg", ".", "source directory of package dicom, checked for identifier collisions")
	verbose := flag.Bool("v", false, "report statistics on stderr")
	flag.Parse()
	if err := run(*std, *out, *pkg, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "gendict:", err)
		os.Exit(1)
	}
}

func run(std, out, pkg string, verbose bool) error {
	d, err := loadDictionary(std)
	if err != nil {
		return err
	}
	if err := d.checkCollisions(pkg); err != nil {
		return err
	}
	if verbose {
		d.report(os.Stderr)
	}
	src, err := d.generate()
	if err != nil {
		return err
	}
	if err := writeGo(filepath.Join(out, "dict_gen.go"), src); err != nil {
		return err
	}

	r, err := loadRegistry(std)
	if err != nil {
		return err
	}
	if err := r.checkCollisions(filepath.Join(pkg, "uid")); err != nil {
		return err
	}
	if verbose {
		fmt.Fprintf(os.Stderr, "uids: %d entries, %d constants\n", len(r.entries), r.constants())
	}
	src, err = r.generate()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(out, "uid"), 0o755); err != nil {
		return err
	}
	return writeGo(filepath.Join(out, "uid", "uid_gen.go"), src)
}

// writeGo formats src and writes it to name unless the file already holds
// exactly those bytes (so an unchanged file keeps its modification time).
func writeGo(name string, src []byte) error {
	b, err := format.Source(src)
	if err != nil {
		return fmt.Errorf("format %s: %w", name, err)
	}
	if old, err := os.ReadFile(name); err == nil && bytes.Equal(old, b) {
		return nil
	}
	return os.WriteFile(name, b, 0o644)
}
