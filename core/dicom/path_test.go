package dicom

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

var (
	spsSeq      = NewTag(0x0040, 0x0100) // Scheduled Procedure Step Sequence
	modalityTag = NewTag(0x0008, 0x0060)
	codeSeq     = NewTag(0x0040, 0x0008) // Scheduled Protocol Code Sequence
	codeValue   = NewTag(0x0008, 0x0100)
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		name    string
		expr    string
		want    string // canonical form
		wantErr bool
	}{
		{name: "tag", expr: "(0010,0010)", want: "(0010,0010)"},
		{name: "keyword", expr: "PatientName", want: "(0010,0010)"},
		{name: "bare hex", expr: "00100010", want: "(0010,0010)"},
		{name: "comma form", expr: "0010,0010", want: "(0010,0010)"},
		{name: "upper-case hex", expr: "(7FE0,0010)", want: "(7fe0,0010)"},
		{name: "nested", expr: "(0040,0100)[0].(0008,0060)", want: "(0040,0100)[0].(0008,0060)"},
		{name: "nested bare", expr: "00400100[2].00080060", want: "(0040,0100)[2].(0008,0060)"},
		{name: "no index", expr: "(0040,0100).(0008,0060)", want: "(0040,0100).(0008,0060)"},
		{name: "mixed", expr: "00400100[1].(0040,0008)[0].SOPInstanceUID", want: "(0040,0100)[1].(0040,0008)[0].(0008,0018)"},
		{name: "private", expr: "(0009,1001)[3].(0029,1010)", want: "(0009,1001)[3].(0029,1010)"},
		{name: "ends in item", expr: "(0040,0100)[12]", want: "(0040,0100)[12]"},
		{name: "empty", expr: "", wantErr: true},
		{name: "dot only", expr: ".", wantErr: true},
		{name: "empty segment", expr: "PatientName..PatientID", wantErr: true},
		{name: "trailing dot", expr: "PatientName.", wantErr: true},
		{name: "unknown keyword", expr: "NoSuchKeyword", wantErr: true},
		{name: "private keyword form", expr: "CSAImageHeaderInfo", wantErr: true},
		{name: "unclosed index", expr: "(0040,0100)[0", wantErr: true},
		{name: "empty index", expr: "(0040,0100)[]", wantErr: true},
		{name: "negative index", expr: "(0040,0100)[-1]", wantErr: true},
		{name: "plus index", expr: "(0040,0100)[+1]", wantErr: true},
		{name: "two indexes", expr: "(0040,0100)[0][1]", wantErr: true},
		{name: "huge index", expr: "(0040,0100)[99999999999]", wantErr: true},
		{name: "index only", expr: "[0]", wantErr: true},
		{name: "short tag", expr: "(0010,001)", wantErr: true},
		{name: "space", expr: " PatientName", wantErr: true},
		{name: "too deep", expr: strings.Repeat("(0040,0100).", MaxWalkDepth) + "PatientName", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePath(tc.expr)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalidPath) {
					t.Fatalf("ParsePath(%q) = %v, %v, want ErrInvalidPath", tc.expr, p, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePath(%q): %v", tc.expr, err)
			}
			if got := p.String(); got != tc.want {
				t.Fatalf("ParsePath(%q).String() = %q, want %q", tc.expr, got, tc.want)
			}
		})
	}
}

func TestParsePathErrorNamesSegment(t *testing.T) {
	_, err := ParsePath("PatientName.(0040,0100)[x]")
	if err == nil || !strings.Contains(err.Error(), `segment 1 "(0040,0100)[x]"`) {
		t.Fatalf("error %v does not name segment 1", err)
	}
}

// worklistItem returns a data set with a Scheduled Procedure Step Sequence of
// the given modalities, each item holding one code sequence item.
func worklistItem(t testing.TB, modalities ...string) *Dataset {
	ds := &Dataset{}
	ds.Put(mustElement(t, PatientName, PN, "Doe^John"))
	items := make([]*Dataset, len(modalities))
	for i, m := range modalities {
		it := &Dataset{}
		it.Put(mustElement(t, modalityTag, CS, m))
		code := &Dataset{}
		code.Put(mustElement(t, codeValue, SH, fmt.Sprintf("P%d", i)))
		it.SetItems(codeSeq, code)
		items[i] = it
	}
	ds.SetItems(spsSeq, items...)
	return ds
}

