package ul

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hexPDU joins byte slices; tests write PDUs field by field.
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func ae16(s string) []byte { return []byte(s + string(bytes.Repeat([]byte{' '}, 16-len(s)))) }

func item(typ byte, value ...[]byte) []byte {
	v := cat(value...)
	return cat([]byte{typ, 0, byte(len(v) >> 8), byte(len(v))}, v)
}

func pduBytes(typ PDUType, body ...[]byte) []byte {
	b := cat(body...)
	n := len(b)
	return cat([]byte{byte(typ), 0, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, b)
}

const (
	verification = "1.2.840.10008.1.1"
	implicitLE   = "1.2.840.10008.1.2"
	explicitLE   = "1.2.840.10008.1.2.1"
	ctImage      = "1.2.840.10008.5.1.4.1.1.2"
)

func TestEchoscuAssociateRQ(t *testing.T) {
	in := fixture(t, "echoscu-associate-rq.bin")
	p, err := ReadPDU(bytes.NewReader(in), 0)
	if err != nil {
		t.Fatal(err)
	}
	want := &AssociateRQ{
		ProtocolVersion:    1,
		CalledAE:           "ANY-SCP",
		CallingAE:          "ECHOSCU",
		ApplicationContext: ApplicationContextName,
		Contexts:           []PresentationContextRQ{{ID: 1, AbstractSyntax: verification, TransferSyntaxes: []string{implicitLE}}},
		UserInfo: UserInfo{
			MaxLength:                 16384,
			ImplementationClassUID:    "1.2.276.0.7230010.3.0.3.6.7",
			ImplementationVersionName: "OFFIS_DCMTK_367",
		},
	}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("ReadPDU() = %+v, want %+v", p, want)
	}
	// Re-encoding is byte-exact but for the reserved byte dcmtk sets to 0xff
	// in the presentation context item (offset 105).
	got, err := AppendPDU(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	want2 := bytes.Clone(in)
	want2[105] = 0
	if !bytes.Equal(got, want2) {
		t.Fatalf("AppendPDU() =\n% x\nwant\n% x", got, want2)
	}
	p2, err := ReadPDU(bytes.NewReader(got), 0)
	if err != nil || !reflect.DeepEqual(p2, want) {
		t.Fatalf("round trip = %+v, %v", p2, err)
	}
}

func TestPDUBytes(t *testing.T) {
	fixedRQ := cat([]byte{0, 1, 0, 0}, ae16("CALLED"), ae16("CALLING"), make([]byte, 32))
	tests := []struct {
		name string
		pdu  PDU
		in   []byte
	}{
		{
			name: "associate-rq all items",
			pdu: &AssociateRQ{
				ProtocolVersion: 1, CalledAE: "CALLED", CallingAE: "CALLING", ApplicationContext: ApplicationContextName,
				Contexts: []PresentationContextRQ{
					{ID: 1, AbstractSyntax: verification, TransferSyntaxes: []string{explicitLE, implicitLE}},
					{ID: 3, AbstractSyntax: ctImage, TransferSyntaxes: []string{implicitLE}},
				},
				UserInfo: UserInfo{
					MaxLength: 0x4000, ImplementationClassUID: "1.2.3", ImplementationVersionName: "V1",
					AsyncOps:       &AsyncOps{Invoked: 5, Performed: 0},
					Roles:          []RoleSelection{{SOPClass: ctImage, SCU: false, SCP: true}},
					Extended:       []ExtendedNegotiation{{SOPClass: ctImage, Info: []byte{1, 0, 1}}},
					CommonExtended: []CommonExtendedNegotiation{{SOPClass: ctImage, ServiceClass: "1.2.840.10008.4.2", RelatedClasses: []string{"1.2", "1.3"}}},
					UserIdentity:   &UserIdentity{Type: IdentityUsernamePasscode, PositiveResponseRequested: true, Primary: []byte("bob"), Secondary: []byte("pw")},
				},
			},
			in: pduBytes(TypeAssociateRQ, fixedRQ,
				item(0x10, []byte(ApplicationContextName)),
				item(0x20, []byte{1, 0, 0, 0}, item(0x30, []byte(verification)), item(0x40, []byte(explicitLE)), item(0x40, []byte(implicitLE))),
				item(0x20, []byte{3, 0, 0, 0}, item(0x30, []byte(ctImage)), item(0x40, []byte(implicitLE))),
				item(0x50,
					item(0x51, []byte{0, 0, 0x40, 0}),
					item(0x52, []byte("1.2.3")),
					item(0x53, []byte{0, 5, 0, 0}),
					item(0x54, []byte{0, byte(len(ctImage))}, []byte(ctImage), []byte{0, 1}),
					item(0x55, []byte("V1")),
					item(0x56, []byte{0, byte(len(ctImage))}, []byte(ctImage), []byte{1, 0, 1}),
					item(0x57, []byte{0, byte(len(ctImage))}, []byte(ctImage), []byte{0, 17}, []byte("1.2.840.10008.4.2"), []byte{0, 10, 0, 3}, []byte("1.2"), []byte{0, 3}, []byte("1.3")),
					item(0x58, []byte{2, 1, 0, 3}, []byte("bob"), []byte{0, 2}, []byte("pw")),
				)),
		},
		{
			name: "associate-ac",
			pdu: &AssociateAC{
				ProtocolVersion: 1, CalledAE: "CALLED", CallingAE: "CALLING", ApplicationContext: ApplicationContextName,
				Contexts: []PresentationContextAC{{ID: 1, Result: 0, TransferSyntax: explicitLE}, {ID: 3, Result: 3}},
				UserInfo: UserInfo{MaxLength: 0, ImplementationClassUID: "1.2.3",
					UserIdentityResponse: &UserIdentityResponse{ServerResponse: []byte("token")}},
			},
			in: pduBytes(TypeAssociateAC, fixedRQ,
				item(0x10, []byte(ApplicationContextName)),
				item(0x21, []byte{1, 0, 0, 0}, item(0x40, []byte(explicitLE))),
				item(0x21, []byte{3, 0, 3, 0}, item(0x40)),
				item(0x50, item(0x51, []byte{0, 0, 0, 0}), item(0x52, []byte("1.2.3")), item(0x59, []byte{0, 5}, []byte("token")))),
		},
		{name: "associate-rj", pdu: &AssociateRJ{Result: 1, Source: 1, Reason: 7}, in: []byte{3, 0, 0, 0, 0, 4, 0, 1, 1, 7}},
		{
			name: "p-data-tf two pdvs",
			pdu:  &PDataTF{PDVs: []PDV{{ContextID: 1, Command: true, Last: true, Data: []byte{1, 2}}, {ContextID: 3, Data: []byte{}}}},
			in:   []byte{4, 0, 0, 0, 0, 14, 0, 0, 0, 4, 1, 3, 1, 2, 0, 0, 0, 2, 3, 0},
		},
		{name: "release-rq", pdu: &ReleaseRQ{}, in: []byte{5, 0, 0, 0, 0, 4, 0, 0, 0, 0}},
		{name: "release-rp", pdu: &ReleaseRP{}, in: []byte{6, 0, 0, 0, 0, 4, 0, 0, 0, 0}},
		{name: "abort", pdu: &Abort{Source: 2, Reason: 6}, in: []byte{7, 0, 0, 0, 0, 4, 0, 0, 2, 6}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AppendPDU(nil, tc.pdu)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.in) {
				t.Fatalf("AppendPDU() =\n% x\nwant\n% x", got, tc.in)
			}
			p, err := ReadPDU(bytes.NewReader(tc.in), 0)
			if err != nil {
				t.Fatal(err)
			}
			if pd, ok := p.(*PDataTF); ok { // empty data decodes as an empty slice
				for i := range pd.PDVs {
					if len(pd.PDVs[i].Data) == 0 {
						pd.PDVs[i].Data = []byte{}
					}
				}
			}
			if !reflect.DeepEqual(p, tc.pdu) {
				t.Fatalf("ReadPDU() = %+v, want %+v", p, tc.pdu)
			}
		})
	}
}

