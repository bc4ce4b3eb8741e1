package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestValidKey(t *testing.T) {
	tests := []struct {
		name string
		key  string
		ok   bool
	}{
		{name: "uid layout", key: "1.2.3/1.2.3.4/1.2.3.4.5.dcm", ok: true},
		{name: "single", key: "a.dcm", ok: true},
		{name: "empty", key: ""},
		{name: "dotdot", key: "../etc/passwd"},
		{name: "inner dotdot", key: "a/../../b"},
		{name: "dot", key: "a/./b"},
		{name: "absolute", key: "/etc/passwd"},
		{name: "backslash", key: `a\..\b`},
		{name: "nul", key: "a\x00b"},
		{name: "empty component", key: "a//b"},
		{name: "trailing slash", key: "a/b/"},
		{name: "too long", key: strings.Repeat("a", MaxKeyLength+1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidKey(tc.key)
			if tc.ok && err != nil {
				t.Fatalf("ValidKey(%q) = %v, want nil", tc.key, err)
			}
			if !tc.ok && !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("ValidKey(%q) = %v, want ErrInvalidKey", tc.key, err)
			}
		})
	}
}

func TestLayoutKey(t *testing.T) {
	at := time.Date(2024, 3, 7, 23, 30, 0, 0, time.UTC)
	tests := []struct {
		name               string
		layout             Layout
		study, series, sop string
		want               string
		wantErr            error
	}{
		{name: "uid", layout: LayoutUID, study: "1.2", series: "1.2.3", sop: "1.2.3.4", want: "1.2/1.2.3/1.2.3.4.dcm"},
		{name: "date", layout: LayoutDate, study: "1.2", series: "1.2.3", sop: "1.2.3.4", want: "2024/03/07/1.2/1.2.3/1.2.3.4.dcm"},
		{name: "dotdot uid", layout: LayoutUID, study: "..", series: "1.2.3", sop: "1.2.3.4", wantErr: ErrInvalidKey},
		{name: "slash in uid", layout: LayoutUID, study: "1.2", series: "1/2", sop: "1.2.3.4", wantErr: ErrInvalidKey},
		{name: "empty uid", layout: LayoutDate, study: "1.2", series: "1.2", sop: "", wantErr: ErrInvalidKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.layout.Key(tc.study, tc.series, tc.sop, at)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Key() error = %v, want %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Fatalf("Key() = %q, want %q", got, tc.want)
			}
		})
	}
	for _, s := range []string{"", "uid", "date"} {
		l, err := ParseLayout(s)
		if err != nil || (s != "" && l.String() != s) {
			t.Errorf("ParseLayout(%q) = %v, %v", s, l, err)
		}
	}
	if _, err := ParseLayout("flat"); err == nil {
		t.Error("ParseLayout(flat) succeeded")
	}
}

func TestFS(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := NewFS("default", filepath.Join(dir, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	if b.ID() != "default" {
		t.Errorf("ID() = %q", b.ID())
	}
	data := bytes.Repeat([]byte("dicom"), 10000)
	sum := sha256.Sum256(data)
	size, got, err := b.Put(ctx, "1.2/3.4/5.6.dcm", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if size != int64(len(data)) || got != hex.EncodeToString(sum[:]) {
		t.Errorf("Put() = %d, %s; want %d, %x", size, got, len(data), sum)
	}
	rc, err := b.Get(ctx, "1.2/3.4/5.6.dcm")
	if err != nil {
		t.Fatal(err)
	}
	back, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(back, data) {
		t.Error("Get() returned other bytes")
	}
	fi, err := b.Stat(ctx, "1.2/3.4/5.6.dcm")
	if err != nil || fi.Size != int64(len(data)) {
		t.Errorf("Stat() = %+v, %v", fi, err)
	}
	// Replacing keeps the key whole.
	if _, _, err := b.Put(ctx, "1.2/3.4/5.6.dcm", strings.NewReader("new")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := b.Stat(ctx, "1.2/3.4/5.6.dcm"); fi.Size != 3 {
		t.Errorf("size after replacing = %d, want 3", fi.Size)
	}
	// A failed Put leaves nothing behind, not even its temporary file.
	failing := io.MultiReader(strings.NewReader("part"), errReader{})
	if _, _, err := b.Put(ctx, "1.2/3.4/7.8.dcm", failing); err == nil {
		t.Fatal("Put() of a failing reader succeeded")
	}
	if _, err := b.Stat(ctx, "1.2/3.4/7.8.dcm"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Stat() after a failed Put = %v, want ErrNotFound", err)
	}
	entries, _ := os.ReadDir(filepath.Join(b.Root(), "1.2", "3.4"))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after a failed Put, want 1", len(entries))
	}
	// A cancelled context stops the copy.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := b.Put(cctx, "9.dcm", strings.NewReader("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put() with a cancelled context = %v", err)
	}
	var keys []string
	for oi, err := range b.List(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, oi.Key)
	}
	if len(keys) != 1 || keys[0] != "1.2/3.4/5.6.dcm" {
		t.Errorf("List() = %q", keys)
	}
	if err := b.Delete(ctx, "1.2/3.4/5.6.dcm"); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, "1.2/3.4/5.6.dcm"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete() = %v, want ErrNotFound", err)
	}
	if _, err := b.Get(ctx, "1.2/3.4/5.6.dcm"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get() after Delete = %v, want ErrNotFound", err)
	}
}

// TestFSInvalidKeys checks that a refused key touches nothing outside (or
// inside) the root.
func TestFSInvalidKeys(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := NewFS("default", filepath.Join(dir, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"../victim", "a/../../victim", "/" + victim, `..\victim`, "a\x00"} {
		if _, _, err := b.Put(ctx, key, strings.NewReader("evil")); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := b.Get(ctx, key); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Get(%q) = %v, want ErrInvalidKey", key, err)
		}
		if err := b.Delete(ctx, key); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
	if got, _ := os.ReadFile(victim); string(got) != "keep" {
		t.Errorf("file outside the root = %q", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temp dir holds %d entries, want 2 (objects, victim)", len(entries))
	}
	if entries, _ := os.ReadDir(b.Root()); len(entries) != 0 {
		t.Errorf("root holds %d entries after refused keys", len(entries))
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection lost") }