func TestDatasetPath(t *testing.T) {
	ds := worklistItem(t, "MR", "CT")
	tests := []struct {
		name    string
		expr    string
		want    string
		wantErr error
		segment string // named in the error
	}{
		{name: "top level keyword", expr: "PatientName", want: "Doe^John"},
		{name: "item 1", expr: "(0040,0100)[1].(0008,0060)", want: "CT"},
		{name: "no index means 0", expr: "(0040,0100).(0008,0060)", want: "MR"},
		{name: "bare hex", expr: "00400100[1].00080060", want: "CT"},
		{name: "two levels", expr: "(0040,0100)[1].(0040,0008)[0].(0008,0100)", want: "P1"},
		{name: "two levels no index", expr: "(0040,0100).(0040,0008).(0008,0100)", want: "P0"},
		{name: "missing top", expr: "PatientID", wantErr: ErrNotFound, segment: "segment 0 (0010,0020)"},
		{name: "missing inner", expr: "(0040,0100)[0].(0008,0070)", wantErr: ErrNotFound, segment: "segment 1 (0008,0070)"},
		{name: "item out of range", expr: "(0040,0100)[2].(0008,0060)", wantErr: ErrNotFound, segment: "segment 0 (0040,0100): item 2 of 2"},
		{name: "missing sequence", expr: "(0040,0275)[0].(0008,0060)", wantErr: ErrNotFound, segment: "segment 0 (0040,0275)"},
		{name: "not a sequence", expr: "PatientName[0].(0008,0060)", wantErr: ErrInvalidPath, segment: "segment 0 (0010,0010)"},
		{name: "ends in index", expr: "(0040,0100)[0]", wantErr: ErrInvalidPath},
		{name: "malformed", expr: "(0040,0100)[", wantErr: ErrInvalidPath},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := ds.Path(tc.expr)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Path(%q) error = %v, want %v", tc.expr, err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.segment) {
					t.Fatalf("Path(%q) error %q does not name %q", tc.expr, err, tc.segment)
				}
				return
			}
			if err != nil {
				t.Fatalf("Path(%q): %v", tc.expr, err)
			}
			if got := e.Strings(nil); len(got) != 1 || got[0] != tc.want {
				t.Fatalf("Path(%q) = %q, want %q", tc.expr, got, tc.want)
			}
		})
	}
}

func TestDatasetPathKeywords(t *testing.T) {
	if _, ok := LookupKeyword("ScheduledProcedureStepSequence"); !ok {
		t.Skip("the dictionary has no ScheduledProcedureStepSequence yet (placeholder dict_gen.go)")
	}
	ds := worklistItem(t, "MR", "CT")
	e, err := ds.Path("ScheduledProcedureStepSequence[1].Modality")
	if err != nil || e.Tag != modalityTag {
		t.Fatalf("Path() = %v, %v", e, err)
	}
	e, err = ds.Path("ScheduledProcedureStepSequence[1].(0040,0008).CodeValue")
	if err != nil || e.Tag != codeValue {
		t.Fatalf("Path() = %v, %v", e, err)
	}
}

func TestDatasetPathItem(t *testing.T) {
	ds := worklistItem(t, "MR", "CT")
	tests := []struct {
		expr    string
		want    string // the item's modality
		wantErr error
	}{
		{expr: "(0040,0100)[1]", want: "CT"},
		{expr: "(0040,0100)[0]", want: "MR"},
		{expr: "(0040,0100)", want: "MR"},
		{expr: "(0040,0100)[5]", wantErr: ErrNotFound},
		{expr: "PatientName", wantErr: ErrInvalidPath},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			item, err := ds.PathItem(tc.expr)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("PathItem(%q) error = %v, want %v", tc.expr, err, tc.wantErr)
			}
			if err == nil && item.String(modalityTag) != tc.want {
				t.Fatalf("PathItem(%q) modality = %q, want %q", tc.expr, item.String(modalityTag), tc.want)
			}
		})
	}
}

