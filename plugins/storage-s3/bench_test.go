package s3storage

import (
	"bytes"
	"io"
	"testing"

	"github.com/pacsforge/pacs/internal/peertest"
)

// benchSize is the object of the put and get benchmarks: 24 MiB, a
// multipart upload of three default parts.
const benchSize = 24 << 20

// BenchmarkPut24MiB stores a 24 MiB object (size given) in VersityGW, in
// process; MB/s is the rate of the whole Put, SHA-256 metadata included.
func BenchmarkPut24MiB(b *testing.B) {
	srv := peertest.StartS3(b)
	st := newStorage(b, testConfig(b, srv, "bench", true))
	data, _ := randomBytes(benchSize)
	b.SetBytes(benchSize)
	for b.Loop() {
		if _, err := st.Put(b.Context(), "obj", stream{bytes.NewReader(data)}, benchSize); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGet24MiB reads a 24 MiB object whole from VersityGW.
func BenchmarkGet24MiB(b *testing.B) {
	srv := peertest.StartS3(b)
	st := newStorage(b, testConfig(b, srv, "bench", true))
	data, _ := randomBytes(benchSize)
	if _, err := st.Put(b.Context(), "obj", bytes.NewReader(data), benchSize); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchSize)
	for b.Loop() {
		rc, err := st.Get(b.Context(), "obj", 0, -1)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil || n != benchSize {
			b.Fatalf("Get() = %d bytes, %v", n, err)
		}
	}
}
