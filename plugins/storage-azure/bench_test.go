package azurestorage

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/pacsforge/pacs/internal/peertest"
)

// benchSize is the object of the benchmarks: the conformance suite's large
// object, three default blocks.
const benchSize = 24 << 20

// BenchmarkPut24MiB puts a 24 MiB object of unknown size with the default
// block size and concurrency.
func BenchmarkPut24MiB(b *testing.B) {
	az := peertest.StartAzurite(b)
	st := newStorage(b, az, nil)
	data := randomBytes(benchSize, 5)
	b.SetBytes(benchSize)
	b.ResetTimer()
	for b.Loop() {
		if _, err := st.Put(context.Background(), "bench", bytes.NewReader(data), -1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGet24MiB reads a 24 MiB object whole.
func BenchmarkGet24MiB(b *testing.B) {
	az := peertest.StartAzurite(b)
	st := newStorage(b, az, nil)
	data := randomBytes(benchSize, 5)
	if _, err := st.Put(context.Background(), "bench", bytes.NewReader(data), benchSize); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchSize)
	b.ResetTimer()
	for b.Loop() {
		rc, err := st.Get(context.Background(), "bench", 0, -1)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil || n != benchSize {
			b.Fatalf("read %d bytes: %v", n, err)
		}
	}
}
