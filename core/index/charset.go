package index

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// CharacterSet returns the values of Specific Character Set (0008,0005)
// that an entity's data was received with, as kept in the stored
// attributes (Attributes and Find report text in UTF-8 instead): those of
// the instance at Image level, and of the entity's representative
// instance, whose attributes Find returns, at the other levels. uid names
// the entity as for Locations (a Patient ID, of any issuer, at Patient
// level). It returns nil for the default repertoire, and ErrNotFound for an
// unknown entity.
func (ix *Index) CharacterSet(ctx context.Context, level Level, uid string) ([]string, error) {
	var q string
	switch level {
	case Patient:
		q = `SELECT json_extract(i.attrs, '$."00080005".Value') FROM patient p JOIN instance i ON i.id = p.rep_instance WHERE p.patient_id = ? LIMIT 1`
	case Study:
		q = `SELECT json_extract(i.attrs, '$."00080005".Value') FROM study st JOIN instance i ON i.id = st.rep_instance WHERE st.study_instance_uid = ?`
	case Series:
		q = `SELECT json_extract(i.attrs, '$."00080005".Value') FROM series se JOIN instance i ON i.id = se.rep_instance WHERE se.series_instance_uid = ?`
	case Image:
		q = `SELECT json_extract(i.attrs, '$."00080005".Value') FROM instance i WHERE i.sop_instance_uid = ?`
	default:
		return nil, fmt.Errorf("%w: unknown level %d", ErrInvalidQuery, level)
	}
	// Only the value is taken out of the stored JSON, by SQLite: the
	// attributes are not parsed whole for every match of a query.
	var value sql.NullString
	err := ix.reads.queryRow(ctx, q, uid).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s %s", ErrNotFound, level, uid)
	}
	if err != nil {
		return nil, fmt.Errorf("index: character set of %s %s: %w", level, uid, err)
	}
	if !value.Valid {
		return nil, nil
	}
	terms, err := parseCharset(value.String)
	if err != nil {
		return nil, fmt.Errorf("index: stored character set of %s %s: %w", level, uid, err)
	}
	return terms, nil
}

// parseCharset returns the terms of a stored Specific Character Set value
// (a DICOM JSON Value array, whose empty first value is null), nil for none.
func parseCharset(value string) ([]string, error) {
	var values []*string
	if err := json.Unmarshal([]byte(value), &values); err != nil {
		return nil, err
	}
	if len(values) == 0 {
		return nil, nil
	}
	terms := make([]string, len(values))
	for i, t := range values {
		if t != nil {
			terms[i] = *t
		}
	}
	return terms, nil
}
