package services

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/charset"
	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/core/ul"
)

const (
	patientRootFind = uid.PatientRootQueryRetrieveInformationModelFind
	studyRootFind   = uid.StudyRootQueryRetrieveInformationModelFind
	uidRoot         = "1.2.826.0.1.3680043.10.99."
)

// findPatient is a synthetic patient with its studies.
type findPatient struct {
	id, name string
	charset  []string // Specific Character Set of its data; nil: default
	studies  []findStudy
}

type findStudy struct {
	n          string // UID suffix
	date, time string
	desc, proc string // Study Description, Procedure Code Sequence code value
	series     []findSeries
}

type findSeries struct {
	n, modality string
	instances   int
}

// findCorpus is the archive content of the C-FIND tests: six patients,
// eight studies, nine series, twelve instances, with names in ASCII,
// ISO_IR 100, ISO 2022 IR 87, ISO 2022 IR 149 and UTF-8.
var findCorpus = []findPatient{
	{id: "P1", name: "Doe^John", studies: []findStudy{
		{n: "1.1", date: "20200115", time: "101500", desc: "CT chest", proc: "PCT", series: []findSeries{{"1", "CT", 2}, {"2", "CT", 2}}},
		{n: "1.2", date: "20210620", time: "083000", desc: "MR knee", proc: "PMR", series: []findSeries{{"1", "MR", 1}}},
		{n: "1.3", date: "20200201", time: "083000", desc: "CR hand", proc: "PCT", series: []findSeries{{"1", "CR", 1}}},
	}},
	{id: "P2", name: "Müller^Jürgen", charset: []string{"ISO_IR 100"}, studies: []findStudy{
		{n: "2.1", date: "20200301", time: "143000", desc: "Schädel", proc: "PCT", series: []findSeries{{"1", "CT", 2}}},
	}},
	{id: "P3", name: "Yamada^Tarou=山田^太郎=やまだ^たろう", charset: []string{"", "ISO 2022 IR 87"}, studies: []findStudy{
		{n: "3.1", date: "20190505", time: "120000", desc: "US abdomen", series: []findSeries{{"1", "US", 1}}},
	}},
	{id: "P4", name: "Hong^Gildong=洪^吉洞=홍^길동", charset: []string{"", "ISO 2022 IR 149"}, studies: []findStudy{
		{n: "4.1", date: "20220202", time: "090000", desc: "CR chest", series: []findSeries{{"1", "CR", 1}}},
	}},
	{id: "P5", name: "Ελένη^山田", charset: []string{"ISO_IR 192"}, studies: []findStudy{
		{n: "5.1", date: "20230303", desc: "MR brain", series: []findSeries{{"1", "MR", 1}}},
	}},
	{id: "P6", name: "DOE^JANE", studies: []findStudy{
		{n: "6.1", date: "20200115", time: "230000", desc: "CT head", series: []findSeries{{"1", "CT", 1}}},
	}},
}

func studyUID(s string) string       { return uidRoot + s }
func seriesUID(st, se string) string { return uidRoot + st + "." + se }
func sopUID(st, se string, i int) string {
	return fmt.Sprintf("%s%s.%s.%d", uidRoot, st, se, i)
}

// findDatasets builds the instances of findCorpus.
func findDatasets(t testing.TB) []*dicom.Dataset {
	t.Helper()
	var out []*dicom.Dataset
	for _, p := range findCorpus {
		for _, st := range p.studies {
			for _, se := range st.series {
				for i := 1; i <= se.instances; i++ {
					ds := dicom.NewDataset(24)
					if p.charset != nil {
						c, err := charset.New(p.charset)
						if err != nil {
							t.Fatal(err)
						}
						ds.Codec = c
						mustSet(t, ds, dicom.SpecificCharacterSet, p.charset...)
					}
					mustSet(t, ds, dicom.SOPClassUID, "1.2.840.10008.5.1.4.1.1.7")
					mustSet(t, ds, dicom.SOPInstanceUID, sopUID(st.n, se.n, i))
					mustSet(t, ds, dicom.StudyDate, st.date)
					if st.time != "" {
						mustSet(t, ds, dicom.StudyTime, st.time)
					}
					mustSet(t, ds, dicom.AcquisitionDateTime, fmt.Sprintf("%s%02d%02d00", st.date, 8+i, 10*i))
					mustSet(t, ds, dicom.Modality, se.modality)
					mustSet(t, ds, dicom.StudyDescription, st.desc)
					if st.proc != "" {
						item := dicom.NewDataset(2)
						mustSet(t, item, dicom.CodeValue, st.proc)
						mustSet(t, item, dicom.CodingSchemeDesignator, "LOCAL")
						ds.SetItems(dicom.ProcedureCodeSequence, item)
					}
					mustSet(t, ds, dicom.PatientName, p.name)
					mustSet(t, ds, dicom.PatientID, p.id)
					mustSet(t, ds, dicom.StudyInstanceUID, studyUID(st.n))
					mustSet(t, ds, dicom.SeriesInstanceUID, seriesUID(st.n, se.n))
					mustSet(t, ds, dicom.SeriesNumber, se.n)
					mustSet(t, ds, dicom.InstanceNumber, fmt.Sprint(i))
					out = append(out, ds)
				}
			}
		}
	}
	return out
}

