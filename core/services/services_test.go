package services

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/core/ul"
)

// TestRegisterSOPClasses: with a configured list of SOP classes only those
// (and Verification, which the caller adds) are negotiated; without one,
// every Query/Retrieve SOP class served is.
func TestRegisterSOPClasses(t *testing.T) {
	ix, err := index.Open(context.Background(), filepath.Join(t.TempDir(), "index.db"), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	all := ul.Policy{Syntaxes: map[string][]string{uid.Verification: dimse.VerificationSyntaxes}}
	Register(dimse.NewMux(nil), &all, Options{Index: ix})
	for class := range FindSOPClasses {
		if _, ok := all.Syntaxes[class]; !ok {
			t.Errorf("without a list, %s is not negotiated", class)
		}
	}
	some := ul.Policy{Syntaxes: map[string][]string{uid.Verification: dimse.VerificationSyntaxes}}
	Register(dimse.NewMux(nil), &some, Options{Index: ix, SOPClasses: []string{uid.StudyRootQueryRetrieveInformationModelFind}})
	if len(some.Syntaxes) != 2 {
		t.Errorf("with one class listed, %d abstract syntaxes are negotiated, want it and Verification", len(some.Syntaxes))
	}
	for _, class := range []string{uid.Verification, uid.StudyRootQueryRetrieveInformationModelFind} {
		if _, ok := some.Syntaxes[class]; !ok {
			t.Errorf("%s is not negotiated", class)
		}
	}
}

// TestStorageLists: configured SOP class and transfer syntax lists decide
// what a storage SCU can negotiate.
func TestStorageLists(t *testing.T) {
	s := startQR(t, nil, func(o *Options) {
		o.SOPClasses = []string{uid.CTImageStorage}
		o.StoreSyntaxes = []string{uid.ExplicitVRLittleEndian}
	})
	a, err := ul.Dial(context.Background(), "tcp", s.addr, ul.DialOptions{CallingAE: "SCU", CalledAE: "FORGE",
		Contexts: []ul.ProposedContext{
			{ID: 1, AbstractSyntax: uid.CTImageStorage, TransferSyntaxes: []string{uid.ImplicitVRLittleEndian, uid.ExplicitVRLittleEndian}},
			{ID: 3, AbstractSyntax: uid.CTImageStorage, TransferSyntaxes: []string{uid.ImplicitVRLittleEndian}},
			{ID: 5, AbstractSyntax: uid.MRImageStorage, TransferSyntaxes: []string{uid.ExplicitVRLittleEndian}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Release(context.Background())
	want := map[byte]struct {
		result byte
		ts     string
	}{
		1: {0, uid.ExplicitVRLittleEndian}, // the listed syntax
		3: {4, ""},                         // transfer syntaxes not supported
		5: {3, ""},                         // abstract syntax not supported
	}
	for _, pc := range a.Contexts() {
		if w := want[pc.ID]; pc.Result != w.result || pc.TransferSyntax != w.ts {
			t.Errorf("context %d (%s): result %d in %q, want %d in %q", pc.ID, pc.AbstractSyntax, pc.Result, pc.TransferSyntax, w.result, w.ts)
		}
	}
}
