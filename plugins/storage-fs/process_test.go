package fsstorage

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"github.com/zclconf/go-cty/cty"

	"github.com/pacsforge/pacs/core/storage"
	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/plugintest"
	"github.com/pacsforge/pacs/sdk/rpc"
	"github.com/pacsforge/pacs/sdk/storagetest"
)

// buildPlugin builds cmd/pacs-plugin-storage-fs into a temporary directory.
func buildPlugin(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the plugin executable; not with -short")
	}
	bin := filepath.Join(t.TempDir(), "pacs-plugin-storage-fs")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "./cmd/pacs-plugin-storage-fs")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startPlugin launches the plugin executable bin as the archive launches
// plugins (go-plugin, gRPC, AutoMTLS), its log at level, and returns its
// client and the process's go-plugin client; it is killed at the end of the
// test.
func startPlugin(t *testing.T, bin string, level hclog.Level) (*rpc.Client, *goplugin.Client) {
	t.Helper()
	return plugintest.StartProcess(t, exec.Command(bin), hclog.New(&hclog.LoggerOptions{Name: "storage-fs", Output: hclog.DefaultOutput, Level: level}))
}

// TestConformanceProcess runs the storage suite against the plugin
// executable, launched as the archive launches plugins (go-plugin, gRPC,
// AutoMTLS), one configured instance per subtest.
func TestConformanceProcess(t *testing.T) {
	bin := buildPlugin(t)
	c, _ := startPlugin(t, bin, hclog.Warn)
	info, err := c.Info(t.Context())
	if err != nil || info.Name != "storage-fs" || !info.Serves(sdk.KindStorage) {
		t.Fatalf("Info() = %+v, %v", info, err)
	}
	var n atomic.Int64
	storagetest.Run(t, func(t *testing.T) sdk.Storage {
		instance := fmt.Sprintf("fs%d", n.Add(1))
		cfg := cty.ObjectVal(map[string]cty.Value{"root": cty.StringVal(t.TempDir()), "layout": cty.NullVal(cty.String)})
		if err := c.Configure(t.Context(), sdk.KindStorage, instance, cfg); err != nil {
			t.Fatalf("Configure(%s) error = %v", instance, err)
		}
		return c.Storage(instance)
	})
	// A bad config comes back as a ConfigError at its attribute.
	bad := cty.ObjectVal(map[string]cty.Value{"root": cty.StringVal(t.TempDir()), "layout": cty.StringVal("flat")})
	err = c.Configure(t.Context(), sdk.KindStorage, "bad", bad)
	if ces := rpc.ConfigErrors(err); len(ces) != 1 || ces[0].Path != "layout" {
		t.Errorf("Configure(layout = flat) = %v, want a ConfigError at layout", err)
	}
}

// TestStartedByHand checks that the executable, run without the host,
// says it is a plugin and fails.
func TestStartedByHand(t *testing.T) {
	bin := buildPlugin(t)
	out, err := exec.CommandContext(t.Context(), bin).CombinedOutput()
	if err == nil || !strings.Contains(strings.ToLower(string(out)), "plugin") {
		t.Errorf("%s by hand = %v, %q; want a failure naming it a plugin", bin, err, out)
	}
}

// TestKilledMidPut kills the plugin process (SIGKILL) while a Put streams
// into it: the Put fails, and on disk the key holds the object it held
// before, whole; the rest is at most a temporary file, which recovery
// (core/storage.FS.RemoveTemp) removes.
func TestKilledMidPut(t *testing.T) {
	bin := buildPlugin(t)
	c, gc := startPlugin(t, bin, hclog.Error)
	root := t.TempDir()
	if err := c.Configure(t.Context(), sdk.KindStorage, "fs", cty.ObjectVal(map[string]cty.Value{"root": cty.StringVal(root)})); err != nil {
		t.Fatal(err)
	}
	st := c.Storage("fs")
	const old, fresh = "1.2/1.2.3/old.dcm", "1.2/1.2.3/new.dcm"
	if _, err := st.Put(t.Context(), old, strings.NewReader("old object"), -1); err != nil {
		t.Fatal(err)
	}
	// Two Puts stream into the plugin, a replacement and a new key; each
	// reader blocks after 3 MiB until the process is dead.
	release := make(chan struct{})
	var dones []chan error
	for _, key := range []string{old, fresh} {
		started := make(chan struct{})
		r := io.MultiReader(bytes.NewReader(make([]byte, 3<<20)), readerFunc(func([]byte) (int, error) {
			close(started)
			<-release
			return 0, io.EOF
		}))
		done := make(chan error, 1)
		go func() {
			_, err := st.Put(t.Context(), key, r, -1)
			done <- err
		}()
		<-started
		dones = append(dones, done)
	}
	if err := syscall.Kill(gc.ReattachConfig().Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for !gc.Exited() {
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	for _, done := range dones {
		if err := <-done; err == nil {
			t.Fatal("Put into a killed plugin returned nil")
		}
	}
	var objects []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !storage.IsTempName(d.Name()) {
			rel, _ := filepath.Rel(root, p)
			objects = append(objects, filepath.ToSlash(rel))
		}
		return err
	})
	if len(objects) != 1 || objects[0] != old {
		t.Errorf("objects on disk after the kill = %q, want only %s", objects, old)
	}
	if b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(old))); string(b) != "old object" {
		t.Errorf("%s after the kill = %q, %v", old, b, err)
	}
	b, err := storage.NewFS("fs", root)
	if err != nil {
		t.Fatal(err)
	}
	removed := 0
	for _, key := range []string{old, fresh} {
		n, err := b.RemoveTemp(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		removed += n
	}
	t.Logf("recovery removed %d temporary files", removed)
	if got := files(t, root); len(got) != 1 || got[0] != old {
		t.Errorf("files after recovery = %q, want only %s", got, old)
	}
}
