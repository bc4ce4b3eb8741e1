package index

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
)

// refEntity is an entity of the reference model: its instances.
type refEntity struct {
	key   string
	insts []*dicom.Dataset
}

// refEntities groups instances by the entity at level l.
func refEntities(dss []*dicom.Dataset, l Level) []*refEntity {
	m := map[string]*refEntity{}
	var order []string
	for _, ds := range dss {
		k := entityKey(ds, l)
		e, ok := m[k]
		if !ok {
			e = &refEntity{key: k}
			m[k] = e
			order = append(order, k)
		}
		e.insts = append(e.insts, ds)
	}
	out := make([]*refEntity, 0, len(order))
	for _, k := range order {
		out = append(out, m[k])
	}
	return out
}

func entityKey(ds *dicom.Dataset, l Level) string {
	switch l {
	case Patient:
		return ds.String(dicom.PatientID) + "/" + ds.String(dicom.IssuerOfPatientID)
	case Study:
		return ds.String(dicom.StudyInstanceUID)
	case Series:
		return ds.String(dicom.SeriesInstanceUID)
	}
	return ds.String(dicom.SOPInstanceUID)
}

// refFold folds the accents used by the test data and upper-cases.
func refFold(s string) string {
	return strings.ToUpper(strings.NewReplacer("ü", "u", "á", "a", "É", "E", "é", "e").Replace(s))
}

func refPattern(p string) *regexp.Regexp {
	q := regexp.QuoteMeta(p)
	q = strings.ReplaceAll(q, `\*`, ".*")
	q = strings.ReplaceAll(q, `\?`, ".")
	return regexp.MustCompile("^(?s:" + q + ")$")
}

// refSeconds is a time of day in seconds; missing parts take fill (0 or
// 59, and a fraction of .999999 with 59).
func refSeconds(s string, upper bool) float64 {
	s = strings.ReplaceAll(s, ":", "")
	whole, frac, _ := strings.Cut(s, ".")
	parts := []float64{0, 0, 0}
	for i := range 3 {
		if len(whole) >= 2*i+2 {
			n, _ := strconv.Atoi(whole[2*i : 2*i+2])
			parts[i] = float64(n)
		} else if upper {
			parts[i] = 59
		}
	}
	f := 0.0
	if frac != "" {
		f, _ = strconv.ParseFloat("0."+frac, 64)
	} else if upper && len(whole) <= 6 {
		f = 0.999999
	}
	return parts[0]*3600 + parts[1]*60 + parts[2] + f
}

// refValue matches one stored value against one key value, written
// independently of match.go.
func refValue(vr dicom.VR, kv, sv string, ci bool) bool {
	if kv == `""` {
		return sv == ""
	}
	switch vr {
	case dicom.DA:
		lo, hi, r := strings.Cut(kv, "-")
		if !r {
			return sv == kv
		}
		return sv != "" && (lo == "" || sv >= lo) && (hi == "" || sv <= hi)
	case dicom.TM:
		if sv == "" {
			return false
		}
		lo, hi, r := strings.Cut(kv, "-")
		s := refSeconds(sv, false)
		if !r {
			return s == refSeconds(kv, false)
		}
		return (lo == "" || s >= refSeconds(lo, false)) && (hi == "" || s <= refSeconds(hi, true))
	case dicom.DT:
		lo, hi, _ := strings.Cut(kv, "-")
		return sv != "" && (lo == "" || sv >= lo) && (hi == "" || sv[:len(hi)] <= hi)
	case dicom.UI:
		return sv == kv
	case dicom.IS:
		a, _ := strconv.Atoi(kv)
		b, _ := strconv.Atoi(sv)
		return a == b
	case dicom.PN:
		kv, sv = strings.TrimRight(kv, "^"), strings.TrimRight(sv, "^")
		if ci {
			kv, sv = refFold(kv), refFold(sv)
		}
		if refPattern(kv).MatchString(sv) {
			return true
		}
		return !strings.Contains(kv, "=") && refPattern(kv+"=*").MatchString(sv)
	case dicom.AE, dicom.CS, dicom.LO, dicom.LT, dicom.SH, dicom.ST, dicom.UC, dicom.UR, dicom.UT:
		return refPattern(kv).MatchString(sv)
	}
	return kv == sv
}