func mustSet(t testing.TB, ds *dicom.Dataset, tag dicom.Tag, v ...string) {
	t.Helper()
	if err := ds.SetString(tag, v...); err != nil {
		t.Fatalf("SetString(%s) error = %v", tag, err)
	}
}

// startFindServer serves services.Register over an index holding data on
// 127.0.0.1 until the test ends; edit adjusts the options.
func startFindServer(t testing.TB, data []*dicom.Dataset, edit func(*Options)) string {
	t.Helper()
	ctx := context.Background()
	ix, err := index.Open(ctx, filepath.Join(t.TempDir(), "index.db"), index.Options{Synchronous: index.SyncNormal})
	if err != nil {
		t.Fatal(err)
	}
	// Concurrent adds share commits.
	var wg sync.WaitGroup
	work := make(chan *dicom.Dataset)
	for range 8 {
		wg.Go(func() {
			for ds := range work {
				sop := ds.String(dicom.SOPInstanceUID)
				if _, err := ix.Add(ctx, index.InstanceRecord{Dataset: ds, Backend: "fs", Key: sop}); err != nil {
					t.Errorf("Add(%s) error = %v", sop, err)
				}
			}
		})
	}
	for _, ds := range data {
		work <- ds
	}
	close(work)
	wg.Wait()
	o := Options{AETitle: "FORGE", Index: ix}
	if edit != nil {
		edit(&o)
	}
	mux := dimse.NewMux(nil)
	policy := ul.Policy{AETitle: "FORGE"}
	Register(mux, &policy, o)
	srv := ul.NewServer(ul.ServerOptions{Policy: policy, Handler: func(ctx context.Context, a *ul.Association) {
		_ = dimse.Serve(ctx, a, mux)
	}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), ln) }()
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		if err := <-served; !errors.Is(err, ul.ErrServerClosed) {
			t.Errorf("Serve() = %v, want ErrServerClosed", err)
		}
		ix.Close()
	})
	return ln.Addr().String()
}

// findClient is an association proposing both FIND SOP classes.
type findClient struct {
	*dimse.Client
	assoc *ul.Association
}

// dialFind opens an association proposing both FIND SOP classes in ts (the
// native little-endian ones when empty) with the extended negotiation ext
// (nil: none) for each.
func dialFind(t testing.TB, addr string, ext []byte, ts ...string) findClient {
	t.Helper()
	if len(ts) == 0 {
		ts = []string{uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian}
	}
	opt := ul.DialOptions{CallingAE: "FINDSCU", CalledAE: "FORGE", Contexts: []ul.ProposedContext{
		{AbstractSyntax: patientRootFind, TransferSyntaxes: ts},
		{AbstractSyntax: studyRootFind, TransferSyntaxes: ts},
	}}
	if ext != nil {
		opt.ExtendedNegotiation = []ul.ExtendedNegotiation{{SOPClass: patientRootFind, Info: ext}, {SOPClass: studyRootFind, Info: ext}}
	}
	a, err := ul.Dial(context.Background(), "tcp", addr, opt)
	if err != nil {
		t.Fatalf("Dial() error = %v", err)
	}
	c := dimse.NewClient(a, dimse.ClientOptions{})
	t.Cleanup(func() { c.Close() })
	return findClient{Client: c, assoc: a}
}

// kv is one key of an identifier.
type kv struct {
	tag dicom.Tag
	val string
}

// ident builds an identifier at level with keys; cs, when set, is its
// Specific Character Set.
func ident(t testing.TB, level string, cs []string, keys ...kv) *dicom.Dataset {
	t.Helper()
	ds := dicom.NewDataset(len(keys) + 2)
	if cs != nil {
		c, err := charset.New(cs)
		if err != nil {
			t.Fatal(err)
		}
		ds.Codec = c
		mustSet(t, ds, dicom.SpecificCharacterSet, cs...)
	}
	if level != "" {
		mustSet(t, ds, dicom.QueryRetrieveLevel, level)
	}
	for _, k := range keys {
		mustSet(t, ds, k.tag, k.val)
	}
	return ds
}

