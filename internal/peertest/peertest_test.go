package peertest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// recorder is a testing.TB that records how a helper stopped the test. Like
// the real one, Fatalf and Skipf end the calling goroutine.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Skipf(format string, args ...any) {
	r.skip = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls f with a recorder in its own goroutine, as the testing package
// does, and reports whether f returned normally.
func run(t *testing.T, f func(testing.TB)) (r *recorder, returned bool) {
	r = &recorder{TB: t}
	done := make(chan bool)
	go func() {
		ok := false
		defer func() { done <- ok }()
		f(r)
		ok = true
	}()
	return r, <-done
}

func TestNeed(t *testing.T) {
	const missing = "forge-no-such-peer-tool"
	tests := []struct {
		name      string
		ci        string
		tools     []string
		wantFatal bool
		wantSkip  bool
	}{
		{name: "present", tools: []string{"sh"}},
		{name: "none asked"},
		{name: "missing locally", tools: []string{"sh", missing}, wantSkip: true},
		{name: "missing under CI", ci: "true", tools: []string{missing}, wantFatal: true},
		{name: "CI not exactly true", ci: "1", tools: []string{missing}, wantSkip: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			r, returned := run(t, func(tb testing.TB) { Need(tb, tc.tools...) })
			if got := r.fatal != ""; got != tc.wantFatal {
				t.Errorf("Need() fatal = %q, want fatal %v", r.fatal, tc.wantFatal)
			}
			if got := r.skip != ""; got != tc.wantSkip {
				t.Errorf("Need() skip = %q, want skip %v", r.skip, tc.wantSkip)
			}
			if returned != (!tc.wantFatal && !tc.wantSkip) {
				t.Errorf("Need() returned = %v", returned)
			}
			if msg := r.fatal + r.skip; msg != "" && !strings.Contains(msg, missing) {
				t.Errorf("Need() message %q does not name %s", msg, missing)
			}
			if r.skip != "" && !strings.HasPrefix(r.skip, "SKIP (peer missing): ") {
				t.Errorf("Need() skip message %q lacks the SKIP banner", r.skip)
			}
		})
	}
}

func TestSetNoDelay(t *testing.T) {
	t.Run("inherits environment", func(t *testing.T) {
		t.Setenv("PEERTEST_MARKER", "kept")
		cmd := exec.Command("true")
		SetNoDelay(cmd)
		if !slices.Contains(cmd.Env, "TCP_NODELAY=1") || !slices.Contains(cmd.Env, "PEERTEST_MARKER=kept") {
			t.Fatalf("SetNoDelay() env = %v, want TCP_NODELAY=1 and the inherited environment", cmd.Env)
		}
	})
	t.Run("keeps explicit environment", func(t *testing.T) {
		cmd := exec.Command("true")
		cmd.Env = []string{"A=b"}
		SetNoDelay(cmd)
		if got, want := cmd.Env, []string{"A=b", "TCP_NODELAY=1"}; !slices.Equal(got, want) {
			t.Fatalf("SetNoDelay() env = %v, want %v", got, want)
		}
	})
	t.Run("reaches the child", func(t *testing.T) {
		Need(t, "sh")
		cmd := exec.Command("sh", "-c", `printf %s "$TCP_NODELAY"`)
		SetNoDelay(cmd)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("run sh: %v", err)
		}
		if got := string(out); got != "1" {
			t.Fatalf("child TCP_NODELAY = %q, want 1", got)
		}
	})
}

func TestTestData(t *testing.T) {
	dir := TestData(t)
	if !filepath.IsAbs(dir) {
		t.Fatalf("TestData() = %q, want an absolute path", dir)
	}
	files := TestDataFiles(t, dir)
	if len(files) == 0 {
		t.Fatalf("TestDataFiles(%q) is empty", dir)
	}
	dcm := 0
	for _, f := range files {
		if strings.HasSuffix(strings.ToLower(f), ".dcm") {
			dcm++
		}
	}
	if dcm == 0 {
		t.Fatalf("TestDataFiles(%q) holds no .dcm file", dir)
	}
}

func TestTestDataFiles(t *testing.T) {
	root := t.TempDir()
	for _, name := range []string{"a.dcm", "README.md", "readme", "notes.txt", "sub/b", "sub/deeper/c.dcm", "sub/INDEX.TXT"} {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("a.dcm", filepath.Join(root, "link.dcm")); err != nil {
		t.Fatal(err)
	}
	got := TestDataFiles(t, root)
	want := []string{filepath.Join(root, "a.dcm"), filepath.Join(root, "sub/b"), filepath.Join(root, "sub/deeper/c.dcm")}
	if !slices.Equal(got, want) {
		t.Fatalf("TestDataFiles() = %v, want %v", got, want)
	}
}

func TestTestDataMissingRoot(t *testing.T) {
	r, returned := run(t, func(tb testing.TB) { TestDataFiles(tb, filepath.Join(t.TempDir(), "absent")) })
	if returned || r.fatal == "" {
		t.Fatalf("TestDataFiles(absent) returned = %v, fatal = %q; want a failure", returned, r.fatal)
	}
}

func TestModuleRoot(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, ok := moduleRoot(deep); !ok || got != root {
		t.Fatalf("moduleRoot(%q) = %q, %v; want %q, true", deep, got, ok, root)
	}
}
