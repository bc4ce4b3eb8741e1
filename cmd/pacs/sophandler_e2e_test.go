package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/core/plugin"
	"github.com/pacsforge/pacs/internal/peertest"
)

// TestSOPHandlerPlugin: pacs serve with the sample research-filter plugin
// (examples/sop-handler-research) bound by a sop_handler block. dcmtk's
// storescu sends three instances: one without an Accession Number is
// refused with A900 and the handler's comment; one from a research AE is
// stored pseudonymised, and storescu is told so (B000, coercion); two from
// another AE are stored as sent, and for the second the handler learns
// from the archive (host services) that the patient has a prior study.
// pacs verify finds nothing wrong.
func TestSOPHandlerPlugin(t *testing.T) {
	peertest.Need(t, "storescu")
	bin := buildPacs(t)
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go"
	}
	pluginBin := filepath.Join(t.TempDir(), "pacs-plugin-research-filter")
	if out, err := exec.Command(goBin, "build", "-o", pluginBin, "../../examples/sop-handler-research").CombinedOutput(); err != nil {
		t.Fatalf("go build of the sample plugin: %v\n%s", err, out)
	}
	sum, err := plugin.FileSHA256(pluginBin)
	if err != nil {
		t.Fatal(err)
	}

	src, _ := explicitImage(t, 0)
	dir := t.TempDir()
	files := syntheticCopies(t, src, dir, "in", 4)
	if err := files[0].ds.SetString(dicom.AccessionNumber, ""); err != nil {
		t.Fatal(err)
	}
	for _, f := range files[1:] {
		if err := f.ds.SetString(dicom.AccessionNumber, "ACC1"); err != nil {
			t.Fatal(err)
		}
		if err := f.ds.SetString(dicom.PatientID, "PID-42"); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		writeSendable(t, f)
	}

	dataDir := t.TempDir()
	cfgPath := writeServeConfig(t, dataDir, freePort(t), freePort(t))
	site := fmt.Sprintf(`
plugin "research-filter" {
  path   = %q
  sha256 = %q
}

sop_handler "research" {
  plugin = "research-filter"
  config {
    require_accession = true
    research_aes      = ["RESEARCH"]
    salt              = "a salt for the test, long enough"
    report_priors     = true
  }
}
`, pluginBin, sum)
	f, err := os.OpenFile(cfgPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(site); err != nil {
		t.Fatal(err)
	}
	f.Close()
	p := startPacs(t, bin, cfgPath)

	store := func(ae string, f sendable) string {
		t.Helper()
		cmd := exec.Command("storescu", "-d", "-aet", ae, "-aec", "FORGE", "127.0.0.1", fmt.Sprint(p.dicomPort), f.path)
		peertest.SetNoDelay(cmd)
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	// storescu -d dumps each response: its status and Error Comment.
	if out := store("CT1", files[0]); !strings.Contains(strings.ToLower(out), "dimse status                  : 0xa900") {
		t.Errorf("storescu of an instance without Accession Number: no A900 status\n%s", out)
	} else if !strings.Contains(out, "AccessionNumber missing") {
		t.Errorf("the handler's comment did not reach storescu\n%s", out)
	}
	if out := store("RESEARCH", files[1]); !strings.Contains(strings.ToLower(out), "dimse status                  : 0xb000") {
		t.Errorf("storescu from the research AE: no B000 (coercion) status\n%s", out)
	}
	for _, f := range files[2:] { // two studies of one patient
		if out := store("CT1", f); !strings.Contains(out, "DIMSE Status                  : 0x0000: Success") {
			t.Errorf("storescu from another AE: not stored\n%s", out)
		}
	}
	p.stop(t)

	ctx := context.Background()
	ix, err := index.Open(ctx, filepath.Join(dataDir, indexFileName), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if _, err := ix.Instance(ctx, files[0].inst); err == nil {
		t.Error("the refused instance is indexed")
	}
	anon, err := ix.Attributes(ctx, files[1].inst)
	if err != nil {
		t.Fatalf("the research instance is not indexed: %v", err)
	}
	name, id := anon.String(dicom.PatientName), anon.String(dicom.PatientID)
	if !strings.HasPrefix(name, "ANON^") || len(id) != 16 || id == "PID-42" || anon.Contains(dicom.PatientBirthDate) {
		t.Errorf("research instance stored as PatientName %q, PatientID %q", name, id)
	}
	kept, err := ix.Attributes(ctx, files[2].inst)
	if err != nil {
		t.Fatalf("the other instance is not indexed: %v", err)
	}
	if got := kept.String(dicom.PatientID); got != "PID-42" {
		t.Errorf("the other AE's instance was changed: PatientID %q", got)
	}
	// The handler asked the archive for the patient's studies through the
	// host services and logged the answer through them.
	if !strings.Contains(p.log.String(), "prior studies of the patient") || !strings.Contains(p.log.String(), "count=1") {
		t.Errorf("no report of prior studies through the host services in the log:\n%s", p.log.String())
	}
	if strings.Contains(p.log.String(), "a salt for the test") {
		t.Error("the plugin's secret salt appears in the log")
	}
	ix.Close()
	if out, err := exec.Command(bin, "verify", "--data-dir", dataDir).CombinedOutput(); err != nil {
		t.Errorf("pacs verify: %v\n%s", err, out)
	}
}
