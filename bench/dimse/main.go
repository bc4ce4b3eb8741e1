// Command dimsebench is the Forge side of bench/dimse/run.sh: it generates CT
// slices, runs a C-STORE SCP (discarding or writing Part 10 files) and a
// C-STORE SCU that sends a directory of files over one association.
//
//	dimsebench gen -n 300 -out DIR
//	dimsebench scp -port 11113 [-out DIR]
//	dimsebench scu -addr 127.0.0.1:11113 DIR
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/codec"
	"github.com/pacsforge/pacs/core/dicom/part10"
	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/ul"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: dimsebench gen|scp|scu [options]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "scp":
		err = scp(os.Args[2:])
	case "scu":
		err = scu(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dimsebench:", err)
		os.Exit(1)
	}
}

// gen writes n CT slices of 512x512 16-bit pixels (Explicit VR Little
// Endian, about 512 KiB each) with deterministic pseudo-random pixel data.
func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	n := fs.Int("n", 300, "number of slices")
	out := fs.String("out", "", "output directory")
	size := fs.Int("size", 512, "rows and columns of each slice")
	fs.Parse(args)
	if *out == "" {
		return fmt.Errorf("gen: -out is required")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(2026, 11))
	pixels := make([]byte, *size**size*2)
	study, series := "1.2.826.0.1.3680043.2.1143.9.1", "1.2.826.0.1.3680043.2.1143.9.1.1"
	for i := 0; i < *n; i++ {
		for j := 0; j < len(pixels); j += 8 {
			binary.LittleEndian.PutUint64(pixels[j:], rng.Uint64()&0x0fff0fff0fff0fff)
		}
		inst := fmt.Sprintf("%s.%d", series, i+1)
		ds := dicom.NewDataset(40)
		set := func(t dicom.Tag, v string) {
			if err := ds.SetString(t, v); err != nil {
				panic(err)
			}
		}
		set(dicom.SOPClassUID, uid.CTImageStorage)
		set(dicom.SOPInstanceUID, inst)
		set(dicom.StudyInstanceUID, study)
		set(dicom.SeriesInstanceUID, series)
		set(dicom.Modality, "CT")
		set(dicom.PatientName, "Bench^Patient")
		set(dicom.PatientID, "BENCH1")
		set(dicom.StudyDate, "20261127")
		set(dicom.ImageType, "ORIGINAL\\PRIMARY\\AXIAL")
		set(dicom.PhotometricInterpretation, "MONOCHROME2")
		set(dicom.ImagePositionPatient, fmt.Sprintf("0\\0\\%d", i))
		set(dicom.ImageOrientationPatient, "1\\0\\0\\0\\1\\0")
		set(dicom.PixelSpacing, "0.7\\0.7")
		set(dicom.SliceThickness, "1")
		set(dicom.RescaleIntercept, "-1024")
		set(dicom.RescaleSlope, "1")
		ds.SetInts(dicom.InstanceNumber, int64(i+1))
		ds.SetInts(dicom.SamplesPerPixel, 1)
		ds.SetInts(dicom.Rows, int64(*size))
		ds.SetInts(dicom.Columns, int64(*size))
		ds.SetInts(dicom.BitsAllocated, 16)
		ds.SetInts(dicom.BitsStored, 12)
		ds.SetInts(dicom.HighBit, 11)
		ds.SetInts(dicom.PixelRepresentation, 0)
		ds.SetBytes(dicom.PixelData, dicom.OW, pixels)
		f := &part10.File{Dataset: ds, Syntax: codec.ExplicitVRLittleEndian,
			Meta: part10.NewMeta(uid.CTImageStorage, inst, uid.ExplicitVRLittleEndian)}
		if err := part10.WriteFile(filepath.Join(*out, fmt.Sprintf("ct%04d.dcm", i+1)), f); err != nil {
			return err
		}
	}
	return nil
}