// find runs a query and returns the matches and the final status.
func (c findClient) find(t testing.TB, class string, q *dicom.Dataset) ([]*dicom.Dataset, dimse.Status) {
	t.Helper()
	var got []*dicom.Dataset
	st, err := c.Find(context.Background(), class, q, func(m *dicom.Dataset) error {
		got = append(got, m)
		return nil
	})
	var se *dimse.StatusError
	if err != nil && !errors.As(err, &se) {
		t.Fatalf("Find() error = %v", err)
	}
	return got, st
}

// values returns the sorted values of tag in the matches.
func values(ms []*dicom.Dataset, tag dicom.Tag) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.String(tag))
	}
	slices.Sort(out)
	return out
}

func studies(ns ...string) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = studyUID(n)
	}
	slices.Sort(out)
	return out
}

// TestFindMatching: each level and kind of matching of PS3.4 C.2.2.2, in
// both models, with and without extended negotiation.
func TestFindMatching(t *testing.T) {
	addr := startFindServer(t, findDatasets(t), nil)
	plain := dialFind(t, addr, nil)
	negotiated := dialFind(t, addr, []byte{1, 1, 1})
	const (
		pat, st, ser, img = "PATIENT", "STUDY", "SERIES", "IMAGE"
	)
	tests := []struct {
		name   string
		c      findClient
		class  string
		q      *dicom.Dataset
		key    dicom.Tag // the result values compared
		want   []string
		status uint16
	}{
		{name: "patient single value", c: plain, class: patientRootFind, key: dicom.PatientID,
			q: ident(t, pat, nil, kv{dicom.PatientID, "P1"}, kv{dicom.PatientName, ""}), want: []string{"P1"}},
		{name: "patient universal", c: plain, class: patientRootFind, key: dicom.PatientID,
			q: ident(t, pat, nil, kv{dicom.PatientID, ""}), want: []string{"P1", "P2", "P3", "P4", "P5", "P6"}},
		{name: "patient wildcard star, case-sensitive", c: plain, class: patientRootFind, key: dicom.PatientID,
			q: ident(t, pat, nil, kv{dicom.PatientName, "Doe*"}), want: []string{"P1"}},
		{name: "patient wildcard question mark", c: plain, class: patientRootFind, key: dicom.PatientID,
			q: ident(t, pat, nil, kv{dicom.PatientName, "D?E^J*"}), want: []string{"P6"}},
		{name: "patient lower case without negotiation", c: plain, class: patientRootFind, key: dicom.PatientID,
			q: ident(t, pat, nil, kv{dicom.PatientName, "doe*"})},
		{name: "patient fuzzy case-insensitive", c: negotiated, class: patientRootFind, key: dicom.PatientID,
			q: ident(t, pat, nil, kv{dicom.PatientName, "doe*"}), want: []string{"P1", "P6"}},
		{name: "patient fuzzy accent-insensitive", c: negotiated, class: patientRootFind, key: dicom.PatientID,
			q: ident(t, pat, nil, kv{dicom.PatientName, "MULLER^JURGEN"}), want: []string{"P2"}},
		{name: "patient exact non-ASCII", c: plain, class: patientRootFind, key: dicom.PatientID,
			q: ident(t, pat, []string{"ISO_IR 100"}, kv{dicom.PatientName, "Müller^Jürgen"}), want: []string{"P2"}},
		{name: "patient exact ISO 2022 IR 87", c: plain, class: patientRootFind, key: dicom.PatientID,
			q: ident(t, pat, []string{"", "ISO 2022 IR 87"}, kv{dicom.PatientName, "Yamada^Tarou=山田^太郎=やまだ^たろう"}), want: []string{"P3"}},
		{name: "patient root study hierarchical", c: plain, class: patientRootFind, key: dicom.StudyInstanceUID,
			q: ident(t, st, nil, kv{dicom.PatientID, "P1"}, kv{dicom.StudyInstanceUID, ""}), want: studies("1.1", "1.2", "1.3")},
		{name: "patient root study without patient id", c: plain, class: patientRootFind,
			q: ident(t, st, nil, kv{dicom.StudyInstanceUID, ""}), status: dimse.CodeDataSetMismatch},
		{name: "study date range", c: plain, class: studyRootFind, key: dicom.StudyInstanceUID,
			q: ident(t, st, nil, kv{dicom.StudyDate, "20200101-20201231"}), want: studies("1.1", "1.3", "2.1", "6.1")},
		{name: "study date open start", c: plain, class: studyRootFind, key: dicom.StudyInstanceUID,
			q: ident(t, st, nil, kv{dicom.StudyDate, "-20191231"}), want: studies("3.1")},
		{name: "study date open end", c: plain, class: studyRootFind, key: dicom.StudyInstanceUID,
			q: ident(t, st, nil, kv{dicom.StudyDate, "20220101-"}), want: studies("4.1", "5.1")},
		{name: "study time range", c: plain, class: studyRootFind, key: dicom.StudyInstanceUID,
			q: ident(t, st, nil, kv{dicom.StudyTime, "080000-100000"}), want: studies("1.2", "1.3", "4.1")},
		{name: "date and time ranges separately", c: plain, class: studyRootFind, key: dicom.StudyInstanceUID,
			q:    ident(t, st, nil, kv{dicom.StudyDate, "20200115-20200301"}, kv{dicom.StudyTime, "120000-150000"}),
			want: studies("2.1")},
		{name: "date and time combined", c: negotiated, class: studyRootFind, key: dicom.StudyInstanceUID,
			q:    ident(t, st, nil, kv{dicom.StudyDate, "20200115-20200301"}, kv{dicom.StudyTime, "120000-150000"}),
			want: studies("1.3", "2.1", "6.1")},
		{name: "study list of UIDs", c: plain, class: studyRootFind, key: dicom.StudyInstanceUID,
			q: ident(t, st, nil, kv{dicom.StudyInstanceUID, studyUID("1.2") + `\` + studyUID("4.1")}), want: studies("1.2", "4.1")},
		{name: "study wildcard description", c: plain, class: studyRootFind, key: dicom.StudyInstanceUID,
			q: ident(t, st, nil, kv{dicom.StudyDescription, "CR *"}), want: studies("1.3", "4.1")},
		{name: "study modalities in study", c: plain, class: studyRootFind, key: dicom.StudyInstanceUID,
			q: ident(t, st, nil, kv{dicom.ModalitiesInStudy, "MR"}), want: studies("1.2", "5.1")},
		{name: "study root patient name at study level", c: plain, class: studyRootFind, key: dicom.StudyInstanceUID,
			q: ident(t, st, nil, kv{dicom.PatientName, "Doe^John"}), want: studies("1.1", "1.2", "1.3")},
		{name: "series hierarchical", c: plain, class: studyRootFind, key: dicom.SeriesInstanceUID,
			q:    ident(t, ser, nil, kv{dicom.StudyInstanceUID, studyUID("1.1")}, kv{dicom.Modality, "CT"}),
			want: []string{seriesUID("1.1", "1"), seriesUID("1.1", "2")}},
		{name: "series patient root", c: plain, class: patientRootFind, key: dicom.SeriesInstanceUID,
			q:    ident(t, ser, nil, kv{dicom.PatientID, "P1"}, kv{dicom.StudyInstanceUID, studyUID("1.2")}, kv{dicom.SeriesInstanceUID, ""}),
			want: []string{seriesUID("1.2", "1")}},
		{name: "series without study uid", c: plain, class: studyRootFind,
			q: ident(t, ser, nil, kv{dicom.Modality, "CT"}), status: dimse.CodeDataSetMismatch},
		{name: "series relational", c: negotiated, class: studyRootFind, key: dicom.SeriesInstanceUID,
			q:    ident(t, ser, nil, kv{dicom.Modality, "CT"}, kv{dicom.PatientID, "P2"}),
			want: []string{seriesUID("2.1", "1")}},
		{name: "image hierarchical", c: plain, class: studyRootFind, key: dicom.SOPInstanceUID,
			q:    ident(t, img, nil, kv{dicom.StudyInstanceUID, studyUID("1.1")}, kv{dicom.SeriesInstanceUID, seriesUID("1.1", "2")}, kv{dicom.SOPInstanceUID, ""}),
			want: []string{sopUID("1.1", "2", 1), sopUID("1.1", "2", 2)}},
		{name: "image list of UIDs", c: plain, class: patientRootFind, key: dicom.SOPInstanceUID,
			q: ident(t, img, nil, kv{dicom.PatientID, "P1"}, kv{dicom.StudyInstanceUID, studyUID("1.1")}, kv{dicom.SeriesInstanceUID, seriesUID("1.1", "1")},
				kv{dicom.SOPInstanceUID, sopUID("1.1", "1", 2) + `\` + sopUID("9.9", "1", 1)}),
			want: []string{sopUID("1.1", "1", 2)}},
		{name: "image date-time range", c: plain, class: studyRootFind, key: dicom.SOPInstanceUID,
			q: ident(t, img, nil, kv{dicom.StudyInstanceUID, studyUID("1.1")}, kv{dicom.SeriesInstanceUID, seriesUID("1.1", "1")},
				kv{dicom.AcquisitionDateTime, "20200115093000-"}),
			want: []string{sopUID("1.1", "1", 2)}},
		{name: "image relational by patient", c: negotiated, class: studyRootFind, key: dicom.SOPInstanceUID,
			q:    ident(t, img, nil, kv{dicom.PatientID, "P2"}),
			want: []string{sopUID("2.1", "1", 1), sopUID("2.1", "1", 2)}},
		{name: "study root refuses patient level", c: plain, class: studyRootFind,
			q: ident(t, pat, nil, kv{dicom.PatientID, ""}), status: dimse.CodeDataSetMismatch},
		{name: "level missing", c: plain, class: studyRootFind,
			q: ident(t, "", nil, kv{dicom.PatientID, ""}), status: dimse.CodeDataSetMismatch},
		{name: "level invalid", c: plain, class: patientRootFind,
			q: ident(t, "FRAME", nil, kv{dicom.PatientID, ""}), status: dimse.CodeDataSetMismatch},
		{name: "malformed date range", c: plain, class: studyRootFind,
			q: ident(t, st, nil, kv{dicom.StudyDate, "2020-01-01"}), status: dimse.CodeCannotUnderstand},
	}
	// Sequence matching: an item's key selects the studies.
	seq := ident(t, st, nil, kv{dicom.StudyInstanceUID, ""})
	item := dicom.NewDataset(1)
	mustSet(t, item, dicom.CodeValue, "PCT")
	seq.SetItems(dicom.ProcedureCodeSequence, item)
	tests = append(tests, struct {
		name   string
		c      findClient
		class  string
		q      *dicom.Dataset
		key    dicom.Tag
		want   []string
		status uint16
	}{name: "study sequence matching", c: plain, class: studyRootFind, key: dicom.StudyInstanceUID, q: seq, want: studies("1.1", "1.3", "2.1")})

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, st := tc.c.find(t, tc.class, tc.q)
			if st.Code != tc.status {
				t.Fatalf("status = %v, want %04X", st, tc.status)
			}
			if tc.status != dimse.CodeSuccess {
				if st.ErrorComment == "" {
					t.Errorf("failure %v has no Error Comment", st)
				}
				return
			}
			if g := values(got, tc.key); !slices.Equal(g, tc.want) {
				t.Errorf("matches = %q, want %q", g, tc.want)
			}
			for _, m := range got {
				if lv := m.String(dicom.QueryRetrieveLevel); lv != tc.q.String(dicom.QueryRetrieveLevel) {
					t.Errorf("response Query/Retrieve Level = %q", lv)
				}
			}
		})
	}
}

// TestFindFailureDetails: the refusals name the offending element.
func TestFindFailureDetails(t *testing.T) {
	addr := startFindServer(t, findDatasets(t), nil)
	c := dialFind(t, addr, nil)
	tests := []struct {
		name      string
		class     string
		q         *dicom.Dataset
		code      uint16
		offending dicom.Tag
		comment   string
	}{
		{name: "study root patient level", class: studyRootFind, q: ident(t, "PATIENT", nil, kv{dicom.PatientID, ""}),
			code: dimse.CodeDataSetMismatch, offending: dicom.QueryRetrieveLevel, comment: "Study Root"},
		{name: "no level", class: patientRootFind, q: ident(t, "", nil, kv{dicom.PatientID, ""}),
			code: dimse.CodeDataSetMismatch, offending: dicom.QueryRetrieveLevel, comment: "missing"},
		{name: "hierarchical", class: patientRootFind, q: ident(t, "SERIES", nil, kv{dicom.PatientID, "P1"}),
			code: dimse.CodeDataSetMismatch, offending: dicom.StudyInstanceUID, comment: "single value"},
		{name: "bad date", class: studyRootFind, q: ident(t, "STUDY", nil, kv{dicom.StudyDate, "yesterday"}),
			code: dimse.CodeCannotUnderstand, offending: dicom.StudyDate, comment: "(0008,0020)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, st := c.find(t, tc.class, tc.q)
			if st.Code != tc.code || !slices.Equal(st.OffendingElement, []dicom.Tag{tc.offending}) || !strings.Contains(st.ErrorComment, tc.comment) {
				t.Errorf("status = %v offending %v, want %04X offending %v with comment containing %q",
					st, st.OffendingElement, tc.code, tc.offending, tc.comment)
			}
		})
	}
}

// TestFindReturnKeys: computed keys, keys of the levels above, keys the
// archive supplies, and keys below the level returned empty.
func TestFindReturnKeys(t *testing.T) {
	addr := startFindServer(t, findDatasets(t), func(o *Options) { o.AETitle = "ARCHIVE1" })
	c := dialFind(t, addr, nil)
	q := ident(t, "STUDY", nil,
		kv{dicom.StudyInstanceUID, studyUID("1.1")}, kv{dicom.PatientName, ""}, kv{dicom.PatientID, ""},
		kv{dicom.NumberOfStudyRelatedSeries, ""}, kv{dicom.NumberOfStudyRelatedInstances, ""},
		kv{dicom.ModalitiesInStudy, ""}, kv{dicom.StudyDate, ""}, kv{dicom.RetrieveAETitle, ""},
		kv{dicom.InstanceAvailability, ""}, kv{dicom.SeriesInstanceUID, ""})
	got, st := c.find(t, studyRootFind, q)
	if st.Code != dimse.CodeSuccess || len(got) != 1 {
		t.Fatalf("Find() = %d matches, %v; want 1, success", len(got), st)
	}
	m := got[0]
	want := map[dicom.Tag]string{
		dicom.PatientName: "Doe^John", dicom.PatientID: "P1", dicom.NumberOfStudyRelatedSeries: "2",
		dicom.NumberOfStudyRelatedInstances: "4", dicom.ModalitiesInStudy: "CT", dicom.StudyDate: "20200115",
		dicom.RetrieveAETitle: "ARCHIVE1", dicom.InstanceAvailability: "ONLINE", dicom.SeriesInstanceUID: "",
	}
	for tag, w := range want {
		if !m.Contains(tag) {
			t.Errorf("response lacks %s", tag)
		} else if g := m.String(tag); g != w {
			t.Errorf("%s = %q, want %q", tag, g, w)
		}
	}
	if m.Contains(dicom.SpecificCharacterSet) {
		t.Errorf("ASCII response has Specific Character Set %q", m.Strings(dicom.SpecificCharacterSet))
	}
	// Each series of the study counts its own instances.
	q = ident(t, "SERIES", nil, kv{dicom.StudyInstanceUID, studyUID("1.1")}, kv{dicom.SeriesInstanceUID, ""},
		kv{dicom.NumberOfSeriesRelatedInstances, ""})
	got, st = c.find(t, studyRootFind, q)
	total := 0
	for _, m := range got {
		n, ok := m.Int(dicom.NumberOfSeriesRelatedInstances)
		if !ok || n < 1 {
			t.Errorf("series %s: Number of Series Related Instances %q", m.String(dicom.SeriesInstanceUID), m.String(dicom.NumberOfSeriesRelatedInstances))
		}
		total += int(n)
	}
	if st.Code != dimse.CodeSuccess || len(got) != 2 || total != 4 {
		t.Errorf("SERIES query: %d matches counting %d instances, %v; want the study's 2 series and 4 instances", len(got), total, st)
	}
	// A value in Instance Availability is not a matching key.
	q = ident(t, "STUDY", nil, kv{dicom.StudyInstanceUID, studyUID("1.2")}, kv{dicom.InstanceAvailability, "NEARLINE"})
	if got, st := c.find(t, studyRootFind, q); len(got) != 1 || got[0].String(dicom.InstanceAvailability) != "ONLINE" {
		t.Errorf("Instance Availability as key: %d matches, %v", len(got), st)
	}
}

// TestFindCharset: the character set of responses follows the rule of
// responseCharset.
func TestFindCharset(t *testing.T) {
	addr := startFindServer(t, findDatasets(t), nil)
	c := dialFind(t, addr, nil)
	latin1 := []string{"ISO_IR 100"}
	tests := []struct {
		name    string
		queryCS []string
		pid     string
		wantCS  []string // nil: no Specific Character Set
		// wantRaw is the encoded Patient Name expected, when checked.
		wantRaw string
	}{
		{name: "ascii", pid: "P1"},
		{name: "data's latin-1", pid: "P2", wantCS: latin1, wantRaw: "M\xfcller^J\xfcrgen "},
		{name: "data's iso 2022 ir 87", pid: "P3", wantCS: []string{"", "ISO 2022 IR 87"},
			wantRaw: "Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B"},
		{name: "data's iso 2022 ir 149", pid: "P4", wantCS: []string{"", "ISO 2022 IR 149"}},
		{name: "data's utf-8", pid: "P5", wantCS: []string{"ISO_IR 192"}},
		{name: "query's utf-8 over data's latin-1", queryCS: []string{"ISO_IR 192"}, pid: "P2", wantCS: []string{"ISO_IR 192"}, wantRaw: "Müller^Jürgen "},
		{name: "query's latin-1 cannot hold kanji", queryCS: latin1, pid: "P3", wantCS: []string{"", "ISO 2022 IR 87"}},
		{name: "query's iso 2022 ir 87 cannot hold umlauts", queryCS: []string{"", "ISO 2022 IR 87"}, pid: "P2", wantCS: latin1},
		{name: "query's latin-1 ascii", queryCS: latin1, pid: "P6"},
		{name: "query's iso 2022 ir 149 holds Korean", queryCS: []string{"", "ISO 2022 IR 149"}, pid: "P4", wantCS: []string{"", "ISO 2022 IR 149"}},
		{name: "greek and kanji only in utf-8", queryCS: []string{"ISO_IR 126"}, pid: "P5", wantCS: []string{"ISO_IR 192"}},
	}
	names := map[string]string{}
	for _, p := range findCorpus {
		names[p.id] = p.name
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := ident(t, "PATIENT", tc.queryCS, kv{dicom.PatientID, tc.pid}, kv{dicom.PatientName, ""})
			got, st := c.find(t, patientRootFind, q)
			if st.Code != dimse.CodeSuccess || len(got) != 1 {
				t.Fatalf("Find() = %d matches, %v; want 1, success", len(got), st)
			}
			m := got[0]
			if cs := m.Strings(dicom.SpecificCharacterSet); !slices.Equal(cs, tc.wantCS) {
				t.Errorf("Specific Character Set = %q, want %q", cs, tc.wantCS)
			}
			if g := m.String(dicom.PatientName); g != names[tc.pid] {
				t.Errorf("Patient Name decoded = %q, want %q", g, names[tc.pid])
			}
			if raw := m.Bytes(dicom.PatientName); tc.wantRaw != "" && string(raw) != tc.wantRaw {
				t.Errorf("Patient Name bytes = %q, want %q", raw, tc.wantRaw)
			}
		})
	}
}

// TestFindTransferSyntaxes: identifiers and responses in each accepted
// syntax, big endian included.
func TestFindTransferSyntaxes(t *testing.T) {
	addr := startFindServer(t, findDatasets(t), nil)
	for _, ts := range FindSyntaxes {
		t.Run(ts, func(t *testing.T) {
			c := dialFind(t, addr, nil, ts)
			got, st := c.find(t, patientRootFind, ident(t, "PATIENT", nil, kv{dicom.PatientID, "P2"}, kv{dicom.PatientName, ""}))
			if st.Code != dimse.CodeSuccess || len(got) != 1 || got[0].String(dicom.PatientName) != "Müller^Jürgen" {
				t.Fatalf("Find() = %d matches, %v", len(got), st)
			}
		})
	}
}

// TestFindLimit: more matches than MaxFindResults fail with A700 before
// any match is sent.
func TestFindLimit(t *testing.T) {
	addr := startFindServer(t, findDatasets(t), func(o *Options) { o.MaxFindResults = 3 })
	c := dialFind(t, addr, nil)
	got, st := c.find(t, studyRootFind, ident(t, "STUDY", nil, kv{dicom.StudyInstanceUID, ""}))
	if st.Code != dimse.CodeOutOfResources || len(got) != 0 || !strings.Contains(st.ErrorComment, "more than 3") {
		t.Errorf("Find() = %d matches, %v; want none, A700 saying more than 3", len(got), st)
	}
	got, st = c.find(t, studyRootFind, ident(t, "STUDY", nil, kv{dicom.StudyDate, "20200101-20201231"}, kv{dicom.PatientName, "Doe*"}))
	if st.Code != dimse.CodeSuccess || len(got) != 2 {
		t.Errorf("Find() within the limit = %d matches, %v; want 2, success", len(got), st)
	}
}

// TestFindCancel: a C-CANCEL while matches are being sent ends the
// operation with FE00. The matches are large, so that the archive is
// still sending when the cancel arrives.
func TestFindCancel(t *testing.T) {
	const n, size = 200, 16 << 10
	comment := strings.Repeat("x", size)
	var data []*dicom.Dataset
	for i := range n {
		ds := dicom.NewDataset(8)
		mustSet(t, ds, dicom.PatientID, "PC")
		mustSet(t, ds, dicom.StudyInstanceUID, studyUID("7.1"))
		mustSet(t, ds, dicom.SeriesInstanceUID, seriesUID("7.1", "1"))
		mustSet(t, ds, dicom.SOPInstanceUID, sopUID("7.1", "1", i+1))
		mustSet(t, ds, dicom.SOPClassUID, "1.2.840.10008.5.1.4.1.1.7")
		if err := ds.SetBytes(dicom.ImageComments, dicom.LT, []byte(comment)); err != nil {
			t.Fatal(err)
		}
		data = append(data, ds)
	}
	addr := startFindServer(t, data, nil)
	c := dialFind(t, addr, nil)
	q := ident(t, "IMAGE", nil, kv{dicom.StudyInstanceUID, studyUID("7.1")}, kv{dicom.SeriesInstanceUID, seriesUID("7.1", "1")}, kv{dicom.ImageComments, ""})
	seen := 0
	errStop := errors.New("enough")
	st, err := c.Find(context.Background(), studyRootFind, q, func(*dicom.Dataset) error {
		seen++
		return errStop
	})
	if st.Code != dimse.CodeCancel {
		t.Errorf("Find() = %v, %v; want status FE00", st, err)
	}
	if seen != 1 {
		t.Errorf("%d matches seen, want 1", seen)
	}
	// The association goes on.
	got, st := c.find(t, studyRootFind, ident(t, "STUDY", nil, kv{dicom.StudyInstanceUID, studyUID("7.1")}))
	if st.Code != dimse.CodeSuccess || len(got) != 1 {
		t.Errorf("Find() after cancel = %d matches, %v", len(got), st)
	}
}

// TestFindExtendedNegotiation: the A-ASSOCIATE-AC grants what the archive
// implements of each proposal, and another service's hook still answers
// its own SOP classes.
func TestFindExtendedNegotiation(t *testing.T) {
	tests := []struct {
		name     string
		proposed []byte
		want     []byte
	}{
		{name: "none", proposed: nil, want: nil},
		{name: "one byte relational", proposed: []byte{1}, want: []byte{1}},
		{name: "one byte declined", proposed: []byte{0}, want: []byte{0}},
		{name: "three bytes", proposed: []byte{0, 1, 1}, want: []byte{0, 1, 1}},
		{name: "timezone refused", proposed: []byte{1, 1, 1, 1}, want: []byte{1, 1, 1, 0}},
		{name: "all seven", proposed: []byte{1, 1, 1, 1, 1, 1, 1}, want: []byte{1, 1, 1, 0, 0, 1, 0}},
		{name: "longer than defined", proposed: []byte{1, 1, 1, 1, 1, 1, 1, 1, 1}, want: []byte{1, 1, 1, 0, 0, 1, 0}},
		{name: "values other than 1", proposed: []byte{2, 1, 0xff}, want: []byte{0, 1, 0}},
	}
	addr := startFindServer(t, findDatasets(t), nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dialFind(t, addr, tc.proposed)
			for _, class := range []string{patientRootFind, studyRootFind} {
				if got := c.assoc.ExtendedNegotiation(class); !bytes.Equal(got, tc.want) {
					t.Errorf("%s: reply = %v, want %v", class, got, tc.want)
				}
			}
		})
	}

	t.Run("chained hook", func(t *testing.T) {
		policy := ul.Policy{ExtendedNegotiation: func(sopClass string, info []byte) []byte {
			if sopClass == "1.2.3" {
				return []byte{7}
			}
			return nil
		}}
		policy.Syntaxes = map[string][]string{}
		registerFind(dimse.NewMux(nil), &policy, Options{Index: &index.Index{}})
		if got := policy.ExtendedNegotiation("1.2.3", []byte{1}); !bytes.Equal(got, []byte{7}) {
			t.Errorf("other SOP class reply = %v, want the previous hook's [7]", got)
		}
		if got := policy.ExtendedNegotiation(studyRootFind, []byte{1, 0}); !bytes.Equal(got, []byte{1, 0}) {
			t.Errorf("FIND reply = %v, want [1 0]", got)
		}
	})
}

// TestParseFindNegotiation: granted bytes read back as options; missing
// ones are off.
func TestParseFindNegotiation(t *testing.T) {
	tests := []struct {
		info []byte
		want FindNegotiation
	}{
		{info: nil, want: FindNegotiation{}},
		{info: []byte{1}, want: FindNegotiation{Relational: true}},
		{info: []byte{0, 1, 1}, want: FindNegotiation{CombinedDateTime: true, FuzzySemanticPN: true}},
		{info: []byte{1, 1, 1, 0, 0, 1, 0}, want: FindNegotiation{Relational: true, CombinedDateTime: true, FuzzySemanticPN: true, EmptyValueMatching: true}},
	}
	for _, tc := range tests {
		if got := ParseFindNegotiation(tc.info); got != tc.want {
			t.Errorf("ParseFindNegotiation(%v) = %+v, want %+v", tc.info, got, tc.want)
		}
	}
}

// TestFindCaseInsensitiveOption: with the site's option, person names match
// ignoring case and accents without any negotiation.
func TestFindCaseInsensitiveOption(t *testing.T) {
	addr := startFindServer(t, findDatasets(t), func(o *Options) { o.CaseInsensitivePN = true })
	c := dialFind(t, addr, nil)
	for _, tc := range []struct {
		name string
		want []string
	}{{"doe*", []string{"P1", "P6"}}, {"MULLER^JURGEN", []string{"P2"}}} {
		got, st := c.find(t, patientRootFind, ident(t, "PATIENT", nil, kv{dicom.PatientName, tc.name}, kv{dicom.PatientID, ""}))
		var ids []string
		for _, m := range got {
			ids = append(ids, m.String(dicom.PatientID))
		}
		slices.Sort(ids)
		if st.Code != dimse.CodeSuccess || !slices.Equal(ids, tc.want) {
			t.Errorf("Patient's Name %q: %v, %v; want %v", tc.name, ids, st, tc.want)
		}
	}
}
