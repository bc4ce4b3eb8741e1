package dimse_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/codec"
	"github.com/pacsforge/pacs/core/dicom/part10"
	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/ul"
)

// benchObjectSize is the data set size of one stored object: a 512x512
// 16-bit CT slice.
const benchObjectSize = 512 * 512 * 2

// BenchmarkStoreLoopback stores 512 KiB data sets over 127.0.0.1, one at a
// time on one association, from our SCU to our SCP which discards them
// (or writes Part 10 files), for the PDU lengths dcmtk proposes (16 KiB)
// and our default (64 KiB).
func BenchmarkStoreLoopback(b *testing.B) {
	data := make([]byte, benchObjectSize)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for _, sink := range []string{"discard", "disk"} {
		for _, pdu := range []uint32{16 << 10, 64 << 10} {
			b.Run(fmt.Sprintf("%s/pdu=%dk", sink, pdu>>10), func(b *testing.B) {
				mux := dimse.NewMux(nil)
				if sink == "discard" {
					mux.HandleCStore(dimse.AnySOPClass, func(ctx context.Context, op *dimse.Op, rq *dimse.CStoreRequest, data io.Reader) dimse.Status {
						if _, err := io.Copy(io.Discard, data); err != nil {
							return dimse.StatusProcessingFailure
						}
						return dimse.StatusSuccess
					})
				} else {
					mux.HandleCStore(dimse.AnySOPClass, writeToDir(b.TempDir()))
				}
				policy := storagePolicy()
				policy.MaxPDULength = pdu
				s := startSCP(b, policy, mux)
				c := dialTest(b, s.addr, ul.DialOptions{MaxPDULength: pdu,
					Contexts: dimse.StorageContexts([]string{uid.CTImageStorage}, uid.ExplicitVRLittleEndian)})
				defer c.Close()
				ctx := context.Background()
				b.SetBytes(benchObjectSize)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					inst := fmt.Sprintf("1.2.3.%d", i)
					if _, err := c.Store(ctx, uid.CTImageStorage, inst, uid.ExplicitVRLittleEndian, bytes.NewReader(data), dimse.StoreOptions{}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkStoreFileLoopback stores a 512 KiB CT slice from a Part 10 file
// with StoreFile to our discarding SCP over 127.0.0.1 (64 KiB PDUs).
func BenchmarkStoreFileLoopback(b *testing.B) {
	ds := dicom.NewDataset(8)
	ds.SetString(dicom.SOPClassUID, uid.CTImageStorage)
	ds.SetString(dicom.SOPInstanceUID, "1.2.3.4")
	ds.SetInts(dicom.Rows, 512)
	ds.SetInts(dicom.Columns, 512)
	ds.SetBytes(dicom.PixelData, dicom.OW, make([]byte, benchObjectSize))
	path := filepath.Join(b.TempDir(), "ct.dcm")
	f := &part10.File{Dataset: ds, Syntax: codec.ExplicitVRLittleEndian,
		Meta: part10.NewMeta(uid.CTImageStorage, "1.2.3.4", uid.ExplicitVRLittleEndian)}
	if err := part10.WriteFile(path, f); err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	mux := dimse.NewMux(nil)
	mux.HandleCStore(dimse.AnySOPClass, func(ctx context.Context, op *dimse.Op, rq *dimse.CStoreRequest, data io.Reader) dimse.Status {
		if _, err := io.Copy(io.Discard, data); err != nil {
			return dimse.StatusProcessingFailure
		}
		return dimse.StatusSuccess
	})
	s := startSCP(b, storagePolicy(), mux)
	c := dialTest(b, s.addr, ul.DialOptions{
		Contexts: dimse.StorageContexts([]string{uid.CTImageStorage}, uid.ExplicitVRLittleEndian)})
	defer c.Close()
	ctx := context.Background()
	b.SetBytes(fi.Size())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.StoreFile(ctx, path, dimse.StoreOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