func TestDatasetSetPath(t *testing.T) {
	tests := []struct {
		name    string
		start   func() *Dataset
		expr    string
		tag     Tag // tag of the element passed
		wantErr bool
		check   string // path to read back
	}{
		{name: "top level", start: func() *Dataset { return &Dataset{} }, expr: "PatientID", check: "PatientID"},
		{name: "create nested", start: func() *Dataset { return &Dataset{} }, expr: "(0040,0100)[0].(0040,0008)[0].(0008,0100)", check: "(0040,0100)[0].(0040,0008)[0].(0008,0100)"},
		{name: "create without index", start: func() *Dataset { return &Dataset{} }, expr: "(0040,0100).(0008,0100)", check: "(0040,0100)[0].(0008,0100)"},
		{name: "replace in existing item", start: func() *Dataset { return worklistItem(t, "MR", "CT") }, expr: "(0040,0100)[1].(0008,0060)", check: "(0040,0100)[1].(0008,0060)"},
		{name: "append item", start: func() *Dataset { return worklistItem(t, "MR", "CT") }, expr: "(0040,0100)[2].(0008,0060)", check: "(0040,0100)[2].(0008,0060)"},
		{name: "append then create", start: func() *Dataset { return worklistItem(t, "MR") }, expr: "(0040,0100)[1].(0040,0008)[0].(0008,0100)", check: "(0040,0100)[1].(0040,0008)[0].(0008,0100)"},
		{name: "matching tag", start: func() *Dataset { return &Dataset{} }, expr: "PatientID", tag: PatientID, check: "PatientID"},
		{name: "gap", start: func() *Dataset { return worklistItem(t, "MR") }, expr: "(0040,0100)[2].(0008,0060)", wantErr: true},
		{name: "gap in new sequence", start: func() *Dataset { return &Dataset{} }, expr: "(0040,0100)[1].(0008,0060)", wantErr: true},
		{name: "gap below new item", start: func() *Dataset { return worklistItem(t, "MR") }, expr: "(0040,0100)[1].(0040,0008)[1].(0008,0100)", wantErr: true},
		{name: "through non-sequence", start: func() *Dataset { return worklistItem(t, "MR") }, expr: "PatientName[0].(0008,0060)", wantErr: true},
		{name: "through known non-sequence", start: func() *Dataset { return &Dataset{} }, expr: "PatientName[0].(0008,0060)", wantErr: true},
		{name: "ends in index", start: func() *Dataset { return &Dataset{} }, expr: "(0040,0100)[0]", wantErr: true},
		{name: "tag mismatch", start: func() *Dataset { return &Dataset{} }, expr: "PatientID", tag: PatientName, wantErr: true},
		{name: "malformed", start: func() *Dataset { return &Dataset{} }, expr: "(0040,0100)[0].", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := tc.start()
			before := fingerprint(ds)
			vr := LO
			if p, err := ParsePath(tc.expr); err == nil {
				if d, ok := LookupTag(p[len(p)-1].Tag); ok && d.VR != SQ {
					vr = d.VR
				}
			}
			e := mustElement(t, tc.tag, vr, "NEW")
			err := ds.SetPath(tc.expr, e)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalidPath) {
					t.Fatalf("SetPath(%q) error = %v, want ErrInvalidPath", tc.expr, err)
				}
				if after := fingerprint(ds); after != before {
					t.Fatalf("SetPath(%q) failed but changed the data set:\n%s\nwant\n%s", tc.expr, after, before)
				}
				return
			}
			if err != nil {
				t.Fatalf("SetPath(%q): %v", tc.expr, err)
			}
			got, err := ds.Path(tc.check)
			if err != nil {
				t.Fatalf("Path(%q) after SetPath: %v", tc.check, err)
			}
			if v := got.Strings(nil); len(v) != 1 || v[0] != "NEW" {
				t.Fatalf("Path(%q) = %q after SetPath, want NEW", tc.check, v)
			}
			if vs := ds.Validate(); len(vs) != 0 {
				t.Fatalf("data set after SetPath: %v", vs)
			}
		})
	}
}

// fingerprint lists every element path and value of ds, one a line.
func fingerprint(ds *Dataset) string {
	var b strings.Builder
	_ = ds.Walk(func(p Path, e *Element) error {
		fmt.Fprintf(&b, "%s %s %q %d\n", p, e.VR, e.Value, len(e.Items))
		return nil
	})
	return b.String()
}

