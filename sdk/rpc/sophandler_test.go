package rpc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/plugintest"
)

type filterConfig struct {
	RequireAccession bool `hcl:"require_accession,optional"`
}

// filter rejects instances without an accession number, pseudonymises the
// patient's name, and records what it saw.
type filter struct {
	cfg  filterConfig
	mu   sync.Mutex
	seen []*sdk.StoreRequest
}

func (f *filter) Handle(_ context.Context, req *sdk.StoreRequest) (*sdk.Decision, error) {
	f.mu.Lock()
	f.seen = append(f.seen, req)
	f.mu.Unlock()
	switch {
	case req.Dataset.String(dicom.PatientID) == "error":
		return nil, fmt.Errorf("backend: %w", sdk.ErrUnavailable)
	case req.Dataset.String(dicom.PatientID) == "panic":
		panic("handler panics")
	case f.cfg.RequireAccession && req.Dataset.String(dicom.AccessionNumber) == "":
		d := sdk.Reject(0xA900, "AccessionNumber missing "+strings.Repeat("!", 100))
		d.OffendingTags = []dicom.Tag{dicom.AccessionNumber}
		return d, nil
	}
	return sdk.Modify(sdk.NewPatch().Set("PatientName", "ANON^"+req.Dataset.String(dicom.PatientID)).Delete("PatientBirthDate")), nil
}

