package uid

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pacsforge/pacs/internal/peertest"
)

func TestConstants(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{CTImageStorage, "1.2.840.10008.5.1.4.1.1.2"},
		{ExplicitVRLittleEndian, "1.2.840.10008.1.2.1"},
		{ImplicitVRLittleEndian, "1.2.840.10008.1.2"},
		{Verification, "1.2.840.10008.1.1"},
		{MRImageStorage, "1.2.840.10008.5.1.4.1.1.4"},
		{JPEGBaseline8Bit, "1.2.840.10008.1.2.4.50"},
		{StudyRootQueryRetrieveInformationModelFind, "1.2.840.10008.5.1.4.1.2.2.1"},
		{StorageCommitmentPushModel, "1.2.840.10008.1.20.1"},
		{DICOMApplicationContext, "1.2.840.10008.3.1.1.1"},
		{DicomDeviceName, "1.2.840.10008.15.0.3.1"}, // keyword dicomDeviceName
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("constant = %s, want %s", tc.got, tc.want)
		}
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		uid  string
		want Info
	}{
		{uid: "1.2.840.10008.5.1.4.1.1.2", want: Info{UID: CTImageStorage, Name: "CT Image Storage", Keyword: "CTImageStorage", Type: TypeSOPClass}},
		{uid: "1.2.840.10008.1.2", want: Info{UID: ImplicitVRLittleEndian, Name: "Implicit VR Little Endian", Keyword: "ImplicitVRLittleEndian", Type: TypeTransferSyntax, Info: "Default Transfer Syntax for DICOM"}},
		{uid: "1.2.840.10008.1.2.2", want: Info{UID: ExplicitVRBigEndian, Name: "Explicit VR Big Endian", Keyword: "ExplicitVRBigEndian", Type: TypeTransferSyntax, Retired: true}},
		{uid: "1.2.840.10008.1.1", want: Info{UID: Verification, Name: "Verification SOP Class", Keyword: "Verification", Type: TypeSOPClass}},
		{uid: "1.2.840.10008.15.0.3.1", want: Info{UID: DicomDeviceName, Name: "dicomDeviceName", Keyword: "dicomDeviceName", Type: TypeLDAPOID}},
		{uid: "1.2.840.10008.5.1.4.1.1.40", want: Info{UID: "1.2.840.10008.5.1.4.1.1.40", Type: TypeSOPClass, Info: "(2015c)", Retired: true}},
	}
	for _, tc := range tests {
		t.Run(tc.uid, func(t *testing.T) {
			got, ok := Lookup(tc.uid)
			if !ok || got != tc.want {
				t.Fatalf("Lookup(%s) = %+v, %t, want %+v", tc.uid, got, ok, tc.want)
			}
			if tc.want.Keyword == "" {
				return
			}
			if got, ok := ByKeyword(tc.want.Keyword); !ok || got != tc.want {
				t.Errorf("ByKeyword(%s) = %+v, %t, want %+v", tc.want.Keyword, got, ok, tc.want)
			}
		})
	}
	for _, u := range []string{"", "1.2.840.10008", "1.2.840.10008.5.1.4.1.1.2.0", ImplementationClassUID} {
		if got, ok := Lookup(u); ok {
			t.Errorf("Lookup(%q) = %+v, want not found", u, got)
		}
	}
	for _, kw := range []string{"", "ctImageStorage", "DicomDeviceName"} {
		if got, ok := ByKeyword(kw); ok {
			t.Errorf("ByKeyword(%q) = %+v, want not found", kw, got)
		}
	}
}

func TestLookupAllocs(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		Lookup(CTImageStorage)
		Lookup("1.2.3")
		IsStorage(MRImageStorage)
		IsTransferSyntax(ExplicitVRLittleEndian)
	})
	if allocs != 0 {
		t.Errorf("lookups allocate %v times per run, want 0", allocs)
	}
}

