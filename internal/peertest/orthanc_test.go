package peertest

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

func TestStartOrthanc(t *testing.T) {
	o := StartOrthanc(t, OrthancOptions{Modalities: map[string]string{"FORGE": "127.0.0.1:11112"}})
	if o.AETitle != "ORTHANC" || o.DICOMPort == 0 || o.HTTPPort == 0 || o.DICOMPort == o.HTTPPort {
		t.Fatalf("StartOrthanc() = %+v, want AE ORTHANC and two distinct ports", o)
	}
	var modalities []string
	o.GetJSON(t, "/modalities", &modalities)
	if !slices.Equal(modalities, []string{"FORGE"}) {
		t.Errorf("GET /modalities = %v, want [FORGE]", modalities)
	}
	if got := o.Instances(t); len(got) != 0 {
		t.Fatalf("fresh Orthanc holds %v", got)
	}

	file := filepath.Join(PydicomTestFiles, "CT_small.dcm")
	if files := TestDataFiles(t, TestData(t)); len(files) > 0 {
		for _, f := range files {
			if filepath.Base(f) == "CT_small.dcm" {
				file = f
			}
		}
	}
	id := o.Upload(t, file)
	if got := o.InstancesDetail(t); len(got) != 1 || got[0].ID != id || got[0].SOPInstanceUID == "" {
		t.Fatalf("after Upload: %+v, want one instance %s", got, id)
	}
	if len(o.File(t, id)) < 132 {
		t.Fatalf("File(%s) is too short", id)
	}
	if got := o.Studies(t); len(got) != 1 {
		t.Fatalf("Studies() = %v, want one", got)
	}

	if _, err := exec.LookPath("echoscu"); err == nil {
		cmd := exec.Command("echoscu", "-aec", o.AETitle, "127.0.0.1", strconv.Itoa(o.DICOMPort))
		SetNoDelay(cmd)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("echoscu to Orthanc: %v\n%s", err, out)
		}
	}
}

func TestStartOrthancTwice(t *testing.T) {
	a := StartOrthanc(t, OrthancOptions{AETitle: "FIRST"})
	b := StartOrthanc(t, OrthancOptions{AETitle: "SECOND"})
	if a.DICOMPort == b.DICOMPort || a.HTTPPort == b.HTTPPort || a.Dir == b.Dir {
		t.Fatalf("two Orthancs share ports or a directory: %+v %+v", a, b)
	}
}
