package index

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/charset"
)

// TestScale ingests a synthetic archive in batches of scaleBatch instances,
// the shape of Orthanc's database benchmark, and then times study-level
// queries. With PACS_INDEX_SCALE unset it is a small functional run (500
// instances, each query run 3 times and its matches checked against the
// generator, no timing printed); bench/index/run.sh sets:
//
//	PACS_INDEX_SCALE=1000000     instances to ingest
//	PACS_INDEX_SCALE_OUT=FILE    per-batch TSV (batch, instances, seconds, ...)
//	PACS_INDEX_SCALE_WORKERS=32  concurrent Add callers (group commit)
//	PACS_INDEX_SCALE_DIR=DIR     where the database is kept (default a temp dir)
//	PACS_INDEX_SCALE_QUERIES=50  runs of each query (the median is printed)
//
// The test never fails on a time: run.sh judges the curve.
func TestScale(t *testing.T) {
	total, timed := 500, false
	if s := os.Getenv("PACS_INDEX_SCALE"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			t.Fatalf("PACS_INDEX_SCALE=%q is not a positive number", s)
		}
		total, timed = n, true
	}
	if !timed && testing.Short() {
		t.Skip("short mode")
	}
	batch := min(scaleBatch, total)
	workers := scaleEnvInt(t, "PACS_INDEX_SCALE_WORKERS", 32)
	runs := scaleEnvInt(t, "PACS_INDEX_SCALE_QUERIES", 50)
	if !timed {
		runs = 3
	}
	dir := os.Getenv("PACS_INDEX_SCALE_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, "index.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
	ix, err := Open(context.Background(), path, Options{}) // as pacs serve opens it
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()

	var out *os.File
	if p := os.Getenv("PACS_INDEX_SCALE_OUT"); p != "" && timed {
		if out, err = os.Create(p); err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		fmt.Fprintln(out, "batch\tinstances\tseconds\tus_per_instance\tcommits\tdb_mib\twal_mib\theap_mib\tload1")
	}

	gen := newScaleGen(2026)
	var secs []float64
	for done := 0; done < total; {
		n := min(batch, total-done)
		prevCommits := ix.Stats().Batches
		start := time.Now()
		scaleAdd(t, ix, gen, n, workers)
		d := time.Since(start).Seconds()
		done += n
		secs = append(secs, d)
		if out != nil {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			fmt.Fprintf(out, "%d\t%d\t%.3f\t%.1f\t%d\t%.1f\t%.1f\t%.0f\t%s\n", len(secs), done, d, d*1e6/float64(n),
				ix.Stats().Batches-prevCommits, fileMiB(path), fileMiB(path+"-wal"), float64(ms.HeapInuse)/(1<<20), loadAverage())
			out.Sync()
		}
	}
	if got := ix.Stats().Writes; got != int64(total) {
		t.Fatalf("index wrote %d instances, want %d", got, total)
	}

	// Study-level queries; every expected count comes from the generator.
	ret := []dicom.Tag{dicom.StudyInstanceUID, dicom.StudyDate, dicom.StudyTime, dicom.PatientName, dicom.PatientID,
		dicom.AccessionNumber, dicom.StudyDescription, dicom.ModalitiesInStudy, dicom.NumberOfStudyRelatedInstances}
	p := gen.patients[len(gen.patients)/2]
	name := strings.ToUpper(scaleSurnames[0]) + "*"
	from, to := "20170301", "20170331"
	queries := []struct {
		name string
		keys map[dicom.Tag]string
		ci   bool
		want int
	}{
		{"PatientID", map[dicom.Tag]string{dicom.PatientID: p.id}, false, gen.count(func(s *scaleStudy) bool { return s.p == p })},
		{"PatientName " + name, map[dicom.Tag]string{dicom.PatientName: name}, false,
			gen.count(func(s *scaleStudy) bool { return strings.HasPrefix(s.p.name, name[:len(name)-1]) })},
		{"PatientName " + strings.ToLower(name) + " (case-insensitive)", map[dicom.Tag]string{dicom.PatientName: strings.ToLower(name)}, true,
			gen.count(func(s *scaleStudy) bool { return strings.HasPrefix(s.p.name, name[:len(name)-1]) })},
		{"StudyDate " + from + "-" + to, map[dicom.Tag]string{dicom.StudyDate: from + "-" + to}, false,
			gen.count(func(s *scaleStudy) bool { return s.date >= from && s.date <= to })},
		{"PatientName " + name + " and StudyDate 2015-2019", map[dicom.Tag]string{dicom.PatientName: name, dicom.StudyDate: "20150101-20191231"}, false,
			gen.count(func(s *scaleStudy) bool {
				return strings.HasPrefix(s.p.name, name[:len(name)-1]) && s.date >= "20150101" && s.date <= "20191231"
			})},
	}
	for _, q := range queries {
		keys := dicom.NewDataset(len(ret))
		for _, tag := range ret {
			if err := keys.SetString(tag, q.keys[tag]); err != nil {
				t.Fatal(err)
			}
		}
		query := Query{Level: Study, Root: StudyRoot, Keys: keys, CaseInsensitivePN: q.ci}
		var times []time.Duration
		for range max(1, runs) {
			start := time.Now()
			n := 0
			for _, err := range ix.Find(context.Background(), query) {
				if err != nil {
					t.Fatalf("%s: %v", q.name, err)
				}
				n++
			}
			times = append(times, time.Since(start))
			if n != q.want {
				t.Fatalf("%s: %d studies, want %d", q.name, n, q.want)
			}
		}
		if timed {
			slices.Sort(times)
			t.Logf("query %-52s %5d studies  median %8.3f ms  p90 %8.3f ms", q.name, q.want,
				float64(times[len(times)/2].Microseconds())/1000, float64(times[len(times)*9/10].Microseconds())/1000)
		}
	}
	if timed {
		t.Logf("ingested %d instances (%d studies, %d patients) in %d batches of %d with %d workers; first batch %.2f s, last %.2f s (last/first %.2f)",
			total, len(gen.studies), len(gen.patients), len(secs), batch, workers, secs[0], secs[len(secs)-1], secs[len(secs)-1]/secs[0])
	}
}

