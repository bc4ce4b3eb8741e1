package index

import (
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
	study  string
	series string
	sop    string
	class  string
	mod    string
	attrs  string
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
	b, err := dicomjson.Marshal(withoutBulk(ds, 0), dicomjson.Options{})
	if err != nil {
		return nil, fmt.Errorf("index: attributes of %s as JSON: %w", r.sop, err)
	}
	r.attrs = string(b)
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
	updateSQL [3]string // attributes, count deltas and representative
)

func init() {
	for l := Patient; l <= Series; l++ {
		var names, marks, sets []string
		for i := range columns {
			c := &columns[i]
			if c.level != l || c.kind == kCount {
				continue
			}
			names = append(names, c.name)
			sets = append(sets, c.name+" = ?")
		}
		for i := range columns {
			c := &columns[i]
			if c.level == l && c.norm != "" {
				names = append(names, c.norm)
				sets = append(sets, c.norm+" = ?")
			}
		}
		fk := [...]string{"", "patient_fk", "study_fk"}[l]
		counts := [...]string{"num_studies, num_series, num_instances", "num_series, num_instances", "num_instances"}[l]
		if fk != "" {
			names = append([]string{fk}, names...)
		}
		for range names {
			marks = append(marks, "?")
		}
		zeros := strings.Repeat(", 0", strings.Count(counts, ",")+1)
		insertSQL[l] = fmt.Sprintf("INSERT INTO %s (%s, %s, rep_instance, updated_at) VALUES (%s%s, 0, ?) RETURNING id",
			table[l], strings.Join(names, ", "), counts, strings.Join(marks, ", "), zeros)
		var deltas []string
		for c := range strings.SplitSeq(counts, ", ") {
			deltas = append(deltas, c+" = "+c+" + ?")
		}
		updateSQL[l] = fmt.Sprintf("UPDATE %s SET %s, %s, rep_instance = ?, updated_at = ? WHERE id = ?",
			table[l], strings.Join(sets, ", "), strings.Join(deltas, ", "))
	}
}

const (
	selectExisting = `SELECT i.id, se.series_instance_uid, st.study_instance_uid, i.sop_class_uid,
		i.transfer_syntax_uid, i.backend, i.storage_key, i.size, i.sha256, i.tier
		FROM instance i JOIN series se ON se.id = i.series_fk JOIN study st ON st.id = se.study_fk
		WHERE i.sop_instance_uid = ?`
	insertInstance = `INSERT INTO instance (series_fk, sop_instance_uid, sop_class_uid, instance_number,
		backend, storage_key, size, sha256, tier, transfer_syntax_uid, received_at, accessed_at, attrs)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
)

// add writes r inside the batch: patient, study and series are inserted or
// updated with r's attributes (the newest instance's), counts maintained.
func (w *writeTx) add(r *row) (Result, error) {
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
		if _, err := w.deleteInstance(oldID); err != nil {
			return res, err
		}
	}

	// Patient: identity is (Patient ID, Issuer of Patient ID).
	pv := r.values[Patient]
	var patient int64
	found, err = w.queryRow(`SELECT id FROM patient WHERE patient_id = ? AND issuer = ?`, []any{pv[0], pv[1]}, &patient)
	if err != nil {
		return res, err
	}
	newPatient := !found
	if newPatient {
		args := append(append(slices.Clone(pv), r.norms[Patient]...), r.at)
		if _, err := w.queryRow(insertSQL[Patient], args, &patient); err != nil {
			return res, err
		}
	}

	// Study: moves to the patient of its newest instance.
	var study, studyPatient, stSeries, stInstances int64
	var modalities, classes string
	found, err = w.queryRow(`SELECT id, patient_fk, modalities_in_study, sop_classes_in_study, num_series, num_instances
		FROM study WHERE study_instance_uid = ?`, []any{r.study}, &study, &studyPatient, &modalities, &classes, &stSeries, &stInstances)
	if err != nil {
		return res, err
	}
	newStudy := !found
	var moved [3]int64 // studies, series, instances moved to this patient
	if newStudy {
		args := append(append([]any{patient}, r.values[Study]...), r.norms[Study]...)
		args = append(args, r.at)
		if _, err := w.queryRow(insertSQL[Study], args, &study); err != nil {
			return res, err
		}
		moved[0] = 1
	} else if studyPatient != patient {
		if err := w.moveStudy(study, studyPatient, patient, stSeries, stInstances); err != nil {
			return res, err
		}
		moved = [3]int64{1, stSeries, stInstances}
	}

	// Series: must stay in its study.
	var series, seriesStudy int64
	found, err = w.queryRow(`SELECT id, study_fk FROM series WHERE series_instance_uid = ?`, []any{r.series}, &series, &seriesStudy)
	if err != nil {
		return res, err
	}
	newSeries := !found
	if newSeries {
		args := append(append([]any{study}, r.values[Series]...), r.at)
		if _, err := w.queryRow(insertSQL[Series], args, &series); err != nil {
			return res, err
		}
	} else if seriesStudy != study {
		return res, fmt.Errorf("%w: series %s is indexed in another study than %s", ErrInvalidRecord, r.series, r.study)
	}

	iv := r.values[Image]
	var inst int64
	if _, err := w.queryRow(insertInstance, []any{series, r.sop, r.class, iv[2], r.rec.Backend, r.rec.Key, r.rec.Size,
		r.rec.SHA256, r.rec.Tier, r.rec.TransferSyntaxUID, r.at, r.at, r.attrs}, &inst); err != nil {
		return res, err
	}

	ns := b2i(newSeries)
	if _, err := w.exec(updateSQL[Series], append(slices.Clone(r.values[Series]), 1, inst, r.at, series)...); err != nil {
		return res, err
	}
	args := append(append(slices.Clone(r.values[Study]), r.norms[Study]...), ns, 1, inst, r.at, study)
	if _, err := w.exec(updateSQL[Study], args...); err != nil {
		return res, err
	}
	// Most instances add neither a modality nor a SOP class to their study.
	grown := false
	if r.mod != "" && !slices.Contains(strings.Split(modalities, `\`), r.mod) {
		modalities, grown = joinSet(modalities, r.mod), true
	}
	if !slices.Contains(strings.Split(classes, `\`), r.class) {
		classes, grown = joinSet(classes, r.class), true
	}
	if grown {
		if _, err := w.exec(`UPDATE study SET modalities_in_study = ?, sop_classes_in_study = ? WHERE id = ?`, modalities, classes, study); err != nil {
			return res, err
		}
	}
	args = append(append(slices.Clone(pv), r.norms[Patient]...), moved[0], moved[1]+ns, moved[2]+1, inst, r.at, patient)
	if _, err := w.exec(updateSQL[Patient], args...); err != nil {
		return res, err
	}
	res.Stored = true
	return res, nil
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
