package archive

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/codec"
	"github.com/pacsforge/pacs/core/dicom/part10"
	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/sdk"
)

// handlerFunc adapts a function to sdk.SOPHandler.
type handlerFunc func(ctx context.Context, req *sdk.StoreRequest) (*sdk.Decision, error)

func (f handlerFunc) Handle(ctx context.Context, req *sdk.StoreRequest) (*sdk.Decision, error) {
	return f(ctx, req)
}

// withHandlers replaces the fixture's archive by one with the handler
// chain hs.
func (fx *fixture) withHandlers(t *testing.T, hs ...Handler) {
	t.Helper()
	opt := fx.arc.opt
	fx.arc.Close()
	opt.Handlers = hs
	a, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	fx.arc = a
}

// bigSample returns a synthetic CT instance whose pixel data (256 KiB) is
// above HeaderBulkThreshold, encoded in Explicit VR Little Endian.
func bigSample(t *testing.T) (StoreRequest, []byte, []byte) {
	t.Helper()
	ds := dicom.NewDataset(16)
	set := func(tag dicom.Tag, v ...string) {
		if err := ds.SetString(tag, v...); err != nil {
			t.Fatal(err)
		}
	}
	set(dicom.SpecificCharacterSet, "ISO_IR 100")
	set(dicom.SOPClassUID, uid.CTImageStorage)
	set(dicom.SOPInstanceUID, "1.2.826.0.1.3680043.9.7433.1.1")
	set(dicom.StudyInstanceUID, "1.2.826.0.1.3680043.9.7433.1")
	set(dicom.SeriesInstanceUID, "1.2.826.0.1.3680043.9.7433.1.2")
	set(dicom.AccessionNumber, "ACC42")
	set(dicom.PatientName, "Müller^Anna")
	set(dicom.PatientID, "PID-7")
	if err := ds.SetInts(dicom.Rows, 256); err != nil {
		t.Fatal(err)
	}
	if err := ds.SetInts(dicom.Columns, 512); err != nil {
		t.Fatal(err)
	}
	pixels := make([]byte, 256*512*2)
	for i := range pixels {
		pixels[i] = byte(i * 7)
	}
	if err := ds.SetBytes(dicom.PixelData, dicom.OW, pixels); err != nil {
		t.Fatal(err)
	}
	syn, _ := codec.LookupSyntax(uid.ExplicitVRLittleEndian)
	var buf bytes.Buffer
	w := codec.NewWriter(&buf, syn)
	if err := w.WriteDataset(ds); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return StoreRequest{
		SOPClassUID:       uid.CTImageStorage,
		SOPInstanceUID:    ds.String(dicom.SOPInstanceUID),
		TransferSyntaxUID: uid.ExplicitVRLittleEndian,
		CallingAE:         "CT1",
		CalledAE:          "FORGE",
	}, buf.Bytes(), pixels
}