// scaleBatch is the number of instances timed together.
const scaleBatch = 5000

func scaleEnvInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q is not a positive number", name, s)
	}
	return n
}

// loadAverage returns the machine's one-minute load average ("" where
// /proc/loadavg is missing): the machine is shared, the curve is read with it.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

func fileMiB(path string) float64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return float64(fi.Size()) / (1 << 20)
}

// scaleAdd adds the generator's next n instances from the given number of
// goroutines and returns when all are committed.
func scaleAdd(t *testing.T, ix *Index, gen *scaleGen, n, workers int) {
	var mu sync.Mutex
	left := n
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				mu.Lock()
				if left == 0 {
					mu.Unlock()
					return
				}
				left--
				in := gen.next()
				mu.Unlock()
				ds, err := in.dataset()
				if err != nil {
					t.Error(err)
					return
				}
				rec := InstanceRecord{Dataset: ds, Backend: "fs", Key: "uid/" + in.uid, Size: 48_000,
					SHA256: fmt.Sprintf("%064x", in.seq), TransferSyntaxUID: "1.2.840.10008.1.2.1"}
				if _, err := ix.Add(context.Background(), rec); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

// Synthetic archive contents: a fifth of the names are not ASCII.
var (
	scaleSurnames = []string{"SMITH", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Martin",
		"Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent",
		"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
		"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco",
		"García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Jiménez",
		"Nguyễn", "Trần", "Lê", "Phạm", "Kowalski", "Wiśniewski", "Dąbrowski", "Søndergaard", "Åberg", "Öztürk",
		"O'Brien", "Murphy", "Kelly", "Walsh", "Wilson", "Taylor", "Anderson", "Clark", "Lewis", "Young"}
	scaleGiven = []string{"John", "Mary", "James", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "Jean", "Marie",
		"Pierre", "Anne", "Hans", "Jürgen", "Zoë", "José", "Inés", "Łukasz", "Søren", "Thảo", "Giulia", "Marco"}
	scaleIdeographic = []string{"山田^太郎", "田中^花子", "佐藤^健", "김^민준", "王^伟"}
	scaleStudyDescs  = []string{"CT HEAD W/O CONTRAST", "CT CHEST ABDOMEN PELVIS", "MR BRAIN", "MR KNEE LEFT",
		"CHEST PA AND LATERAL", "US ABDOMEN", "CT ANGIO", "MR LUMBAR SPINE", "Thorax p.a.", "Échographie abdominale"}
	scaleReferring = []string{"Welby^Marcus", "House^Gregory", "Grey^Meredith", "Kildare^James", "", "Dupré^Hélène"}
	scaleInsts     = []string{"General Hospital", "Clinique Sainte-Émilie", "Universitätsklinikum Nord", "City Imaging"}
	scaleRoots     = []string{"1.3.12.2.1107.5.1.4", "1.2.840.113619.2.55.3", "1.2.392.200036.9116.2.6", "1.2.826.0.1.3680043.8.498"}
)

// scaleModality is one kind of study: its SOP class, series and instances.
type scaleModality struct {
	name, class     string
	weight          int // out of 100
	series, perSer  [2]int
	bodyParts, desc []string
}

var scaleModalities = []scaleModality{
	{"CT", "1.2.840.10008.5.1.4.1.1.2", 30, [2]int{1, 4}, [2]int{20, 200}, []string{"HEAD", "CHEST", "ABDOMEN"}, []string{"Axial 5mm", "Axial 1mm", "Scout"}},
	{"MR", "1.2.840.10008.5.1.4.1.1.4", 25, [2]int{2, 4}, [2]int{20, 200}, []string{"BRAIN", "KNEE", "LSPINE"}, []string{"T1 SAG", "T2 AX", "FLAIR"}},
	{"CR", "1.2.840.10008.5.1.4.1.1.1", 30, [2]int{1, 2}, [2]int{1, 3}, []string{"CHEST", "HAND"}, []string{"PA", "LAT"}},
	{"US", "1.2.840.10008.5.1.4.1.1.6.1", 15, [2]int{1, 1}, [2]int{5, 40}, []string{"ABDOMEN"}, []string{"Liver", ""}},
}

type scalePatient struct {
	id, name, birth, sex string
	utf8                 bool
}

type scaleStudy struct {
	p                                    *scalePatient
	uid, date, time, acc, desc, ref, sid string
	inst                                 string
	random                               bool // UIDs of the 2.25 (UUID) form
}

type scaleSeries struct {
	st                               *scaleStudy
	mod                              *scaleModality
	uid, number, desc, body, station string
}

type scaleInstance struct {
	se  *scaleSeries
	uid string
	num int
	seq int
}

// scaleGen produces instances study by study, series by series,
// deterministically for its seed; it is not safe for concurrent use.
type scaleGen struct {
	rng      *rand.Rand
	patients []*scalePatient
	studies  []*scaleStudy
	series   *scaleSeries
	left     []int // instances left in the current series, then the next ones of the study
	num      int
	seq      int
}

func newScaleGen(seed uint64) *scaleGen {
	return &scaleGen{rng: rand.New(rand.NewPCG(seed, 7))}
}

// count returns the number of generated studies for which f holds.
func (g *scaleGen) count(f func(*scaleStudy) bool) int {
	n := 0
	for _, s := range g.studies {
		if f(s) {
			n++
		}
	}
	return n
}

// uid returns a UID of the 2.25 (UUID-derived) form when random, else
// prefix.suffix.
func (g *scaleGen) uid(random bool, prefix string, suffix int) string {
	if random {
		return fmt.Sprintf("2.25.%d%018d", 1+g.rng.Uint64N(1<<62), g.rng.Uint64N(1e18))
	}
	return prefix + "." + strconv.Itoa(suffix)
}

func (g *scaleGen) newPatient() *scalePatient {
	r := g.rng
	p := &scalePatient{id: fmt.Sprintf("MRN%08d", r.IntN(1e8)), sex: []string{"M", "F", "O"}[r.IntN(3)],
		birth: fmt.Sprintf("%04d%02d%02d", 1925+r.IntN(99), 1+r.IntN(12), 1+r.IntN(28))}
	sur, given := scaleSurnames[r.IntN(len(scaleSurnames))], scaleGiven[r.IntN(len(scaleGiven))]
	if r.IntN(4) == 0 {
		sur = strings.ToUpper(sur)
	}
	p.name = sur + "^" + given
	if r.IntN(50) == 0 {
		p.name += "=" + scaleIdeographic[r.IntN(len(scaleIdeographic))]
	}
	for _, c := range p.name {
		if c >= 0x80 {
			p.utf8 = true
		}
	}
	g.patients = append(g.patients, p)
	return p
}

// next returns the next instance.
func (g *scaleGen) next() scaleInstance {
	r := g.rng
	if len(g.left) == 0 || (len(g.left) == 1 && g.left[0] == 0) {
		// A new study: one patient in five comes back.
		p := (*scalePatient)(nil)
		if len(g.patients) > 0 && r.IntN(5) == 0 {
			p = g.patients[r.IntN(len(g.patients))]
		} else {
			p = g.newPatient()
		}
		w := r.IntN(100)
		mod := &scaleModalities[0]
		for i := range scaleModalities {
			if w < scaleModalities[i].weight {
				mod = &scaleModalities[i]
				break
			}
			w -= scaleModalities[i].weight
		}
		day := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(16*365))
		st := &scaleStudy{p: p, date: day.Format("20060102"), time: fmt.Sprintf("%02d%02d%02d", r.IntN(24), r.IntN(60), r.IntN(60)),
			acc: fmt.Sprintf("A%09d", r.IntN(1e9)), desc: scaleStudyDescs[r.IntN(len(scaleStudyDescs))],
			ref: scaleReferring[r.IntN(len(scaleReferring))], sid: strconv.Itoa(1 + r.IntN(9999)),
			inst: scaleInsts[r.IntN(len(scaleInsts))], random: r.IntN(4) == 0}
		st.uid = g.uid(st.random, fmt.Sprintf("%s.%d", scaleRoots[r.IntN(len(scaleRoots))], r.IntN(1e9)), len(g.studies)+1)
		g.studies = append(g.studies, st)
		ns := mod.series[0] + r.IntN(mod.series[1]-mod.series[0]+1)
		g.left = g.left[:0]
		for range ns {
			g.left = append(g.left, mod.perSer[0]+r.IntN(mod.perSer[1]-mod.perSer[0]+1))
		}
		g.series = &scaleSeries{st: st, mod: mod}
		g.newSeries(1)
	} else if g.left[0] == 0 {
		g.left = g.left[1:]
		n, _ := strconv.Atoi(g.series.number)
		g.series = &scaleSeries{st: g.series.st, mod: g.series.mod}
		g.newSeries(n + 1)
	}
	g.left[0]--
	g.num++
	g.seq++
	se := g.series
	return scaleInstance{se: se, uid: g.uid(se.st.random, se.uid, g.num), num: g.num, seq: g.seq}
}