func TestWalk(t *testing.T) {
	ds := worklistItem(t, "MR", "CT")
	ds.Put(mustElement(t, NewTag(0x0009, 0x0010), LO, "ACME"))
	ds.Put(Element{Tag: NewTag(0x0009, 0x1001), VR: SQ, Items: []*Dataset{nil, {}}})
	all := []string{
		"(0009,0010)",
		"(0009,1001)",
		"(0010,0010)",
		"(0040,0100)",
		"(0040,0100)[0].(0008,0060)",
		"(0040,0100)[0].(0040,0008)",
		"(0040,0100)[0].(0040,0008)[0].(0008,0100)",
		"(0040,0100)[1].(0008,0060)",
		"(0040,0100)[1].(0040,0008)",
		"(0040,0100)[1].(0040,0008)[0].(0008,0100)",
	}
	stop := errors.New("stop")
	tests := []struct {
		name    string
		fn      func(p Path, e *Element) error
		want    []string
		wantErr error
	}{
		{name: "all", fn: func(Path, *Element) error { return nil }, want: all},
		{name: "skip top sequence", fn: func(p Path, e *Element) error {
			if e.Tag == spsSeq {
				return SkipItems
			}
			return nil
		}, want: all[:4]},
		{name: "skip inner sequences", fn: func(p Path, e *Element) error {
			if e.Tag == codeSeq {
				return SkipItems
			}
			return nil
		}, want: []string{all[0], all[1], all[2], all[3], all[4], all[5], all[7], all[8]}},
		{name: "SkipItems on a plain element", fn: func(Path, *Element) error { return SkipItems }, want: all[:4]},
		{name: "stop", fn: func(p Path, e *Element) error {
			if e.Tag == codeValue {
				return stop
			}
			return nil
		}, want: all[:7], wantErr: stop},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			err := ds.Walk(func(p Path, e *Element) error {
				got = append(got, p.String())
				if last := p[len(p)-1]; last.Tag != e.Tag || last.Index != -1 {
					t.Errorf("path %s ends in %v for element %s", p, last, e.Tag)
				}
				return tc.fn(p, e)
			})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Walk() error = %v, want %v", err, tc.wantErr)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("Walk() visited\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestWalkPathsResolve(t *testing.T) {
	// Every path Walk reports leads back to its element through Path.
	ds := worklistItem(t, "MR", "CT", "US")
	err := ds.Walk(func(p Path, e *Element) error {
		got, err := ds.Path(p.String())
		if err != nil {
			return err
		}
		if got != e {
			return fmt.Errorf("Path(%s) returned another element", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestWalkCycle(t *testing.T) {
	ds := &Dataset{}
	ds.SetItems(spsSeq, ds)
	n := 0
	if err := ds.Walk(func(Path, *Element) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != MaxWalkDepth {
		t.Fatalf("Walk() of a cyclic data set visited %d elements, want %d", n, MaxWalkDepth)
	}
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{
		"PatientName", "(0040,0100)[0].(0008,0060)", "00400100[1].00080060", "0010,0010",
		"(0009,1001)[3]", "a..b", "[0]", "(0040,0100)[99999999999]", "X[", "(0040,0100)[0][1]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		p, err := ParsePath(expr)
		if err != nil {
			if !errors.Is(err, ErrInvalidPath) {
				t.Fatalf("ParsePath(%q) error %v does not wrap ErrInvalidPath", expr, err)
			}
			return
		}
		q, err := ParsePath(p.String())
		if err != nil || !slices.Equal(p, q) {
			t.Fatalf("ParsePath(%q) = %v, reparsed %q as %v, %v", expr, p, p.String(), q, err)
		}
		ds := worklistItem(t, "MR")
		_, _ = ds.Path(expr)
		_, _ = ds.PathItem(expr)
		_ = ds.SetPath(expr, Element{VR: SH, Value: []byte("XY")})
	})
}

func BenchmarkPath(b *testing.B) {
	ds := benchDataset(b)
	for _, expr := range []string{"00100010", "(0040,0100)[1].(0040,0009)", "PatientName"} {
		b.Run(expr, func(b *testing.B) {
			if _, err := ds.Path(expr); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				_, _ = ds.Path(expr)
			}
		})
	}
}