// stored reads back the stored object of an instance.
func (fx *fixture) stored(t *testing.T, inst string) *part10.File {
	t.Helper()
	info, err := fx.ix.Instance(context.Background(), inst)
	if err != nil {
		t.Fatalf("instance not indexed: %v", err)
	}
	r, err := fx.store.Get(context.Background(), info.Key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	f, err := part10.ReadBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestHandlerModify: a patch sets and deletes attributes; the stored object
// and the index hold the changed values, the pixel data is the same bytes,
// and Ingest reports the coerced attributes. The handler saw the header
// without pixel data, and a later handler sees the earlier one's change.
func TestHandlerModify(t *testing.T) {
	fx := newFixture(t, index.DuplicateOverwrite)
	var sawPixels atomic.Bool
	var second atomic.Value
	fx.withHandlers(t,
		Handler{Name: "pseudonymise", Handler: handlerFunc(func(ctx context.Context, req *sdk.StoreRequest) (*sdk.Decision, error) {
			if req.Dataset.Contains(dicom.PixelData) {
				sawPixels.Store(true)
			}
			if req.CallingAE != "CT1" || req.CalledAE != "FORGE" || req.Service != "C-STORE" || req.Instance != "pseudonymise" {
				t.Errorf("request context %+v", req)
			}
			return sdk.Modify(sdk.NewPatch().Set("PatientName", "ANON^7").Delete("AccessionNumber")), nil
		})},
		Handler{Name: "observer", Handler: handlerFunc(func(ctx context.Context, req *sdk.StoreRequest) (*sdk.Decision, error) {
			second.Store(req.Dataset.String(dicom.PatientName))
			return sdk.Accept(), nil
		})},
	)
	req, data, pixels := bigSample(t)
	out, err := fx.arc.Ingest(context.Background(), req, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Ingest() error = %v", err)
	}
	if want := []dicom.Tag{dicom.AccessionNumber, dicom.PatientName}; !slices.Equal(out.Coerced, want) {
		t.Errorf("Coerced = %v, want %v", out.Coerced, want)
	}
	if sawPixels.Load() {
		t.Error("a HeaderOnly handler received Pixel Data")
	}
	if got := second.Load(); got != "ANON^7" {
		t.Errorf("the second handler saw PatientName %q", got)
	}
	f := fx.stored(t, req.SOPInstanceUID)
	if got := f.Dataset.String(dicom.PatientName); got != "ANON^7" {
		t.Errorf("stored PatientName = %q", got)
	}
	if f.Dataset.Contains(dicom.AccessionNumber) {
		t.Error("stored object still has AccessionNumber")
	}
	if !bytes.Equal(f.Dataset.Bytes(dicom.PixelData), pixels) {
		t.Error("stored pixel data differs from what was sent")
	}
	if got := f.Dataset.String(dicom.PatientID); got != "PID-7" {
		t.Errorf("an untouched attribute changed: PatientID %q", got)
	}
	attrs, err := fx.ix.Attributes(context.Background(), req.SOPInstanceUID)
	if err != nil {
		t.Fatal(err)
	}
	if got := attrs.String(dicom.PatientName); got != "ANON^7" {
		t.Errorf("indexed PatientName = %q", got)
	}
}

// TestHandlerReject: a refusal stores nothing and carries the handler's
// status when it is a C-STORE failure, else 0110, with the comment cut to
// 64 bytes.
func TestHandlerReject(t *testing.T) {
	tests := []struct {
		name       string
		status     uint16
		comment    string
		wantStatus uint16
		wantLen    int
	}{
		{name: "A900 kept", status: 0xA900, comment: "AccessionNumber missing", wantStatus: 0xA900, wantLen: 23},
		{name: "C123 kept", status: 0xC123, comment: "no", wantStatus: 0xC123, wantLen: 2},
		{name: "warning code becomes 0110", status: 0xB000, comment: "x", wantStatus: 0x0110, wantLen: 1},
		{name: "long comment cut", status: 0xA700, comment: string(bytes.Repeat([]byte("é"), 40)), wantStatus: 0xA700, wantLen: 64},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t, index.DuplicateOverwrite)
			fx.withHandlers(t, Handler{Name: "gate", Handler: handlerFunc(func(context.Context, *sdk.StoreRequest) (*sdk.Decision, error) {
				return sdk.Reject(tc.status, tc.comment), nil
			})})
			req, data, _ := bigSample(t)
			_, err := fx.arc.Ingest(context.Background(), req, bytes.NewReader(data))
			var rej *RejectedError
			if !errors.As(err, &rej) {
				t.Fatalf("Ingest() error = %v, want a RejectedError", err)
			}
			if rej.Status != tc.wantStatus || len(rej.Comment) > tc.wantLen || rej.Handler != "gate" {
				t.Errorf("RejectedError = %+v (comment %d bytes)", rej, len(rej.Comment))
			}
			if got := fx.objects(t); len(got) != 0 {
				t.Errorf("objects stored after a refusal: %q", got)
			}
		})
	}
}

