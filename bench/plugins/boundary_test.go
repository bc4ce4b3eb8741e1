package plugins

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"github.com/zclconf/go-cty/cty"

	"github.com/pacsforge/pacs/core/storage"
	fsstorage "github.com/pacsforge/pacs/plugins/storage-fs"
	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/plugintest"
	"github.com/pacsforge/pacs/sdk/rpc"
)

// objectSize is the size of one CT slice of run.sh (512x512 16-bit pixels
// and its header, as a Part 10 file).
const objectSize = 525068

// putter is one way to store an object: the archive's storage.Backend.Put
// or an sdk.Storage's.
type putter func(ctx context.Context, key string, data []byte) error

// objectDir returns the directory the objects of one benchmark go to.
func objectDir(b *testing.B) string {
	base := os.Getenv("BENCH_PLUGIN_DIR")
	if base == "" {
		return b.TempDir()
	}
	dir, err := os.MkdirTemp(base, "pluginbench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// cpuTime returns the user+system CPU time of process pid (0: this one).
func cpuTime(b *testing.B, pid int) time.Duration {
	if pid == 0 {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name, which ends with the last ')':
	// state is field 3, utime 14 and stime 15.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks
}

// measure puts b.N objects with put and reports the CPU time per object of
// this process and of the plugin process pid (0: none).
func measure(b *testing.B, put putter, pid int) {
	data := make([]byte, objectSize)
	rand.NewChaCha8([32]byte{}).Read(data)
	ctx := context.Background()
	b.SetBytes(objectSize)
	b.ReportAllocs()
	host0, plugin0 := cpuTime(b, 0), time.Duration(0)
	if pid != 0 {
		plugin0 = cpuTime(b, pid)
	}
	i := 0
	b.ResetTimer()
	for b.Loop() {
		key := fmt.Sprintf("1.2.3/%d/%d.dcm", i/1000, i)
		if err := put(ctx, key, data); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime(b, 0)-host0).Microseconds())/float64(i), "host-cpu-µs/op")
	if pid != 0 {
		b.ReportMetric(float64((cpuTime(b, pid)-plugin0).Microseconds())/float64(i), "plugin-cpu-µs/op")
	}
}

// sdkPut puts through an sdk.Storage, the size unknown as in the archive.
func sdkPut(st sdk.Storage) putter {
	return func(ctx context.Context, key string, data []byte) error {
		_, err := st.Put(ctx, key, bytes.NewReader(data), -1)
		return err
	}
}

// fsConfig is the storage-fs instance's config body for root.
func fsConfig(root string) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{"root": cty.StringVal(root), "layout": cty.NullVal(cty.String)})
}

// pluginExecutable builds the storage-fs plugin executable once.
var pluginExecutable = func() func(b *testing.B) string {
	var path string
	return func(b *testing.B) string {
		if path != "" {
			return path
		}
		dir, err := os.MkdirTemp("", "pluginbench-bin-")
		if err != nil {
			b.Fatal(err)
		}
		p := filepath.Join(dir, "pacs-plugin-storage-fs")
		cmd := exec.Command("go", "build", "-o", p, "github.com/pacsforge/pacs/plugins/storage-fs/cmd/pacs-plugin-storage-fs")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("go build: %v\n%s", err, out)
		}
		path = p
		return path
	}
}()

// startProcess launches the storage-fs executable as the archive launches
// plugins (go-plugin, gRPC), with or without AutoMTLS, and configures an
// instance writing to root.
func startProcess(b *testing.B, mtls bool, root string) (sdk.Storage, int) {
	gc := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  rpc.Handshake,
		VersionedPlugins: rpc.VersionedPlugins(),
		Cmd:              exec.Command(pluginExecutable(b)),
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         mtls,
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "storage-fs", Output: os.Stderr, Level: hclog.Warn}),
	})
	b.Cleanup(gc.Kill)
	cp, err := gc.Client()
	if err != nil {
		b.Fatal(err)
	}
	raw, err := cp.Dispense(rpc.PluginName)
	if err != nil {
		b.Fatal(err)
	}
	c := raw.(*rpc.Client)
	if err := c.Configure(context.Background(), sdk.KindStorage, "hot", fsConfig(root)); err != nil {
		b.Fatal(err)
	}
	return c.Storage("hot"), gc.ReattachConfig().Pid
}

// BenchmarkPut stores CT-sized objects through each layer of the plugin
// boundary on its own:
//
//	fs-direct       core/storage.FS.Put, as pacs serve does by default
//	fs-plugintest   the storage-fs plugin over gRPC on a unix socket, in
//	                this process (no TLS): the protocol without a process
//	fs-process      the plugin executable in its own process, without TLS
//	fs-process-mtls the same with AutoMTLS, as pacs serve launches it
func BenchmarkPut(b *testing.B) {
	b.Run("fs-direct", func(b *testing.B) {
		fs, err := storage.NewFS("hot", objectDir(b))
		if err != nil {
			b.Fatal(err)
		}
		measure(b, func(ctx context.Context, key string, data []byte) error {
			_, _, err := fs.Put(ctx, key, bytes.NewReader(data))
			return err
		}, 0)
	})
	b.Run("fs-plugintest", func(b *testing.B) {
		p := fsstorage.Plugin()
		p.Logger = hclog.NewNullLogger()
		c := plugintest.Start(b, p)
		if err := c.Configure(context.Background(), sdk.KindStorage, "hot", fsConfig(objectDir(b))); err != nil {
			b.Fatal(err)
		}
		measure(b, sdkPut(c.Storage("hot")), 0)
	})
	b.Run("fs-process", func(b *testing.B) {
		st, pid := startProcess(b, false, objectDir(b))
		measure(b, sdkPut(st), pid)
	})
	b.Run("fs-process-mtls", func(b *testing.B) {
		st, pid := startProcess(b, true, objectDir(b))
		measure(b, sdkPut(st), pid)
	})
}

// BenchmarkSHA256 is one SHA-256 pass over a CT-sized object: the plugin
// path hashes every object three times (the host's client, the plugin's
// SDK server, the filesystem backend) where the in-process path hashes it
// once.
func BenchmarkSHA256(b *testing.B) {
	data := make([]byte, objectSize)
	b.SetBytes(objectSize)
	cpu0 := cpuTime(b, 0)
	n := 0
	for b.Loop() {
		sha256.Sum256(data)
		n++
	}
	b.ReportMetric(float64((cpuTime(b, 0)-cpu0).Microseconds())/float64(n), "cpu-µs/op")
}
