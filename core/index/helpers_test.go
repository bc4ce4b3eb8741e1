package index

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/charset"
)

// openTest opens an index in a temporary directory, closed at the end of t.
func openTest(t testing.TB, opt Options) *Index {
	t.Helper()
	ix, err := Open(context.Background(), filepath.Join(t.TempDir(), "index.db"), opt)
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

func mustSet(t testing.TB, ds *dicom.Dataset, tag dicom.Tag, v ...string) {
	t.Helper()
	if err := ds.SetString(tag, v...); err != nil {
		t.Fatalf("SetString(%s) error = %v", tag, err)
	}
}

// patientSpec is one synthetic patient.
type patientSpec struct {
	id, issuer, name, birth, sex, charset string
}

var testPatients = []patientSpec{
	{"P001", "", "Doe^John", "19700101", "M", ""},
	{"P002", "", "Doe^Jane", "19720304", "F", ""},
	{"P003", "HOSP-A", "Müller^Jürgen", "19550712", "M", "ISO_IR 100"},
	{"P003", "HOSP-B", "MULLER^JURGEN", "19550712", "M", ""},
	{"P005", "", "O'Brien^Siobhán", "19881231", "F", "ISO_IR 192"},
	{"P006", "", "Smith_Jones^Anne", "20010101", "F", ""},
	{"P007", "", "Percent%Name^X", "", "O", ""},
	{"P008", "", "Yamada^Tarou=山田^太郎", "19600229", "M", "ISO_IR 192"},
	{"P009", "", "Zhang^Wei", "19990909", "M", ""},
	{"P010", "", "Doe^Johnny^^^", "19700102", "M", ""},
}

var (
	testModalities = []string{"CT", "MR", "US", "CR", "SR"}
	testBodyParts  = []string{"HEAD", "CHEST", "ABDOMEN", "KNEE", ""}
	testDescs      = []string{"CT HEAD W/O", "MR BRAIN", "100% dose", "chest_pa", "Knee MRI left", ""}
	testInsts      = []string{"General Hospital", "Clinique Sainte-Émilie", "", "Lab_1"}
)

// synthInstances builds about n instances across the test patients, their
// studies and series, deterministic for a seed.
func synthInstances(t testing.TB, seed uint64) []*dicom.Dataset {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	var out []*dicom.Dataset
	for pi, p := range testPatients {
		var codec dicom.TextCodec
		if p.charset != "" {
			c, err := charset.New([]string{p.charset})
			if err != nil {
				t.Fatal(err)
			}
			codec = c
		}
		nStudies := 1 + rng.IntN(4)
		for si := range nStudies {
			studyUID := fmt.Sprintf("1.2.826.0.1.3680043.10.1.%d.%d", pi+1, si+1)
			date := fmt.Sprintf("20%02d%02d%02d", 15+rng.IntN(10), 1+rng.IntN(12), 1+rng.IntN(28))
			times := []string{"080000", "1230", "235959.5", "07", "120000.123456", ""}
			tm := times[rng.IntN(len(times))]
			acc := fmt.Sprintf("ACC%04d", rng.IntN(10000))
			ref := []string{"Welby^Marcus", "House^Gregory", "", "Grey^Meredith"}[rng.IntN(4)]
			age := fmt.Sprintf("%03dY", 20+rng.IntN(60))
			nSeries := 1 + rng.IntN(3)
			for se := range nSeries {
				seriesUID := fmt.Sprintf("%s.%d", studyUID, se+1)
				mod := testModalities[rng.IntN(len(testModalities))]
				body := testBodyParts[rng.IntN(len(testBodyParts))]
				desc := testDescs[rng.IntN(len(testDescs))]
				inst := testInsts[rng.IntN(len(testInsts))]
				nInst := 1 + rng.IntN(6)
				for in := range nInst {
					ds := dicom.NewDataset(40)
					ds.Codec = codec
					if p.charset != "" {
						mustSet(t, ds, dicom.SpecificCharacterSet, p.charset)
					}
					mustSet(t, ds, dicom.SOPClassUID, []string{"1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.4", "1.2.840.10008.5.1.4.1.1.88.11"}[rng.IntN(3)])
					mustSet(t, ds, dicom.SOPInstanceUID, fmt.Sprintf("%s.%d", seriesUID, in+1))
					mustSet(t, ds, dicom.StudyDate, date)
					mustSet(t, ds, dicom.SeriesDate, date)
					if tm != "" {
						mustSet(t, ds, dicom.StudyTime, tm)
					}
					mustSet(t, ds, dicom.AccessionNumber, acc)
					mustSet(t, ds, dicom.Modality, mod)
					if inst != "" {
						mustSet(t, ds, dicom.InstitutionName, inst)
					}
					mustSet(t, ds, dicom.ReferringPhysicianName, ref)
					if desc != "" {
						mustSet(t, ds, dicom.SeriesDescription, desc)
					}
					mustSet(t, ds, dicom.StudyDescription, fmt.Sprintf("Study %d of %s", si+1, p.id))
					mustSet(t, ds, dicom.PatientName, p.name)
					mustSet(t, ds, dicom.PatientID, p.id)
					if p.issuer != "" {
						mustSet(t, ds, dicom.IssuerOfPatientID, p.issuer)
					}
					if p.birth != "" {
						mustSet(t, ds, dicom.PatientBirthDate, p.birth)
					}
					mustSet(t, ds, dicom.PatientSex, p.sex)
					mustSet(t, ds, dicom.PatientAge, age)
					if body != "" {
						mustSet(t, ds, dicom.BodyPartExamined, body)
					}
					mustSet(t, ds, dicom.StudyInstanceUID, studyUID)
					mustSet(t, ds, dicom.SeriesInstanceUID, seriesUID)
					mustSet(t, ds, dicom.StudyID, fmt.Sprintf("S%d", si+1))
					mustSet(t, ds, dicom.SeriesNumber, fmt.Sprint(se+1))
					mustSet(t, ds, dicom.InstanceNumber, fmt.Sprintf("%d", in+1))
					mustSet(t, ds, dicom.AcquisitionDateTime, fmt.Sprintf("%s%02d%02d00", date, rng.IntN(24), rng.IntN(60)))
					item := dicom.NewDataset(2)
					mustSet(t, item, dicom.RequestedProcedureID, fmt.Sprintf("RP%d", rng.IntN(5)))
					mustSet(t, item, dicom.ScheduledProcedureStepID, fmt.Sprintf("SPS%d", rng.IntN(3)))
					ds.SetItems(dicom.RequestAttributesSequence, item)
					// A large binary value that the index must leave out.
					if err := ds.SetBytes(dicom.Tag(0x00091010), dicom.OB, make([]byte, 2048)); err != nil {
						t.Fatal(err)
					}
					out = append(out, ds)
				}
			}
		}
	}
	return out
}

// record wraps a data set as an InstanceRecord with a made-up location.
func record(ds *dicom.Dataset, i int) InstanceRecord {
	return InstanceRecord{
		Dataset:           ds,
		Backend:           "fs",
		Key:               fmt.Sprintf("objects/%06d.dcm", i),
		Size:              int64(1000 + i),
		SHA256:            fmt.Sprintf("%064x", i),
		TransferSyntaxUID: "1.2.840.10008.1.2.1",
		ReceivedAt:        time.Unix(1700000000+int64(i), 0),
	}
}

// load adds every data set to ix concurrently and fails t on an error.
func load(t testing.TB, ix *Index, dss []*dicom.Dataset) {
	t.Helper()
	errs := make(chan error, len(dss))
	for i, ds := range dss {
		go func() {
			_, err := ix.Add(context.Background(), record(ds, i))
			errs <- err
		}()
	}
	for range dss {
		if err := <-errs; err != nil {
			t.Fatalf("Add() error = %v", err)
		}
	}
}
