// Command ingestbench writes the corpora of bench/ingest/run.sh from one real
// CT file: each object gets new UIDs, a patient and a study of its own
// corpus, and deterministic pseudo-random pixel data.
//
//	ingestbench gen -src CT_small.dcm -out DIR [-ct 2000] [-tiny 5000] [-studies 10000] [-split 4]
//
// It writes DIR/ct/K, DIR/tiny/K and DIR/find/K for K in 0..split-1, whole
// studies per directory, so that split storescu processes each send whole
// studies:
//   - ct: 512x512 16-bit CT slices (about 0.5 MB), 8 studies of one series;
//   - tiny: CT headers with 8x8 pixels (about 2 KB), studies of 50 instances;
//   - find: one tiny instance per study, varied names (a fifth not ASCII)
//     and study dates from 2010 to 2025, for the C-FIND comparison.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/codec"
	"github.com/pacsforge/pacs/core/dicom/part10"
	"github.com/pacsforge/pacs/core/dicom/uid"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "gen" {
		fmt.Fprintln(os.Stderr, "usage: ingestbench gen -src FILE -out DIR [-ct N] [-tiny N] [-studies N] [-split N]")
		os.Exit(2)
	}
	if err := gen(os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "ingestbench:", err)
		os.Exit(1)
	}
}

// root is the UID root of the generated objects.
const root = "1.2.826.0.1.3680043.8.498.77"

var (
	surnames = []string{"SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "GARCIA", "MILLER", "DAVIS", "MARTIN",
		"BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND", "LEROY", "MOREAU", "SIMON", "LAURENT",
		"MÜLLER", "SCHMIDT", "SCHNEIDER", "FISCHER", "WEBER", "MEYER", "WAGNER", "BECKER", "SCHULZ", "HOFFMANN",
		"ROSSI", "RUSSO", "FERRARI", "ESPOSITO", "BIANCHI", "ROMANO", "COLOMBO", "RICCI", "MARINO", "GRECO",
		"GARCÍA", "FERNÁNDEZ", "GONZÁLEZ", "RODRÍGUEZ", "LÓPEZ", "MARTÍNEZ", "SÁNCHEZ", "PÉREZ", "GÓMEZ", "JIMÉNEZ",
		"NGUYỄN", "TRẦN", "KOWALSKI", "WIŚNIEWSKI", "SØNDERGAARD", "ÅBERG", "ÖZTÜRK", "O'BRIEN", "MURPHY", "KELLY"}
	given = []string{"JOHN", "MARY", "JAMES", "PATRICIA", "ROBERT", "JENNIFER", "MICHAEL", "LINDA", "JEAN", "MARIE",
		"PIERRE", "ANNE", "HANS", "JÜRGEN", "ZOË", "JOSÉ", "INÉS", "SØREN", "GIULIA", "MARCO"}
	descs = []string{"CT HEAD W/O CONTRAST", "CT CHEST ABDOMEN PELVIS", "CT ANGIO", "THORAX", "ÉCHOGRAPHIE"}
)

func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	src := fs.String("src", "", "a CT file whose header the objects take")
	out := fs.String("out", "", "output directory")
	nCT := fs.Int("ct", 2000, "512x512 CT slices")
	nTiny := fs.Int("tiny", 5000, "tiny objects")
	nFind := fs.Int("studies", 10000, "studies of one tiny object for C-FIND")
	split := fs.Int("split", 4, "directories per corpus")
	fs.Parse(args)
	if *src == "" || *out == "" {
		return fmt.Errorf("gen: -src and -out are required")
	}
	f, err := part10.ReadFile(*src)
	if err != nil {
		return err
	}
	base := f.Dataset
	for _, t := range []dicom.Tag{dicom.PixelData, dicom.SpecificCharacterSet} {
		base.Delete(t)
	}
	base.DeleteFunc(func(e *dicom.Element) bool { return e.Tag.IsPrivate() })
	g := &generator{base: base, out: *out, split: *split, rng: rand.New(rand.NewPCG(2026, 12))}
	const ctStudies = 8
	for i := range *nCT {
		if err := g.write("ct", i*ctStudies / *nCT, *nCT/ctStudies, i, 512); err != nil {
			return err
		}
	}
	for i := range *nTiny {
		if err := g.write("tiny", i/50, 50, i, 8); err != nil {
			return err
		}
	}
	for i := range *nFind {
		if err := g.write("find", i, 1, i, 8); err != nil {
			return err
		}
	}
	return nil
}

