package part10

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/codec"
	"github.com/pacsforge/pacs/core/dicom/dump"
	"github.com/pacsforge/pacs/internal/peertest"
)

// dumpLine is one element as dcmdump prints it: nesting depth, tag, VR and
// value (items of sequences and pixel fragments included, delimiters not).
type dumpLine struct {
	depth int
	tag   dicom.Tag
	vr    string
	value string
}

func (l dumpLine) String() string {
	v := l.value
	if len(v) > 80 {
		v = v[:80] + "..."
	}
	return fmt.Sprintf("%*s%s %s %s", 2*l.depth, "", l.tag, l.vr, v)
}

var dcmdumpLine = regexp.MustCompile(`^( *)\(([0-9a-f]{4}),([0-9a-f]{4})\) (\S\S) (.*?) *# +(u/l|\d+|\?+), *(\d+) (.*)$`)

// dcmdumpElements runs dcmdump on path and returns its elements, or ok false
// when dcmdump rejects the file.
func dcmdumpElements(t *testing.T, path string, extra ...string) (lines []dumpLine, ok bool) {
	t.Helper()
	args := append([]string{"-Un", "+L", "+Qo"}, extra...)
	cmd := exec.Command("dcmdump", append(args, path)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || strings.Contains(stderr.String(), "E: ") || strings.Contains(stderr.String(), "F: ") {
		return nil, false
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		m := dcmdumpLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		g, _ := strconv.ParseUint(m[2], 16, 16)
		e, _ := strconv.ParseUint(m[3], 16, 16)
		tag := dicom.NewTag(uint16(g), uint16(e))
		if tag == dicom.ItemDelimitationItemTag || tag == dicom.SequenceDelimitationItemTag {
			continue
		}
		val := m[5]
		switch {
		case val == "(no value available)":
			val = ""
		case strings.HasPrefix(val, "(Sequence with"), strings.HasPrefix(val, "(PixelSequence"),
			tag == dicom.ItemTag && m[4] == "na" && strings.Contains(val, "#="):
			val = "#=" + strings.TrimSuffix(val[strings.LastIndex(val, "#=")+2:], ")")
		case strings.HasPrefix(val, "[") && strings.HasSuffix(val, "]"):
			val = val[1 : len(val)-1]
		}
		lines = append(lines, dumpLine{depth: len(m[1]) / 2, tag: tag, vr: m[4], value: val})
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading dcmdump output: %v", err)
	}
	return lines, true
}

// ourElements flattens a data set the way dcmdumpElements does.
func ourElements(ds *dicom.Dataset, depth int, tc dicom.TextCodec, out []dumpLine) []dumpLine {
	for e := range ds.All() {
		switch {
		case e.IsSequence():
			out = append(out, dumpLine{depth: depth, tag: e.Tag, vr: e.VR.String(), value: fmt.Sprintf("#=%d", len(e.Items))})
			for _, it := range e.Items {
				out = append(out, dumpLine{depth: depth + 1, tag: dicom.ItemTag, vr: "na", value: fmt.Sprintf("#=%d", it.Len())})
				out = ourElements(it, depth+2, tc, out)
			}
		case e.Fragments != nil:
			out = append(out, dumpLine{depth: depth, tag: e.Tag, vr: e.VR.String(), value: fmt.Sprintf("#=%d", len(e.Fragments.Items)+1)})
			for _, f := range append([][]byte{e.Fragments.OffsetTable}, e.Fragments.Items...) {
				fe := dicom.Element{VR: dicom.OB, Value: f}
				out = append(out, dumpLine{depth: depth + 1, tag: dicom.ItemTag, vr: "pi", value: dump.Value(&fe, nil, true)})
			}
		default:
			out = append(out, dumpLine{depth: depth, tag: e.Tag, vr: e.VR.String(), value: dump.Value(e, nil, true)})
		}
	}
	return out
}

// sameValue compares a value as dcmdump printed it with ours: floats
// numerically (dcmdump prints them with its own precision), text exactly
// after the trailing-space trimming both apply.
func sameValue(vr, a, b string) bool {
	if a == b {
		return true
	}
	switch vr {
	case "OB", "UN", "??", "ox", "pi":
		// dcmtk pads an odd-length binary value with a zero byte when it
		// loads it; we keep the value as read.
		return a == b+`\00` || b == a+`\00`
	case "FL", "FD", "OF", "OD":
		as, bs := strings.Split(a, `\`), strings.Split(b, `\`)
		if len(as) != len(bs) {
			return false
		}
		for i := range as {
			x, err1 := strconv.ParseFloat(as[i], 64)
			y, err2 := strconv.ParseFloat(bs[i], 64)
			if err1 != nil || err2 != nil {
				if as[i] != bs[i] && !(strings.EqualFold(as[i], bs[i])) {
					return false
				}
				continue
			}
			if x != y && math.Abs(x-y) > 1e-6*math.Max(math.Abs(x), math.Abs(y)) && !(math.IsNaN(x) && math.IsNaN(y)) {
				return false
			}
		}
		return true
	}
	return strings.TrimRight(a, " ") == strings.TrimRight(b, " ")
}

func compareLines(t *testing.T, name string, got, want []dumpLine) {
	t.Helper()
	n := min(len(got), len(want))
	for i := 0; i < n; i++ {
		g, w := got[i], want[i]
		if g.depth != w.depth || g.tag != w.tag || !sameVR(g.vr, w.vr) || !sameValue(w.vr, g.value, w.value) {
			lo := max(0, i-3)
			t.Errorf("%s: element %d differs:\n got  %v\n want %v\ncontext (got):\n%v\ncontext (want):\n%v", name, i, g, w,
				lineList(got[lo:min(len(got), i+3)]), lineList(want[lo:min(len(want), i+3)]))
			return
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d elements, dcmdump has %d (first extra: %v)", name, len(got), len(want), extra(got, want, n))
	}
}

func lineList(ls []dumpLine) string {
	var sb strings.Builder
	for _, l := range ls {
		sb.WriteString("    " + l.String() + "\n")
	}
	return sb.String()
}

// sameVR compares our VR with dcmdump's, which spells some VRs by its
// internal codes: "up" (a UL offset), "xs" (US or SS), "ox" (OB or OW),
// "lt" (US, SS or OW) and "??" (unknown, written as UN).
func sameVR(ours, theirs string) bool {
	switch theirs {
	case "up":
		return ours == "UL"
	case "xs":
		return ours == "US" || ours == "SS"
	case "ox":
		return ours == "OB" || ours == "OW"
	case "lt":
		return ours == "US" || ours == "SS" || ours == "OW"
	case "??":
		return ours == "UN"
	}
	return ours == theirs
}

func extra(got, want []dumpLine, n int) dumpLine {
	if len(got) > n {
		return got[n]
	}
	return want[n]
}

// dcmdumpOptions gives the dcmdump options for files that dcmdump reads only
// when told their encoding, as the corpus README notes.
var dcmdumpOptions = map[string][]string{}

// TestMatchesDcmdump parses every file of the corpus and compares the elements
// (tag, VR, value; items and fragments included) with what dcmdump prints,
// then checks that each file survives read → write → read unchanged, in its
// own syntax and converted to Explicit VR Little Endian.
func TestMatchesDcmdump(t *testing.T) {
	peertest.Need(t, "dcmdump")
	root := peertest.TestData(t)
	files := peertest.TestDataFiles(t, root)
	var parsed, rejected int
	for _, path := range files {
		rel, _ := filepath.Rel(root, path)
		t.Run(rel, func(t *testing.T) {
			want, ok := dcmdumpElements(t, path, dcmdumpOptions[rel]...)
			f, err := ReadFile(path, WithoutCharset())
			if !ok {
				rejected++
				if err == nil {
					t.Errorf("dcmdump rejects %s; we read it (%d elements) without error", rel, f.Dataset.Len())
					return
				}
				if !strings.Contains(err.Error(), path) {
					t.Errorf("error for %s does not name the file: %v", rel, err)
				}
				t.Logf("dcmdump rejects %s; so do we: %v", rel, err)
				return
			}
			if err != nil {
				t.Fatalf("dcmdump parses %s, we fail: %v", rel, err)
			}
			parsed++
			got := ourElements(f.Meta, 0, nil, nil)
			got = ourElements(f.Dataset, 0, nil, got)
			compareLines(t, rel, got, want)
			roundTrip(t, rel, f)
		})
	}
	t.Logf("%d files: %d parsed by dcmdump and compared, %d rejected by dcmdump", len(files), parsed, rejected)
}

// roundTrip writes f in its own syntax and in Explicit VR Little Endian and
// checks the data set reads back to the same elements.
func roundTrip(t *testing.T, name string, f *File) {
	t.Helper()
	want := ourElements(f.Dataset, 0, nil, nil)
	for _, s := range []codec.Syntax{f.Syntax, codec.ExplicitVRLittleEndian} {
		if s.Encapsulated && s.UID != f.Syntax.UID {
			continue
		}
		var buf bytes.Buffer
		out := *f
		out.Syntax = s
		if err := Write(&buf, &out); err != nil {
			t.Errorf("%s: write in %s: %v", name, s.UID, err)
			continue
		}
		back, err := ReadBytes(buf.Bytes(), WithoutCharset())
		if err != nil {
			t.Errorf("%s: read back from %s: %v", name, s.UID, err)
			continue
		}
		if got := TransferSyntaxUID(back.Meta); got != s.UID {
			t.Errorf("%s: written transfer syntax %q, want %q", name, got, s.UID)
		}
		got := ourElements(back.Dataset, 0, nil, nil)
		compareLines(t, name+" → "+s.UID, got, want)
	}
}