// refMatch reports whether entity e at level l matches every key.
func refMatch(e *refEntity, l Level, keys *dicom.Dataset, ci bool) bool {
	for k := range keys.All() {
		if kl, ok := levelOf(k.Tag); ok && kl > l {
			continue
		}
		if k.IsSequence() {
			if !refSequence(e.insts[0], k) {
				return false
			}
			continue
		}
		vals := k.Strings(keys.Codec)
		if len(vals) == 0 || (len(vals) == 1 && strings.Trim(vals[0], "*") == "" && vals[0] != "") && k.VR != dicom.DA {
			continue
		}
		var stored []string
		switch k.Tag {
		case dicom.ModalitiesInStudy:
			for _, ds := range e.insts {
				stored = append(stored, ds.String(dicom.Modality))
			}
		case dicom.SOPClassesInStudy:
			for _, ds := range e.insts {
				stored = append(stored, ds.String(dicom.SOPClassUID))
			}
		default:
			stored = []string{e.insts[0].String(k.Tag)}
		}
		ok := false
		for _, kv := range vals {
			for _, sv := range stored {
				ok = ok || refValue(k.VR, kv, sv, ci)
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func refSequence(ds *dicom.Dataset, k *dicom.Element) bool {
	want := k.Items[0]
	for _, it := range ds.Items(k.Tag) {
		ok := true
		for ke := range want.All() {
			if v := ke.Strings(nil); len(v) > 0 && !refValue(ke.VR, v[0], it.String(ke.Tag), false) {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// keys builds an identifier from tag, value pairs.
func keys(t testing.TB, kv ...any) *dicom.Dataset {
	t.Helper()
	ds := dicom.NewDataset(len(kv) / 2)
	for i := 0; i < len(kv); i += 2 {
		tag := kv[i].(dicom.Tag)
		switch v := kv[i+1].(type) {
		case string:
			mustSet(t, ds, tag, strings.Split(v, `\`)...)
		case *dicom.Dataset:
			ds.SetItems(tag, v)
		}
	}
	return ds
}

func TestFindAgainstReference(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t, Options{})
	dss := synthInstances(t, 42)
	load(t, ix, dss)
	t.Logf("%d instances", len(dss))

	seq := keys(t, dicom.RequestedProcedureID, "RP1")
	seqWild := keys(t, dicom.RequestedProcedureID, "RP*", dicom.ScheduledProcedureStepID, "SPS2")
	studyUID := dss[0].String(dicom.StudyInstanceUID)
	seriesUID := dss[0].String(dicom.SeriesInstanceUID)
	tests := []struct {
		name  string
		level Level
		root  Root
		rel   bool
		ci    bool
		keys  *dicom.Dataset
	}{
		{name: "patient universal", level: Patient, keys: keys(t, dicom.PatientName, "")},
		{name: "patient id", level: Patient, keys: keys(t, dicom.PatientID, "P003")},
		{name: "patient name wildcard", level: Patient, keys: keys(t, dicom.PatientName, "Doe*")},
		{name: "patient name single", level: Patient, keys: keys(t, dicom.PatientName, "Doe^John")},
		{name: "patient name padded", level: Patient, keys: keys(t, dicom.PatientName, "Doe^Johnny")},
		{name: "patient name case", level: Patient, keys: keys(t, dicom.PatientName, "doe^john")},
		{name: "patient name ci", level: Patient, ci: true, keys: keys(t, dicom.PatientName, "doe^j*")},
		{name: "patient name accents ci", level: Patient, ci: true, keys: keys(t, dicom.PatientName, "muller^jurgen")},
		{name: "patient name question mark", level: Patient, keys: keys(t, dicom.PatientName, "Doe^Ja?e")},
		{name: "patient name underscore literal", level: Patient, keys: keys(t, dicom.PatientName, "Smith_*")},
		{name: "patient name underscore is no wildcard", level: Patient, keys: keys(t, dicom.PatientName, "Smith_Jone_*")},
		{name: "patient name percent literal", level: Patient, keys: keys(t, dicom.PatientName, "Percent%*")},
		{name: "patient name alphabetic group", level: Patient, keys: keys(t, dicom.PatientName, "Yamada^Tarou")},
		{name: "patient name ideographic", level: Patient, keys: keys(t, dicom.PatientName, "*山田*")},
		{name: "patient name ideographic prefix", level: Patient, keys: keys(t, dicom.PatientName, "山*")},
		{name: "patient name prefix before question mark", level: Patient, keys: keys(t, dicom.PatientName, "D?e*")},
		{name: "patient name prefix ci", level: Patient, ci: true, keys: keys(t, dicom.PatientName, "DOE*")},
		{name: "patient name prefix with group", level: Patient, keys: keys(t, dicom.PatientName, "Yamada^Tarou=山*")},
		{name: "birth date range", level: Patient, keys: keys(t, dicom.PatientBirthDate, "19700101-19791231")},
		{name: "birth date open start", level: Patient, keys: keys(t, dicom.PatientBirthDate, "-19600101")},
		{name: "birth date open end", level: Patient, keys: keys(t, dicom.PatientBirthDate, "19990101-")},
		{name: "birth date empty value", level: Patient, keys: keys(t, dicom.PatientBirthDate, `""`)},
		{name: "sex and name", level: Patient, keys: keys(t, dicom.PatientSex, "F", dicom.PatientName, "*")},
		{name: "patient ethnic group json", level: Patient, keys: keys(t, dicom.PatientID, "P00?", dicom.EthnicGroup, "")},

		{name: "study date single", level: Study, root: StudyRoot, keys: keys(t, dicom.StudyDate, dss[0].String(dicom.StudyDate))},
		{name: "study date range", level: Study, root: StudyRoot, keys: keys(t, dicom.StudyDate, "20180101-20201231")},
		{name: "study time range", level: Study, root: StudyRoot, keys: keys(t, dicom.StudyTime, "1200-")},
		{name: "study time upper", level: Study, root: StudyRoot, keys: keys(t, dicom.StudyTime, "-0800")},
		{name: "study time reduced", level: Study, root: StudyRoot, keys: keys(t, dicom.StudyTime, "07-12")},
		{name: "accession wildcard", level: Study, root: StudyRoot, keys: keys(t, dicom.AccessionNumber, "ACC1*")},
		{name: "modalities in study", level: Study, root: StudyRoot, keys: keys(t, dicom.ModalitiesInStudy, "CT")},
		{name: "modalities list", level: Study, root: StudyRoot, keys: keys(t, dicom.ModalitiesInStudy, `US\SR`)},
		{name: "sop classes in study", level: Study, root: StudyRoot, keys: keys(t, dicom.SOPClassesInStudy, "1.2.840.10008.5.1.4.1.1.88.11")},
		{name: "sop classes list", level: Study, root: StudyRoot, keys: keys(t, dicom.SOPClassesInStudy, `1.2.840.10008.5.1.4.1.1.88.11\1.2.840.10008.5.1.4.1.1.4`)},
		// A prefix of a stored class is another UID.
		{name: "sop class prefix", level: Study, root: StudyRoot, keys: keys(t, dicom.SOPClassesInStudy, "1.2.840.10008.5.1.4.1.1.8")},
		{name: "patient keys at study", level: Study, root: StudyRoot, keys: keys(t, dicom.PatientName, "Doe*", dicom.StudyDate, "20200101-")},
		{name: "referring ci", level: Study, root: StudyRoot, ci: true, keys: keys(t, dicom.ReferringPhysicianName, "house*")},
		{name: "study uid list", level: Study, root: StudyRoot, keys: keys(t, dicom.StudyInstanceUID, studyUID+`\1.2.826.0.1.3680043.10.1.2.1\9.9`)},
		{name: "patient age json", level: Study, root: StudyRoot, keys: keys(t, dicom.PatientAge, "0[4-5]*\\"+dss[5].String(dicom.PatientAge))},
		{name: "patient root study", level: Study, keys: keys(t, dicom.PatientID, "P001", dicom.StudyDescription, "*")},
		{name: "study description wildcard", level: Study, root: StudyRoot, keys: keys(t, dicom.StudyDescription, "Study 2*")},

		{name: "series modality", level: Series, root: StudyRoot, rel: true, keys: keys(t, dicom.Modality, "MR")},
		{name: "series number", level: Series, root: StudyRoot, rel: true, keys: keys(t, dicom.SeriesNumber, "2")},
		{name: "series description percent", level: Series, root: StudyRoot, rel: true, keys: keys(t, dicom.SeriesDescription, "*%*")},
		{name: "series description underscore", level: Series, root: StudyRoot, rel: true, keys: keys(t, dicom.SeriesDescription, "chest_pa")},
		{name: "series hierarchical", level: Series, root: StudyRoot, keys: keys(t, dicom.StudyInstanceUID, studyUID, dicom.Modality, "")},
		{name: "institution json", level: Series, root: StudyRoot, rel: true, keys: keys(t, dicom.InstitutionName, "*Émilie")},
		{name: "body part and modality", level: Series, root: StudyRoot, rel: true, keys: keys(t, dicom.BodyPartExamined, "CHEST", dicom.Modality, `CT\CR`)},
		{name: "patient root series", level: Series, rel: true, keys: keys(t, dicom.PatientName, "*^J*", dicom.SeriesDate, "20190101-")},

		{name: "image sop class", level: Image, root: StudyRoot, rel: true, keys: keys(t, dicom.SOPClassUID, "1.2.840.10008.5.1.4.1.1.4")},
		{name: "image number", level: Image, root: StudyRoot, rel: true, keys: keys(t, dicom.InstanceNumber, "3", dicom.Modality, "CT")},
		{name: "image hierarchical", level: Image, root: StudyRoot, keys: keys(t, dicom.StudyInstanceUID, studyUID, dicom.SeriesInstanceUID, seriesUID)},
		{name: "image sequence", level: Image, root: StudyRoot, rel: true, keys: keys(t, dicom.RequestAttributesSequence, seq)},
		{name: "image sequence wildcard", level: Image, root: StudyRoot, rel: true, keys: keys(t, dicom.RequestAttributesSequence, seqWild, dicom.PatientSex, "M")},
		{name: "image acquisition datetime", level: Image, root: StudyRoot, rel: true, keys: keys(t, dicom.AcquisitionDateTime, "2020-2021")},
		{name: "image uid list", level: Image, root: PatientRoot, rel: true, keys: keys(t, dicom.SOPInstanceUID, dss[3].String(dicom.SOPInstanceUID)+`\`+dss[7].String(dicom.SOPInstanceUID))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.level == Patient && !tc.keys.Contains(dicom.IssuerOfPatientID) {
				mustSet(t, tc.keys, dicom.IssuerOfPatientID)
			}
			q := Query{Level: tc.level, Root: tc.root, Keys: tc.keys, Relational: tc.rel, CaseInsensitivePN: tc.ci}
			var got []string
			for ds, err := range ix.Find(ctx, q) {
				if err != nil {
					t.Fatalf("Find() error = %v", err)
				}
				if l := ds.String(dicom.QueryRetrieveLevel); l != tc.level.String() {
					t.Errorf("QueryRetrieveLevel = %q", l)
				}
				got = append(got, resultKey(t, ds, tc.level))
			}
			var want []string
			for _, e := range refEntities(dss, tc.level) {
				if refMatch(e, tc.level, tc.keys, tc.ci) {
					want = append(want, e.key)
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			t.Logf("%d matches", len(got))
			if !slices.Equal(got, want) {
				t.Errorf("Find() matched %d %v\nreference  %d %v", len(got), got, len(want), want)
			}
		})
	}
}

// resultKey identifies the entity of a result.
func resultKey(t *testing.T, ds *dicom.Dataset, l Level) string {
	t.Helper()
	k := entityKey(ds, l)
	if k == "" || k == "/" {
		t.Fatalf("result without its unique key: %v", ds)
	}
	return k
}

func TestFindErrors(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t, Options{})
	load(t, ix, synthInstances(t, 5))
	tests := []struct {
		name    string
		q       Query
		wantErr error
	}{
		{name: "study root patient level", q: Query{Level: Patient, Root: StudyRoot}, wantErr: ErrInvalidQuery},
		{name: "hierarchical without patient id", q: Query{Level: Study, Keys: keys(t, dicom.StudyDate, "")}, wantErr: ErrInvalidQuery},
		{name: "hierarchical with wildcard uid", q: Query{Level: Series, Root: StudyRoot, Keys: keys(t, dicom.StudyInstanceUID, "1.2*")}, wantErr: ErrInvalidQuery},
		{name: "bad date range", q: Query{Level: Study, Root: StudyRoot, Keys: keys(t, dicom.StudyDate, "2020-xx")}, wantErr: ErrInvalidQuery},
		{name: "limit", q: Query{Level: Image, Root: StudyRoot, Relational: true, Limit: 5}, wantErr: ErrTooManyMatches},
		{name: "limit with go filter", q: Query{Level: Image, Root: StudyRoot, Relational: true, Limit: 5, Keys: keys(t, dicom.InstitutionName, "*a*")}, wantErr: ErrTooManyMatches},
		{name: "limit not reached", q: Query{Level: Patient, Limit: 100}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			for _, err := range ix.Find(ctx, tc.q) {
				if err != nil {
					if !errors.Is(err, tc.wantErr) || n > 0 {
						t.Fatalf("Find() error = %v after %d results, want %v first", err, n, tc.wantErr)
					}
					return
				}
				n++
			}
			if tc.wantErr != nil {
				t.Fatalf("Find() gave %d results and no error, want %v", n, tc.wantErr)
			}
		})
	}
}

func TestFindCancel(t *testing.T) {
	ix := openTest(t, Options{})
	load(t, ix, synthInstances(t, 6))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	var last error
	for _, err := range ix.Find(ctx, Query{Level: Image, Root: StudyRoot, Relational: true}) {
		if err != nil {
			last = err
			break
		}
		if n++; n == 3 {
			cancel()
		}
	}
	if !errors.Is(last, context.Canceled) || n != 3 {
		t.Errorf("Find() after cancel: %d results, error %v", n, last)
	}
}
