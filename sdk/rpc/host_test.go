package rpc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/plugintest"
)

// fakeHost is the archive's side of the host services in the test.
type fakeHost struct {
	mu   sync.Mutex
	logs []string
	blob []byte
}

func (h *fakeHost) ReadInstance(_ context.Context, uid string) (io.ReadCloser, error) {
	if uid != "1.2.3" {
		return nil, fmt.Errorf("instance %s: %w", uid, sdk.ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(h.blob)), nil
}

func (h *fakeHost) QueryIndex(_ context.Context, level string, keys *dicom.Dataset, limit int) ([]*dicom.Dataset, error) {
	var out []*dicom.Dataset
	for i := range limit {
		ds := dicom.NewDataset(2)
		ds.SetString(dicom.PatientID, keys.String(dicom.PatientID))
		ds.SetString(dicom.StudyInstanceUID, fmt.Sprintf("1.2.%d", i))
		out = append(out, ds)
	}
	return out, nil
}

func (h *fakeHost) Log(_ context.Context, level, msg string, fields map[string]string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.logs = append(h.logs, level+" "+msg+" "+fields["k"])
	return nil
}

// callback is a SOP handler that calls back into the host.
type callback struct{ configuredWithHost bool }

func (cb *callback) Handle(ctx context.Context, req *sdk.StoreRequest) (*sdk.Decision, error) {
	h := sdk.Host(ctx)
	if h == nil {
		return nil, errors.New("no host services")
	}
	rc, err := h.ReadInstance(ctx, req.SOPInstanceUID)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return nil, err
	}
	keys := dicom.NewDataset(1)
	keys.SetString(dicom.PatientID, "PID")
	rows, err := h.QueryIndex(ctx, "STUDY", keys, 3)
	if err != nil {
		return nil, err
	}
	if err := h.Log(ctx, "info", "checked", map[string]string{"k": "v"}); err != nil {
		return nil, err
	}
	return sdk.Reject(0xC000, fmt.Sprintf("%d bytes %d rows %s %v", len(b), len(rows), rows[2].String(dicom.StudyInstanceUID), cb.configuredWithHost)), nil
}

func TestHostCallbacks(t *testing.T) {
	ctx := context.Background()
	host := &fakeHost{blob: bytes.Repeat([]byte{7}, 3<<20+5)}
	factory := func(ctx context.Context, _ string, _ *struct{}) (sdk.SOPHandler, error) {
		return &callback{configuredWithHost: sdk.Host(ctx) != nil}, nil
	}
	c := plugintest.Start(t, sdk.Plugin{Name: "cb", Version: "1", SOPHandler: sdk.NewSOPHandler(factory, sdk.SOPHandlerSpec{})})
	if err := c.ServeHost(host); err != nil {
		t.Fatalf("ServeHost() error = %v", err)
	}
	if err := c.Configure(ctx, sdk.KindSOPHandler, "h", cty.NullVal(cty.DynamicPseudoType)); err != nil {
		t.Fatal(err)
	}
	d, err := c.SOPHandler("h").Handle(ctx, &sdk.StoreRequest{SOPInstanceUID: "1.2.3", Dataset: dicom.NewDataset(0)})
	if err != nil {
		t.Fatalf("Handle() error = %v", err)
	}
	if want := fmt.Sprintf("%d bytes 3 rows 1.2.2 true", 3<<20+5); d.Comment != want {
		t.Errorf("Handle() comment = %q, want %q", d.Comment, want)
	}
	if len(host.logs) != 1 || host.logs[0] != "info checked v" {
		t.Errorf("host logs = %q", host.logs)
	}
	_, err = c.SOPHandler("h").Handle(ctx, &sdk.StoreRequest{SOPInstanceUID: "9.9", Dataset: dicom.NewDataset(0)})
	if !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("Handle() reading a missing instance: error = %v, want sdk.ErrNotFound", err)
	}
}
