package peertest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// PydicomTestFiles is the corpus used when the shared one is absent: the sample
// files that Debian's python3-pydicom package installs.
const PydicomTestFiles = "/usr/lib/python3/dist-packages/pydicom/data/test_files"

// sharedCorpus is the shared DICOM corpus relative to the repository root.
const sharedCorpus = "../shared/testdata/dicom"

// TestData returns the absolute path of the corpus of real DICOM files: the
// directory ../shared/testdata/dicom beside the repository root (the directory
// holding go.mod, found by walking up from the working directory), else
// PydicomTestFiles. When neither exists the test is skipped, or failed under CI.
func TestData(t testing.TB) string {
	t.Helper()
	dir, err := corpusDir()
	if err != nil {
		unavailable(t, "%v", err)
	}
	return dir
}

// corpusDir finds the corpus as TestData describes, without a testing.TB.
func corpusDir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	if root, ok := moduleRoot(wd); ok {
		dir := filepath.Join(root, sharedCorpus)
		if isDir(dir) {
			return filepath.Clean(dir), nil
		}
	}
	if isDir(PydicomTestFiles) {
		return PydicomTestFiles, nil
	}
	return "", errNoCorpus
}

// errNoCorpus explains where the corpus was looked for.
var errNoCorpus = errors.New("no DICOM test corpus: neither " + sharedCorpus +
	" beside the repository root nor " + PydicomTestFiles + " (apt-get install python3-pydicom) exists")

// moduleRoot walks up from dir to the first directory that holds a go.mod.
func moduleRoot(dir string) (string, bool) {
	for {
		if fi, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && fi.Mode().IsRegular() {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// TestDataFiles returns the path of every regular file under root, recursively,
// in lexical order, leaving out documentation: files named README* and files
// ending in .txt or .md. It fails the test if root cannot be walked.
func TestDataFiles(t testing.TB, root string) []string {
	t.Helper()
	files, err := dataFiles(root)
	if err != nil {
		t.Fatalf("list test data under %s: %v", root, err)
	}
	return files
}

func dataFiles(root string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() || isDoc(d.Name()) {
			return nil
		}
		files = append(files, path)
		return nil
	})
	sort.Strings(files)
	return files, err
}

// isDoc reports whether a file name is documentation rather than test data.
func isDoc(name string) bool {
	lower := strings.ToLower(name)
	return strings.HasPrefix(lower, "readme") || strings.HasSuffix(lower, ".txt") || strings.HasSuffix(lower, ".md")
}

// CorpusDir finds the corpus as TestData does, for callers without a
// testing.TB (fuzz seeding before the fuzz function runs, benchmarks' setup).
func CorpusDir() (string, error) { return corpusDir() }

// sharedStandard is the machine-readable DICOM standard relative to the
// repository root.
const sharedStandard = "../shared/dicom-standard"

// StandardDir returns the machine-readable DICOM standard tables
// (../shared/dicom-standard beside the repository root) that the generators
// read, or skips the test when they are absent (a clone without them cannot
// regenerate the dictionary; the generated code is committed).
func StandardDir(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if root, ok := moduleRoot(wd); ok {
		dir := filepath.Clean(filepath.Join(root, sharedStandard))
		if isDir(filepath.Join(dir, "dictionary")) {
			return dir
		}
	}
	t.Skipf("SKIP: DICOM standard tables (%s beside the repository root) not found", sharedStandard)
	return ""
}
