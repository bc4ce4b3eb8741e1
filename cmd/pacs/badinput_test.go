package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/part10"
	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/core/ul"
	"github.com/pacsforge/pacs/internal/peertest"
)

// ctSmall returns the corpus file CT_small.dcm: its data set, the bytes of
// that data set as stored, and its transfer syntax.
func ctSmall(t *testing.T) (*dicom.Dataset, []byte, string) {
	t.Helper()
	path := filepath.Join(peertest.TestData(t), "transfer-syntax", "explicit-vr-le", "CT_small.dcm")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("corpus file missing: %v", err)
	}
	f, err := part10.ReadBytes(raw)
	if err != nil {
		t.Fatal(err)
	}
	return f.Dataset, raw[f.DatasetOffset:], f.Syntax.UID
}

// encodeDataset returns ds encoded in syntax ts, without meta information.
func encodeDataset(t *testing.T, ds *dicom.Dataset, ts string) []byte {
	t.Helper()
	f := sendable{path: filepath.Join(t.TempDir(), "x.dcm"), inst: ds.String(dicom.SOPInstanceUID), ts: ts, ds: ds}
	writeSendable(t, f)
	raw, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := part10.ReadBytes(raw)
	if err != nil {
		t.Fatal(err)
	}
	return raw[pf.DatasetOffset:]
}

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestStoreBadInput: C-STOREs whose data set does not match the command,
// cannot be parsed, or carries UIDs that would make paths are refused with
// A900 or C000; nothing is stored, no file is written anywhere, and the
// association and the server go on serving (C-ECHO, then a good store).
func TestStoreBadInput(t *testing.T) {
	s := startArchiveServer(t)
	ctx := context.Background()
	ds, data, ts := ctSmall(t)
	class, inst := ds.String(dicom.SOPClassUID), ds.String(dicom.SOPInstanceUID)
	with := func(tag dicom.Tag, value string) []byte {
		d := ds.Clone()
		if err := d.SetString(tag, value); err != nil {
			t.Fatal(err)
		}
		return encodeDataset(t, d, ts)
	}
	const mrImage = "1.2.840.10008.5.1.4.1.1.4"
	c, err := dimse.Dial(ctx, s.addr, ul.DialOptions{CalledAE: "FORGE", CallingAE: "TESTSCU",
		Contexts: append(dimse.StorageContexts([]string{class, mrImage}, ts),
			ul.ProposedContext{AbstractSyntax: uid.Verification, TransferSyntaxes: []string{ts}})})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tests := []struct {
		name        string
		class, inst string
		data        []byte
		want        uint16
	}{
		{name: "SOP class mismatch", class: mrImage, inst: inst, data: data, want: dimse.CodeDataSetMismatch},
		{name: "not a data set", class: class, inst: inst, data: bytes.Repeat([]byte{0xff}, 300), want: dimse.CodeCannotUnderstand},
		{name: "truncated header", class: class, inst: inst, data: data[:101], want: dimse.CodeCannotUnderstand},
		{name: "empty data set", class: class, inst: inst, data: nil, want: dimse.CodeCannotUnderstand},
		{name: "slash in study UID", class: class, inst: inst, data: with(dicom.StudyInstanceUID, "1.2/../../../../tmp"), want: dimse.CodeCannotUnderstand},
		{name: "dot-dot series UID", class: class, inst: inst, data: with(dicom.SeriesInstanceUID, ".."), want: dimse.CodeCannotUnderstand},
		{name: "slash in SOP instance UID of both", class: class, inst: "1.2/../../x",
			data: with(dicom.SOPInstanceUID, "1.2/../../x"), want: dimse.CodeCannotUnderstand},
	}
	// The data sets are encoded: from now on nothing is written beside
	// the data directory.
	outside := filepath.Dir(s.dataDir)
	before := dirNames(t, outside)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := c.Store(ctx, tc.class, tc.inst, ts, bytes.NewReader(tc.data), dimse.StoreOptions{})
			var se *dimse.StatusError
			if !errors.As(err, &se) || st.Code != tc.want {
				t.Errorf("Store() = %v, %v; want status %04X", st, err, tc.want)
			}
			if _, err := s.store.index.Instance(ctx, tc.inst); !errors.Is(err, index.ErrNotFound) {
				t.Errorf("Instance() = %v, want ErrNotFound", err)
			}
			if err := c.Echo(ctx); err != nil {
				t.Fatalf("C-ECHO after the refused store: %v", err)
			}
		})
	}
	var files []string
	for _, dir := range []string{s.store.storage.Root(), filepath.Join(s.dataDir, spoolDirName)} {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				files = append(files, p)
			}
			return nil
		})
	}
	if len(files) != 0 {
		t.Errorf("files left after refused stores: %q", files)
	}
	if after := dirNames(t, outside); !slices.Equal(after, before) {
		t.Errorf("entries beside the data directory changed from %q to %q", before, after)
	}
	// The server still stores.
	if st, err := c.Store(ctx, class, inst, ts, bytes.NewReader(data), dimse.StoreOptions{}); err != nil || st.Code != dimse.StatusSuccess.Code {
		t.Errorf("a good store after the refused ones: %v, %v", st, err)
	}
}

// TestStoreUnknownSOPClass: a presentation context of a SOP class the
// archive does not store is rejected (abstract syntax not supported), the
// others of the association are accepted, and a store on it is impossible.
func TestStoreUnknownSOPClass(t *testing.T) {
	s := startArchiveServer(t)
	ctx := context.Background()
	_, data, ts := ctSmall(t)
	const unknown = "1.2.826.0.1.3680043.2.1125.4242.1"
	a, err := ul.Dial(ctx, "tcp", s.addr, ul.DialOptions{CalledAE: "FORGE", CallingAE: "TESTSCU",
		Contexts: []ul.ProposedContext{
			{AbstractSyntax: unknown, TransferSyntaxes: []string{ts}},
			{AbstractSyntax: uid.Verification, TransferSyntaxes: []string{ts}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	c := dimse.NewClient(a, dimse.ClientOptions{})
	defer c.Close()
	for _, pc := range a.Contexts() {
		switch pc.AbstractSyntax {
		case unknown:
			if pc.Accepted() || pc.Result != 3 {
				t.Errorf("context of an unknown SOP class: result %d, want 3 (abstract syntax not supported)", pc.Result)
			}
		case uid.Verification:
			if !pc.Accepted() {
				t.Errorf("Verification context: result %d, want accepted", pc.Result)
			}
		}
	}
	if _, err := c.Store(ctx, unknown, "1.2.3.4", ts, bytes.NewReader(data), dimse.StoreOptions{}); err == nil {
		t.Error("Store() on a rejected context succeeded")
	}
	if err := c.Echo(ctx); err != nil {
		t.Errorf("C-ECHO on the same association: %v", err)
	}
}
