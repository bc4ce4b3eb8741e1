package dicom

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestReservePrivateBlock(t *testing.T) {
	tests := []struct {
		name    string
		start   func(ds *Dataset)
		group   uint16
		creator string
		want    uint8
		wantErr error
	}{
		{name: "first block", group: 0x0009, creator: "ACME 1", want: 0x10},
		{name: "non-ASCII creator", group: 0x0009, creator: "Müller Bildgebung", want: 0x10},
		{name: "existing block", start: func(ds *Dataset) {
			ds.Put(mustElement(t, NewTag(0x0009, 0x0010), LO, "OTHER"))
			ds.Put(mustElement(t, NewTag(0x0009, 0x0011), LO, "ACME 1"))
		}, group: 0x0009, creator: "ACME 1", want: 0x11},
		{name: "next free block", start: func(ds *Dataset) {
			ds.Put(mustElement(t, NewTag(0x0009, 0x0010), LO, "OTHER"))
		}, group: 0x0009, creator: "ACME 1", want: 0x11},
		{name: "hole is reused", start: func(ds *Dataset) {
			ds.Put(mustElement(t, NewTag(0x0009, 0x0010), LO, "A"))
			ds.Put(mustElement(t, NewTag(0x0009, 0x0012), LO, "C"))
		}, group: 0x0009, creator: "B", want: 0x11},
		{name: "orphan elements keep their block", start: func(ds *Dataset) {
			ds.Put(mustElement(t, NewTag(0x0009, 0x1001), LO, "orphan"))
		}, group: 0x0009, creator: "ACME 1", want: 0x11},
		{name: "other groups ignored", start: func(ds *Dataset) {
			ds.Put(mustElement(t, NewTag(0x0011, 0x0010), LO, "ACME 1"))
		}, group: 0x0009, creator: "ACME 1", want: 0x10},
		{name: "padded creator matches", start: func(ds *Dataset) {
			ds.Put(Element{Tag: NewTag(0x0029, 0x0010), VR: LO, Value: []byte("SIEMENS CSA HEADER")})
			ds.Put(Element{Tag: NewTag(0x0029, 0x0011), VR: LO, Value: []byte("GEMS_IDEN_01  ")})
		}, group: 0x0029, creator: "GEMS_IDEN_01", want: 0x11},
		{name: "UN creator matches", start: func(ds *Dataset) {
			ds.Put(Element{Tag: NewTag(0x0029, 0x0010), VR: UN, Value: []byte("SIEMENS CSA HEADER")})
		}, group: 0x0029, creator: "SIEMENS CSA HEADER", want: 0x10},
		{name: "creator is case-sensitive", start: func(ds *Dataset) {
			ds.Put(mustElement(t, NewTag(0x0009, 0x0010), LO, "acme 1"))
		}, group: 0x0009, creator: "ACME 1", want: 0x11},
		{name: "all blocks used", start: func(ds *Dataset) {
			for b := 0x10; b <= 0xff; b++ {
				ds.Put(mustElement(t, NewTag(0x0009, uint16(b)), LO, fmt.Sprintf("C%d", b)))
			}
		}, group: 0x0009, creator: "ACME 1", wantErr: ErrNoFreeBlock},
		{name: "even group", group: 0x0010, creator: "ACME 1", wantErr: ErrNotPrivate},
		{name: "illegal group 0007", group: 0x0007, creator: "ACME 1", wantErr: ErrNotPrivate},
		{name: "group ffff", group: 0xffff, creator: "ACME 1", wantErr: ErrNotPrivate},
		{name: "empty creator", group: 0x0009, creator: "  ", wantErr: errAny},
		{name: "creator with backslash", group: 0x0009, creator: `A\B`, wantErr: ErrInvalidValue},
		{name: "creator too long", group: 0x0009, creator: "0123456789012345678901234567890123456789012345678901234567890123456789", wantErr: ErrInvalidValue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := &Dataset{}
			if tc.start != nil {
				tc.start(ds)
			}
			n := ds.Len()
			got, err := ds.ReservePrivateBlock(tc.group, tc.creator)
			if tc.wantErr != nil {
				if err == nil || tc.wantErr != errAny && !errors.Is(err, tc.wantErr) {
					t.Fatalf("ReservePrivateBlock() = %#x, %v, want error %v", got, err, tc.wantErr)
				}
				if ds.Len() != n {
					t.Fatalf("ReservePrivateBlock() failed but added an element")
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ReservePrivateBlock() = %#x, %v, want %#x", got, err, tc.want)
			}
			if c := ds.PrivateCreator(tc.group, got); c != TrimValue(tc.creator, LO) {
				t.Fatalf("PrivateCreator(%04x, %#x) = %q, want %q", tc.group, got, c, tc.creator)
			}
			if again, err := ds.ReservePrivateBlock(tc.group, tc.creator); err != nil || again != got {
				t.Fatalf("second ReservePrivateBlock() = %#x, %v, want %#x", again, err, got)
			}
			if vs := ds.Validate(); len(vs) != 0 {
				t.Fatalf("data set after ReservePrivateBlock: %v", vs)
			}
		})
	}
}

