package codec

import (
	"testing"

	"github.com/pacsforge/pacs/core/dicom/uid"
)

func TestLookupSyntax(t *testing.T) {
	encapsulated := func(u string) Syntax { return Syntax{UID: u, ExplicitVR: true, Encapsulated: true} }
	tests := []struct {
		uid    string
		want   Syntax
		wantOK bool
	}{
		{uid: uid.ImplicitVRLittleEndian, want: ImplicitVRLittleEndian, wantOK: true},
		{uid: uid.ExplicitVRLittleEndian + "\x00", want: ExplicitVRLittleEndian, wantOK: true},
		{uid: uid.ExplicitVRBigEndian, want: ExplicitVRBigEndian, wantOK: true},
		{uid: uid.DeflatedExplicitVRLittleEndian + " ", want: DeflatedExplicitVRLittleEndian, wantOK: true},
		{uid: uid.Papyrus3ImplicitVRLittleEndian, want: Syntax{UID: uid.Papyrus3ImplicitVRLittleEndian}, wantOK: true},
		{uid: uid.JPEGBaseline8Bit, want: encapsulated(uid.JPEGBaseline8Bit), wantOK: true},
		{uid: uid.EncapsulatedUncompressedExplicitVRLittleEndian + "\x00", want: encapsulated(uid.EncapsulatedUncompressedExplicitVRLittleEndian), wantOK: true},
		{uid: uid.RLELossless, want: encapsulated(uid.RLELossless), wantOK: true},
		{uid: uid.HTJ2KLossless, want: encapsulated(uid.HTJ2KLossless), wantOK: true},
		{uid: uid.JPEGLosslessHierarchical29, want: encapsulated(uid.JPEGLosslessHierarchical29), wantOK: true}, // retired
		{uid: uid.XMLEncoding, want: encapsulated(uid.XMLEncoding), wantOK: true},                               // retired
		{uid: uid.CTImageStorage},        // registered, but not a transfer syntax
		{uid: "1.2.840.10008.1.2.4.999"}, // not registered
		{uid: ""},
	}
	for _, tc := range tests {
		got, ok := LookupSyntax(tc.uid)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("LookupSyntax(%q) = %+v, %v; want %+v, %v", tc.uid, got, ok, tc.want, tc.wantOK)
		}
	}
}

// TestLookupSyntaxCoversRegistry checks that every transfer syntax of the
// registry is known, and that only the native ones are not encapsulated.
func TestLookupSyntaxCoversRegistry(t *testing.T) {
	native := map[string]bool{
		uid.ImplicitVRLittleEndian: true, uid.ExplicitVRLittleEndian: true, uid.ExplicitVRBigEndian: true,
		uid.DeflatedExplicitVRLittleEndian: true, uid.Papyrus3ImplicitVRLittleEndian: true,
	}
	n := 0
	for _, info := range uid.All() {
		if info.Type != uid.TypeTransferSyntax {
			continue
		}
		n++
		s, ok := LookupSyntax(info.UID)
		if !ok || s.UID != info.UID || s.Encapsulated == native[info.UID] {
			t.Errorf("LookupSyntax(%s %q) = %+v, %v", info.UID, info.Name, s, ok)
		}
	}
	if n < 60 {
		t.Errorf("registry has %d transfer syntaxes, expected at least 60", n)
	}
}

func BenchmarkLookupSyntax(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := LookupSyntax(uid.JPEG2000Lossless + "\x00"); !ok {
			b.Fatal("not found")
		}
	}
}