// scp accepts every storage SOP class in the native syntaxes and discards the
// data sets, or writes them (streamed, no fsync, as storescp) under -out.
func scp(args []string) error {
	fs := flag.NewFlagSet("scp", flag.ExitOnError)
	port := fs.Int("port", 11113, "TCP port")
	out := fs.String("out", "", "directory to write received objects to (empty: discard)")
	maxPDU := fs.Uint("maxpdu", 65536, "maximum PDU length we receive")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the server to this file")
	fs.Parse(args)
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(pf)
		defer pprof.StopCPUProfile()
	}
	mux := dimse.NewMux(nil)
	mux.HandleCStore(dimse.AnySOPClass, func(ctx context.Context, op *dimse.Op, rq *dimse.CStoreRequest, data io.Reader) dimse.Status {
		if *out == "" {
			if _, err := io.Copy(io.Discard, data); err != nil {
				return dimse.StatusProcessingFailure
			}
			return dimse.StatusSuccess
		}
		if err := write(filepath.Join(*out, rq.AffectedSOPInstanceUID+".dcm"), rq, op.Context.TransferSyntax, data); err != nil {
			return dimse.Status{Code: dimse.CodeOutOfResources, ErrorComment: "cannot write"}
		}
		return dimse.StatusSuccess
	})
	srv := ul.NewServer(ul.ServerOptions{
		Policy: ul.Policy{AETitle: "BENCH", AcceptAny: true, MaxPDULength: uint32(*maxPDU),
			Syntaxes:        map[string][]string{uid.Verification: dimse.VerificationSyntaxes},
			DefaultSyntaxes: []string{uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian}},
		Handler: func(ctx context.Context, a *ul.Association) { _ = dimse.Serve(ctx, a, mux) },
	})
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(context.Background(), ln); err != nil && err != ul.ErrServerClosed {
		return err
	}
	return nil
}

// writeBufferSize is the buffer of each file written by the SCP: a few
// large writes per object, as storescp does.
const writeBufferSize = 256 << 10

var writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, writeBufferSize) }}

func write(path string, rq *dimse.CStoreRequest, ts string, data io.Reader) error {
	f, err := create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := writers.Get().(*bufio.Writer)
	w.Reset(f)
	defer writers.Put(w)
	if _, err := part10.NewWriter(w, part10.NewMeta(rq.AffectedSOPClassUID, rq.AffectedSOPInstanceUID, ts), nil, codec.Syntax{UID: ts}, nil); err != nil {
		return err
	}
	// The data set's fragments are written as they come, one write each:
	// they are large already, and copying them into the buffer would
	// only add a copy.
	if err := w.Flush(); err != nil {
		return err
	}
	if _, err := io.Copy(f, data); err != nil {
		return err
	}
	return f.Close()
}

// create is os.Create without the runtime's attempt to register the file
// with its network poller (an epoll_ctl and four fcntl system calls that fail
// or undo each other for a regular file), as storescp's open has none.
func create(path string) (*os.File, error) {
	fd, err := syscall.Open(path, syscall.O_RDWR|syscall.O_CREAT|syscall.O_TRUNC|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// scu sends every file of a directory with C-STORE on one association, one
// at a time (as storescu does).
func scu(args []string) error {
	fs := flag.NewFlagSet("scu", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:11113", "the SCP's address")
	aec := fs.String("aec", "ANY-SCP", "called AE title")
	maxPDU := fs.Uint("maxpdu", 65536, "maximum PDU length we receive")
	repeat := fs.Int("repeat", 1, "send the directory this many times")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the client to this file")
	fs.Parse(args)
	if fs.NArg() != 1 {
		return fmt.Errorf("scu: one directory expected")
	}
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(pf)
		defer pprof.StopCPUProfile()
	}
	entries, err := os.ReadDir(fs.Arg(0))
	if err != nil {
		return err
	}
	var files []string
	for _, e := range entries {
		files = append(files, filepath.Join(fs.Arg(0), e.Name()))
	}
	sort.Strings(files)
	ctx := context.Background()
	c, err := dimse.Dial(ctx, *addr, ul.DialOptions{CallingAE: "DIMSEBENCH", CalledAE: *aec, MaxPDULength: uint32(*maxPDU),
		Contexts: dimse.StorageContexts([]string{uid.CTImageStorage}, uid.ExplicitVRLittleEndian)})
	if err != nil {
		return err
	}
	for range *repeat {
		for _, f := range files {
			if _, err := c.StoreFile(ctx, f, dimse.StoreOptions{}); err != nil {
				c.Abort()
				return fmt.Errorf("%s: %w", f, err)
			}
		}
	}
	return c.Close()
}
