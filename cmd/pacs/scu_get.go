package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/codec"
	"github.com/pacsforge/pacs/core/dicom/part10"
	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/ul"
)

// getImageClasses are the storage SOP classes pacs get accepts in compressed
// transfer syntaxes too, most common first: contexts are added in this order
// until maxContexts is reached.
var getImageClasses = []string{
	uid.CTImageStorage, uid.MRImageStorage, uid.SecondaryCaptureImageStorage,
	uid.ComputedRadiographyImageStorage, uid.DigitalXRayImageStorageForPresentation,
	uid.DigitalMammographyXRayImageStorageForPresentation, uid.UltrasoundImageStorage,
	uid.UltrasoundMultiFrameImageStorage, uid.XRayAngiographicImageStorage,
	uid.EnhancedCTImageStorage, uid.EnhancedMRImageStorage, uid.MultiFrameTrueColorSecondaryCaptureImageStorage,
	uid.NuclearMedicineImageStorage, uid.PositronEmissionTomographyImageStorage,
	uid.XRayRadiofluoroscopicImageStorage, uid.SegmentationStorage, uid.RTDoseStorage, uid.RTImageStorage,
	uid.MultiFrameGrayscaleByteSecondaryCaptureImageStorage, uid.MultiFrameGrayscaleWordSecondaryCaptureImageStorage,
	uid.DigitalXRayImageStorageForProcessing, uid.DigitalMammographyXRayImageStorageForProcessing,
	uid.BreastTomosynthesisImageStorage, uid.VLPhotographicImageStorage, uid.VLEndoscopicImageStorage,
	uid.EnhancedXAImageStorage, uid.EnhancedPETImageStorage, uid.LegacyConvertedEnhancedCTImageStorage,
	uid.DigitalIntraOralXRayImageStorageForPresentation, uid.OphthalmicPhotography8BitImageStorage,
	uid.XRay3DAngiographicImageStorage, uid.MultiFrameSingleBitSecondaryCaptureImageStorage,
	uid.ParametricMapStorage, uid.VideoEndoscopicImageStorage,
}

// getOtherClasses are the storage SOP classes pacs get accepts in the
// uncompressed syntaxes only.
var getOtherClasses = []string{
	uid.RTStructureSetStorage, uid.RTPlanStorage, uid.RTIonPlanStorage, uid.RTBeamsTreatmentRecordStorage,
	uid.BasicTextSRStorage, uid.EnhancedSRStorage, uid.ComprehensiveSRStorage, uid.KeyObjectSelectionDocumentStorage,
	uid.XRayRadiationDoseSRStorage, uid.MammographyCADSRStorage, uid.GrayscaleSoftcopyPresentationStateStorage,
	uid.ColorSoftcopyPresentationStateStorage, uid.EncapsulatedPDFStorage, uid.TwelveLeadECGWaveformStorage,
	uid.GeneralECGWaveformStorage, uid.BasicVoiceAudioWaveformStorage, uid.RawDataStorage,
	uid.SpatialRegistrationStorage, uid.DeformableSpatialRegistrationStorage, uid.MRSpectroscopyStorage,
	uid.SurfaceSegmentationStorage, uid.UltrasoundImageStorageRetired, uid.NuclearMedicineImageStorageRetired,
}

// getCompressedSyntaxes are the compressed transfer syntaxes pacs get
// accepts for getImageClasses, by preference.
var getCompressedSyntaxes = []string{
	uid.JPEGBaseline8Bit, uid.JPEGLosslessSV1, uid.JPEG2000Lossless, uid.RLELossless, uid.JPEG2000,
	uid.JPEGLSLossless, uid.JPEGExtended12Bit, uid.JPEGLSNearLossless, uid.JPEGLossless,
	uid.HTJ2KLossless, uid.HTJ2K,
}

// getContexts returns the contexts of a C-GET in model: the model itself and,
// with the SCP role, each storage class of getImageClasses and
// getOtherClasses in the uncompressed syntaxes, then compressed syntaxes for
// the image classes while fewer than maxContexts are proposed.
func getContexts(model string) []ul.ProposedContext {
	pcs := []ul.ProposedContext{nativeContext(model)}
	native := pcs[0].TransferSyntaxes
	no, yes := false, true
	add := func(class string, ts []string) {
		pcs = append(pcs, ul.ProposedContext{AbstractSyntax: class, TransferSyntaxes: ts, SCURole: &no, SCPRole: &yes})
	}
	for _, class := range getImageClasses {
		add(class, native)
	}
	for _, class := range getOtherClasses {
		add(class, native)
	}
	for _, ts := range getCompressedSyntaxes {
		for _, class := range getImageClasses {
			if len(pcs) == maxContexts {
				return pcs
			}
			add(class, []string{ts})
		}
	}
	return pcs
}