// TestHandlerFailures: an error, a timeout or a patch the archive cannot
// apply fail the store (ErrHandlerFailed) unless the handler's policy is
// AcceptOnError; a handler bound to other SOP classes is not called.
func TestHandlerFailures(t *testing.T) {
	failing := handlerFunc(func(context.Context, *sdk.StoreRequest) (*sdk.Decision, error) {
		return nil, sdk.ErrUnavailable
	})
	hanging := handlerFunc(func(ctx context.Context, _ *sdk.StoreRequest) (*sdk.Decision, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	changesUID := handlerFunc(func(context.Context, *sdk.StoreRequest) (*sdk.Decision, error) {
		return sdk.Modify(sdk.NewPatch().Set("SOPInstanceUID", "1.2.3")), nil
	})
	badValue := handlerFunc(func(context.Context, *sdk.StoreRequest) (*sdk.Decision, error) {
		return sdk.Modify(sdk.NewPatch().Set("StudyDate", "yesterday")), nil
	})
	var called atomic.Bool
	other := handlerFunc(func(context.Context, *sdk.StoreRequest) (*sdk.Decision, error) {
		called.Store(true)
		return sdk.Reject(0xA900, "no"), nil
	})
	tests := []struct {
		name    string
		h       Handler
		wantErr error
	}{
		{name: "error rejects", h: Handler{Name: "h", Handler: failing}, wantErr: ErrHandlerFailed},
		{name: "error accepted by policy", h: Handler{Name: "h", Handler: failing, OnError: AcceptOnError}},
		{name: "timeout", h: Handler{Name: "h", Handler: hanging, Timeout: 50 * time.Millisecond}, wantErr: ErrHandlerFailed},
		{name: "timeout accepted by policy", h: Handler{Name: "h", Handler: hanging, Timeout: 50 * time.Millisecond, OnError: AcceptOnError}},
		{name: "patch changes the SOP Instance UID", h: Handler{Name: "h", Handler: changesUID}, wantErr: ErrHandlerFailed},
		{name: "patch value invalid for its VR", h: Handler{Name: "h", Handler: badValue}, wantErr: ErrHandlerFailed},
		{name: "other SOP class", h: Handler{Name: "h", Handler: other, Spec: sdk.SOPHandlerSpec{SOPClasses: []string{uid.MRImageStorage}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t, index.DuplicateOverwrite)
			fx.withHandlers(t, tc.h)
			req, data, _ := bigSample(t)
			_, err := fx.arc.Ingest(context.Background(), req, bytes.NewReader(data))
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("Ingest() error = %v, want %v", err, tc.wantErr)
			}
			if n := len(fx.objects(t)); (tc.wantErr == nil) != (n == 1) {
				t.Errorf("%d objects stored", n)
			}
		})
	}
	if called.Load() {
		t.Error("a handler bound to MR Image Storage was called for a CT image")
	}
}

// TestHandlerModes: the Full mode receives the pixel data and may replace
// the whole data set; the Attributes mode receives only the named
// attributes (and the character set).
func TestHandlerModes(t *testing.T) {
	fx := newFixture(t, index.DuplicateOverwrite)
	var attrsSeen atomic.Value
	fx.withHandlers(t,
		Handler{Name: "attrs", Spec: sdk.SOPHandlerSpec{Mode: sdk.Attributes, Attributes: []dicom.Tag{dicom.PatientID, dicom.PixelData}},
			Handler: handlerFunc(func(_ context.Context, req *sdk.StoreRequest) (*sdk.Decision, error) {
				var tags []dicom.Tag
				for e := range req.Dataset.All() {
					tags = append(tags, e.Tag)
				}
				attrsSeen.Store(tags)
				return sdk.Accept(), nil
			})},
		Handler{Name: "full", Spec: sdk.SOPHandlerSpec{Mode: sdk.Full},
			Handler: handlerFunc(func(_ context.Context, req *sdk.StoreRequest) (*sdk.Decision, error) {
				ds := req.Dataset
				px := ds.Bytes(dicom.PixelData)
				if len(px) != 256*512*2 {
					t.Errorf("Full mode: %d bytes of pixel data", len(px))
				}
				for i := range px {
					px[i] = 0xFF - px[i]
				}
				if err := ds.SetBytes(dicom.PixelData, dicom.OW, px); err != nil {
					return nil, err
				}
				return &sdk.Decision{Action: sdk.ActionModify, Replacement: ds}, nil
			})},
	)
	req, data, pixels := bigSample(t)
	out, err := fx.arc.Ingest(context.Background(), req, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Ingest() error = %v", err)
	}
	if got, _ := attrsSeen.Load().([]dicom.Tag); !slices.Equal(got, []dicom.Tag{dicom.SpecificCharacterSet, dicom.PatientID}) {
		t.Errorf("Attributes mode received %v", got)
	}
	if !slices.Equal(out.Coerced, []dicom.Tag{dicom.PixelData}) {
		t.Errorf("Coerced = %v", out.Coerced)
	}
	got := fx.stored(t, req.SOPInstanceUID).Dataset.Bytes(dicom.PixelData)
	for i := range pixels {
		if got[i] != 0xFF-pixels[i] {
			t.Fatalf("stored pixel byte %d = %d, want the replacement's", i, got[i])
		}
	}
}

// TestApplyPatchNested: paths into sequence items, explicit VRs, and
// refusals of File Meta Information and Pixel Data.
func TestApplyPatchNested(t *testing.T) {
	ds := dicom.NewDataset(4)
	item := dicom.NewDataset(1)
	if err := item.SetString(dicom.CodeValue, "A"); err != nil {
		t.Fatal(err)
	}
	ds.SetItems(dicom.ProcedureCodeSequence, item)
	p := sdk.NewPatch().Set("ProcedureCodeSequence[0].CodeValue", "B").Set("(0011,0010)", "ACME")
	p.Edits[1].VR = dicom.LO
	if err := ApplyPatch(ds, p); err != nil {
		t.Fatal(err)
	}
	if got := ds.Items(dicom.ProcedureCodeSequence)[0].String(dicom.CodeValue); got != "B" {
		t.Errorf("nested value = %q", got)
	}
	if got := ds.String(dicom.NewTag(0x0011, 0x0010)); got != "ACME" {
		t.Errorf("private creator = %q", got)
	}
	for _, path := range []string{"TransferSyntaxUID", "PixelData", "ProcedureCodeSequence", "(0011,1001)"} {
		if err := ApplyPatch(ds, sdk.NewPatch().Set(path, "1")); err == nil {
			t.Errorf("patch of %s accepted", path)
		}
	}
}