// TestRegistryCounts checks the totals of the registry (README of the
// standard tables).
func TestRegistryCounts(t *testing.T) {
	all := All()
	types := map[Type]int{}
	retired := 0
	for i, e := range all {
		types[e.Type]++
		if e.Retired {
			retired++
		}
		if i > 0 && all[i-1].UID >= e.UID {
			t.Errorf("registry not sorted at %s", e.UID)
		}
		if err := Valid(e.UID); err != nil {
			t.Errorf("registered UID: %v", err)
		}
	}
	if len(all) != 490 || retired != 75 {
		t.Errorf("registry has %d UIDs, %d retired; want 490, 75", len(all), retired)
	}
	want := map[Type]int{
		TypeSOPClass: 308, TypeTransferSyntax: 63, TypeLDAPOID: 39, TypeWellKnownFrameOfReference: 28,
		TypeWellKnownSOPInstance: 19, TypeCodingScheme: 15, TypeMetaSOPClass: 9, TypeServiceClass: 3,
		TypeApplicationHostingModel: 2, TypeApplicationContextName: 1, TypeDICOMUIDsAsCodingScheme: 1,
		TypeMappingResource: 1, TypeSynchronizationFrameOfReference: 1,
	}
	for typ, n := range want {
		if types[typ] != n {
			t.Errorf("%d UIDs of type %s, want %d", types[typ], typ, n)
		}
	}
	if len(types) != len(want) {
		t.Errorf("types %v, want %v", types, want)
	}
	all[0].Name = "changed"
	if All()[0].Name == "changed" {
		t.Error("All returned the registry itself, not a copy")
	}
}

func TestStorage(t *testing.T) {
	list := StorageSOPClasses()
	retired := 0
	for _, u := range list {
		info, _ := Lookup(u)
		if info.Retired {
			retired++
		}
		if !IsStorage(u) {
			t.Errorf("IsStorage(%s) = false for a listed class", u)
		}
	}
	if len(list) != 208 || retired != 20 {
		t.Errorf("%d storage SOP classes, %d retired; want 208, 20", len(list), retired)
	}
	tests := []struct {
		uid  string
		want bool
	}{
		{CTImageStorage, true},
		{EnhancedMRImageStorage, true},
		{SegmentationStorage, true},
		{EncapsulatedPDFStorage, true},
		{DICOSCTImageStorage, true},
		{EddyCurrentImageStorage, true},
		{UltrasoundImageStorageRetired, true},
		{MediaStorageDirectoryStorage, false},
		{StorageCommitmentPushModel, false},
		{StorageCommitmentPushModelInstance, false},
		{StorageManagementInstance, false},
		{Storage, false}, // the Storage Service Class
		{Verification, false},
		{ExplicitVRLittleEndian, false},
		{"1.2.3.4", false},
	}
	for _, tc := range tests {
		if got := IsStorage(tc.uid); got != tc.want {
			t.Errorf("IsStorage(%s) = %t, want %t", tc.uid, got, tc.want)
		}
	}
}