func TestReadPDUErrors(t *testing.T) {
	rqFixed := cat([]byte{0, 1, 0, 0}, ae16("A"), ae16("B"), make([]byte, 32))
	tests := []struct {
		name       string
		in         []byte
		max        uint32
		wantErr    error
		wantReason byte
	}{
		{name: "empty", in: nil, wantErr: io.EOF},
		{name: "truncated header", in: []byte{0x01, 0x00, 0x00}, wantErr: io.ErrUnexpectedEOF},
		{name: "truncated body", in: []byte{0x05, 0, 0, 0, 0, 4, 0, 0}, wantErr: io.ErrUnexpectedEOF},
		{name: "over max length", in: []byte{0x04, 0x00, 0x7f, 0xff, 0xff, 0xff}, max: 1 << 20, wantErr: ErrPDUTooLarge},
		{name: "over unlimited bound", in: []byte{0x04, 0x00, 0xff, 0xff, 0xff, 0xff}, wantErr: ErrPDUTooLarge},
		{name: "unknown type", in: []byte{0x08, 0, 0, 0, 0, 0}, wantErr: ErrMalformedPDU, wantReason: AbortUnrecognizedPDU},
		{name: "type zero", in: []byte{0x00, 0, 0, 0, 0, 0}, wantErr: ErrMalformedPDU, wantReason: AbortUnrecognizedPDU},
		{name: "release wrong length", in: []byte{0x05, 0, 0, 0, 0, 2, 0, 0}, wantErr: ErrMalformedPDU, wantReason: AbortInvalidPDUParameterValue},
		{name: "abort short", in: []byte{0x07, 0, 0, 0, 0, 0}, wantErr: ErrMalformedPDU, wantReason: AbortInvalidPDUParameterValue},
		{name: "p-data empty", in: []byte{0x04, 0, 0, 0, 0, 0}, wantErr: ErrMalformedPDU, wantReason: AbortInvalidPDUParameterValue},
		{name: "pdv length 1", in: []byte{0x04, 0, 0, 0, 0, 6, 0, 0, 0, 1, 1, 3}, wantErr: ErrMalformedPDU, wantReason: AbortInvalidPDUParameterValue},
		{name: "pdv overruns", in: []byte{0x04, 0, 0, 0, 0, 6, 0, 0, 0, 9, 1, 3}, wantErr: ErrMalformedPDU, wantReason: AbortInvalidPDUParameterValue},
		{name: "associate short", in: pduBytes(TypeAssociateRQ, make([]byte, 10)), wantErr: ErrMalformedPDU, wantReason: AbortInvalidPDUParameterValue},
		{name: "item overruns", in: pduBytes(TypeAssociateRQ, rqFixed, []byte{0x10, 0, 0, 9, '1'}), wantErr: ErrMalformedPDU, wantReason: AbortInvalidPDUParameterValue},
		{name: "max length sub-item size", in: pduBytes(TypeAssociateRQ, rqFixed, item(0x50, item(0x51, []byte{0, 1}))), wantErr: ErrMalformedPDU, wantReason: AbortInvalidPDUParameterValue},
		{name: "user identity malformed", in: pduBytes(TypeAssociateRQ, rqFixed, item(0x50, item(0x58, []byte{1, 0, 0, 9}))), wantErr: ErrMalformedPDU, wantReason: AbortInvalidPDUParameterValue},
		{name: "role selection malformed", in: pduBytes(TypeAssociateRQ, rqFixed, item(0x50, item(0x54, []byte{0, 1, '1'}))), wantErr: ErrMalformedPDU, wantReason: AbortInvalidPDUParameterValue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadPDU(bytes.NewReader(tc.in), tc.max)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("ReadPDU() error = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == io.EOF && err != io.EOF {
				t.Fatalf("ReadPDU() error = %#v, want io.EOF itself", err)
			}
			var pe *PDUError
			if tc.wantReason != 0 && (!errors.As(err, &pe) || pe.Reason != tc.wantReason) {
				t.Fatalf("ReadPDU() error = %v, want reason %d", err, tc.wantReason)
			}
		})
	}
}

