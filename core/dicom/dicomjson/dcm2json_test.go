package dicomjson

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/charset"
	"github.com/pacsforge/pacs/core/dicom/codec"
	"github.com/pacsforge/pacs/internal/peertest"
)

// readPart10 reads a Part 10 file's data set with the codec package, decoding
// text through package charset.
func readPart10(t *testing.T, path string) *dicom.Dataset {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skip(err)
	}
	if len(b) < 144 || string(b[128:132]) != "DICM" || string(b[132:136]) != "\x02\x00\x00\x00" {
		t.Skipf("%s: no preamble and meta group length", path)
	}
	end := 144 + int(binary.LittleEndian.Uint32(b[140:]))
	meta, err := codec.ReadDataset(b[132:end], codec.ExplicitVRLittleEndian)
	if err != nil {
		t.Fatal(err)
	}
	syntax := map[string]codec.Syntax{
		codec.ExplicitVRLittleEndian.UID: codec.ExplicitVRLittleEndian,
		codec.ImplicitVRLittleEndian.UID: codec.ImplicitVRLittleEndian,
	}
	s, ok := syntax[meta.String(0x00020010)]
	if !ok {
		t.Skipf("%s: transfer syntax %s not used in this comparison", path, meta.String(0x00020010))
	}
	ds, err := codec.ReadDataset(b[end:], s, codec.WithCharset(func(terms []string) (dicom.TextCodec, error) {
		c, err := charset.New(terms)
		if err != nil {
			return nil, err
		}
		return c, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// TestMatchesDcm2json compares our JSON with dcmtk's dcm2json, attribute by
// attribute, after parsing both. Accepted differences:
//
//   - dcm2json sets (0008,0005) to "ISO_IR 192" (its output is UTF-8); we keep
//     the data set's value;
//   - numbers are compared as values, not as written (dcm2json copies DS text,
//     we normalise it; it writes FL with nine digits, we write the shortest
//     form that reads back as the same float32), FL at float32 precision;
//   - dcm2json drops a person name made only of separators ("^^^^"); we keep it;
//   - an empty value may be null on one side and an empty string on the other;
//   - group lengths and the file meta group are not compared.
func TestMatchesDcm2json(t *testing.T) {
	if _, err := exec.LookPath("dcm2json"); err != nil {
		t.Skip("dcm2json (dcmtk) not installed")
	}
	dir := peertest.TestData(t)
	files := []string{
		"transfer-syntax/explicit-vr-le/CT_small.dcm",
		"transfer-syntax/explicit-vr-le/MR_small.dcm",
		"sequences/reportsi.dcm",
		"charset/chrFren.dcm",
		"charset/chrRuss.dcm",
		"charset/chrH31.dcm",
		"rt/rtplan.dcm",
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			path := filepath.Join(dir, f)
			if _, err := os.Stat(path); err != nil {
				path = filepath.Join(dir, filepath.Base(f)) // pydicom's flat layout
			}
			ds := readPart10(t, path)
			ours, err := Marshal(ds, Options{})
			if err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("dcm2json", path).Output()
			if err != nil {
				t.Skipf("dcm2json %s: %v", path, err)
			}
			var got, want map[string]any
			if err := decodeNumbers(ours, &got); err != nil {
				t.Fatalf("our output is not JSON: %v", err)
			}
			if err := decodeNumbers(out, &want); err != nil {
				t.Fatalf("dcm2json output is not JSON: %v", err)
			}
			for _, d := range compareObjects("", got, want) {
				t.Error(d)
			}
			// And it reads back into the same elements.
			back, err := Unmarshal(ours)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := Marshal(back, Options{})
			if !json.Valid(again) {
				t.Error("re-encoded JSON invalid")
			}
		})
	}
}

func decodeNumbers(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

// compareObjects lists the differences between two DICOM JSON objects.
func compareObjects(path string, got, want map[string]any) []string {
	var diffs []string
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	for k := range keys {
		if strings.HasPrefix(k, "0002") || strings.HasSuffix(k, "0000") || k == "00080005" {
			continue
		}
		g, gok := got[k].(map[string]any)
		w, wok := want[k].(map[string]any)
		if !gok || !wok {
			diffs = append(diffs, fmt.Sprintf("%s%s: present in ours %v, in dcm2json %v", path, k, gok, wok))
			continue
		}
		if g["vr"] != w["vr"] {
			diffs = append(diffs, fmt.Sprintf("%s%s: vr %v, dcm2json %v", path, k, g["vr"], w["vr"]))
			continue
		}
		if gi, wi := g["InlineBinary"], w["InlineBinary"]; gi != nil || wi != nil {
			gb, _ := base64.StdEncoding.DecodeString(fmt.Sprint(gi))
			wb, _ := base64.StdEncoding.DecodeString(fmt.Sprint(wi))
			if !bytes.Equal(bytes.TrimRight(gb, "\x00"), bytes.TrimRight(wb, "\x00")) {
				diffs = append(diffs, fmt.Sprintf("%s%s: InlineBinary differs (%d and %d bytes)", path, k, len(gb), len(wb)))
			}
			continue
		}
		gv, _ := g["Value"].([]any)
		wv, _ := w["Value"].([]any)
		if g["vr"] == "SQ" {
			if len(gv) != len(wv) {
				diffs = append(diffs, fmt.Sprintf("%s%s: %d items, dcm2json %d", path, k, len(gv), len(wv)))
				continue
			}
			for i := range gv {
				gi, _ := gv[i].(map[string]any)
				wi, _ := wv[i].(map[string]any)
				diffs = append(diffs, compareObjects(fmt.Sprintf("%s%s/%d/", path, k, i), gi, wi)...)
			}
			continue
		}
		if g["vr"] == "FL" {
			for i := range min(len(gv), len(wv)) {
				if gn, ok := number(gv[i]); ok {
					gv[i] = json.Number(strconv.FormatFloat(float64(float32(gn)), 'g', -1, 32))
				}
				if wn, ok := number(wv[i]); ok {
					wv[i] = json.Number(strconv.FormatFloat(float64(float32(wn)), 'g', -1, 32))
				}
			}
		}
		if g["vr"] == "PN" {
			gv = dropSeparatorNames(gv)
		}
		if !equalValues(gv, wv) {
			diffs = append(diffs, fmt.Sprintf("%s%s (%v): %v, dcm2json %v", path, k, g["vr"], gv, wv))
		}
	}
	return diffs
}

func equalValues(g, w []any) bool {
	if len(g) != len(w) {
		return allEmpty(g) && allEmpty(w)
	}
	for i := range g {
		if !equalValue(g[i], w[i]) {
			return false
		}
	}
	return true
}

func allEmpty(v []any) bool {
	for _, x := range v {
		if x != nil && x != "" {
			return false
		}
	}
	return true
}

func equalValue(g, w any) bool {
	if (g == nil || g == "") && (w == nil || w == "") {
		return true
	}
	gn, gok := number(g)
	wn, wok := number(w)
	if gok && wok {
		return gn == wn
	}
	return reflect.DeepEqual(g, w)
}

func number(v any) (float64, bool) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = string(x)
	case string:
		s = strings.TrimSpace(x)
	default:
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// dropSeparatorNames replaces person names made only of '^' by null.
func dropSeparatorNames(v []any) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
		if m, ok := x.(map[string]any); ok {
			empty := true
			for _, g := range m {
				if strings.Trim(fmt.Sprint(g), "^") != "" {
					empty = false
				}
			}
			if empty {
				out[i] = nil
			}
		}
	}
	return out
}
