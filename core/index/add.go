package index

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/dicomjson"
)

// ErrDuplicate is returned by Add under DuplicateReject when the SOP Instance
// UID is already indexed; the Result names the indexed instance.
var ErrDuplicate = errors.New("index: SOP instance already stored")

// ErrInvalidRecord is returned by Add for a record that cannot be indexed: a
// missing UID, or a series that the index holds under another study.
var ErrInvalidRecord = errors.New("index: invalid instance record")

// MaxInlineBinary is the largest binary value (VR OB OD OF OL OV OW UN) kept
// in an instance's stored attributes; longer ones, deferred values and pixel
// data are left out (bulk data lives in the stored object only).
const MaxInlineBinary = 1024

// DuplicatePolicy says what Add does when the SOP Instance UID is indexed.
type DuplicatePolicy uint8

const (
	// DuplicateOverwrite replaces the indexed instance (location and
	// attributes); Result.Previous tells the caller which object to remove.
	DuplicateOverwrite DuplicatePolicy = iota
	// DuplicateKeep keeps the indexed instance and reports success with
	// Result.Stored false: the caller discards the new object.
	DuplicateKeep
	// DuplicateReject keeps the indexed instance and returns ErrDuplicate.
	DuplicateReject
)

// Location is where a stored instance is and what is needed to send it.
type Location struct {
	StudyInstanceUID  string
	SeriesInstanceUID string
	SOPInstanceUID    string
	SOPClassUID       string
	TransferSyntaxUID string // the syntax the object is stored in
	Backend           string // storage backend name
	Key               string // object key within the backend
	Size              int64  // bytes
	SHA256            string // hex digest of the stored object
	Tier              string // storage tier, "" for the default
}

// InstanceRecord is what Add indexes for one stored instance.
type InstanceRecord struct {
	// Dataset is the instance's header: at least Study, Series and SOP
	// Instance UID and SOP Class UID; pixel data, if present, is not stored.
	// Add does not modify or keep it.
	Dataset *dicom.Dataset
	// Backend, Key, Size, SHA256, Tier and TransferSyntaxUID locate the
	// stored object (Location's fields of the same names).
	Backend           string
	Key               string
	Size              int64
	SHA256            string
	Tier              string
	TransferSyntaxUID string
	// ReceivedAt is when the object was received; the zero time means now.
	ReceivedAt time.Time
	// Duplicate says what to do if the SOP Instance UID is indexed.
	Duplicate DuplicatePolicy
	// Replacing, if not nil, is called under DuplicateOverwrite when the
	// record replaces an indexed instance, with that instance's location,
	// before the write commits. A caller that removes the replaced object
	// once Add has returned records here that it is about to, so that a
	// crash in between cannot leave the object unreferenced and forgotten;
	// an error fails the Add, and is returned. It runs in the index's
	// writer and may be called more than once for one Add (when its batch
	// is retried); it must not use the index.
	Replacing func(prev Location) error
	// Logged, for AddAfter (Add ignores it), tells that the caller keeps
	// its own durable record of this write, from which it can write the
	// row again after a power loss: its durable function makes the object
	// durable and also a journal entry naming it. A batch of only logged
	// writes commits without syncing the index's log; the caller calls
	// SyncLog before it drops its record. Each write survives a crash of
	// the process either way.
	Logged bool
}

// Result is the outcome of Add.
type Result struct {
	// Existed reports that the SOP Instance UID was indexed before this Add;
	// Previous is then its location at that time.
	Existed  bool
	Previous Location
	// Stored reports that the record was written (false under DuplicateKeep
	// and DuplicateReject when the instance existed).
	Stored bool
}

// row is a record prepared for writing: column values per level and the
// stored attributes, computed in the caller's goroutine.
type row struct {
	rec    *InstanceRecord
	values [4][]any // column values of each level in the order of columns
	norms  [4][]any // folded copies, in the same order
	set    [3][]any // values of setCols (patient, study, series)
	// old receives the setCols read from the indexed rows: stored[l]
	// points at the strings of old[l], as destinations of Scan, and all
	// holds stored of every level in order.
	old    [3][]string
	stored [3][]any
	all    []any
	study  string
	series string
	sop    string
	class  string
	mod    string
	attrs  string
	cs     string // Specific Character Set, its values joined by backslashes
	at     int64
}

// Add indexes one instance. Concurrent calls are committed together (see
// the package comment); Add returns after the transaction holding the record
// has committed, so a nil error means the row is durable. If ctx is done
// before the record's batch begins, the record is not written and the
// context's cause is returned.
func (ix *Index) Add(ctx context.Context, rec InstanceRecord) (Result, error) {
	r, err := prepare(&rec)
	if err != nil {
		return Result{}, err
	}
	var res Result
	err = ix.submit(ctx, func(w *writeTx) error {
		var err error
		res, err = w.add(r)
		return err
	})
	return res, err
}

