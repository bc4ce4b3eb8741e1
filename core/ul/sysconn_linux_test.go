package ul

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var server net.Conn
	done := make(chan error, 1)
	go func() {
		var err error
		server, err = ln.Accept()
		done <- err
	}()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client.(*net.TCPConn), server.(*net.TCPConn)
}

// TestSysConnTransfer: what writeAll writes, in many buffers and through
// small socket buffers (partial writes, waits for room), arrives whole and
// in order through Read, which then reports the peer's close as io.EOF.
func TestSysConnTransfer(t *testing.T) {
	a, b := tcpPair(t)
	a.SetWriteBuffer(64 << 10)
	b.SetReadBuffer(64 << 10)
	w, r := newSysConn(a), newSysConn(b)
	if w == nil || r == nil {
		t.Fatal("no sysConn for a TCP connection")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var want []byte
	var bufs [][]byte
	for range 300 {
		buf := make([]byte, rng.IntN(40000))
		for i := range buf {
			buf[i] = byte(rng.Uint32())
		}
		want = append(want, buf...)
		bufs = append(bufs, buf)
	}
	var got bytes.Buffer
	var wg sync.WaitGroup
	var rerr error
	wg.Go(func() {
		p := make([]byte, 7000)
		for {
			n, err := r.Read(p)
			got.Write(p[:n])
			if err != nil {
				rerr = err
				return
			}
		}
	})
	for i := 0; i < len(bufs); i += 50 {
		if err := w.writeAll(bufs[i:min(i+50, len(bufs))]); err != nil {
			t.Fatalf("writeAll: %v", err)
		}
	}
	a.Close()
	wg.Wait()
	if rerr != io.EOF {
		t.Errorf("Read after the peer closed: %v, want io.EOF", rerr)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("read %d bytes, not the %d written", got.Len(), len(want))
	}
}

// TestSysConnDeadlineAndClose: a Read waiting for data ends at the read
// deadline with a timeout error, and with net.ErrClosed when the
// connection is closed; a write into a full socket ends at the write
// deadline.
func TestSysConnDeadlineAndClose(t *testing.T) {
	a, b := tcpPair(t)
	r := newSysConn(b)
	b.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	_, err := r.Read(make([]byte, 10))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("Read past the deadline: %v, want a timeout", err)
	}
	b.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() {
		_, err := r.Read(make([]byte, 10))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	b.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Errorf("Read when closed: %v, want net.ErrClosed", err)
	}

	w := newSysConn(a)
	a.SetWriteBuffer(4 << 10)
	a.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	err = w.writeAll([][]byte{make([]byte, 64<<20)}) // the peer is closed for reading: fills, or fails
	if err == nil {
		t.Error("writeAll of 64 MiB to a peer that reads nothing succeeded")
	}
}