// getOptions are the settings of pacs get.
type getOptions struct {
	queryOptions
	outDir   string
	progress bool
}

func runGet(args []string) int {
	var o getOptions
	fs := o.flagSet("get")
	fs.StringVar(&o.outDir, "od", ".", "directory the received instances are written to, as SOPInstanceUID.dcm")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `usage: pacs get [options] HOST PORT

Retrieves the matches of the keys from a DICOM peer with C-GET (like getscu):
the peer sends them on the same association and each is written as a Part 10
file into -od, in the transfer syntax it arrived in. Prints the progress when
stderr is a terminal and a summary; exits 1 unless every sub-operation
succeeded. Example:

  pacs get -aec ORTHANC -k StudyInstanceUID=1.2.3 -od study pacs.example 4242

options:
`)
		fs.PrintDefaults()
	}
	model, ident, _, ok := o.parse(fs, args)
	if !ok {
		return 2
	}
	if err := os.MkdirAll(o.outDir, 0o755); err != nil {
		fmt.Fprintf(stderr, "pacs get: %v\n", err)
		return 1
	}
	o.progress = stderrIsTerminal()
	n, written, st, err := get(context.Background(), o, model, ident, stderr)
	fmt.Fprintf(stdout, "%s; %d files written to %s: %s\n", retrieveSummary("retrieved", n), written, o.outDir, st)
	if err != nil {
		fmt.Fprintf(stderr, "pacs get: %v\n", err)
		return 1
	}
	if n.Failed > 0 || n.Warning > 0 {
		return 1
	}
	return 0
}

// get runs one C-GET of ident in model, writing each received instance into
// o.outDir, and returns the final counts, the number of files written and
// the final status.
func get(ctx context.Context, o getOptions, model string, ident *dicom.Dataset, notes io.Writer) (dimse.SubOperations, int, dimse.Status, error) {
	var written atomic.Int64
	mux := dimse.NewMux(nil)
	mux.HandleCStore(dimse.AnySOPClass, func(ctx context.Context, op *dimse.Op, rq *dimse.CStoreRequest, data io.Reader) dimse.Status {
		if err := writeReceived(o.outDir, rq.AffectedSOPClassUID, rq.AffectedSOPInstanceUID, op.Context.TransferSyntax, data); err != nil {
			fmt.Fprintf(notes, "pacs get: %s: %v\n", rq.AffectedSOPInstanceUID, err)
			return dimse.StatusOutOfResources.WithComment("cannot write the file")
		}
		written.Add(1)
		return dimse.StatusSuccess
	})
	c, err := o.dial(ctx, o.addr, getContexts(model), nil, mux)
	if err != nil {
		return dimse.SubOperations{}, 0, dimse.Status{}, err
	}
	st, n, err := c.Get(ctx, model, ident, progressLine(o.progress, notes))
	clearProgress(o.progress, notes)
	err = endAssociation(c, err)
	return n, int(written.Load()), st, err
}

// writeReceived writes a received data set, encoded in ts, as the Part 10
// file dir/<inst>.dcm, through a temporary file renamed when complete.
func writeReceived(dir, class, inst, ts string, data io.Reader) (err error) {
	if uid.Valid(inst) != nil {
		return fmt.Errorf("invalid SOP Instance UID")
	}
	syn, ok := codec.LookupSyntax(ts)
	if !ok {
		return fmt.Errorf("unknown transfer syntax %s", ts)
	}
	f, err := os.CreateTemp(dir, ".get-*.dcm")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	w := bufio.NewWriterSize(f, 256<<10)
	if _, err := part10.NewWriter(w, part10.NewMeta(class, inst, ts), nil, syn, nil); err != nil {
		return fmt.Errorf("write file meta information: %w", err)
	}
	if _, err := io.Copy(w, data); err != nil {
		return fmt.Errorf("receive data set: %w", err)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), filepath.Join(dir, inst+".dcm"))
}
