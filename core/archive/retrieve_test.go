package archive

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/codec"
	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/core/storage"
)

// syntheticDataset returns a small CT image with pixel data (native, or
// encapsulated in two fragments).
func syntheticDataset(t *testing.T, inst string, encapsulated bool) *dicom.Dataset {
	t.Helper()
	ds := &dicom.Dataset{}
	for _, kv := range []struct {
		tag dicom.Tag
		v   string
	}{
		{dicom.SOPClassUID, uid.CTImageStorage},
		{dicom.SOPInstanceUID, inst},
		{dicom.PatientName, "Doe^Jane"},
		{dicom.PatientID, "P1"},
		{dicom.StudyInstanceUID, "1.2.3.4"},
		{dicom.SeriesInstanceUID, "1.2.3.4.5"},
		{dicom.Modality, "CT"},
	} {
		if err := ds.SetString(kv.tag, kv.v); err != nil {
			t.Fatal(err)
		}
	}
	if err := ds.SetInts(dicom.Rows, 4); err != nil {
		t.Fatal(err)
	}
	if err := ds.SetInts(dicom.Columns, 4); err != nil {
		t.Fatal(err)
	}
	if encapsulated {
		ds.Put(dicom.Element{Tag: dicom.PixelData, VR: dicom.OB, UndefinedLength: true,
			Fragments: &dicom.Fragments{Items: [][]byte{{0xff, 0xd8, 1, 2}, {3, 4, 0xff, 0xd9}}}})
	} else {
		px := make([]byte, 32)
		for i := range px {
			px[i] = byte(i)
		}
		ds.Put(dicom.Element{Tag: dicom.PixelData, VR: dicom.OW, Value: px})
	}
	return ds
}

// nonSeekable hides the Seek method of the objects a backend returns.
type nonSeekable struct{ storage.Backend }

func (b nonSeekable) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := b.Backend.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{rc, rc}, nil
}

func TestOpen(t *testing.T) {
	fx := newFixture(t, index.DuplicateOverwrite)
	ctx := context.Background()
	tests := []struct {
		name         string
		inst, ts     string
		encapsulated bool
	}{
		{name: "explicit", inst: "1.2.3.4.5.1", ts: uid.ExplicitVRLittleEndian},
		{name: "implicit", inst: "1.2.3.4.5.2", ts: uid.ImplicitVRLittleEndian},
		{name: "jpeg baseline", inst: "1.2.3.4.5.3", ts: uid.JPEGBaseline8Bit, encapsulated: true},
	}
	for _, tc := range tests {
		ds := syntheticDataset(t, tc.inst, tc.encapsulated)
		s, _ := codec.LookupSyntax(tc.ts)
		data, err := codec.AppendDataset(nil, ds, s)
		if err != nil {
			t.Fatal(err)
		}
		if err := fx.arc.Store(ctx, StoreRequest{SOPClassUID: uid.CTImageStorage, SOPInstanceUID: tc.inst, TransferSyntaxUID: tc.ts}, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		info, err := fx.ix.Instance(ctx, tc.inst)
		if err != nil {
			t.Fatal(err)
		}
		for _, backend := range []struct {
			name string
			b    storage.Backend
		}{{"seekable", fx.store}, {"stream", nonSeekable{fx.store}}} {
			t.Run(tc.name+"/"+backend.name, func(t *testing.T) {
				o, err := Open(ctx, backend.b, info.Location)
				if err != nil {
					t.Fatalf("Open() error = %v", err)
				}
				defer o.Close()
				if o.Syntax.UID != tc.ts || o.Meta.String(dicom.MediaStorageSOPInstanceUID) != tc.inst {
					t.Fatalf("Open() syntax %s, instance %q; want %s, %q", o.Syntax.UID, o.Meta.String(dicom.MediaStorageSOPInstanceUID), tc.ts, tc.inst)
				}
				r, err := o.DataSet(tc.ts)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(r)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, data) {
					t.Errorf("data set: %d bytes differ from the %d stored", len(got), len(data))
				}
			})
		}
	}

	t.Run("transcode", func(t *testing.T) {
		info, err := fx.ix.Instance(ctx, "1.2.3.4.5.1")
		if err != nil {
			t.Fatal(err)
		}
		o, err := Open(ctx, nonSeekable{fx.store}, info.Location)
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		r, err := o.DataSet(uid.ImplicitVRLittleEndian)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		got, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := codec.AppendDataset(nil, syntheticDataset(t, "1.2.3.4.5.1", false), codec.ImplicitVRLittleEndian)
		if !bytes.Equal(got, want) {
			t.Errorf("transcoded data set (%d bytes) differs from the Implicit VR encoding (%d bytes)", len(got), len(want))
		}
	})

	t.Run("encapsulated not transcoded", func(t *testing.T) {
		info, err := fx.ix.Instance(ctx, "1.2.3.4.5.3")
		if err != nil {
			t.Fatal(err)
		}
		o, err := Open(ctx, fx.store, info.Location)
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		if _, err := o.DataSet(uid.ExplicitVRLittleEndian); !errors.Is(err, ErrCannotTranscode) {
			t.Errorf("DataSet(explicit) error = %v, want ErrCannotTranscode", err)
		}
	})

	t.Run("missing and foreign", func(t *testing.T) {
		loc := index.Location{Backend: fx.store.ID(), Key: "1/2/3.dcm"}
		if _, err := Open(ctx, fx.store, loc); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Open(missing) error = %v, want storage.ErrNotFound", err)
		}
		loc.Backend = "elsewhere"
		if _, err := Open(ctx, fx.store, loc); !errors.Is(err, ErrWrongBackend) {
			t.Errorf("Open(other backend) error = %v, want ErrWrongBackend", err)
		}
	})

	t.Run("not part 10", func(t *testing.T) {
		if _, _, err := fx.store.Put(ctx, "junk/x.dcm", bytes.NewReader(bytes.Repeat([]byte{1}, 300))); err != nil {
			t.Fatal(err)
		}
		for _, b := range []storage.Backend{fx.store, nonSeekable{fx.store}} {
			if _, err := Open(ctx, b, index.Location{Key: "junk/x.dcm"}); !errors.Is(err, ErrCorruptObject) {
				t.Errorf("Open(junk) error = %v, want ErrCorruptObject", err)
			}
		}
	})
}

func TestCanTranscode(t *testing.T) {
	tests := []struct {
		from, to string
		want     bool
	}{
		{uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian, true},
		{uid.ExplicitVRBigEndian, uid.ExplicitVRLittleEndian, true},
		{uid.DeflatedExplicitVRLittleEndian, uid.ImplicitVRLittleEndian, true},
		{uid.JPEGBaseline8Bit, uid.JPEGBaseline8Bit, true},
		{uid.JPEGBaseline8Bit, uid.ExplicitVRLittleEndian, false},
		{uid.ExplicitVRLittleEndian, uid.JPEGBaseline8Bit, false},
		{uid.ExplicitVRLittleEndian, "1.2.3", false},
	}
	for _, tc := range tests {
		if got := CanTranscode(tc.from, tc.to); got != tc.want {
			t.Errorf("CanTranscode(%s, %s) = %v, want %v", tc.from, tc.to, got, tc.want)
		}
	}
}
