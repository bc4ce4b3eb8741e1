package rpc_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/plugintest"
)

// discard is a storage that keeps only sizes: the benchmarks measure the
// protocol, not a backend.
type discard struct{ memStorage }

func (d *discard) Put(_ context.Context, key string, r io.Reader, _ int64) (sdk.ObjectInfo, error) {
	n, err := io.Copy(io.Discard, r)
	return sdk.ObjectInfo{Key: key, Size: n}, err
}

func (d *discard) Get(_ context.Context, _ string, _, length int64) (io.ReadCloser, error) {
	return io.NopCloser(io.LimitReader(zeros{}, length)), nil
}

func (d *discard) Stat(_ context.Context, key string) (sdk.ObjectInfo, error) {
	return sdk.ObjectInfo{Key: key, Size: 1}, nil
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func benchStorage(b *testing.B) sdk.Storage {
	c := plugintest.Start(b, sdk.Plugin{Name: "discard", Version: "1", Storage: sdk.NewStorage(
		func(context.Context, string, *struct{}) (sdk.Storage, error) { return &discard{}, nil })})
	if err := c.Configure(context.Background(), sdk.KindStorage, "d", cty.NullVal(cty.DynamicPseudoType)); err != nil {
		b.Fatal(err)
	}
	return c.Storage("d")
}

// BenchmarkPut streams 16 MiB objects into the plugin (MB/s).
func BenchmarkPut(b *testing.B) {
	st := benchStorage(b)
	data := make([]byte, 16<<20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := st.Put(context.Background(), "k", bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGet streams 16 MiB objects out of the plugin (MB/s).
func BenchmarkGet(b *testing.B) {
	st := benchStorage(b)
	const size = 16 << 20
	b.SetBytes(size)
	for b.Loop() {
		rc, err := st.Get(context.Background(), "k", 0, size)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, rc); err != nil || n != size {
			b.Fatal(n, err)
		}
		rc.Close()
	}
}

// BenchmarkStat is the cost of one small unary call.
func BenchmarkStat(b *testing.B) {
	st := benchStorage(b)
	for b.Loop() {
		if _, err := st.Stat(context.Background(), "k"); err != nil {
			b.Fatal(err)
		}
	}
}
