package services

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pacsforge/pacs/core/archive"
	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/codec"
	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/core/storage"
	"github.com/pacsforge/pacs/core/ul"
)

// instance is a synthetic object stored in the test archive.
type instance struct {
	class, study, series, inst, ts string
	data                           []byte // the data set in ts
	ds                             *dicom.Dataset
}

// The test archive: patient P1 has study 1.9.1 (a CT series of three
// Explicit VR objects and an MR series of two Implicit VR ones); patient P2
// has study 1.9.2 (one CT in JPEG Baseline, one CT in Explicit VR Big
// Endian).
var testInstances = []struct {
	patient, class, study, series, inst, ts string
}{
	{"P1", uid.CTImageStorage, "1.9.1", "1.9.1.1", "1.9.1.1.1", uid.ExplicitVRLittleEndian},
	{"P1", uid.CTImageStorage, "1.9.1", "1.9.1.1", "1.9.1.1.2", uid.ExplicitVRLittleEndian},
	{"P1", uid.CTImageStorage, "1.9.1", "1.9.1.1", "1.9.1.1.3", uid.ExplicitVRLittleEndian},
	{"P1", uid.MRImageStorage, "1.9.1", "1.9.1.2", "1.9.1.2.1", uid.ImplicitVRLittleEndian},
	{"P1", uid.MRImageStorage, "1.9.1", "1.9.1.2", "1.9.1.2.2", uid.ImplicitVRLittleEndian},
	{"P2", uid.CTImageStorage, "1.9.2", "1.9.2.1", "1.9.2.1.1", uid.JPEGBaseline8Bit},
	{"P2", uid.CTImageStorage, "1.9.2", "1.9.2.1", "1.9.2.1.2", uid.ExplicitVRBigEndian},
}

