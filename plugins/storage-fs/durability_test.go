package fsstorage

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pacsforge/pacs/core/storage"
	"github.com/pacsforge/pacs/sdk"
)

func newTestStorage(t *testing.T) *Storage {
	t.Helper()
	s, err := New(t.Context(), "test", &Config{Root: filepath.Join(t.TempDir(), "objects")})
	if err != nil {
		t.Fatal(err)
	}
	return s.(*Storage)
}

// files returns every file under root, temporary ones included.
func files(t *testing.T, root string) []string {
	t.Helper()
	var got []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			got = append(got, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// cutReader yields n bytes and then fails as a dropped connection would.
type cutReader struct{ n int }

func (c *cutReader) Read(p []byte) (int, error) {
	if c.n == 0 {
		return 0, errors.New("connection reset")
	}
	k := min(len(p), c.n)
	clear(p[:k])
	c.n -= k
	return k, nil
}

// TestPutCutOff checks on disk what the suite can only see through the
// interface: a Put cut off leaves no file under the key and no temporary
// file, and the object it was replacing keeps its bytes.
func TestPutCutOff(t *testing.T) {
	s := newTestStorage(t)
	ctx := t.Context()
	if _, err := s.Put(ctx, "1.2/1.2.3/old.dcm", strings.NewReader("old"), 3); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"1.2/1.2.3/new.dcm", "1.2/1.2.3/old.dcm", "1.3/1.3.4/deep.dcm"} {
		if _, err := s.Put(ctx, key, &cutReader{n: 3 << 20}, -1); err == nil {
			t.Fatalf("Put(%q) of a cut-off reader returned nil", key)
		}
		cctx, cancel := context.WithCancel(ctx)
		r := io.MultiReader(strings.NewReader("partial"), readerFunc(func([]byte) (int, error) { cancel(); return 0, io.EOF }))
		if _, err := s.Put(cctx, key, r, -1); err == nil {
			t.Fatalf("Put(%q) cancelled at its last read returned nil", key)
		}
	}
	got := files(t, s.Root())
	if len(got) != 1 || got[0] != "1.2/1.2.3/old.dcm" {
		t.Errorf("files after cut-off Puts = %q, want only 1.2/1.2.3/old.dcm", got)
	}
	if b, err := os.ReadFile(filepath.Join(s.Root(), "1.2", "1.2.3", "old.dcm")); string(b) != "old" {
		t.Errorf("replaced object = %q, %v; want old", b, err)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// TestListSkipsTemporary checks that a Put in progress (its temporary
// file) is not listed, and that keys naming temporary files are refused.
func TestListSkipsTemporary(t *testing.T) {
	s := newTestStorage(t)
	ctx := t.Context()
	if _, err := s.Put(ctx, "a/b.dcm", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Root(), "a", ".put-123"), []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	page, err := s.List(ctx, "", "", 0)
	if err != nil || len(page.Objects) != 1 || page.Objects[0].Key != "a/b.dcm" {
		t.Errorf("List() = %+v, %v; want only a/b.dcm", page, err)
	}
	if _, err := s.Put(ctx, "a/.put-x", strings.NewReader("x"), 1); !errors.Is(err, storage.ErrInvalidKey) {
		t.Errorf("Put of a temporary file's name = %v, want ErrInvalidKey", err)
	}
}

// TestInvalidKeys checks that keys that could leave the root are refused
// by every operation and touch nothing.
func TestInvalidKeys(t *testing.T) {
	s := newTestStorage(t)
	ctx := t.Context()
	outside := filepath.Join(filepath.Dir(s.Root()), "victim")
	if err := os.WriteFile(outside, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"../victim", "a/../../victim", "/" + outside, `..\victim`, "", "a//b", "a/"} {
		if _, err := s.Put(ctx, key, strings.NewReader("evil"), -1); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.Get(ctx, key, 0, -1); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Get(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.Stat(ctx, key); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Stat(%q) = %v, want ErrInvalidKey", key, err)
		}
		if err := s.Delete(ctx, key); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
	for _, prefix := range []string{"../", "../victim", "a/../../", "/"} {
		if page, err := s.List(ctx, prefix, "", 0); err != nil || len(page.Objects) != 0 {
			t.Errorf("List(%q) = %+v, %v; want nothing", prefix, page, err)
		}
	}
	if b, _ := os.ReadFile(outside); string(b) != "keep" {
		t.Errorf("file outside the root = %q", b)
	}
	if got := files(t, s.Root()); len(got) != 0 {
		t.Errorf("root holds %q after refused keys", got)
	}
}

// TestDeleteDirectory checks that deleting a key that names an emptied
// directory reports it missing and leaves the directory.
func TestDeleteDirectory(t *testing.T) {
	s := newTestStorage(t)
	ctx := t.Context()
	if _, err := s.Put(ctx, "a/b/c.dcm", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "a/b/c.dcm"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "a/b"); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("Delete of an empty directory = %v, want sdk.ErrNotFound", err)
	}
	if fi, err := os.Stat(filepath.Join(s.Root(), "a", "b")); err != nil || !fi.IsDir() {
		t.Errorf("directory after Delete = %v, %v", fi, err)
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name     string
		cfg      *Config
		wantPath string
	}{
		{name: "ok", cfg: &Config{Root: "x"}},
		{name: "uid", cfg: &Config{Root: "x", Layout: "uid"}},
		{name: "date", cfg: &Config{Root: "x", Layout: "date"}},
		{name: "nil", cfg: nil, wantPath: "root"},
		{name: "no root", cfg: &Config{}, wantPath: "root"},
		{name: "bad layout", cfg: &Config{Root: "x", Layout: "flat"}, wantPath: "layout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			var ce *sdk.ConfigError
			switch {
			case tc.wantPath == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tc.wantPath != "" && (!errors.As(err, &ce) || ce.Path != tc.wantPath || !errors.Is(err, sdk.ErrInvalidConfig)):
				t.Fatalf("Validate() = %v, want a ConfigError at %s", err, tc.wantPath)
			}
		})
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var ce *sdk.ConfigError
	if _, err := New(t.Context(), "x", &Config{Root: filepath.Join(file, "objects")}); !errors.As(err, &ce) || ce.Path != "root" {
		t.Errorf("New() with a root below a file = %v, want a ConfigError at root", err)
	}
}
