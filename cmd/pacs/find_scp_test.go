package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/charset"
	"github.com/pacsforge/pacs/core/dicom/part10"
	"github.com/pacsforge/pacs/internal/peertest"
)

// storeCorpus sends the files of the corpus that storescu can propose in
// their own syntax to s, and returns the data sets the archive indexed.
func storeCorpus(t *testing.T, s *archiveServer, files []sendable) []*dicom.Dataset {
	t.Helper()
	groups := map[string][]sendable{}
	for _, f := range files {
		if _, ok := storescuSyntaxOption[f.ts]; ok {
			groups[f.ts] = append(groups[f.ts], f)
		}
	}
	for ts, g := range groups {
		for i := 0; i < len(g); i += 40 {
			args := []string{"-R", "-aec", "FORGE"}
			if opt := storescuSyntaxOption[ts]; opt != "" {
				args = append(args, opt)
			}
			args = append(args, "127.0.0.1", s.port)
			for _, f := range g[i:min(i+40, len(g))] {
				args = append(args, f.path)
			}
			cmd := exec.Command("storescu", args...)
			peertest.SetNoDelay(cmd)
			_ = cmd.Run() // files the archive refuses are left out below
		}
	}
	var stored []*dicom.Dataset
	for _, g := range groups {
		for _, f := range g {
			if _, err := s.store.index.Instance(context.Background(), f.inst); err == nil {
				stored = append(stored, f.ds)
			}
		}
	}
	return stored
}

// refEntity is an entity of the reference model: the instances under it.
type refEntity struct {
	key   string
	insts []*dicom.Dataset
}

// value is the entity's value of an attribute (as value extracts it from
// an instance), and false when its instances disagree: the archive then
// answers from one of them, and the reference cannot tell which.
func (e refEntity) value(extract func(*dicom.Dataset) string) (string, bool) {
	v := extract(e.insts[0])
	for _, ds := range e.insts[1:] {
		if extract(ds) != v {
			return "", false
		}
	}
	return v, true
}