// AddAfter is Add for a record whose stored object is still being made
// durable, by durable, which AddAfter calls in a goroutine of its own: the
// index prepares and writes the record's rows meanwhile, and commits them
// only once durable has returned nil. If durable fails, the record is not
// written and its error is returned as it is. durable is always called, and
// has returned when AddAfter returns, also when the record cannot be
// written (the index is closed, ctx is done, the record is invalid); it
// must not write to the index.
//
// A store that would sync its object and then call Add waits for the two in
// turn; with AddAfter, the index's work overlaps the sync.
func (ix *Index) AddAfter(ctx context.Context, rec InstanceRecord, durable func() error) (Result, error) {
	// durable starts first, and runs while the record is prepared too.
	var derr error
	synced := make(chan struct{})
	go func() {
		defer close(synced)
		derr = durable()
	}()
	r, err := prepare(&rec)
	if err != nil {
		<-synced
		return Result{}, cmp.Or(derr, err)
	}
	var res Result
	err = ix.submitAfter(ctx, func(w *writeTx) (bool, error) {
		var err error
		res, err = w.add(r)
		return err == nil && res.Stored, err
	}, func() error {
		<-synced
		return derr
	}, rec.Logged)
	<-synced
	if derr != nil {
		return Result{}, derr
	}
	return res, err
}