func testDataset(t *testing.T, patientID, accession string) *dicom.Dataset {
	t.Helper()
	ds := dicom.NewDataset(8)
	for tag, v := range map[dicom.Tag]string{
		dicom.SpecificCharacterSet: "ISO_IR 192",
		dicom.PatientName:          "Müller^Jürgen",
		dicom.PatientID:            patientID,
		dicom.AccessionNumber:      accession,
		dicom.SOPInstanceUID:       "1.2.3.4",
	} {
		if err := ds.SetString(tag, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := ds.SetBytes(dicom.PixelData, dicom.OW, make([]byte, 200<<10)); err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestSOPHandler(t *testing.T) {
	ctx := context.Background()
	f := &filter{}
	spec := sdk.SOPHandlerSpec{SOPClasses: []string{"1.2.840.10008.5.1.4.1.1.2"}, Mode: sdk.Attributes, Attributes: []dicom.Tag{dicom.PatientID}}
	factory := func(_ context.Context, _ string, cfg *filterConfig) (sdk.SOPHandler, error) {
		f.cfg = *cfg
		return f, nil
	}
	c := plugintest.Start(t, sdk.Plugin{Name: "filter", Version: "0.1.0", SOPHandler: sdk.NewSOPHandler(factory, spec)})
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !info.Serves(sdk.KindSOPHandler) || info.SOPHandlerSpec == nil || info.SOPHandlerSpec.Mode != sdk.Attributes ||
		len(info.SOPHandlerSpec.SOPClasses) != 1 || len(info.SOPHandlerSpec.Attributes) != 1 || info.SOPHandlerSpec.Attributes[0] != dicom.PatientID {
		t.Fatalf("Info() = %+v (spec %+v)", info, info.SOPHandlerSpec)
	}
	cfg := cty.ObjectVal(map[string]cty.Value{"require_accession": cty.True})
	if err := c.Configure(ctx, sdk.KindSOPHandler, "research", cfg); err != nil {
		t.Fatal(err)
	}
	h := c.SOPHandler("research")
	req := func(ds *dicom.Dataset) *sdk.StoreRequest {
		return &sdk.StoreRequest{Service: "C-STORE", SOPClassUID: "1.2.840.10008.5.1.4.1.1.2", SOPInstanceUID: "1.2.3.4",
			CallingAE: "MODALITY", CalledAE: "FORGE", RemoteAddr: "127.0.0.1:5555", AssociationID: 7, MessageID: 3,
			TransferSyntaxUID: "1.2.840.10008.1.2.1", Dataset: sdk.Header(ds)}
	}

	d, err := h.Handle(ctx, req(testDataset(t, "P1", "A1")))
	if err != nil {
		t.Fatalf("Handle() error = %v", err)
	}
	if d.Action != sdk.ActionModify || d.Patch == nil || len(d.Patch.Edits) != 2 ||
		d.Patch.Edits[0].Path != "PatientName" || d.Patch.Edits[0].Values[0] != "ANON^P1" || !d.Patch.Edits[1].Delete {
		t.Fatalf("Handle() = %+v, patch %+v", d, d.Patch)
	}
	seen := f.seen[0]
	if seen.CallingAE != "MODALITY" || seen.AssociationID != 7 || seen.MessageID != 3 || seen.Instance != "research" || seen.Service != "C-STORE" {
		t.Errorf("handler saw %+v", seen)
	}
	if got := seen.Dataset.String(dicom.PatientName); got != "Müller^Jürgen" {
		t.Errorf("handler saw PatientName %q, want the UTF-8 name", got)
	}
	if seen.Dataset.Contains(dicom.PixelData) {
		t.Error("the header carried Pixel Data")
	}

	d, err = h.Handle(ctx, req(testDataset(t, "P2", "")))
	if err != nil {
		t.Fatalf("Handle() error = %v", err)
	}
	if d.Action != sdk.ActionReject || d.Status != 0xA900 || len(d.Comment) != sdk.MaxCommentLength ||
		len(d.OffendingTags) != 1 || d.OffendingTags[0] != dicom.AccessionNumber {
		t.Fatalf("Handle(no accession) = %+v", d)
	}
	if _, err := h.Handle(ctx, req(testDataset(t, "error", "A"))); !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("Handle(error) error = %v, want sdk.ErrUnavailable", err)
	}
	if _, err := h.Handle(ctx, req(testDataset(t, "panic", "A"))); err == nil {
		t.Fatal("Handle(panic) succeeded")
	}
	if _, err := h.Handle(ctx, req(testDataset(t, "P3", "A3"))); err != nil {
		t.Fatalf("Handle() after a panic: %v", err)
	}
	if _, err := c.SOPHandler("other").Handle(ctx, req(testDataset(t, "P4", "A4"))); !errors.Is(err, sdk.ErrNotConfigured) {
		t.Fatalf("Handle(unconfigured) error = %v", err)
	}
}

func TestHeaderAndSelect(t *testing.T) {
	ds := testDataset(t, "P", "A")
	big := bytes.Repeat([]byte("x"), sdk.HeaderThreshold+2)
	if err := ds.SetBytes(dicom.EncapsulatedDocument, dicom.OB, big); err != nil {
		t.Fatal(err)
	}
	h := sdk.Header(ds)
	if h.Contains(dicom.PixelData) || h.Contains(dicom.EncapsulatedDocument) || h.String(dicom.PatientID) != "P" {
		t.Errorf("Header() kept bulk data or lost PatientID")
	}
	s := sdk.Select(ds, []dicom.Tag{dicom.AccessionNumber})
	if s.Len() != 2 || s.String(dicom.AccessionNumber) != "A" {
		t.Errorf("Select() = %d elements", s.Len())
	}
}

type sweepConfig struct {
	Retention string `hcl:"retention"`
}

type sweep struct{ cfg sweepConfig }

func (s *sweep) Run(ctx context.Context, req *sdk.TaskRequest, progress func(sdk.TaskEvent)) (sdk.TaskResult, error) {
	if req.RunID == "block" {
		<-ctx.Done()
		return sdk.TaskResult{}, ctx.Err()
	}
	for i := range 3 {
		progress(sdk.TaskEvent{Done: int64(i + 1), Total: 3, Message: "swept"})
	}
	return sdk.TaskResult{Summary: fmt.Sprintf("%s run %s (%s) at %s", req.Kind, req.RunID, s.cfg.Retention, req.ScheduledAt.UTC().Format(time.RFC3339))}, nil
}

func TestTask(t *testing.T) {
	ctx := context.Background()
	factory := func(_ context.Context, _ string, cfg *sweepConfig) (sdk.Task, error) { return &sweep{cfg: *cfg}, nil }
	c := plugintest.Start(t, sdk.Plugin{Name: "tasks", Version: "1", Task: sdk.NewTask(factory, "cleanup", "audit")})
	info, err := c.Info(ctx)
	if err != nil || len(info.TaskKinds) != 2 || info.TaskKinds[0] != "cleanup" {
		t.Fatalf("Info() = %+v, %v", info, err)
	}
	if err := c.Configure(ctx, sdk.KindTask, "nightly", cty.ObjectVal(map[string]cty.Value{"retention": cty.StringVal("365d")})); err != nil {
		t.Fatal(err)
	}
	var events []sdk.TaskEvent
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	res, err := c.Task("nightly").Run(ctx, &sdk.TaskRequest{Kind: "cleanup", RunID: "r1", ScheduledAt: at}, func(ev sdk.TaskEvent) { events = append(events, ev) })
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	if want := "cleanup run r1 (365d) at 2026-01-02T03:04:05Z"; res.Summary != want {
		t.Errorf("Run() summary = %q, want %q", res.Summary, want)
	}
	if len(events) != 3 || events[2].Done != 3 || events[2].Total != 3 || events[2].Message != "swept" {
		t.Errorf("progress = %+v", events)
	}
	if _, err := c.Task("nightly").Run(ctx, &sdk.TaskRequest{Kind: "unknown", RunID: "r2"}, nil); err == nil {
		t.Error("Run(unknown kind) succeeded")
	}
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := c.Task("nightly").Run(cctx, &sdk.TaskRequest{Kind: "cleanup", RunID: "block"}, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run(blocking, deadline) error = %v, want context.DeadlineExceeded", err)
	}
}
