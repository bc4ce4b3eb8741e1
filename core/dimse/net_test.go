package dimse_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/codec"
	"github.com/pacsforge/pacs/core/dicom/part10"
	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/ul"
)

// nativeSyntaxes are what the test SCP accepts for storage, most preferred
// first.
var nativeSyntaxes = []string{uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian, uid.ExplicitVRBigEndian, uid.DeflatedExplicitVRLittleEndian}

// scp is a test DICOM server on 127.0.0.1 built on ul and dimse.
type scp struct {
	addr string
	srv  *ul.Server
	port string
}

// startSCP serves mux on a free loopback port with policy (AETitle "TEST"
// when empty) until the test ends.
func startSCP(t testing.TB, policy ul.Policy, mux *dimse.Mux) *scp {
	t.Helper()
	if policy.AETitle == "" {
		policy.AETitle = "TEST"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := ul.NewServer(ul.ServerOptions{Policy: policy, AssociateTimeout: 10 * time.Second,
		Handler: func(ctx context.Context, a *ul.Association) { _ = dimse.Serve(ctx, a, mux) }})
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(context.Background(), ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return &scp{addr: ln.Addr().String(), srv: srv, port: port}
}

// storagePolicy accepts Verification and every SOP class in the native
// syntaxes.
func storagePolicy() ul.Policy {
	return ul.Policy{
		Syntaxes:        map[string][]string{uid.Verification: dimse.VerificationSyntaxes},
		AcceptAny:       true,
		DefaultSyntaxes: nativeSyntaxes,
		AsyncOps:        ul.AsyncOps{Invoked: 8, Performed: 8},
	}
}

// writeToDir returns a C-STORE handler writing each data set, streamed, as a
// Part 10 file named after its SOP instance UID under dir.
func writeToDir(dir string) dimse.StoreHandler {
	return func(ctx context.Context, op *dimse.Op, rq *dimse.CStoreRequest, data io.Reader) dimse.Status {
		if err := writePart10(filepath.Join(dir, rq.AffectedSOPInstanceUID+".dcm"), rq, op.Context.TransferSyntax, data); err != nil {
			return dimse.Status{Code: dimse.CodeOutOfResources, ErrorComment: "cannot write"}
		}
		return dimse.StatusSuccess
	}
}

func writePart10(path string, rq *dimse.CStoreRequest, ts string, data io.Reader) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	meta := part10.NewMeta(rq.AffectedSOPClassUID, rq.AffectedSOPInstanceUID, ts)
	// The returned data set writer is not used: the data set is copied as
	// received, already encoded in ts.
	if _, err := part10.NewWriter(f, meta, nil, codec.Syntax{UID: ts}, nil); err != nil {
		return err
	}
	if _, err := io.Copy(f, data); err != nil {
		return err
	}
	return f.Close()
}

func dialTest(t testing.TB, addr string, opt ul.DialOptions) *dimse.Client {
	t.Helper()
	if opt.CalledAE == "" {
		opt.CalledAE = "TEST"
	}
	if opt.CallingAE == "" {
		opt.CallingAE = "GOTEST"
	}
	if opt.Contexts == nil {
		opt.Contexts = []ul.ProposedContext{dimse.VerificationContext()}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := dimse.Dial(ctx, addr, opt)
	if err != nil {
		t.Fatalf("Dial(%s) error = %v", addr, err)
	}
	return c
}

func TestNetEchoAndStore(t *testing.T) {
	recv := make(chan []byte, 1)
	mux := dimse.NewMux(nil)
	mux.HandleCStore(dimse.AnySOPClass, func(ctx context.Context, op *dimse.Op, rq *dimse.CStoreRequest, data io.Reader) dimse.Status {
		b, _ := io.ReadAll(data)
		recv <- b
		return dimse.StatusSuccess
	})
	s := startSCP(t, storagePolicy(), mux)
	for _, maxPDU := range []uint32{4096, 16384, 131072} {
		c := dialTest(t, s.addr, ul.DialOptions{MaxPDULength: maxPDU,
			Contexts: append([]ul.ProposedContext{dimse.VerificationContext()}, dimse.StorageContexts([]string{uid.CTImageStorage})...)})
		if err := c.Echo(context.Background()); err != nil {
			t.Fatalf("Echo() error = %v", err)
		}
		want := bytes.Repeat([]byte("0123456789abcdef"), 50_000)
		if _, err := c.Store(context.Background(), uid.CTImageStorage, "1.2.3", uid.ExplicitVRLittleEndian, bytes.NewReader(want), dimse.StoreOptions{}); err != nil {
			t.Fatalf("Store() error = %v", err)
		}
		if got := <-recv; !bytes.Equal(got, want) {
			t.Errorf("max PDU %d: received %d bytes, want %d", maxPDU, len(got), len(want))
		}
		if err := c.Close(); err != nil {
			t.Errorf("Close() error = %v", err)
		}
	}
}

// TestNetAsyncWindow: an SCP granting 4 invoked operations runs 4 stores of
// one association at once (each handler waits until 4 are in), and the SCU
// keeps 4 in flight.
func TestNetAsyncWindow(t *testing.T) {
	const n = 4
	var inFlight, maxSeen atomic.Int32
	all := make(chan struct{})
	var once sync.Once
	mux := dimse.NewMux(nil)
	mux.HandleCStore(dimse.AnySOPClass, func(ctx context.Context, op *dimse.Op, rq *dimse.CStoreRequest, data io.Reader) dimse.Status {
		io.Copy(io.Discard, data)
		cur := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := maxSeen.Load(); cur > m && !maxSeen.CompareAndSwap(m, cur); m = maxSeen.Load() {
		}
		if cur == n {
			once.Do(func() { close(all) })
		}
		select {
		case <-all:
			return dimse.StatusSuccess
		case <-time.After(10 * time.Second):
			return dimse.StatusOutOfResources
		}
	})
	policy := storagePolicy()
	policy.AsyncOps = ul.AsyncOps{Invoked: n, Performed: 1}
	s := startSCP(t, policy, mux)
	c := dialTest(t, s.addr, ul.DialOptions{AsyncOps: &ul.AsyncOps{Invoked: 16, Performed: 1},
		Contexts: dimse.StorageContexts([]string{uid.CTImageStorage})})
	defer c.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i := 0; i < 3*n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Store(context.Background(), uid.CTImageStorage, fmt.Sprintf("1.2.%d", i), uid.ExplicitVRLittleEndian, bytes.NewReader(make([]byte, 20_000)), dimse.StoreOptions{})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Store() error = %v", err)
		}
	}
	if got := maxSeen.Load(); got != n {
		t.Errorf("at most %d stores in flight, want %d", got, n)
	}
}

