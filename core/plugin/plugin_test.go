package plugin

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/pacsforge/pacs/core/storage"
	"github.com/pacsforge/pacs/internal/peertest"
)

// testPlugin is the test plugin's executable and digest, built once by
// TestMain.
var testPlugin struct {
	path, sha256 string
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pacs-plugin-test-")
	if err != nil {
		panic(err)
	}
	testPlugin.path = filepath.Join(dir, "pacs-plugin-test")
	out, err := exec.Command("go", "build", "-o", testPlugin.path, "./testdata/testplugin").CombinedOutput()
	if err != nil {
		os.RemoveAll(dir)
		panic("build test plugin: " + err.Error() + "\n" + string(out))
	}
	if testPlugin.sha256, err = FileSHA256(testPlugin.path); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// body parses an HCL config {} body as a site file would hold it.
func body(t *testing.T, src string) hcl.Body {
	t.Helper()
	f, diags := hclsyntax.ParseConfig([]byte(src), "site.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return f.Body
}

// testSpec is the test plugin with a healthy instance "mem" and one whose
// Put hangs, "stuck".
func testSpec(t *testing.T) *Spec {
	return &Spec{
		Name:        "test",
		Path:        testPlugin.path,
		SHA256:      testPlugin.sha256,
		CallTimeout: 30 * time.Second,
		Required:    true,
		Instances: []*Instance{
			{Kind: KindStorage, Name: "mem", Body: body(t, `token = "s3cr3t-value"`)},
			{Kind: KindStorage, Name: "stuck", Body: body(t, "hang_put = true")},
		},
	}
}

// startManager starts m's plugins with a log into the returned buffer and
// closes it at the end of the test.
func startManager(t *testing.T, specs []*Spec, opt Options) (*Manager, *peertest.SyncBuffer, error) {
	t.Helper()
	var logs peertest.SyncBuffer
	opt.Logger = hclog.New(&hclog.LoggerOptions{Name: "pacs", Output: &logs, Level: hclog.Debug})
	if opt.MinBackoff == 0 {
		opt.MinBackoff, opt.MaxBackoff = 50*time.Millisecond, 200*time.Millisecond
	}
	m := New(specs, opt)
	t.Cleanup(func() {
		m.Close()
		if t.Failed() {
			t.Logf("log:\n%s", logs.String())
		}
	})
	err := m.Start(context.Background())
	return m, &logs, err
}

// waitFor polls cond until it holds or a generous limit passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting until %s", what)
}

func put(t *testing.T, b storage.Backend, key, data string) error {
	t.Helper()
	size, sum, err := b.Put(context.Background(), key, strings.NewReader(data))
	if err == nil && (size != int64(len(data)) || len(sum) != 64) {
		t.Errorf("Put(%s) = %d, %q", key, size, sum)
	}
	return err
}

func TestStorageThroughPlugin(t *testing.T) {
	m, logs, err := startManager(t, []*Spec{testSpec(t)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Storage("mem")
	if err != nil {
		t.Fatal(err)
	}
	// A storage that cannot stage local files says so, once asked.
	for range 2 {
		if f, err := b.(storage.Stager).Stage(); !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("Stage() on an in-memory plugin storage = %v, %v; want errors.ErrUnsupported", f, err)
		}
	}
	if b.ID() != "mem" {
		t.Errorf("ID() = %q", b.ID())
	}
	ctx := context.Background()
	if err := put(t, b, "a/b/1.dcm", "hello"); err != nil {
		t.Fatal(err)
	}
	rc, err := b.Get(ctx, "a/b/1.dcm")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(got) != "hello" {
		t.Errorf("Get() = %q, %v", got, err)
	}
	if info, err := b.Stat(ctx, "a/b/1.dcm"); err != nil || info.Size != 5 {
		t.Errorf("Stat() = %+v, %v", info, err)
	}
	var keys []string
	for o, err := range b.(storage.Lister).List(ctx, "a/") {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, o.Key)
	}
	if len(keys) != 1 || keys[0] != "a/b/1.dcm" {
		t.Errorf("List() = %q", keys)
	}
	if err := b.Delete(ctx, "a/b/1.dcm"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Stat(ctx, "a/b/1.dcm"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Stat() after Delete error = %v, want storage.ErrNotFound", err)
	}
	if _, err := b.Get(ctx, "absent"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get(absent) error = %v, want storage.ErrNotFound", err)
	}
	if _, _, err := b.Put(ctx, "../x", strings.NewReader("")); !errors.Is(err, storage.ErrInvalidKey) {
		t.Errorf("Put(../x) error = %v, want storage.ErrInvalidKey", err)
	}
	if err := m.Ready(); err != nil {
		t.Errorf("Ready() = %v", err)
	}
	st := m.Status()[0]
	if st.State != StateUp || st.PID == 0 || st.Version != "1.2.3" || st.Protocol != 1 || len(st.Kinds) != 1 || st.Kinds[0] != KindStorage {
		t.Errorf("Status() = %+v", st)
	}
	log := logs.String()
	if !strings.Contains(log, "pacs.plugin.test") || !strings.Contains(log, "configured test instance") {
		t.Errorf("the plugin's log is not folded under pacs.plugin.test:\n%s", log)
	}
	if strings.Contains(log, "s3cr3t-value") {
		t.Errorf("the log holds a secret of the config:\n%s", log)
	}
}

func TestChecksumMismatchNotStarted(t *testing.T) {
	s := testSpec(t)
	s.SHA256 = strings.Repeat("0", 64)
	m, _, err := startManager(t, []*Spec{s}, Options{})
	if !errors.Is(err, ErrChecksumMismatch) || !strings.Contains(err.Error(), testPlugin.sha256) {
		t.Fatalf("Start() error = %v, want ErrChecksumMismatch naming the digest", err)
	}
	st := m.Status()[0]
	if st.State == StateUp || st.PID != 0 || st.Version != "" || !strings.Contains(st.LastError, "sha256") {
		t.Errorf("Status() = %+v, want never started", st)
	}
	if err := m.Ready(); err == nil {
		t.Error("Ready() = nil with a required plugin down")
	}
	b, _ := m.Storage("mem")
	if err := put(t, b, "k", "x"); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("Put() error = %v, want storage.ErrUnavailable", err)
	}
}

func TestProtocolVersionMismatch(t *testing.T) {
	s := testSpec(t)
	s.Args = []string{"-protocol", "2"}
	m, _, err := startManager(t, []*Spec{s}, Options{})
	if !errors.Is(err, ErrProtocolVersion) || !strings.Contains(err.Error(), "Plugin version: 2") {
		t.Fatalf("Start() error = %v, want ErrProtocolVersion naming the plugin's version", err)
	}
	if st := m.Status()[0]; st.State == StateUp {
		t.Errorf("Status() = %+v", st)
	}
}

func TestConfigRefusedAtSiteLine(t *testing.T) {
	s := testSpec(t)
	s.Instances = []*Instance{{Kind: KindStorage, Name: "mem", Body: body(t, "token = \"x\"\nrefuse = \"token is expired\"\n")}}
	_, _, err := startManager(t, []*Spec{s}, Options{})
	var de *DiagnosticsError
	if !errors.As(err, &de) || len(de.Diags) != 1 {
		t.Fatalf("Start() error = %v, want one diagnostic", err)
	}
	d := de.Diags[0]
	if d.Subject == nil || d.Subject.Filename != "site.hcl" || d.Subject.Start.Line != 1 || !strings.Contains(d.Detail, "token is expired") {
		t.Errorf("diagnostic = %s at %v", d.Detail, d.Subject)
	}
	s.Instances = []*Instance{{Kind: KindStorage, Name: "mem", Body: body(t, "\nbucket = \"b\"\n")}}
	_, _, err = startManager(t, []*Spec{s}, Options{})
	if !errors.As(err, &de) || de.Diags[0].Subject == nil || de.Diags[0].Subject.Start.Line != 2 {
		t.Errorf("Start() with an unknown attribute error = %v, want a diagnostic at line 2", err)
	}
}

func TestCrashRestart(t *testing.T) {
	m, _, err := startManager(t, []*Spec{testSpec(t)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mem, _ := m.Storage("mem")
	stuck, _ := m.Storage("stuck")
	if err := put(t, mem, "before", "1"); err != nil {
		t.Fatal(err)
	}
	pid := m.Status()[0].PID
	inflight := make(chan error, 1)
	go func() { inflight <- put(t, stuck, "k", "data") }()
	time.Sleep(100 * time.Millisecond) // let the Put reach the plugin
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := <-inflight; !errors.Is(err, storage.ErrUnavailable) || !errors.Is(err, ErrPluginDown) {
		t.Errorf("in-flight Put error = %v, want storage.ErrUnavailable from ErrPluginDown", err)
	}
	waitFor(t, "the plugin is restarted", func() bool {
		st := m.Status()[0]
		return st.State == StateUp && st.Restarts == 1 && st.PID != pid
	})
	if err := put(t, mem, "after", "2"); err != nil {
		t.Errorf("Put() after the restart: %v", err)
	}
	if err := m.Ready(); err != nil {
		t.Errorf("Ready() after the restart = %v", err)
	}
}

func TestHungPluginRestarted(t *testing.T) {
	s := testSpec(t)
	s.CallTimeout = 300 * time.Millisecond
	m, _, err := startManager(t, []*Spec{s}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mem, _ := m.Storage("mem")
	stuck, _ := m.Storage("stuck")
	pid := m.Status()[0].PID
	for i := range HungAfter {
		err := put(t, stuck, "k", "data")
		if !errors.Is(err, ErrCallTimeout) || !errors.Is(err, storage.ErrUnavailable) {
			t.Fatalf("Put %d to a hung plugin error = %v, want ErrCallTimeout as storage.ErrUnavailable", i, err)
		}
	}
	waitFor(t, "the hung plugin is restarted", func() bool {
		st := m.Status()[0]
		return st.State == StateUp && st.Restarts == 1 && st.PID != pid
	})
	if st := m.Status()[0]; !strings.Contains(st.LastError, "hung") {
		t.Errorf("LastError = %q, want it to say hung", st.LastError)
	}
	if err := put(t, mem, "after", "2"); err != nil {
		t.Errorf("Put() after the restart: %v", err)
	}
}

func TestCloseStops(t *testing.T) {
	m, _, err := startManager(t, []*Spec{testSpec(t)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pid := m.Status()[0].PID
	m.Close()
	if st := m.Status()[0]; st.State != StateStopped || st.PID != 0 {
		t.Errorf("Status() after Close = %+v", st)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("process %d still runs after Close", pid)
	}
	mem, _ := m.Storage("mem")
	if err := put(t, mem, "k", "x"); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("Put() after Close error = %v", err)
	}
}

// TestReadyFalseWhileRequiredDown: a required plugin that cannot start
// (its process exits at once) keeps Ready failing, naming it, while it is
// retried; the same plugin not required leaves Ready true and only its own
// PluginReady failing.
func TestReadyFalseWhileRequiredDown(t *testing.T) {
	exe, err := exec.LookPath("false")
	if err != nil {
		t.Skip("no false(1) executable")
	}
	sum, err := FileSHA256(exe)
	if err != nil {
		t.Fatal(err)
	}
	for _, required := range []bool{true, false} {
		spec := &Spec{Name: "broken", Path: exe, SHA256: sum, Required: required,
			Instances: []*Instance{{Kind: KindStorage, Name: "cold"}}}
		m, _, err := startManager(t, []*Spec{spec}, Options{})
		if err != nil {
			t.Fatalf("Start() error = %v; a plugin that fails to start is retried, not fatal", err)
		}
		perr := m.PluginReady("broken")
		if perr == nil {
			t.Errorf("required=%v: PluginReady() = nil for a plugin that never started", required)
		}
		rerr := m.Ready()
		if required && (rerr == nil || !strings.Contains(rerr.Error(), "broken")) {
			t.Errorf("Ready() = %v, want an error naming the required plugin", rerr)
		}
		if !required && rerr != nil {
			t.Errorf("Ready() = %v with only an optional plugin down", rerr)
		}
	}
}
