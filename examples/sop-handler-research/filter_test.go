package main

import (
	"context"
	"errors"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/plugintest"
)

// header is a minimal instance header.
func header(t *testing.T, accession string) *dicom.Dataset {
	t.Helper()
	ds := dicom.NewDataset(8)
	for tag, v := range map[dicom.Tag]string{
		dicom.SOPClassUID: "1.2.840.10008.5.1.4.1.1.2", dicom.SOPInstanceUID: "1.2.3.4.5",
		dicom.PatientName: "Doe^Jane", dicom.PatientID: "P-1", dicom.PatientBirthDate: "19700101",
		dicom.AccessionNumber: accession,
	} {
		if err := ds.SetString(tag, v); err != nil {
			t.Fatal(err)
		}
	}
	return ds
}

// TestFilterThroughPlugin runs the plugin in process over the plugin
// protocol, as the archive would: an instance without an Accession Number
// is refused with A900; a research AE's instance is pseudonymised, stably;
// another AE's is accepted as it is; a short salt is refused at its
// attribute.
func TestFilterThroughPlugin(t *testing.T) {
	ctx := context.Background()
	c := plugintest.Start(t, sdk.Plugin{Name: "research-filter", Version: "test",
		SOPHandler: sdk.NewSOPHandler(newFilter, sdk.SOPHandlerSpec{Mode: sdk.HeaderOnly})})
	cfg := cty.ObjectVal(map[string]cty.Value{
		"require_accession": cty.True,
		"research_aes":      cty.ListVal([]cty.Value{cty.StringVal("RESEARCH")}),
		"salt":              cty.StringVal("a salt of twenty chars"),
	})
	if err := c.Configure(ctx, sdk.KindSOPHandler, "research", cfg); err != nil {
		t.Fatalf("Configure() error = %v", err)
	}
	h := c.SOPHandler("research")
	handle := func(ae, accession string) *sdk.Decision {
		t.Helper()
		d, err := h.Handle(ctx, &sdk.StoreRequest{CallingAE: ae, SOPClassUID: "1.2.840.10008.5.1.4.1.1.2",
			SOPInstanceUID: "1.2.3.4.5", Dataset: header(t, accession)})
		if err != nil {
			t.Fatalf("Handle() error = %v", err)
		}
		return d
	}
	if d := handle("CT1", ""); d.Action != sdk.ActionReject || d.Status != 0xA900 || d.Comment != "AccessionNumber missing" {
		t.Errorf("without an Accession Number: %+v", d)
	}
	if d := handle("CT1", "A1"); d.Action != sdk.ActionAccept {
		t.Errorf("another AE: %+v", d)
	}
	d := handle("RESEARCH", "A1")
	if d.Action != sdk.ActionModify || d.Patch == nil {
		t.Fatalf("research AE: %+v", d)
	}
	got := map[string]sdk.Edit{}
	for _, e := range d.Patch.Edits {
		got[e.Path] = e
	}
	name, id := got["PatientName"], got["PatientID"]
	if len(id.Values) != 1 || len(id.Values[0]) != 16 || name.Values[0] != "ANON^"+id.Values[0] || !got["PatientBirthDate"].Delete {
		t.Errorf("patch %+v", d.Patch.Edits)
	}
	if again := handle("RESEARCH", "A2"); again.Patch.Edits[1].Values[0] != id.Values[0] {
		t.Error("the same patient got two pseudonyms")
	}

	err := c.Configure(ctx, sdk.KindSOPHandler, "weak", cty.ObjectVal(map[string]cty.Value{
		"research_aes": cty.ListVal([]cty.Value{cty.StringVal("RESEARCH")}),
		"salt":         cty.StringVal("short"),
	}))
	var ce *sdk.ConfigError
	if !errors.As(err, &ce) || ce.Path != "salt" {
		t.Errorf("Configure() with a short salt: error = %v, want a ConfigError at salt", err)
	}
}
