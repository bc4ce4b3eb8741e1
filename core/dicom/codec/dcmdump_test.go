package codec

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
)

// TestMatchesDcmdump compares the elements (tag and VR, in file order, all
// nesting levels) of every corpus file that dcmdump parses with what the
// Reader decodes.
func TestMatchesDcmdump(t *testing.T) {
	if testing.Short() {
		t.Skip("runs dcmdump on the whole corpus")
	}
	bin, err := exec.LookPath("dcmdump")
	if err != nil {
		t.Skip("dcmdump (dcmtk) is not installed")
	}
	root := testdataDir(t)
	for _, cf := range corpus(t) {
		t.Run(cf.name, func(t *testing.T) {
			out, err := exec.Command(bin, "-q", "+E", filepath.Join(root, cf.name)).Output()
			if err != nil || bytes.Contains(out, []byte("E: ")) {
				t.Skip("dcmdump does not parse this file")
			}
			want := dcmdumpElements(out)
			ds, err := ReadDataset(cf.body, cf.syntax)
			if err != nil {
				t.Fatalf("ReadDataset() error = %v; dcmdump parses it", err)
			}
			var got []string
			flatten(ds, &got)
			if len(want) == 0 {
				t.Skip("dcmdump shows no data set (elements taken into the meta header)")
			}
			if len(got) != len(want) || !sameLines(got, want) {
				for i := 0; i < max(len(got), len(want)); i++ {
					var g, w string
					if i < len(got) {
						g = got[i]
					}
					if i < len(want) {
						w = want[i]
					}
					if !sameLine(g, w) {
						t.Fatalf("element %d: got %q, dcmdump %q (got %d elements, dcmdump %d)", i, g, w, len(got), len(want))
					}
				}
			}
		})
	}
}

// dcmdumpElements lists "tag VR" for each element line of the data set part
// of a dcmdump output, items and delimiters excluded.
func dcmdumpElements(out []byte) []string {
	var list []string
	inData := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "# Dicom-Data-Set") {
			inData = true
			continue
		}
		if !inData || len(line) < 14 || line[0] != '(' || strings.HasPrefix(line, "(fffe,") {
			continue
		}
		vr := line[12:14]
		switch vr {
		case "up":
			vr = "UL"
		case "ox":
			vr = "OB"
		case "??":
			vr = "UN" // dcmtk's name for an unknown tag read in implicit VR
		}
		list = append(list, line[:11]+" "+vr)
	}
	return list
}

func sameLines(got, want []string) bool {
	for i := range got {
		if !sameLine(got[i], want[i]) {
			return false
		}
	}
	return true
}

// sameLine compares "tag VR"; dcmdump's "xs" (US or SS) matches either.
func sameLine(got, want string) bool {
	if strings.HasSuffix(want, " xs") {
		return got == want[:len(want)-2]+"US" || got == want[:len(want)-2]+"SS"
	}
	return got == want
}

// flatten lists "tag VR" for the elements of ds in pre-order.
func flatten(ds *dicom.Dataset, out *[]string) {
	for e := range ds.All() {
		*out = append(*out, e.Tag.String()+" "+e.VR.String())
		for _, it := range e.Items {
			flatten(it, out)
		}
	}
}