func attr(t dicom.Tag) func(*dicom.Dataset) string {
	return func(ds *dicom.Dataset) string { return strings.Join(ds.Strings(t), `\`) }
}

// personName is the Patient Name without the insignificant trailing
// empty components and component groups (PS3.5 §6.2.1): "OB^^^^" is "OB".
func personName(ds *dicom.Dataset) string {
	groups := strings.Split(ds.String(dicom.PatientName), "=")
	for i, g := range groups {
		groups[i] = strings.TrimRight(g, "^ ")
	}
	return strings.TrimRight(strings.Join(groups, "="), "=")
}

func patientKey(ds *dicom.Dataset) string {
	return ds.String(dicom.PatientID) + "|" + ds.String(dicom.IssuerOfPatientID)
}

// refLevels are the unique keys of each level of the reference model.
var refLevels = map[string]func(*dicom.Dataset) string{
	"PATIENT": patientKey,
	"STUDY":   attr(dicom.StudyInstanceUID),
	"SERIES":  attr(dicom.SeriesInstanceUID),
	"IMAGE":   attr(dicom.SOPInstanceUID),
}

// refEntities groups the instances into the entities of a level.
func refEntities(insts []*dicom.Dataset, level string) []refEntity {
	by := map[string]*refEntity{}
	var keys []string
	for _, ds := range insts {
		k := refLevels[level](ds)
		e, ok := by[k]
		if !ok {
			e = &refEntity{key: k}
			by[k] = e
			keys = append(keys, k)
		}
		e.insts = append(e.insts, ds)
	}
	sort.Strings(keys)
	out := make([]refEntity, len(keys))
	for i, k := range keys {
		out[i] = *by[k]
	}
	return out
}

// wildcard reports whether v matches the C-FIND wildcard pattern p (* any
// run of characters, ? one character), case-sensitively.
func wildcard(p, v string) bool {
	var re strings.Builder
	re.WriteString("^")
	for _, r := range p {
		switch r {
		case '*':
			re.WriteString(".*")
		case '?':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	re.WriteString("$")
	return regexp.MustCompile(re.String()).MatchString(v)
}

var (
	dateRE = regexp.MustCompile(`^\d{8}$`)
	timeRE = regexp.MustCompile(`^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$`)
)

// inRange reports whether the date or time v lies in [lo, hi] (an empty
// bound is open), and false in its second result when v is not a value
// the reference can compare. Times are compared as HHMMSS.ffffff.
func inRange(v, lo, hi string, isTime bool) (bool, bool) {
	if v == "" {
		return false, true
	}
	norm := func(s string) string { return s }
	if isTime {
		if !timeRE.MatchString(v) {
			return false, false
		}
		norm = func(s string) string {
			whole, frac, _ := strings.Cut(s, ".")
			whole += strings.Repeat("0", 6-len(whole))
			return whole + "." + frac + strings.Repeat("0", 6-len(frac))
		}
	} else if !dateRE.MatchString(v) {
		return false, false
	}
	n := norm(v)
	return (lo == "" || n >= norm(lo)) && (hi == "" || n <= norm(hi)), true
}

// findscuCase is one query: findscu's keys and the reference's answer.
type findscuCase struct {
	name  string
	model string // -P or -S
	level string
	keys  []string // findscu -k values besides the level
	// resultKey extracts the compared key from a response.
	resultKey func(*dicom.Dataset) string
	// match says whether a reference entity matches; false in the second
	// result excludes it from the comparison (the reference cannot tell).
	match func(e refEntity) (bool, bool)
	// checkNames compares each response's Patient Name and character set
	// with the reference.
	checkNames bool
}

// TestFindscuQueries: dcmtk's findscu queries the archive loaded with the
// corpus at every level of both models, with each kind of matching, and
// gets what a reference computation from the corpus data sets gives.
func TestFindscuQueries(t *testing.T) {
	peertest.Need(t, "findscu", "storescu")
	files := sendableCorpus(t)
	s := startArchiveServer(t)
	insts := storeCorpus(t, s, files)
	if len(insts) < 20 {
		t.Fatalf("only %d corpus instances stored", len(insts))
	}
	studies := refEntities(insts, "STUDY")
	seriesOf := map[string][]refEntity{}
	for _, se := range refEntities(insts, "SERIES") {
		if st, ok := se.value(attr(dicom.StudyInstanceUID)); ok {
			seriesOf[st] = append(seriesOf[st], se)
		}
	}
	// The study with most series, and its series with most instances,
	// whose patient the reference knows.
	var bigStudy refEntity
	var bigPatient string
	for _, st := range studies {
		pk, ok := st.value(patientKey)
		if ok && !strings.HasSuffix(pk, "|") {
			continue // an issuer: the Patient Root query below names the ID only
		}
		if ok && st.key != "" && len(seriesOf[st.key]) > len(seriesOf[bigStudy.key]) {
			bigStudy, bigPatient = st, strings.TrimSuffix(pk, "|")
		}
	}
	var bigSeries refEntity
	for _, se := range seriesOf[bigStudy.key] {
		if len(se.insts) > len(bigSeries.insts) {
			bigSeries = se
		}
	}
	sopClass, _ := bigSeries.value(attr(dicom.SOPClassUID))
	modality, _ := refEntity{insts: seriesOf[bigStudy.key][0].insts}.value(attr(dicom.Modality))
	listUIDs := []string{studies[0].key, studies[len(studies)/2].key, studies[len(studies)-1].key, "1.2.3.4.5.6.7.8.9"}
	t.Logf("%d instances stored, %d studies; study %s has %d series", len(insts), len(studies), bigStudy.key, len(seriesOf[bigStudy.key]))

	uidKey := func(t dicom.Tag) func(*dicom.Dataset) string { return attr(t) }
	single := func(extract func(*dicom.Dataset) string, pred func(string) bool) func(refEntity) (bool, bool) {
		return func(e refEntity) (bool, bool) {
			v, ok := e.value(extract)
			return ok && pred(v), ok
		}
	}
	rangeOf := func(tag dicom.Tag, lo, hi string, isTime bool) func(refEntity) (bool, bool) {
		return func(e refEntity) (bool, bool) {
			v, ok := e.value(attr(tag))
			if !ok {
				return false, false
			}
			return inRange(v, lo, hi, isTime)
		}
	}
	all := func(refEntity) (bool, bool) { return true, true }
	under := func(parent dicom.Tag, uid string) func(refEntity) (bool, bool) {
		return single(attr(parent), func(v string) bool { return v == uid })
	}
	mppsClass := "1.2.840.10008.3.1.2.3.3"
	hasMPPS := func(ds *dicom.Dataset) string {
		for _, it := range ds.Items(dicom.ReferencedPerformedProcedureStepSequence) {
			if it.String(dicom.ReferencedSOPClassUID) == mppsClass {
				return "yes"
			}
		}
		return "no"
	}
	modalitiesHave := func(m string) func(refEntity) (bool, bool) {
		return func(e refEntity) (bool, bool) {
			found := false
			for _, se := range seriesOf[e.key] {
				v, ok := se.value(attr(dicom.Modality))
				if !ok {
					return false, false
				}
				found = found || v == m
			}
			return found, true
		}
	}
	and := func(fs ...func(refEntity) (bool, bool)) func(refEntity) (bool, bool) {
		return func(e refEntity) (bool, bool) {
			m := true
			for _, f := range fs {
				ok, known := f(e)
				if !known {
					return false, false
				}
				m = m && ok
			}
			return m, true
		}
	}

	tests := []findscuCase{
		{name: "patients universal", model: "-P", level: "PATIENT", keys: []string{"PatientID", "IssuerOfPatientID", "PatientName"},
			resultKey: patientKey, match: all, checkNames: true},
		{name: "patient name wildcard", model: "-P", level: "PATIENT", keys: []string{"PatientID", "IssuerOfPatientID", "PatientName=*e*"},
			resultKey: patientKey, match: single(personName, func(v string) bool { return wildcard("*e*", v) })},
		{name: "patient name question mark", model: "-P", level: "PATIENT", keys: []string{"PatientID", "IssuerOfPatientID", "PatientName=?????*"},
			resultKey: patientKey, match: single(personName, func(v string) bool { return wildcard("?????*", v) })},
		{name: "patient id single value", model: "-P", level: "PATIENT", keys: []string{"PatientID=" + bigPatient, "IssuerOfPatientID"},
			resultKey: patientKey, match: single(attr(dicom.PatientID), func(v string) bool { return v == bigPatient })},
		{name: "study date range", model: "-S", level: "STUDY", keys: []string{"StudyInstanceUID", "StudyDate=19950101-20051231"},
			resultKey: uidKey(dicom.StudyInstanceUID), match: rangeOf(dicom.StudyDate, "19950101", "20051231", false)},
		{name: "study date open end", model: "-S", level: "STUDY", keys: []string{"StudyInstanceUID", "StudyDate=20060101-"},
			resultKey: uidKey(dicom.StudyInstanceUID), match: rangeOf(dicom.StudyDate, "20060101", "", false)},
		{name: "study time range", model: "-S", level: "STUDY", keys: []string{"StudyInstanceUID", "StudyTime=-120000"},
			resultKey: uidKey(dicom.StudyInstanceUID), match: rangeOf(dicom.StudyTime, "", "120000", true)},
		{name: "study list of UIDs", model: "-S", level: "STUDY", keys: []string{"StudyInstanceUID=" + strings.Join(listUIDs, `\`)},
			resultKey: uidKey(dicom.StudyInstanceUID), match: func(e refEntity) (bool, bool) { return slices.Contains(listUIDs, e.key), true }},
		{name: "study description wildcard", model: "-S", level: "STUDY", keys: []string{"StudyInstanceUID", "StudyDescription=*a*"},
			resultKey: uidKey(dicom.StudyInstanceUID), match: single(attr(dicom.StudyDescription), func(v string) bool { return wildcard("*a*", v) })},
		{name: "modalities in study", model: "-S", level: "STUDY", keys: []string{"StudyInstanceUID", "ModalitiesInStudy=MR"},
			resultKey: uidKey(dicom.StudyInstanceUID), match: modalitiesHave("MR")},
		{name: "study sequence matching", model: "-S", level: "STUDY",
			keys:      []string{"StudyInstanceUID", "(0008,1111)[0].(0008,1150)=" + mppsClass},
			resultKey: uidKey(dicom.StudyInstanceUID), match: single(hasMPPS, func(v string) bool { return v == "yes" })},
		{name: "patient root studies of a patient", model: "-P", level: "STUDY", keys: []string{"PatientID=" + bigPatient, "StudyInstanceUID"},
			resultKey: uidKey(dicom.StudyInstanceUID), match: single(patientKey, func(v string) bool { return v == bigPatient+"|" })},
		{name: "series of a study", model: "-S", level: "SERIES", keys: []string{"StudyInstanceUID=" + bigStudy.key, "SeriesInstanceUID"},
			resultKey: uidKey(dicom.SeriesInstanceUID), match: under(dicom.StudyInstanceUID, bigStudy.key)},
		{name: "series by modality", model: "-P", level: "SERIES",
			keys:      []string{"PatientID=" + bigPatient, "StudyInstanceUID=" + bigStudy.key, "SeriesInstanceUID", "Modality=" + modality},
			resultKey: uidKey(dicom.SeriesInstanceUID),
			match:     and(under(dicom.StudyInstanceUID, bigStudy.key), single(attr(dicom.Modality), func(v string) bool { return v == modality }))},
		{name: "images of a series", model: "-S", level: "IMAGE",
			keys:      []string{"StudyInstanceUID=" + bigStudy.key, "SeriesInstanceUID=" + bigSeries.key, "SOPInstanceUID"},
			resultKey: uidKey(dicom.SOPInstanceUID), match: under(dicom.SeriesInstanceUID, bigSeries.key)},
		{name: "images by SOP class, patient root", model: "-P", level: "IMAGE",
			keys:      []string{"PatientID=" + bigPatient, "StudyInstanceUID=" + bigStudy.key, "SeriesInstanceUID=" + bigSeries.key, "SOPInstanceUID", "SOPClassUID=" + sopClass},
			resultKey: uidKey(dicom.SOPInstanceUID),
			match:     and(under(dicom.SeriesInstanceUID, bigSeries.key), single(attr(dicom.SOPClassUID), func(v string) bool { return v == sopClass }))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{tc.model, "-aec", "FORGE", "-X", "-od", dir, "-k", "QueryRetrieveLevel=" + tc.level}
			for _, k := range tc.keys {
				args = append(args, "-k", k)
			}
			args = append(args, "127.0.0.1", s.port)
			cmd := exec.Command("findscu", args...)
			peertest.SetNoDelay(cmd)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("findscu error = %v:\n%s", err, out)
			}
			var want []string
			unknown := map[string]bool{}
			for _, e := range refEntities(insts, tc.level) {
				m, known := tc.match(e)
				switch {
				case !known:
					unknown[e.key] = true
				case m:
					want = append(want, e.key)
				}
			}
			var got []string
			for _, r := range readResponses(t, dir) {
				got = append(got, tc.resultKey(r))
			}
			if tc.checkNames {
				checkNames(t, refEntities(insts, tc.level), readResponses(t, dir))
			}
			got = slices.DeleteFunc(got, func(k string) bool { return unknown[k] })
			slices.Sort(got)
			if len(want) == 0 {
				t.Errorf("the reference expects no match: the case tests nothing")
			}
			if !slices.Equal(got, want) {
				t.Errorf("matches (%d) = %q\nwant (%d) %q\nfindscu:\n%s", len(got), got, len(want), want, out)
			}
			t.Logf("%d matches, %d entities left out", len(got), len(unknown))
		})
	}
}

// readResponses reads the responses findscu extracted into dir.
func readResponses(t *testing.T, dir string) []*dicom.Dataset {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "rsp*.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	var out []*dicom.Dataset
	for _, n := range names {
		f, err := part10.ReadFile(n)
		if err != nil {
			t.Fatalf("response %s: %v", n, err)
		}
		out = append(out, f.Dataset)
	}
	return out
}

// checkNames compares the Patient Name of patient-level responses, decoded
// in the response's character set, with the corpus; a name that is not
// ASCII must come in the character set the patient's data has (the query
// had none), canonical spelling aside.
func checkNames(t *testing.T, patients []refEntity, responses []*dicom.Dataset) {
	t.Helper()
	byKey := map[string]refEntity{}
	for _, p := range patients {
		byKey[p.key] = p
	}
	canonical := func(terms []string) string {
		c, err := charset.New(terms)
		if err != nil {
			return strings.Join(terms, `\`)
		}
		return c.String()
	}
	checked, nonASCII := 0, 0
	for _, r := range responses {
		p, ok := byKey[patientKey(r)]
		if !ok {
			t.Errorf("response for unknown patient %q", patientKey(r))
			continue
		}
		name, ok1 := p.value(personName)
		cs, ok2 := p.value(attr(dicom.SpecificCharacterSet))
		if !ok1 || !ok2 {
			continue
		}
		checked++
		if got := personName(r); got != name {
			t.Errorf("patient %q: name %q, want %q", p.key, got, name)
		}
		ascii := !strings.ContainsFunc(name, func(c rune) bool { return c >= 0x80 })
		if !ascii {
			nonASCII++
		}
		if got := r.Strings(dicom.SpecificCharacterSet); !ascii && canonical(got) != canonical(strings.Split(cs, `\`)) {
			t.Errorf("patient %q: Specific Character Set %q, want the data's %q", p.key, got, cs)
		}
	}
	t.Logf("names of %d patients checked, %d not ASCII", checked, nonASCII)
	if nonASCII == 0 {
		t.Error("no name outside ASCII checked")
	}
}

// TestFindscuRefusals: findscu's Study Root query at PATIENT level and a
// hierarchical query without its unique keys are refused.
func TestFindscuRefusals(t *testing.T) {
	peertest.Need(t, "findscu")
	s := startArchiveServer(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "study root patient level", args: []string{"-S", "-k", "QueryRetrieveLevel=PATIENT", "-k", "PatientID"}, want: "no PATIENT level"},
		{name: "series without study", args: []string{"-S", "-k", "QueryRetrieveLevel=SERIES", "-k", "Modality=CT"}, want: "single value of (0020,000d)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-d", "-aec", "FORGE"}, tc.args...)
			cmd := exec.Command("findscu", append(args, "127.0.0.1", s.port)...)
			peertest.SetNoDelay(cmd)
			out, _ := cmd.CombinedOutput()
			if !strings.Contains(string(out), "DIMSE Status                  : 0xa900") || !strings.Contains(string(out), tc.want) {
				t.Errorf("findscu output lacks status A900 with %q:\n%s", tc.want, out)
			}
		})
	}
}
