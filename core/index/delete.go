package index

import (
	"context"
	"fmt"
)

// Delete removes the instance with the given SOP Instance UID from the index,
// and its series, study and patient when they are left empty. It returns the
// instance's location, so that the caller can remove the stored object, or
// ErrNotFound. Like Add, it returns after the change has committed.
func (ix *Index) Delete(ctx context.Context, sopInstanceUID string) (Location, error) {
	var loc Location
	err := ix.submit(ctx, func(w *writeTx) error {
		var id int64
		found, err := w.queryRow(selectExisting, []any{sopInstanceUID}, &id, &loc.SeriesInstanceUID, &loc.StudyInstanceUID,
			&loc.SOPClassUID, &loc.TransferSyntaxUID, &loc.Backend, &loc.Key, &loc.Size, &loc.SHA256, &loc.Tier)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("%w: instance %s", ErrNotFound, sopInstanceUID)
		}
		loc.SOPInstanceUID = sopInstanceUID
		_, err = w.deleteInstance(id)
		return err
	})
	if err != nil {
		return Location{}, err
	}
	return loc, nil
}

// deleteInstance removes instance id, maintains the counts and the
// representative instance of its parents, and removes parents left empty. It
// reports whether the series was removed.
func (w *writeTx) deleteInstance(id int64) (bool, error) {
	var series, study, patient int64
	if _, err := w.queryRow(`SELECT se.id, st.id, st.patient_fk FROM instance i
		JOIN series se ON se.id = i.series_fk JOIN study st ON st.id = se.study_fk WHERE i.id = ?`,
		[]any{id}, &series, &study, &patient); err != nil {
		return false, err
	}
	if _, err := w.exec(`DELETE FROM instance WHERE id = ?`, id); err != nil {
		return false, err
	}
	var left int64
	if _, err := w.queryRow(`SELECT num_instances - 1 FROM series WHERE id = ?`, []any{series}, &left); err != nil {
		return false, err
	}
	seriesGone := left == 0
	if seriesGone {
		if _, err := w.exec(`DELETE FROM series WHERE id = ?`, series); err != nil {
			return false, err
		}
	} else if _, err := w.exec(`UPDATE series SET num_instances = num_instances - 1,
		rep_instance = CASE WHEN rep_instance = ? THEN (SELECT MAX(id) FROM instance WHERE series_fk = ?) ELSE rep_instance END
		WHERE id = ?`, id, series, series); err != nil {
		return false, err
	}
	gone := b2i(seriesGone)
	if _, err := w.exec(`UPDATE study SET num_series = num_series - ?, num_instances = num_instances - 1 WHERE id = ?`, gone, study); err != nil {
		return false, err
	}
	if _, err := w.exec(`UPDATE patient SET num_series = num_series - ?, num_instances = num_instances - 1 WHERE id = ?`, gone, patient); err != nil {
		return false, err
	}
	if err := w.settleStudy(study, patient, id); err != nil {
		return false, err
	}
	return seriesGone, w.settlePatient(patient)
}

// settleStudy removes a study left without series, or else renews its
// representative instance (if it was removed), Modalities in Study and SOP
// Classes in Study. patient is the study's patient.
func (w *writeTx) settleStudy(study, patient, removed int64) error {
	var n int64
	if _, err := w.queryRow(`SELECT num_series FROM study WHERE id = ?`, []any{study}, &n); err != nil {
		return err
	}
	if n == 0 {
		if _, err := w.exec(`DELETE FROM study WHERE id = ?`, study); err != nil {
			return err
		}
		_, err := w.exec(`UPDATE patient SET num_studies = num_studies - 1 WHERE id = ?`, patient)
		return err
	}
	if _, err := w.exec(`UPDATE study SET rep_instance = (SELECT MAX(i.id) FROM instance i
		JOIN series se ON se.id = i.series_fk WHERE se.study_fk = ?) WHERE id = ? AND rep_instance = ?`, study, study, removed); err != nil {
		return err
	}
	modalities, err := w.distinct(`SELECT DISTINCT modality FROM series WHERE study_fk = ? AND modality <> ''`, study)
	if err != nil {
		return err
	}
	classes, err := w.distinct(`SELECT DISTINCT i.sop_class_uid FROM instance i JOIN series se ON se.id = i.series_fk
		WHERE se.study_fk = ?`, study)
	if err != nil {
		return err
	}
	_, err = w.exec(`UPDATE study SET modalities_in_study = ?, sop_classes_in_study = ? WHERE id = ?`, modalities, classes, study)
	return err
}

// distinct returns the values of a one-column query as a sorted
// backslash-separated list.
func (w *writeTx) distinct(q string, args ...any) (string, error) {
	s, err := w.stmt(q)
	if err != nil {
		return "", err
	}
	rows, err := s.QueryContext(w.ctx, args...)
	if err != nil {
		return "", fmt.Errorf("index: %s: %w", firstWords(q), err)
	}
	defer rows.Close()
	var list string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return "", err
		}
		list = joinSet(list, v)
	}
	return list, rows.Err()
}

// settlePatient removes a patient left without studies, or else points its
// representative instance at one that exists.
func (w *writeTx) settlePatient(patient int64) error {
	var n int64
	if _, err := w.queryRow(`SELECT num_studies FROM patient WHERE id = ?`, []any{patient}, &n); err != nil {
		return err
	}
	if n == 0 {
		_, err := w.exec(`DELETE FROM patient WHERE id = ?`, patient)
		return err
	}
	_, err := w.exec(`UPDATE patient SET rep_instance = (SELECT MAX(i.id) FROM instance i
		JOIN series se ON se.id = i.series_fk JOIN study st ON st.id = se.study_fk WHERE st.patient_fk = ?)
		WHERE id = ? AND NOT EXISTS (SELECT 1 FROM instance i JOIN series se ON se.id = i.series_fk
		JOIN study st ON st.id = se.study_fk WHERE i.id = patient.rep_instance AND st.patient_fk = patient.id)`,
		patient, patient)
	return err
}