type generator struct {
	base  *dicom.Dataset
	out   string
	split int
	rng   *rand.Rand
	study study
}

type study struct {
	corpus, uid, name, id, date, time, acc, desc string
	n                                            int
}

// write writes object i of corpus, in study s of per instances each, with
// size x size pixels.
func (g *generator) write(corpus string, s, per, i, size int) error {
	r := g.rng
	st := &g.study
	if st.corpus != corpus || st.n != s {
		code := map[string]int{"ct": 1, "tiny": 2, "find": 3}[corpus]
		day := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(16*365))
		*st = study{corpus: corpus, n: s, uid: fmt.Sprintf("%s.%d.%d", root, code, s+1),
			name: surnames[r.IntN(len(surnames))] + "^" + given[r.IntN(len(given))],
			id:   fmt.Sprintf("%s%07d", strings.ToUpper(corpus[:1]), r.IntN(1e7)), date: day.Format("20060102"),
			time: fmt.Sprintf("%02d%02d%02d", r.IntN(24), r.IntN(60), r.IntN(60)),
			acc:  fmt.Sprintf("A%08d", r.IntN(1e8)), desc: descs[r.IntN(len(descs))]}
	}
	ds := g.base.Clone()
	series := st.uid + ".1"
	inst := fmt.Sprintf("%s.%d", series, i%per+1)
	var err error
	set := func(t dicom.Tag, v ...string) {
		if err == nil {
			err = ds.SetString(t, v...)
		}
	}
	if strings.ContainsFunc(st.name+st.desc, func(c rune) bool { return c >= 0x80 }) {
		c, cerr := part10.TextCodec([]string{"ISO_IR 192"})
		if cerr != nil {
			return cerr
		}
		ds.Codec = c
		set(dicom.SpecificCharacterSet, "ISO_IR 192")
	} else {
		ds.Codec = nil
	}
	set(dicom.SOPClassUID, uid.CTImageStorage)
	set(dicom.SOPInstanceUID, inst)
	set(dicom.StudyInstanceUID, st.uid)
	set(dicom.SeriesInstanceUID, series)
	set(dicom.FrameOfReferenceUID, series+".0")
	set(dicom.PatientName, st.name)
	set(dicom.PatientID, st.id)
	set(dicom.StudyDate, st.date)
	set(dicom.SeriesDate, st.date)
	set(dicom.ContentDate, st.date)
	set(dicom.StudyTime, st.time)
	set(dicom.AccessionNumber, st.acc)
	set(dicom.StudyDescription, st.desc)
	set(dicom.StudyID, fmt.Sprint(s+1))
	set(dicom.SeriesNumber, "1")
	set(dicom.InstanceNumber, fmt.Sprint(i%per+1))
	set(dicom.ImagePositionPatient, "-250", "-250", fmt.Sprint(-i%per))
	set(dicom.Rows, fmt.Sprint(size))
	set(dicom.Columns, fmt.Sprint(size))
	set(dicom.BitsAllocated, "16")
	set(dicom.BitsStored, "12")
	set(dicom.HighBit, "11")
	set(dicom.PixelRepresentation, "0")
	set(dicom.SamplesPerPixel, "1")
	set(dicom.PhotometricInterpretation, "MONOCHROME2")
	if err != nil {
		return fmt.Errorf("object %d of %s: %w", i, corpus, err)
	}
	pixels := make([]byte, size*size*2)
	for j := 0; j+8 <= len(pixels); j += 8 {
		binary.LittleEndian.PutUint64(pixels[j:], r.Uint64()&0x0fff0fff0fff0fff)
	}
	if err := ds.SetBytes(dicom.PixelData, dicom.OW, pixels); err != nil {
		return err
	}
	dir := filepath.Join(g.out, corpus, fmt.Sprint(s%g.split))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return part10.WriteFile(filepath.Join(dir, fmt.Sprintf("%s%05d.dcm", corpus, i)), &part10.File{Dataset: ds,
		Syntax: codec.ExplicitVRLittleEndian, Meta: part10.NewMeta(uid.CTImageStorage, inst, uid.ExplicitVRLittleEndian)})
}