// TestNetLoad: 200 concurrent associations of 100 echoes each all succeed,
// and no goroutine is left behind.
func TestNetLoad(t *testing.T) {
	assocs, echoes := 200, 100
	if testing.Short() {
		assocs, echoes = 20, 20
	}
	s := startSCP(t, storagePolicy(), dimse.NewMux(nil))
	base := runtime.NumGoroutine()
	var wg sync.WaitGroup
	var failed atomic.Int32
	var firstErr atomic.Value
	for i := 0; i < assocs; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			c, err := dimse.Dial(ctx, s.addr, ul.DialOptions{CallingAE: "LOAD", CalledAE: "TEST", Contexts: []ul.ProposedContext{dimse.VerificationContext()}})
			if err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err)
				return
			}
			for j := 0; j < echoes; j++ {
				if err := c.Echo(ctx); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
					break
				}
			}
			if err := c.Close(); err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err)
			}
		}()
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d associations failed; first error: %v", n, firstErr.Load())
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after the load, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}

// TestNetStoreFileTranscodes: a file in a syntax the SCP did not accept is
// transcoded to an accepted native one; an encapsulated one is refused.
func TestNetStoreFileTranscodes(t *testing.T) {
	dir := t.TempDir()
	mux := dimse.NewMux(nil)
	mux.HandleCStore(dimse.AnySOPClass, writeToDir(dir))
	policy := storagePolicy()
	policy.AcceptAny, policy.Syntaxes[uid.CTImageStorage] = false, []string{uid.ImplicitVRLittleEndian}
	s := startSCP(t, policy, mux)

	src := filepath.Join(t.TempDir(), "ct.dcm")
	ds := dicom.NewDataset(8)
	ds.SetString(dicom.SOPClassUID, uid.CTImageStorage)
	ds.SetString(dicom.SOPInstanceUID, "1.2.826.0.1.3680043.2.1143.42")
	ds.SetString(dicom.PatientName, "Test^Transcode")
	ds.SetInts(dicom.Rows, 300)
	ds.SetInts(dicom.Columns, 300)
	ds.SetBytes(dicom.PixelData, dicom.OW, bytes.Repeat([]byte{1, 2}, 90_000))
	if err := part10.WriteFile(src, &part10.File{Dataset: ds, Syntax: codec.ExplicitVRBigEndian,
		Meta: part10.NewMeta(uid.CTImageStorage, "1.2.826.0.1.3680043.2.1143.42", uid.ExplicitVRBigEndian)}); err != nil {
		t.Fatal(err)
	}
	c := dialTest(t, s.addr, ul.DialOptions{Contexts: dimse.StorageContexts([]string{uid.CTImageStorage}, nativeSyntaxes...)})
	defer c.Close()
	if _, err := c.StoreFile(context.Background(), src, dimse.StoreOptions{}); err != nil {
		t.Fatalf("StoreFile() error = %v", err)
	}
	got, err := part10.ReadFile(filepath.Join(dir, "1.2.826.0.1.3680043.2.1143.42.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Syntax.UID != uid.ImplicitVRLittleEndian {
		t.Errorf("received in %s, want implicit VR little endian", got.Syntax.UID)
	}
	want, _ := part10.ReadFile(src)
	if diff := compareDatasets(got.Dataset, want.Dataset, ""); diff != "" {
		t.Errorf("transcoded data set differs: %s", diff)
	}
}

func TestNetStrictCalledAE(t *testing.T) {
	policy := storagePolicy()
	policy.StrictCalledAE = true
	s := startSCP(t, policy, nil)
	_, err := dimse.Dial(context.Background(), s.addr, ul.DialOptions{CallingAE: "A", CalledAE: "WRONG", Contexts: []ul.ProposedContext{dimse.VerificationContext()}})
	var rj *ul.RejectError
	if !errors.As(err, &rj) || rj.Reason != 7 {
		t.Fatalf("Dial() with a wrong called AE: error = %v, want rejection reason 7", err)
	}
}

// compareDatasets returns "" when a and b hold the same elements with the
// same values (trailing padding ignored; VRs not compared, since implicit VR
// decoding takes them from the dictionary), else the first difference.
// Group lengths (gggg,0000) and Data Set Trailing Padding (FFFC,FFFC), which
// dcmtk recomputes or drops when it writes, are not compared.
func compareDatasets(a, b *dicom.Dataset, path string) string {
	a, b = comparable(a), comparable(b)
	if a.Len() != b.Len() {
		return fmt.Sprintf("%s: %d elements, want %d (only in one: %s)", path, a.Len(), b.Len(), symDiff(a, b))
	}
	for i := 0; i < a.Len(); i++ {
		ea, eb := a.At(i), b.At(i)
		p := path + "/" + ea.Tag.String()
		if ea.Tag != eb.Tag {
			return fmt.Sprintf("%s: tag %v, want %v", path, ea.Tag, eb.Tag)
		}
		if len(ea.Items) != len(eb.Items) {
			return fmt.Sprintf("%s: %d items, want %d", p, len(ea.Items), len(eb.Items))
		}
		for j := range ea.Items {
			if d := compareDatasets(ea.Items[j], eb.Items[j], fmt.Sprintf("%s[%d]", p, j)); d != "" {
				return d
			}
		}
		if (ea.Fragments == nil) != (eb.Fragments == nil) {
			return p + ": fragments on one side only"
		}
		if ea.Fragments != nil {
			if len(ea.Fragments.Items) != len(eb.Fragments.Items) {
				return p + ": fragment count differs"
			}
			for j := range ea.Fragments.Items {
				if !bytes.Equal(ea.Fragments.Items[j], eb.Fragments.Items[j]) {
					return fmt.Sprintf("%s: fragment %d differs", p, j)
				}
			}
		}
		va, vb := bytes.TrimRight(ea.Value, "\x00 "), bytes.TrimRight(eb.Value, "\x00 ")
		if !bytes.Equal(va, vb) {
			return fmt.Sprintf("%s: value % x, want % x", p, head(va), head(vb))
		}
	}
	return ""
}

func comparable(ds *dicom.Dataset) *dicom.Dataset {
	out := dicom.NewDataset(ds.Len())
	for e := range ds.All() {
		if e.Tag.Element() != 0 && e.Tag != dicom.DataSetTrailingPadding {
			out.Append(*e)
		}
	}
	return out
}

func head(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}

// symDiff lists the tags present in only one of a and b.
func symDiff(a, b *dicom.Dataset) string {
	var s []string
	for e := range a.All() {
		if !b.Contains(e.Tag) {
			s = append(s, "got "+e.Tag.String())
		}
	}
	for e := range b.All() {
		if !a.Contains(e.Tag) {
			s = append(s, "want "+e.Tag.String())
		}
	}
	return strings.Join(s, " ")
}