// prepare extracts the column values and the stored attributes of rec.
func prepare(rec *InstanceRecord) (*row, error) {
	ds := rec.Dataset
	if ds == nil {
		return nil, fmt.Errorf("%w: no data set", ErrInvalidRecord)
	}
	r := &row{
		rec:    rec,
		study:  ds.String(dicom.StudyInstanceUID),
		series: ds.String(dicom.SeriesInstanceUID),
		sop:    ds.String(dicom.SOPInstanceUID),
		class:  ds.String(dicom.SOPClassUID),
		mod:    ds.String(dicom.Modality),
		at:     rec.ReceivedAt.UnixNano(),
	}
	if rec.ReceivedAt.IsZero() {
		r.at = time.Now().UnixNano()
	}
	for _, u := range []struct {
		name, v string
	}{{"Study Instance UID", r.study}, {"Series Instance UID", r.series}, {"SOP Instance UID", r.sop}, {"SOP Class UID", r.class}} {
		if u.v == "" {
			return nil, fmt.Errorf("%w: no %s", ErrInvalidRecord, u.name)
		}
	}
	for i := range columns {
		c := &columns[i]
		if c.kind == kCount {
			continue
		}
		v := c.extract(ds)
		r.values[c.level] = append(r.values[c.level], v)
		if c.norm != "" {
			r.norms[c.level] = append(r.norms[c.level], foldPN(v))
		}
	}
	for l := Patient; l <= Series; l++ {
		r.set[l] = append(r.values[l][identity[l]:len(r.values[l]):len(r.values[l])], r.norms[l]...)
		r.old[l] = make([]string, len(r.set[l]))
		for i := range r.old[l] {
			r.all = append(r.all, &r.old[l][i])
		}
	}
	for l, n := 0, 0; l < len(r.stored); l++ {
		r.stored[l] = r.all[n : n+len(r.old[l]) : n+len(r.old[l])]
		n += len(r.old[l])
	}
	b, err := dicomjson.Marshal(withoutBulk(ds, 0), dicomjson.Options{})
	if err != nil {
		return nil, fmt.Errorf("index: attributes of %s as JSON: %w", r.sop, err)
	}
	r.attrs = string(b)
	r.cs = strings.Join(ds.Strings(dicom.SpecificCharacterSet), `\`)
	return r, nil
}

// maxDepth bounds the nesting of sequences copied into stored attributes.
const maxDepth = 32

// withoutBulk returns a shallow copy of ds without pixel data, deferred and
// encapsulated values, group lengths and binary values longer than
// MaxInlineBinary. Values are shared with ds, not copied.
func withoutBulk(ds *dicom.Dataset, depth int) *dicom.Dataset {
	out := dicom.NewDataset(ds.Len())
	out.Codec = ds.Codec
	for e := range ds.All() {
		switch {
		case e.Tag == dicom.PixelData, e.Bulk != nil, e.Fragments != nil, e.Tag.IsGroupLength():
			continue
		case isBinary(e.VR) && len(e.Value) > MaxInlineBinary:
			continue
		}
		c := *e
		if e.Items != nil {
			if depth >= maxDepth {
				continue
			}
			c.Items = make([]*dicom.Dataset, len(e.Items))
			for i, it := range e.Items {
				c.Items[i] = withoutBulk(it, depth+1)
			}
		}
		out.Append(c)
	}
	return out
}

func isBinary(vr dicom.VR) bool {
	switch vr {
	case dicom.OB, dicom.OD, dicom.OF, dicom.OL, dicom.OV, dicom.OW, dicom.UN:
		return true
	}
	return false
}

// Statements of the writer, built from columns.
var (
	insertSQL [3]string // patient, study, series with zero counts
	// setCols are the columns of patient, study and series that the newest
	// instance sets: the attribute columns but the level's identity (which
	// found the row, so is equal) and the folded copies.
	setCols [3][]string
	// updateSQL adds the count deltas and sets the representative instance
	// and updated_at (and, for a study, Modalities and SOP Classes in Study)
	// of a row. None of these columns is indexed, so that it rewrites the
	// row only. updateSets is its SET clause and WHERE, after which
	// update adds the attributes that change.
	updateSQL, updateSets [3]string
	// selectParents reads a series, its study and patient, and their
	// setCols, by Series Instance UID; selectPatient, selectStudy and
	// selectSeries read one of them, with its setCols, by its identity.
	selectParents, selectPatient, selectStudy, selectSeries string
)

// identity is the number of leading columns of each level that identify its
// row: (Patient ID, Issuer of Patient ID), Study and Series Instance UID.
var identity = [3]int{2, 1, 1}

func init() {
	var parentCols []string
	for l := Patient; l <= Series; l++ {
		var attrs, norms []string
		for i := range columns {
			c := &columns[i]
			if c.level != l || c.kind == kCount {
				continue
			}
			attrs = append(attrs, c.name)
			if c.norm != "" {
				norms = append(norms, c.norm)
			}
		}
		if want := [...]string{"patient_id, issuer", "study_instance_uid", "series_instance_uid"}[l]; strings.Join(attrs[:identity[l]], ", ") != want {
			panic("index: the identity of " + table[l] + " is not its first columns")
		}
		names := append(slices.Clone(attrs), norms...)
		setCols[l] = append(attrs[identity[l]:len(attrs):len(attrs)], norms...)
		for _, c := range setCols[l] {
			parentCols = append(parentCols, alias[l]+"."+c)
		}
		fk := [...]string{"", "patient_fk", "study_fk"}[l]
		counts := [...]string{"num_studies, num_series, num_instances", "num_series, num_instances", "num_instances"}[l]
		if fk != "" {
			names = append([]string{fk}, names...)
		}
		marks := strings.Repeat(", ?", len(names))[2:]
		zeros := strings.Repeat(", 0", strings.Count(counts, ",")+1)
		insertSQL[l] = fmt.Sprintf("INSERT INTO %s (%s, %s, rep_instance, updated_at) VALUES (%s%s, 0, ?) RETURNING id",
			table[l], strings.Join(names, ", "), counts, marks, zeros)
		var sets []string
		for c := range strings.SplitSeq(counts, ", ") {
			sets = append(sets, c+" = "+c+" + ?")
		}
		if l == Study {
			sets = append(sets, "modalities_in_study = ?", "sop_classes_in_study = ?")
		}
		sets = append(sets, "rep_instance = ?", "updated_at = ?")
		updateSets[l] = strings.Join(sets, ", ") + " WHERE id = ?"
		updateSQL[l] = "UPDATE " + table[l] + " SET " + updateSets[l]
	}
	selectParents = `SELECT se.id, st.id, p.id, st.study_instance_uid, p.patient_id, p.issuer,
		st.modalities_in_study, st.sop_classes_in_study, ` + strings.Join(parentCols, ", ") + `
		FROM series se JOIN study st ON st.id = se.study_fk JOIN patient p ON p.id = st.patient_fk
		WHERE se.series_instance_uid = ?`
	selectPatient = `SELECT id, ` + strings.Join(setCols[Patient], ", ") + ` FROM patient WHERE patient_id = ? AND issuer = ?`
	selectStudy = `SELECT id, patient_fk, modalities_in_study, sop_classes_in_study, num_series, num_instances, ` +
		strings.Join(setCols[Study], ", ") + ` FROM study WHERE study_instance_uid = ?`
	selectSeries = `SELECT id, study_fk, ` + strings.Join(setCols[Series], ", ") + ` FROM series WHERE series_instance_uid = ?`
}

const (
	selectExisting = `SELECT i.id, se.series_instance_uid, st.study_instance_uid, i.sop_class_uid,
		i.transfer_syntax_uid, i.backend, i.storage_key, i.size, i.sha256, i.tier
		FROM instance i JOIN series se ON se.id = i.series_fk JOIN study st ON st.id = se.study_fk
		WHERE i.sop_instance_uid = ?`
	// insertInstance inserts nothing, and returns no row, if the SOP
	// Instance UID is indexed.
	insertInstance = `INSERT INTO instance (series_fk, sop_instance_uid, sop_class_uid, instance_number,
		backend, storage_key, size, sha256, tier, transfer_syntax_uid, received_at, accessed_at, attrs, charset)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sop_instance_uid) DO NOTHING RETURNING id`
)

// add writes r inside the batch: patient, study and series are inserted or
// updated with r's attributes (the newest instance's), counts maintained.
//
// Most instances belong to a series already indexed under the same study
// and patient, and are new: one statement reads the three rows, and the
// instance is inserted unless its UID is indexed. Anything else (a new
// series, study or patient, a study that moves to another patient, a
// duplicate) takes the general path, addNew.
func (w *writeTx) add(r *row) (Result, error) {
	pv := r.values[Patient]
	var series, study, patient int64
	var studyUID, patientID, issuer, modalities, classes string
	dest := append([]any{&series, &study, &patient, &studyUID, &patientID, &issuer, &modalities, &classes}, r.all...)
	known, err := w.queryRow(selectParents, []any{r.series}, dest...)
	if err != nil {
		return Result{}, err
	}
	if !known || studyUID != r.study || patientID != pv[0] || issuer != pv[1] {
		return w.addNew(r, known)
	}
	inst, inserted, err := w.insertInstance(r, series)
	if err != nil {
		return Result{}, err
	}
	if !inserted {
		return w.addNew(r, true) // a duplicate
	}
	if err := w.update(Series, series, r, inst, 1); err != nil {
		return Result{}, err
	}
	modalities, classes = r.inStudy(modalities, classes)
	if err := w.update(Study, study, r, inst, 0, 1, modalities, classes); err != nil {
		return Result{}, err
	}
	if err := w.update(Patient, patient, r, inst, 0, 0, 1); err != nil {
		return Result{}, err
	}
	return Result{Stored: true}, nil
}

// addNew is add's general path. knownSeries reports whether r's series was
// indexed when add looked (if not, deleting a previous instance cannot have
// indexed it).
func (w *writeTx) addNew(r *row, knownSeries bool) (Result, error) {
	var res Result
	var oldID int64
	p := &res.Previous
	found, err := w.queryRow(selectExisting, []any{r.sop}, &oldID, &p.SeriesInstanceUID, &p.StudyInstanceUID,
		&p.SOPClassUID, &p.TransferSyntaxUID, &p.Backend, &p.Key, &p.Size, &p.SHA256, &p.Tier)
	if err != nil {
		return res, err
	}
	if found {
		p.SOPInstanceUID = r.sop
		res.Existed = true
		switch r.rec.Duplicate {
		case DuplicateKeep:
			return res, nil
		case DuplicateReject:
			return res, ErrDuplicate
		}
		if r.rec.Replacing != nil {
			if err := r.rec.Replacing(*p); err != nil {
				return res, err
			}
		}
		if _, err := w.deleteInstance(oldID); err != nil {
			return res, err
		}
	}
	// Patient: identity is (Patient ID, Issuer of Patient ID).
	pv := r.values[Patient]
	var patient int64
	found, err = w.queryRow(selectPatient, []any{pv[0], pv[1]}, append([]any{&patient}, r.stored[Patient]...)...)
	if err != nil {
		return res, err
	}
	if !found {
		r.inserted(Patient)
		args := append(append(slices.Clone(pv), r.norms[Patient]...), r.at)
		if _, err := w.queryRow(insertSQL[Patient], args, &patient); err != nil {
			return res, err
		}
	}

	// Study: moves to the patient of its newest instance.
	var study, studyPatient, stSeries, stInstances int64
	var modalities, classes string
	found, err = w.queryRow(selectStudy, []any{r.study},
		append([]any{&study, &studyPatient, &modalities, &classes, &stSeries, &stInstances}, r.stored[Study]...)...)
	if err != nil {
		return res, err
	}
	var moved [3]int64 // studies, series, instances moved to this patient
	if !found {
		args := append(append([]any{patient}, r.values[Study]...), r.norms[Study]...)
		args = append(args, r.at)
		if _, err := w.queryRow(insertSQL[Study], args, &study); err != nil {
			return res, err
		}
		r.inserted(Study)
		moved[0] = 1
	} else if studyPatient != patient {
		if err := w.moveStudy(study, studyPatient, patient, stSeries, stInstances); err != nil {
			return res, err
		}
		moved = [3]int64{1, stSeries, stInstances}
	}

	// Series: must stay in its study.
	var series, seriesStudy int64
	found = false
	if knownSeries {
		found, err = w.queryRow(selectSeries, []any{r.series}, append([]any{&series, &seriesStudy}, r.stored[Series]...)...)
		if err != nil {
			return res, err
		}
	}
	newSeries := !found
	if newSeries {
		r.inserted(Series)
		args := append(append([]any{study}, r.values[Series]...), r.at)
		if _, err := w.queryRow(insertSQL[Series], args, &series); err != nil {
			return res, err
		}
	} else if seriesStudy != study {
		return res, fmt.Errorf("%w: series %s is indexed in another study than %s", ErrInvalidRecord, r.series, r.study)
	}

	inst, inserted, err := w.insertInstance(r, series)
	if err != nil {
		return res, err
	}
	if !inserted {
		return res, fmt.Errorf("index: instance %s indexed twice", r.sop)
	}
	ns := b2i(newSeries)
	if err := w.update(Series, series, r, inst, 1); err != nil {
		return res, err
	}
	modalities, classes = r.inStudy(modalities, classes)
	if err := w.update(Study, study, r, inst, ns, 1, modalities, classes); err != nil {
		return res, err
	}
	if err := w.update(Patient, patient, r, inst, moved[0], moved[1]+ns, moved[2]+1); err != nil {
		return res, err
	}
	res.Stored = true
	return res, nil
}

// insertInstance inserts r's instance row in series, and reports false if
// its SOP Instance UID is indexed.
func (w *writeTx) insertInstance(r *row, series int64) (int64, bool, error) {
	var inst int64
	iv := r.values[Image]
	ok, err := w.queryRow(insertInstance, []any{series, r.sop, r.class, iv[2], r.rec.Backend, r.rec.Key, r.rec.Size,
		r.rec.SHA256, r.rec.Tier, r.rec.TransferSyntaxUID, r.at, r.at, r.attrs, r.cs}, &inst)
	return inst, ok, err
}

// update applies updateSQL[l] to row id with the counts (and for a study,
// the lists) in set, makes inst its representative instance, and sets those
// of r's attributes that differ from the row's, r.old[l]: the newest
// instance's attributes win, an empty value included. An attribute that does
// not change is left out of the statement, so that its index is not touched.
func (w *writeTx) update(l Level, id int64, r *row, inst int64, set ...any) error {
	q := updateSQL[l]
	var args []any
	for i, v := range r.set[l] {
		if v.(string) == r.old[l][i] {
			continue
		}
		if args == nil {
			q = "UPDATE " + table[l] + " SET "
		}
		q += setCols[l][i] + " = ?, "
		args = append(args, v)
	}
	if args != nil {
		q += updateSets[l]
	}
	args = append(append(args, set...), inst, r.at, id)
	_, err := w.exec(q, args...)
	return err
}

// inserted records that the row of level l was inserted with r's
// attributes.
func (r *row) inserted(l Level) {
	for i, v := range r.set[l] {
		r.old[l][i] = v.(string)
	}
}

// inStudy returns a study's Modalities and SOP Classes in Study with r's
// modality and SOP class added.
func (r *row) inStudy(modalities, classes string) (string, string) {
	// Most instances add neither.
	if r.mod != "" && !slices.Contains(strings.Split(modalities, `\`), r.mod) {
		modalities = joinSet(modalities, r.mod)
	}
	if !slices.Contains(strings.Split(classes, `\`), r.class) {
		classes = joinSet(classes, r.class)
	}
	return modalities, classes
}

// moveStudy takes a study and its counts from one patient to another,
// deleting the old patient if it is left without studies.
func (w *writeTx) moveStudy(study, from, to, nSeries, nInstances int64) error {
	if _, err := w.exec(`UPDATE study SET patient_fk = ? WHERE id = ?`, to, study); err != nil {
		return err
	}
	if _, err := w.exec(`UPDATE patient SET num_studies = num_studies - 1, num_series = num_series - ?, num_instances = num_instances - ? WHERE id = ?`,
		nSeries, nInstances, from); err != nil {
		return err
	}
	return w.settlePatient(from)
}

// joinSet adds m to a backslash-separated sorted list without repeats.
func joinSet(list, m string) string {
	var ms []string
	if list != "" {
		ms = strings.Split(list, `\`)
	}
	ms = append(ms, m)
	slices.Sort(ms)
	return strings.Join(slices.Compact(ms), `\`)
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