func syntheticDataset(t *testing.T, patient, class, study, series, inst string, encapsulated bool) *dicom.Dataset {
	t.Helper()
	ds := &dicom.Dataset{}
	for tag, v := range map[dicom.Tag]string{
		dicom.SOPClassUID: class, dicom.SOPInstanceUID: inst, dicom.PatientName: "Test^" + patient,
		dicom.PatientID: patient, dicom.StudyInstanceUID: study, dicom.SeriesInstanceUID: series, dicom.Modality: "OT",
	} {
		if err := ds.SetString(tag, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := ds.SetInts(dicom.Rows, 4); err != nil {
		t.Fatal(err)
	}
	if err := ds.SetInts(dicom.BitsAllocated, 16); err != nil {
		t.Fatal(err)
	}
	if encapsulated {
		ds.Put(dicom.Element{Tag: dicom.PixelData, VR: dicom.OB, UndefinedLength: true,
			Fragments: &dicom.Fragments{Items: [][]byte{{0xff, 0xd8, 1, 2}, {3, 4, 0xff, 0xd9}}}})
	} else {
		px := make([]byte, 32)
		for i := range px {
			px[i] = byte(i * 7)
		}
		ds.Put(dicom.Element{Tag: dicom.PixelData, VR: dicom.OW, Value: px})
	}
	return ds
}

// qrServer is an archive serving the retrieve services on 127.0.0.1.
type qrServer struct {
	addr      string
	instances map[string]*instance
	store     *storage.FS
}

// startQR builds an archive holding testInstances and serves it with
// Register, with remotes as C-MOVE destinations and the options set by
// each of opts.
func startQR(t *testing.T, remotes []Remote, opts ...func(*Options)) *qrServer {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	ix, err := index.Open(ctx, filepath.Join(dir, "index.db"), index.Options{Synchronous: index.SyncNormal})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	st, err := storage.NewFS("default", filepath.Join(dir, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	arc, err := archive.New(archive.Options{Index: ix, Storage: st, SpoolDir: filepath.Join(dir, "spool")})
	if err != nil {
		t.Fatal(err)
	}
	s := &qrServer{instances: map[string]*instance{}, store: st}
	for _, ti := range testInstances {
		syn, _ := codec.LookupSyntax(ti.ts)
		ds := syntheticDataset(t, ti.patient, ti.class, ti.study, ti.series, ti.inst, syn.Encapsulated)
		data, err := codec.AppendDataset(nil, ds, syn)
		if err != nil {
			t.Fatal(err)
		}
		if err := arc.Store(ctx, archive.StoreRequest{SOPClassUID: ti.class, SOPInstanceUID: ti.inst, TransferSyntaxUID: ti.ts}, bytes.NewReader(data)); err != nil {
			t.Fatalf("store %s: %v", ti.inst, err)
		}
		s.instances[ti.inst] = &instance{class: ti.class, study: ti.study, series: ti.series, inst: ti.inst, ts: ti.ts, data: data, ds: ds}
	}
	mux := dimse.NewMux(nil)
	policy := ul.Policy{AETitle: "FORGE"}
	o := Options{AETitle: "FORGE", Archive: arc, Index: ix, Storage: st, Remotes: remotes}
	for _, set := range opts {
		set(&o)
	}
	Register(mux, &policy, o)
	s.addr = serve(t, policy, mux)
	return s
}

// serve runs a DIMSE server with policy and mux on a free loopback port
// until the test ends and returns its address.
func serve(t *testing.T, policy ul.Policy, mux *dimse.Mux) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := ul.NewServer(ul.ServerOptions{Policy: policy, Handler: func(ctx context.Context, a *ul.Association) {
		dimse.Serve(ctx, a, mux)
	}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String()
}

// received is what a test Storage SCP got.
type received struct {
	class, ts  string
	data       []byte
	originator string
}

// sink is a Storage SCP recording what it receives; fail lists the SOP
// Instance UIDs it refuses (A700), and before, when set, runs before each
// store is recorded.
type sink struct {
	mu     sync.Mutex
	got    map[string]received
	fail   map[string]bool
	before func(n int)
}

func newSink() *sink { return &sink{got: map[string]received{}, fail: map[string]bool{}} }

func (s *sink) handler() dimse.StoreHandler {
	return func(ctx context.Context, op *dimse.Op, rq *dimse.CStoreRequest, data io.Reader) dimse.Status {
		b, err := io.ReadAll(data)
		if err != nil {
			return dimse.StatusProcessingFailure
		}
		s.mu.Lock()
		n := len(s.got)
		before := s.before
		s.mu.Unlock()
		if before != nil {
			before(n)
		}
		if s.fail[rq.AffectedSOPInstanceUID] {
			return dimse.StatusOutOfResources
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.got[rq.AffectedSOPInstanceUID] = received{class: rq.AffectedSOPClassUID, ts: op.Context.TransferSyntax, data: b, originator: rq.MoveOriginatorAETitle}
		return dimse.StatusSuccess
	}
}

func (s *sink) received() map[string]received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps(s.got)
}

func maps(m map[string]received) map[string]received {
	out := make(map[string]received, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// startDestination runs a Storage SCP accepting every SOP class in
// syntaxes and returns its port.
func startDestination(t *testing.T, s *sink, syntaxes ...string) int {
	t.Helper()
	mux := dimse.NewMux(nil)
	mux.HandleCStore(dimse.AnySOPClass, s.handler())
	addr := serve(t, ul.Policy{AETitle: "DEST", AcceptAny: true, DefaultSyntaxes: syntaxes}, mux)
	return addr2port(t, addr)
}

func addr2port(t *testing.T, addr string) int {
	t.Helper()
	a, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return a.Port
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return p
}

func identifier(t *testing.T, level string, keys map[dicom.Tag][]string) *dicom.Dataset {
	t.Helper()
	ds := &dicom.Dataset{}
	if level != "" {
		ds.SetString(dicom.QueryRetrieveLevel, level)
	}
	for tag, v := range keys {
		if err := ds.SetString(tag, v...); err != nil {
			t.Fatal(err)
		}
	}
	return ds
}

var qrContexts = []ul.ProposedContext{
	{AbstractSyntax: uid.PatientRootQueryRetrieveInformationModelMove, TransferSyntaxes: RetrieveSyntaxes},
	{AbstractSyntax: uid.StudyRootQueryRetrieveInformationModelMove, TransferSyntaxes: RetrieveSyntaxes},
	{AbstractSyntax: uid.PatientRootQueryRetrieveInformationModelGet, TransferSyntaxes: RetrieveSyntaxes},
	{AbstractSyntax: uid.StudyRootQueryRetrieveInformationModelGet, TransferSyntaxes: RetrieveSyntaxes},
}

func dial(t *testing.T, addr string, copt dimse.ClientOptions, extra ...ul.ProposedContext) *dimse.Client {
	t.Helper()
	c, err := dimse.DialWith(context.Background(), addr, ul.DialOptions{CallingAE: "SCU", CalledAE: "FORGE", Contexts: append(slices.Clone(qrContexts), extra...)}, copt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// moveFinal sends C-MOVE with Client.Do and returns the final response and
// its identifier (nil when none).
func moveFinal(t *testing.T, c *dimse.Client, class, dest string, id *dicom.Dataset) (dimse.Status, dimse.SubOperations, *dicom.Dataset) {
	t.Helper()
	var final *dicom.Dataset
	rsp, err := c.Do(context.Background(), &dimse.CMoveRequest{AffectedSOPClassUID: class, MoveDestination: dest}, id, func(r io.Reader) error {
		ds, err := dimse.ReadDataset(r, ul.PresentationContext{TransferSyntax: uid.ExplicitVRLittleEndian}, dimse.MaxIdentifierLength)
		final = ds
		return err
	})
	if err != nil {
		t.Fatalf("C-MOVE: %v", err)
	}
	return rsp.Result(), rsp.(*dimse.CMoveResponse).SubOperations, final
}

// checkReceived checks that want arrived, each data set identical to the
// stored one re-encoded in its transfer syntax.
func checkReceived(t *testing.T, s *qrServer, got map[string]received, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("received %d instances, want %d", len(got), len(want))
	}
	for _, inst := range want {
		r, ok := got[inst]
		if !ok {
			t.Errorf("%s not received", inst)
			continue
		}
		in := s.instances[inst]
		want := in.data
		if r.ts != in.ts {
			syn, _ := codec.LookupSyntax(r.ts)
			var err error
			if want, err = codec.AppendDataset(nil, in.ds, syn); err != nil {
				t.Fatal(err)
			}
		}
		if r.class != in.class || !bytes.Equal(r.data, want) {
			t.Errorf("%s: received %s in %s (%d bytes), differs from the stored data set in that syntax", inst, r.class, r.ts, len(r.data))
		}
	}
}

func TestMove(t *testing.T) {
	dest := newSink()
	dest.fail["1.9.1.2.2"] = true
	port := startDestination(t, dest, uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian, uid.JPEGBaseline8Bit, uid.ExplicitVRBigEndian)
	implicitOnly := newSink()
	ioPort := startDestination(t, implicitOnly, uid.ImplicitVRLittleEndian)
	s := startQR(t, []Remote{{AETitle: "DEST", Host: "127.0.0.1", Port: port}, {AETitle: "IMPLICIT", Host: "127.0.0.1", Port: ioPort},
		{AETitle: "DOWN", Host: "127.0.0.1", Port: closedPort(t)}})
	c := dial(t, s.addr, dimse.ClientOptions{})

	t.Run("study with a refused sub-operation", func(t *testing.T) {
		st, n, final := moveFinal(t, c, uid.StudyRootQueryRetrieveInformationModelMove, "DEST", identifier(t, "STUDY", map[dicom.Tag][]string{dicom.StudyInstanceUID: {"1.9.1"}}))
		if st.Code != dimse.CodeSubOperationsWarning || n.Completed != 4 || n.Failed != 1 || n.Warning != 0 {
			t.Errorf("final %v %+v, want B000 with 4 completed, 1 failed", st, n)
		}
		if final == nil || !slices.Equal(final.Strings(dicom.FailedSOPInstanceUIDList), []string{"1.9.1.2.2"}) {
			t.Errorf("final identifier %v, want Failed SOP Instance UID List [1.9.1.2.2]", final)
		}
		got := dest.received()
		checkReceived(t, s, got, "1.9.1.1.1", "1.9.1.1.2", "1.9.1.1.3", "1.9.1.2.1")
		if got["1.9.1.1.1"].originator != "SCU" {
			t.Errorf("Move Originator AE %q, want SCU", got["1.9.1.1.1"].originator)
		}
	})

	t.Run("stored syntaxes kept", func(t *testing.T) {
		st, n, final := moveFinal(t, c, uid.PatientRootQueryRetrieveInformationModelMove, "DEST", identifier(t, "PATIENT", map[dicom.Tag][]string{dicom.PatientID: {"P2"}}))
		if st.Code != dimse.CodeSuccess || n.Completed != 2 || final != nil {
			t.Errorf("final %v %+v %v, want success with 2 completed and no identifier", st, n, final)
		}
		got := dest.received()
		for _, inst := range []string{"1.9.2.1.1", "1.9.2.1.2"} {
			if got[inst].ts != s.instances[inst].ts {
				t.Errorf("%s sent in %s, stored in %s", inst, got[inst].ts, s.instances[inst].ts)
			}
		}
		checkReceived(t, s, got, "1.9.1.1.1", "1.9.1.1.2", "1.9.1.1.3", "1.9.1.2.1", "1.9.2.1.1", "1.9.2.1.2")
	})

	t.Run("converted to implicit, compressed refused", func(t *testing.T) {
		st, n, final := moveFinal(t, c, uid.StudyRootQueryRetrieveInformationModelMove, "IMPLICIT",
			identifier(t, "STUDY", map[dicom.Tag][]string{dicom.StudyInstanceUID: {"1.9.1", "1.9.2"}}))
		if st.Code != dimse.CodeSubOperationsWarning || n.Completed != 6 || n.Failed != 1 {
			t.Errorf("final %v %+v, want B000 with 6 completed, 1 failed", st, n)
		}
		if final == nil || !slices.Equal(final.Strings(dicom.FailedSOPInstanceUIDList), []string{"1.9.2.1.1"}) {
			t.Errorf("final identifier %v, want the JPEG instance listed", final)
		}
		got := implicitOnly.received()
		for inst, r := range got {
			if r.ts != uid.ImplicitVRLittleEndian {
				t.Errorf("%s sent in %s", inst, r.ts)
			}
		}
		checkReceived(t, s, got, "1.9.1.1.1", "1.9.1.1.2", "1.9.1.1.3", "1.9.1.2.1", "1.9.1.2.2", "1.9.2.1.2")
	})

	t.Run("image level with pending counts", func(t *testing.T) {
		var pending []dimse.SubOperations
		st, n, err := c.Move(context.Background(), uid.StudyRootQueryRetrieveInformationModelMove, "IMPLICIT",
			identifier(t, "IMAGE", map[dicom.Tag][]string{dicom.StudyInstanceUID: {"1.9.1"}, dicom.SeriesInstanceUID: {"1.9.1.1"}, dicom.SOPInstanceUID: {"1.9.1.1.3", "1.9.1.1.1", "1.9.2.1.2"}}),
			func(so dimse.SubOperations) error { pending = append(pending, so); return nil })
		if err != nil || st.Code != dimse.CodeSuccess || n.Completed != 2 {
			t.Errorf("Move() = %v, %+v, %v; want success, 2 completed (the third is in another series)", st, n, err)
		}
		if len(pending) == 0 || pending[0].Remaining != 1 || pending[0].Completed != 1 {
			t.Errorf("pending responses %+v, want the first with 1 completed, 1 remaining", pending)
		}
	})

	t.Run("nothing found", func(t *testing.T) {
		st, n, final := moveFinal(t, c, uid.StudyRootQueryRetrieveInformationModelMove, "DEST", identifier(t, "SERIES", map[dicom.Tag][]string{dicom.SeriesInstanceUID: {"1.2.3.4"}}))
		if st.Code != dimse.CodeSuccess || n != (dimse.SubOperations{}) || final != nil {
			t.Errorf("final %v %+v %v, want success with no sub-operations", st, n, final)
		}
	})

	t.Run("unknown destination", func(t *testing.T) {
		st, _, _ := moveFinal(t, c, uid.StudyRootQueryRetrieveInformationModelMove, "NOWHERE", identifier(t, "STUDY", map[dicom.Tag][]string{dicom.StudyInstanceUID: {"1.9.1"}}))
		if st.Code != dimse.CodeMoveDestinationUnknown || st.ErrorComment == "" {
			t.Errorf("final %v, want A801 with a comment", st)
		}
	})

	t.Run("destination down", func(t *testing.T) {
		st, n, final := moveFinal(t, c, uid.StudyRootQueryRetrieveInformationModelMove, "DOWN", identifier(t, "STUDY", map[dicom.Tag][]string{dicom.StudyInstanceUID: {"1.9.2"}}))
		if st.Code != dimse.CodeOutOfResourcesSubOps || n.Failed != 2 || st.ErrorComment == "" {
			t.Errorf("final %v %+v, want A702 with 2 failed and a comment", st, n)
		}
		if final == nil || len(final.Strings(dicom.FailedSOPInstanceUIDList)) != 2 {
			t.Errorf("final identifier %v, want both instances listed", final)
		}
	})
}

// TestMoveDIMSETimeout: a destination that does not answer a C-STORE within
// the DIMSE timeout loses its association, and the sub-operations fail.
func TestMoveDIMSETimeout(t *testing.T) {
	dest := newSink()
	port := startDestination(t, dest, uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian, uid.JPEGBaseline8Bit)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	dest.before = func(int) { <-release }
	s := startQR(t, []Remote{{AETitle: "SILENT", Host: "127.0.0.1", Port: port}},
		func(o *Options) { o.DIMSETimeout = 100 * time.Millisecond })
	c := dial(t, s.addr, dimse.ClientOptions{})
	st, n, _ := moveFinal(t, c, uid.StudyRootQueryRetrieveInformationModelMove, "SILENT",
		identifier(t, "STUDY", map[dicom.Tag][]string{dicom.StudyInstanceUID: {"1.9.2"}}))
	if n.Completed != 0 || n.Failed != 2 || st.Code != dimse.CodeOutOfResourcesSubOps {
		t.Errorf("final %v %+v, want A702 with 2 failed", st, n)
	}
}

// TestMoveAllFailed: a destination refusing everything gives A702.
func TestMoveAllFailed(t *testing.T) {
	dest := newSink()
	dest.fail["1.9.2.1.1"], dest.fail["1.9.2.1.2"] = true, true
	port := startDestination(t, dest, uid.ExplicitVRLittleEndian, uid.JPEGBaseline8Bit)
	s := startQR(t, []Remote{{AETitle: "DEST", Host: "127.0.0.1", Port: port}})
	c := dial(t, s.addr, dimse.ClientOptions{})
	st, n, final := moveFinal(t, c, uid.StudyRootQueryRetrieveInformationModelMove, "DEST", identifier(t, "STUDY", map[dicom.Tag][]string{dicom.StudyInstanceUID: {"1.9.2"}}))
	if st.Code != dimse.CodeOutOfResourcesSubOps || n.Failed != 2 || n.Completed != 0 {
		t.Errorf("final %v %+v, want A702 with 2 failed", st, n)
	}
	if final == nil || len(final.Strings(dicom.FailedSOPInstanceUIDList)) != 2 {
		t.Errorf("final identifier %v, want both instances listed", final)
	}
}

// TestMoveCancel: C-CANCEL after the first pending response stops the
// move between two sub-operations; the final response is Cancel with the
// counts and the remaining ones.
func TestMoveCancel(t *testing.T) {
	cancelled := make(chan struct{})
	dest := newSink()
	dest.before = func(n int) {
		if n >= 1 {
			// Hold the later sub-operations until the requestor has
			// cancelled, and a little more for its C-CANCEL to arrive.
			<-cancelled
			time.Sleep(50 * time.Millisecond)
		}
	}
	port := startDestination(t, dest, uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian)
	s := startQR(t, []Remote{{AETitle: "DEST", Host: "127.0.0.1", Port: port}})
	c := dial(t, s.addr, dimse.ClientOptions{})
	stop := errors.New("enough")
	var once sync.Once
	st, n, err := c.Move(context.Background(), uid.StudyRootQueryRetrieveInformationModelMove, "DEST",
		identifier(t, "STUDY", map[dicom.Tag][]string{dicom.StudyInstanceUID: {"1.9.1"}}),
		func(dimse.SubOperations) error {
			once.Do(func() { close(cancelled) })
			return stop
		})
	if !errors.Is(err, stop) {
		t.Errorf("Move() error = %v, want the callback's", err)
	}
	if st.Code != dimse.CodeCancel || n.Remaining == 0 || int(n.Completed)+int(n.Remaining) != 5 {
		t.Errorf("Move() = %v %+v; want Cancel with completed + remaining = 5, some remaining", st, n)
	}
}

func TestRetrieveIdentifierErrors(t *testing.T) {
	s := startQR(t, []Remote{{AETitle: "DEST", Host: "127.0.0.1", Port: closedPort(t)}})
	c := dial(t, s.addr, dimse.ClientOptions{})
	tests := []struct {
		name  string
		class string
		id    *dicom.Dataset
	}{
		{name: "no level", class: uid.StudyRootQueryRetrieveInformationModelMove, id: identifier(t, "", map[dicom.Tag][]string{dicom.StudyInstanceUID: {"1.9.1"}})},
		{name: "patient level in study root", class: uid.StudyRootQueryRetrieveInformationModelMove, id: identifier(t, "PATIENT", map[dicom.Tag][]string{dicom.PatientID: {"P1"}})},
		{name: "unknown level", class: uid.PatientRootQueryRetrieveInformationModelMove, id: identifier(t, "FRAME", nil)},
		{name: "study key missing", class: uid.StudyRootQueryRetrieveInformationModelMove, id: identifier(t, "STUDY", nil)},
		{name: "patient id missing", class: uid.PatientRootQueryRetrieveInformationModelMove, id: identifier(t, "PATIENT", nil)},
		{name: "invalid uid", class: uid.StudyRootQueryRetrieveInformationModelMove, id: identifier(t, "SERIES", map[dicom.Tag][]string{dicom.SeriesInstanceUID: {"1.2.abc"}})},
		{name: "two parent studies", class: uid.StudyRootQueryRetrieveInformationModelMove, id: identifier(t, "SERIES", map[dicom.Tag][]string{dicom.StudyInstanceUID: {"1.9.1", "1.9.2"}, dicom.SeriesInstanceUID: {"1.9.1.1"}})},
	}
	var many []string
	for i := range index.MaxUIDList + 1 {
		many = append(many, fmt.Sprintf("1.2.3.%d", i))
	}
	tests = append(tests, struct {
		name  string
		class string
		id    *dicom.Dataset
	}{name: "too many UIDs", class: uid.StudyRootQueryRetrieveInformationModelMove, id: identifier(t, "STUDY", map[dicom.Tag][]string{dicom.StudyInstanceUID: many})})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, _, _ := moveFinal(t, c, tc.class, "DEST", tc.id)
			if st.Code != dimse.CodeDataSetMismatch || st.ErrorComment == "" {
				t.Errorf("final %v, want A900 with a comment", st)
			}
		})
	}
}

// getContexts proposes classes in syntaxes with the SCP role.
func getContexts(classes []string, syntaxes ...string) []ul.ProposedContext {
	yes := true
	pcs := dimse.StorageContexts(classes, syntaxes...)
	for i := range pcs {
		pcs[i].SCPRole = &yes
	}
	return pcs
}

func TestGet(t *testing.T) {
	s := startQR(t, nil)
	tests := []struct {
		name      string
		contexts  []ul.ProposedContext
		class     string
		id        *dicom.Dataset
		wantCode  uint16
		wantGot   []string
		wantFails []string
	}{
		{
			name:     "study, stored syntaxes",
			contexts: append(getContexts([]string{uid.CTImageStorage, uid.MRImageStorage}), getContexts([]string{uid.MRImageStorage}, uid.ImplicitVRLittleEndian)...),
			class:    uid.StudyRootQueryRetrieveInformationModelGet,
			id:       identifier(t, "STUDY", map[dicom.Tag][]string{dicom.StudyInstanceUID: {"1.9.1"}}),
			wantCode: dimse.CodeSuccess, wantGot: []string{"1.9.1.1.1", "1.9.1.1.2", "1.9.1.1.3", "1.9.1.2.1", "1.9.1.2.2"},
		},
		{
			name:     "no context for MR",
			contexts: getContexts([]string{uid.CTImageStorage}, uid.ImplicitVRLittleEndian),
			class:    uid.PatientRootQueryRetrieveInformationModelGet,
			id:       identifier(t, "STUDY", map[dicom.Tag][]string{dicom.PatientID: {"P1"}, dicom.StudyInstanceUID: {"1.9.1"}}),
			wantCode: dimse.CodeSubOperationsWarning, wantGot: []string{"1.9.1.1.1", "1.9.1.1.2", "1.9.1.1.3"}, wantFails: []string{"1.9.1.2.1", "1.9.1.2.2"},
		},
		{
			name:     "compressed without its syntax",
			contexts: getContexts([]string{uid.CTImageStorage}),
			class:    uid.PatientRootQueryRetrieveInformationModelGet,
			id:       identifier(t, "PATIENT", map[dicom.Tag][]string{dicom.PatientID: {"P2"}}),
			wantCode: dimse.CodeSubOperationsWarning, wantGot: []string{"1.9.2.1.2"}, wantFails: []string{"1.9.2.1.1"},
		},
		{
			name:     "no storage context at all",
			class:    uid.StudyRootQueryRetrieveInformationModelGet,
			id:       identifier(t, "SERIES", map[dicom.Tag][]string{dicom.SeriesInstanceUID: {"1.9.2.1"}}),
			wantCode: dimse.CodeOutOfResourcesSubOps, wantFails: []string{"1.9.2.1.1", "1.9.2.1.2"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sk := newSink()
			cmux := dimse.NewMux(nil)
			cmux.HandleCStore(dimse.AnySOPClass, sk.handler())
			c := dial(t, s.addr, dimse.ClientOptions{Mux: cmux}, tc.contexts...)
			var final *dicom.Dataset
			rsp, err := c.Do(context.Background(), &dimse.CGetRequest{AffectedSOPClassUID: tc.class}, tc.id, func(r io.Reader) error {
				var err error
				final, err = dimse.ReadDataset(r, ul.PresentationContext{TransferSyntax: uid.ExplicitVRLittleEndian}, dimse.MaxIdentifierLength)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			n := rsp.(*dimse.CGetResponse).SubOperations
			if st := rsp.Result(); st.Code != tc.wantCode || int(n.Completed) != len(tc.wantGot) || int(n.Failed) != len(tc.wantFails) {
				t.Errorf("final %v %+v, want %04X with %d completed, %d failed", st, n, tc.wantCode, len(tc.wantGot), len(tc.wantFails))
			}
			var fails []string
			if final != nil {
				fails = final.Strings(dicom.FailedSOPInstanceUIDList)
			}
			if fmt.Sprint(fails) != fmt.Sprint(tc.wantFails) && !(len(fails) == 0 && len(tc.wantFails) == 0) {
				t.Errorf("Failed SOP Instance UID List %q, want %q", fails, tc.wantFails)
			}
			checkReceived(t, s, sk.received(), tc.wantGot...)
		})
	}
}

// TestGetCancel: C-CANCEL of a C-GET stops it between sub-operations.
func TestGetCancel(t *testing.T) {
	s := startQR(t, nil)
	cancelled := make(chan struct{})
	sk := newSink()
	sk.before = func(n int) {
		if n >= 1 {
			<-cancelled
			time.Sleep(50 * time.Millisecond)
		}
	}
	cmux := dimse.NewMux(nil)
	cmux.HandleCStore(dimse.AnySOPClass, sk.handler())
	c := dial(t, s.addr, dimse.ClientOptions{Mux: cmux}, getContexts([]string{uid.CTImageStorage, uid.MRImageStorage})...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, n, err := c.Get(ctx, uid.StudyRootQueryRetrieveInformationModelGet, identifier(t, "STUDY", map[dicom.Tag][]string{dicom.StudyInstanceUID: {"1.9.1"}}),
		func(dimse.SubOperations) error {
			select {
			case <-cancelled:
			default:
				close(cancelled)
				cancel()
			}
			return nil
		})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Get() error = %v, want context.Canceled", err)
	}
	if st.Code != dimse.CodeCancel || n.Remaining == 0 || int(n.Completed)+int(n.Remaining) != 5 {
		t.Errorf("Get() = %v %+v; want Cancel with completed + remaining = 5, some remaining", st, n)
	}
}

func TestFailedListCut(t *testing.T) {
	var uids []string
	for i := range 2000 {
		uids = append(uids, fmt.Sprintf("1.2.826.0.1.3680043.2.1125.1.%040d", i))
	}
	ds := failedList(uids)
	got := ds.Strings(dicom.FailedSOPInstanceUIDList)
	if len(got) == 0 || len(got) >= len(uids) {
		t.Fatalf("failedList kept %d of %d UIDs, want a cut", len(got), len(uids))
	}
	if _, err := codec.AppendDataset(nil, ds, codec.ExplicitVRLittleEndian); err != nil {
		t.Errorf("the cut list does not encode in Explicit VR: %v", err)
	}
}
