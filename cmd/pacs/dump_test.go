package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pacsforge/pacs/internal/peertest"
)

// runCmd runs a command function with captured output.
func runCmd(t *testing.T, run func([]string) int, args ...string) (code int, out, errOut string) {
	t.Helper()
	var o, e bytes.Buffer
	oldOut, oldErr := stdout, stderr
	stdout, stderr = &o, &e
	defer func() { stdout, stderr = oldOut, oldErr }()
	code = run(args)
	return code, o.String(), e.String()
}

func TestDump(t *testing.T) {
	root := peertest.TestData(t)
	ct := filepath.Join(root, "transfer-syntax/explicit-vr-le/CT_small.dcm")
	truncated := filepath.Join(root, "malformed/MR_truncated.dcm")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
		wantErr  []string
	}{
		{
			name:    "dcmdump layout",
			args:    []string{ct},
			wantOut: []string{"(0010,0010) PN [CompressedSamples^CT1]                  #  22, 1 PatientName", "# Used TransferSyntax: Explicit VR Little Endian"},
		},
		{
			name:    "header only",
			args:    []string{"-header", ct},
			wantOut: []string{"(0028,0010) US 128"},
		},
		{
			name:     "error names file and offset",
			args:     []string{truncated},
			wantCode: 1,
			wantErr:  []string{truncated, "offset 1488 (7fe0,0010)"},
		},
		{
			name:     "no file",
			args:     nil,
			wantCode: 2,
			wantErr:  []string{"usage: pacs dump"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, runDump, tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tc.wantCode, errOut)
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q", w)
				}
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
		})
	}
}

func TestDumpJSON(t *testing.T) {
	path := filepath.Join(peertest.TestData(t), "charset/chrH31.dcm")
	code, out, errOut := runCmd(t, runDump, "-json", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var obj map[string]struct {
		VR    string            `json:"vr"`
		Value []json.RawMessage `json:"Value"`
	}
	if err := json.Unmarshal([]byte(out), &obj); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	pn := obj["00100010"]
	if pn.VR != "PN" || len(pn.Value) != 1 || !strings.Contains(string(pn.Value[0]), `"Ideographic":"山田^太郎"`) {
		t.Errorf("PatientName = %+v", pn)
	}
}
