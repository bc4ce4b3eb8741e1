package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
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
		q = `SELECT i.charset FROM patient p JOIN instance i ON i.id = p.rep_instance WHERE p.patient_id = ? LIMIT 1`
	case Study:
		q = `SELECT i.charset FROM study st JOIN instance i ON i.id = st.rep_instance WHERE st.study_instance_uid = ?`
	case Series:
		q = `SELECT i.charset FROM series se JOIN instance i ON i.id = se.rep_instance WHERE se.series_instance_uid = ?`
	case Image:
		q = `SELECT i.charset FROM instance i WHERE i.sop_instance_uid = ?`
	default:
		return nil, fmt.Errorf("%w: unknown level %d", ErrInvalidQuery, level)
	}
	var value string
	err := ix.reads.queryRow(ctx, q, uid).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s %s", ErrNotFound, level, uid)
	}
	if err != nil {
		return nil, fmt.Errorf("index: character set of %s %s: %w", level, uid, err)
	}
	return splitCharset(value), nil
}

// splitCharset returns the values of a Specific Character Set as the
// charset column keeps it (joined by backslashes), nil for none.
func splitCharset(value string) []string {
	if value == "" {
		return nil
	}
	return strings.Split(value, `\`)
}