func TestReadPDUUnknownItemsSkipped(t *testing.T) {
	fixed := cat([]byte{0, 1, 0, 0}, ae16("A"), ae16("B"), make([]byte, 32))
	in := pduBytes(TypeAssociateRQ, fixed, item(0x10, []byte(ApplicationContextName)), item(0x7e, []byte{9}),
		item(0x20, []byte{1, 0, 0, 0}, item(0x30, []byte(verification)), item(0x66, []byte{1}), item(0x40, []byte(implicitLE))),
		item(0x50, item(0x51, []byte{0, 0, 1, 0}), item(0x5f, []byte{1, 2})))
	p, err := ReadPDU(bytes.NewReader(in), 0)
	if err != nil {
		t.Fatal(err)
	}
	rq := p.(*AssociateRQ)
	if got, want := rq.Unknown, []RawItem{{Type: 0x7e, Data: []byte{9}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Unknown = %v, want %v", got, want)
	}
	if got, want := rq.UserInfo.Unknown, []RawItem{{Type: 0x5f, Data: []byte{1, 2}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("UserInfo.Unknown = %v, want %v", got, want)
	}
	if len(rq.Contexts) != 1 || rq.Contexts[0].TransferSyntaxes[0] != implicitLE {
		t.Errorf("Contexts = %+v", rq.Contexts)
	}
}

func TestAppendPDUErrors(t *testing.T) {
	for _, p := range []PDU{
		&AssociateRQ{CalledAE: "SEVENTEEN-CHARS-X"},
		&AssociateRQ{UserInfo: UserInfo{AsyncOps: &AsyncOps{Invoked: 70000}}},
		&AssociateAC{UserInfo: UserInfo{UserIdentityResponse: &UserIdentityResponse{ServerResponse: make([]byte, 70000)}}},
	} {
		if _, err := AppendPDU(nil, p); err == nil {
			t.Errorf("AppendPDU(%+v) succeeded", p)
		}
	}
}

// TestReadPDUBoundedAllocation checks that a PDU claiming 4 GB allocates in
// proportion to the bytes that arrive, not to its claim.
func TestReadPDUBoundedAllocation(t *testing.T) {
	in := cat([]byte{0x04, 0, 0xff, 0xff, 0xff, 0xf0}, make([]byte, 100<<10))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ReadPDU(bytes.NewReader(in), 0xFFFFFFFF)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("ReadPDU() error = %v, want io.ErrUnexpectedEOF", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 4<<20 {
		t.Fatalf("allocated %d bytes for a 100 KiB stream", got)
	}
}

func TestWritePDU(t *testing.T) {
	var buf bytes.Buffer
	if err := WritePDU(&buf, &Abort{Source: 0}); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.Bytes(), []byte{7, 0, 0, 0, 0, 4, 0, 0, 0, 0}; !bytes.Equal(got, want) {
		t.Fatalf("WritePDU() = % x, want % x", got, want)
	}
	if err := WritePDU(&buf, &AssociateRQ{CallingAE: "THIS-IS-TOO-LONG-AE"}); err == nil {
		t.Fatal("WritePDU() accepted a 19-byte AE title")
	}
}

func FuzzReadPDU(f *testing.F) {
	f.Add(fixture(f, "echoscu-associate-rq.bin"))
	for _, s := range [][]byte{
		{3, 0, 0, 0, 0, 4, 0, 1, 1, 7},
		{4, 0, 0, 0, 0, 8, 0, 0, 0, 4, 1, 3, 1, 2},
		{5, 0, 0, 0, 0, 4, 0, 0, 0, 0},
		{7, 0, 0, 0, 0, 4, 0, 0, 2, 6},
		{4, 0, 0xff, 0xff, 0xff, 0xff},
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ReadPDU(bytes.NewReader(b), 0xFFFFFFFF)
		if err != nil {
			return
		}
		enc, err := AppendPDU(nil, p)
		if err != nil {
			return // e.g. an AE title of 16 bytes that gained nothing; refusing is fine
		}
		p2, err := ReadPDU(bytes.NewReader(enc), 0xFFFFFFFF)
		if err != nil {
			t.Fatalf("re-encoded pdu does not decode: %v\n% x", err, enc)
		}
		if !reflect.DeepEqual(normalize(p), normalize(p2)) {
			t.Fatalf("round trip differs:\n%+v\n%+v", p, p2)
		}
	})
}

// normalize makes empty PDV data comparable.
func normalize(p PDU) PDU {
	if pd, ok := p.(*PDataTF); ok {
		for i := range pd.PDVs {
			if len(pd.PDVs[i].Data) == 0 {
				pd.PDVs[i].Data = nil
			}
		}
	}
	return p
}