// TestStorageAgainstB51 cross-checks IsStorage with PS3.4 Table B.5-1 (2024b,
// innolitics-sops.json). B.5-1 lists Media Storage Directory Storage, which
// is not a Storage SOP Class here; the registry has 14 active storage classes
// that B.5-1 does not list: the DICOS (…501.x) and DICONDE (…601.x) classes,
// which PS3.4 defines in their own standards, and three classes added after
// 2024b.
func TestStorageAgainstB51(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(peertest.StandardDir(t), "uids", "innolitics-sops.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sops []struct{ ID, Name string }
	if err := json.Unmarshal(b, &sops); err != nil {
		t.Fatal(err)
	}
	inB51 := map[string]bool{}
	for _, s := range sops {
		inB51[s.ID] = true
		if got := IsStorage(s.ID); got != (s.ID != MediaStorageDirectoryStorage) {
			t.Errorf("IsStorage(%s %s) = %t", s.ID, s.Name, got)
		}
	}
	var extra []string
	for _, u := range StorageSOPClasses() {
		if info, _ := Lookup(u); !info.Retired && !inB51[u] {
			extra = append(extra, u)
		}
	}
	want := []string{
		LabelMapSegmentationStorage, HeightMapSegmentationStorage, WaveformAnnotationSRStorage,
		DICOSCTImageStorage, DICOSDigitalXRayImageStorageForPresentation, DICOSDigitalXRayImageStorageForProcessing,
		DICOSThreatDetectionReportStorage, DICOS2DAITStorage, DICOS3DAITStorage, DICOSQuadrupoleResonanceStorage,
		EddyCurrentImageStorage, EddyCurrentMultiFrameImageStorage, ThermographyImageStorage, ThermographyMultiFrameImageStorage,
	}
	slices.Sort(want)
	if !slices.Equal(extra, want) {
		t.Errorf("active storage classes not in B.5-1:\n got %v\nwant %v", extra, want)
	}
}

func TestIsTransferSyntax(t *testing.T) {
	tests := []struct {
		uid  string
		want bool
	}{
		{ImplicitVRLittleEndian, true},
		{ExplicitVRLittleEndian, true},
		{ExplicitVRBigEndian, true}, // retired, still a transfer syntax
		{DeflatedExplicitVRLittleEndian, true},
		{JPEG2000Lossless, true},
		{RLELossless, true},
		{CTImageStorage, false},
		{"1.2.840.10008.1.2.99", false},
	}
	for _, tc := range tests {
		if got := IsTransferSyntax(tc.uid); got != tc.want {
			t.Errorf("IsTransferSyntax(%s) = %t, want %t", tc.uid, got, tc.want)
		}
	}
}

func TestValid(t *testing.T) {
	tests := []struct {
		name string
		uid  string
		ok   bool
	}{
		{name: "registered", uid: CTImageStorage, ok: true},
		{name: "single component", uid: "2", ok: true},
		{name: "zero component", uid: "1.2.0.3", ok: true},
		{name: "uuid derived", uid: "2.25.329800735698586629295641978511506172918", ok: true},
		{name: "64 characters", uid: "1." + strings.Repeat("9", 62), ok: true},
		{name: "65 characters", uid: "1." + strings.Repeat("9", 63)},
		{name: "empty", uid: ""},
		{name: "leading dot", uid: ".1.2"},
		{name: "trailing dot", uid: "1.2."},
		{name: "empty component", uid: "1..2"},
		{name: "leading zero", uid: "1.02.3"},
		{name: "leading zero first", uid: "01.2"},
		{name: "letter", uid: "1.2.a"},
		{name: "space padding", uid: "1.2.3 "},
		{name: "NUL padding", uid: "1.2.3\x00"},
		{name: "sign", uid: "1.-2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Valid(tc.uid)
			if (err == nil) != tc.ok {
				t.Fatalf("Valid(%q) = %v, want ok %t", tc.uid, err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("Valid(%q) = %v, does not wrap ErrInvalid", tc.uid, err)
			}
		})
	}
}

func TestImplementation(t *testing.T) {
	if err := Valid(ImplementationClassUID); err != nil {
		t.Errorf("ImplementationClassUID: %v", err)
	}
	if !strings.HasPrefix(ImplementationClassUID, "2.25.") {
		t.Errorf("ImplementationClassUID %s is not under 2.25", ImplementationClassUID)
	}
	if n := len(ImplementationVersionName); n == 0 || n > 16 {
		t.Errorf("ImplementationVersionName %q has %d characters, want 1-16", ImplementationVersionName, n)
	}
	for _, c := range ImplementationVersionName {
		if c < 0x20 || c > 0x7e || c == '\\' {
			t.Errorf("ImplementationVersionName %q has character %q outside SH", ImplementationVersionName, c)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Lookup(CTImageStorage)
	}
}

func BenchmarkIsStorage(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		IsStorage(CTImageStorage)
	}
}
