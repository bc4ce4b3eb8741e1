package parsers

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Parser is one DICOM parser under test. Full parses the whole file at path,
// pixel data included; Header parses everything before the pixel data and must
// not read the pixel data itself when it can seek past or stop before it. Both
// return the number of top-level elements parsed, so that the work cannot be
// optimised away and parsers can be checked against each other.
type Parser struct {
	Name   string
	Full   func(path string) (int, error)
	Header func(path string) (int, error)
}

// Fixture is one benchmark input: a file written by bench/gen-fixtures.sh.
type Fixture struct {
	Name string // ct512, multiframe
	Path string
}

// FixtureNames are the fixtures every comparison runs, in order.
var FixtureNames = []string{"ct512", "multiframe"}

// FixtureDir is where the fixtures are: $BENCH_FIXTURES when set, else the
// out/ directory beside this package's source (bench/out).
func FixtureDir() string {
	if dir := os.Getenv("BENCH_FIXTURES"); dir != "" {
		return dir
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("..", "out")
	}
	return filepath.Join(filepath.Dir(file), "..", "out")
}

// Fixtures returns the fixtures in FixtureDir. It skips the benchmark or test
// when one is missing, saying how to make it.
func Fixtures(tb testing.TB) []Fixture {
	tb.Helper()
	dir := FixtureDir()
	var fs []Fixture
	for _, name := range FixtureNames {
		path := filepath.Join(dir, name+".dcm")
		if _, err := os.Stat(path); err != nil {
			tb.Skipf("SKIP: fixture %s missing (%v); run bench/gen-fixtures.sh or make bench", path, err)
		}
		fs = append(fs, Fixture{Name: name, Path: path})
	}
	return fs
}

// Full runs a sub-benchmark <parser>/<fixture> of a full parse for each parser
// and fixture. Throughput (MB/s) counts the file's bytes.
func Full(b *testing.B, ps ...Parser) {
	run(b, ps, func(p Parser) func(string) (int, error) { return p.Full })
}

// Header runs a sub-benchmark <parser>/<fixture> of a parse that stops before
// the pixel data, for each parser and fixture. Throughput (MB/s) counts the
// whole file's bytes, as Full does, so the two read as speed-ups of each other.
func Header(b *testing.B, ps ...Parser) {
	run(b, ps, func(p Parser) func(string) (int, error) { return p.Header })
}

func run(b *testing.B, ps []Parser, pick func(Parser) func(string) (int, error)) {
	fixtures := Fixtures(b)
	for _, p := range ps {
		parse := pick(p)
		for _, f := range fixtures {
			fi, err := os.Stat(f.Path)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(p.Name+"/"+f.Name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(fi.Size())
				for b.Loop() {
					n, err := parse(f.Path)
					if err != nil {
						b.Fatalf("%s %s: %v", p.Name, f.Name, err)
					}
					if n == 0 {
						b.Fatalf("%s %s: no element parsed", p.Name, f.Name)
					}
				}
			})
		}
	}
}