// errAny stands for "some error" in tables.
var errAny = errors.New("any error")

func TestPrivateCreator(t *testing.T) {
	ds := &Dataset{}
	ds.Put(mustElement(t, NewTag(0x0009, 0x0010), LO, "GEMS_IDEN_01"))
	ds.Put(mustElement(t, NewTag(0x0010, 0x0010), PN, "Doe^John"))
	tests := []struct {
		group uint16
		block uint8
		want  string
	}{
		{0x0009, 0x10, "GEMS_IDEN_01"},
		{0x0009, 0x11, ""},
		{0x0009, 0x00, ""},
		{0x0009, 0x0f, ""},
		{0x0010, 0x10, ""},
	}
	for _, tc := range tests {
		if got := ds.PrivateCreator(tc.group, tc.block); got != tc.want {
			t.Errorf("PrivateCreator(%04x, %#x) = %q, want %q", tc.group, tc.block, got, tc.want)
		}
	}
	var empty *Dataset
	if _, ok := empty.FindPrivateBlock(0x0009, "X"); ok {
		t.Errorf("FindPrivateBlock on nil data set found a block")
	}
}

func TestSetPrivateAndPrivateTag(t *testing.T) {
	ds := &Dataset{}
	ds.Put(mustElement(t, NewTag(0x0029, 0x0010), LO, "OTHER"))
	tag, err := ds.SetPrivate(0x0029, "SIEMENS CSA HEADER", 0x10, OB, []byte{1, 2, 3, 4})
	if err != nil || tag != NewTag(0x0029, 0x1110) {
		t.Fatalf("SetPrivate() = %s, %v, want (0029,1110)", tag, err)
	}
	if got, ok := ds.PrivateTag(0x0029, "SIEMENS CSA HEADER", 0x20); !ok || got != NewTag(0x0029, 0x1120) {
		t.Fatalf("PrivateTag() = %s, %v, want (0029,1120)", got, ok)
	}
	if _, ok := ds.PrivateTag(0x0029, "NOBODY", 0x20); ok {
		t.Fatalf("PrivateTag() of an unknown creator reported a tag")
	}
	if tag2, err := ds.SetPrivate(0x0029, "SIEMENS CSA HEADER", 0x08, CS, "IMAGE NUM 4"); err != nil || tag2 != NewTag(0x0029, 0x1108) {
		t.Fatalf("second SetPrivate() = %s, %v", tag2, err)
	}
	if ds.Len() != 4 {
		t.Fatalf("data set has %d elements, want 4 (two creators, two elements)", ds.Len())
	}
	p, ok := ds.LookupPrivateTag(tag)
	if !ok || p.Keyword != "CSAImageHeaderInfo" || p.VR != OB {
		t.Fatalf("LookupPrivateTag(%s) = %+v, %v", tag, p, ok)
	}
	if vs := ds.Validate(); len(vs) != 0 {
		t.Fatalf("Validate() = %v", vs)
	}

	// A value that cannot be encoded changes nothing, not even the creator.
	n := ds.Len()
	if _, err := ds.SetPrivate(0x0031, "ACME 1", 0x01, US, struct{}{}); err == nil {
		t.Fatalf("SetPrivate() of an unencodable value succeeded")
	}
	if _, err := ds.SetPrivate(0x0030, "ACME 1", 0x01, US, 1); !errors.Is(err, ErrNotPrivate) {
		t.Fatalf("SetPrivate() in an even group: %v, want ErrNotPrivate", err)
	}
	if ds.Len() != n {
		t.Fatalf("failed SetPrivate changed the data set")
	}
}