func (g *scaleGen) newSeries(number int) {
	r, se := g.rng, g.series
	se.number = strconv.Itoa(number)
	se.desc = se.mod.desc[r.IntN(len(se.mod.desc))]
	se.body = se.mod.bodyParts[r.IntN(len(se.mod.bodyParts))]
	se.station = fmt.Sprintf("%s%02d", se.mod.name, r.IntN(20))
	se.uid = g.uid(se.st.random, se.st.uid, number)
	g.num = 0
}

var scaleUTF8 = func() dicom.TextCodec {
	c, err := charset.New([]string{"ISO_IR 192"})
	if err != nil {
		panic(err)
	}
	return c
}()

// dataset is the instance's header as a modality would send it (no pixels).
func (in scaleInstance) dataset() (*dicom.Dataset, error) {
	se, st := in.se, in.se.st
	p := st.p
	ds := dicom.NewDataset(48)
	var err error
	set := func(t dicom.Tag, v ...string) {
		if err == nil && len(v) > 0 && v[0] != "" {
			err = ds.SetString(t, v...)
		}
	}
	if p.utf8 || strings.ContainsFunc(st.desc+st.ref+st.inst, func(c rune) bool { return c >= 0x80 }) {
		ds.Codec = scaleUTF8
		set(dicom.SpecificCharacterSet, "ISO_IR 192")
	}
	set(dicom.ImageType, "ORIGINAL", "PRIMARY", "AXIAL")
	set(dicom.SOPClassUID, se.mod.class)
	set(dicom.SOPInstanceUID, in.uid)
	set(dicom.StudyDate, st.date)
	set(dicom.SeriesDate, st.date)
	set(dicom.ContentDate, st.date)
	set(dicom.StudyTime, st.time)
	set(dicom.SeriesTime, st.time)
	set(dicom.ContentTime, st.time)
	set(dicom.AccessionNumber, st.acc)
	set(dicom.Modality, se.mod.name)
	set(dicom.Manufacturer, "Forge Imaging")
	set(dicom.InstitutionName, st.inst)
	set(dicom.ReferringPhysicianName, st.ref)
	set(dicom.StationName, se.station)
	set(dicom.StudyDescription, st.desc)
	set(dicom.SeriesDescription, se.desc)
	set(dicom.PatientName, p.name)
	set(dicom.PatientID, p.id)
	set(dicom.PatientBirthDate, p.birth)
	set(dicom.PatientSex, p.sex)
	set(dicom.PatientAge, fmt.Sprintf("%03dY", 1+in.seq%99))
	set(dicom.BodyPartExamined, se.body)
	set(dicom.SliceThickness, "5")
	set(dicom.StudyInstanceUID, st.uid)
	set(dicom.SeriesInstanceUID, se.uid)
	set(dicom.StudyID, st.sid)
	set(dicom.SeriesNumber, se.number)
	set(dicom.InstanceNumber, strconv.Itoa(in.num))
	set(dicom.ImagePositionPatient, "-250", "-250", strconv.Itoa(-5*in.num))
	set(dicom.ImageOrientationPatient, "1", "0", "0", "0", "1", "0")
	set(dicom.FrameOfReferenceUID, se.uid+".0")
	set(dicom.SamplesPerPixel, "1")
	set(dicom.PhotometricInterpretation, "MONOCHROME2")
	set(dicom.Rows, "512")
	set(dicom.Columns, "512")
	set(dicom.PixelSpacing, "0.488281", "0.488281")
	set(dicom.BitsAllocated, "16")
	set(dicom.BitsStored, "12")
	set(dicom.HighBit, "11")
	set(dicom.PixelRepresentation, "0")
	set(dicom.WindowCenter, "40")
	set(dicom.WindowWidth, "400")
	set(dicom.RescaleIntercept, "-1024")
	set(dicom.RescaleSlope, "1")
	return ds, err
}