func TestLookupPrivate(t *testing.T) {
	tests := []struct {
		creator string
		group   uint16
		offset  uint8
		want    string // keyword, "" if absent
		vr      VR
	}{
		{"SIEMENS CSA HEADER", 0x0029, 0x10, "CSAImageHeaderInfo", OB},
		{"SIEMENS CSA HEADER ", 0x0029, 0x20, "CSASeriesHeaderInfo", OB},
		{"SIEMENS MR HEADER", 0x0019, 0x0a, "NumberOfImagesInMosaic", US},
		{"GEMS_IDEN_01", 0x0009, 0x01, "GEFullFidelity", LO},
		{"Philips Imaging DD 001", 0x2001, 0x03, "PhilipsDiffusionBFactor", FL},
		{"SIEMENS CSA HEADER", 0x0019, 0x10, "", NoVR},
		{"siemens csa header", 0x0029, 0x10, "", NoVR},
		{"SIEMENS CSA HEADER", 0x0029, 0x11, "", NoVR},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%04x/%02x", tc.creator, tc.group, tc.offset), func(t *testing.T) {
			p, ok := LookupPrivate(tc.creator, tc.group, tc.offset)
			if ok != (tc.want != "") || p.Keyword != tc.want || p.VR != tc.vr {
				t.Fatalf("LookupPrivate() = %+v, %v, want %s %s", p, ok, tc.want, tc.vr)
			}
		})
	}
}

func TestRegisterPrivate(t *testing.T) {
	RegisterPrivate(PrivateEntry{Creator: "FORGE TEST 1 ", Group: 0x0041, ElementOffset: 0x01, VR: LO, VM: "1", Keyword: "ForgeTestOne"})
	if p, ok := LookupPrivate("FORGE TEST 1", 0x0041, 0x01); !ok || p.Keyword != "ForgeTestOne" || p.Creator != "FORGE TEST 1" {
		t.Fatalf("LookupPrivate() after RegisterPrivate = %+v, %v", p, ok)
	}
	RegisterPrivate(PrivateEntry{Creator: "FORGE TEST 1", Group: 0x0041, ElementOffset: 0x01, VR: SH, VM: "1", Keyword: "ForgeTestOneAgain"})
	if p, _ := LookupPrivate("FORGE TEST 1", 0x0041, 0x01); p.Keyword != "ForgeTestOneAgain" {
		t.Fatalf("RegisterPrivate did not replace the entry: %+v", p)
	}

	invalid := []PrivateEntry{
		{Creator: "", Group: 0x0041, VR: LO},
		{Creator: "X", Group: 0x0040, VR: LO},
		{Creator: "X", Group: 0x0041},
	}
	for _, p := range invalid {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("RegisterPrivate(%+v) did not panic", p)
				}
			}()
			RegisterPrivate(p)
		}()
	}
}

func TestPrivateRegistryConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 200 {
				off := uint8(j)
				RegisterPrivate(PrivateEntry{Creator: fmt.Sprintf("FORGE CONCURRENT %d", i), Group: 0x0043, ElementOffset: off, VR: LO, VM: "1"})
				if _, ok := LookupPrivate(fmt.Sprintf("FORGE CONCURRENT %d", i), 0x0043, off); !ok {
					t.Errorf("entry %d/%d not found after registering it", i, j)
					return
				}
				LookupPrivate("SIEMENS CSA HEADER", 0x0029, 0x10)
			}
		})
	}
	wg.Wait()
}

func BenchmarkFindPrivateBlock(b *testing.B) {
	ds := &Dataset{}
	for i := range 8 {
		if _, err := ds.ReservePrivateBlock(0x0029, fmt.Sprintf("CREATOR %d", i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := ds.FindPrivateBlock(0x0029, "CREATOR 7"); !ok {
			b.Fatal("not found")
		}
	}
}
