package index

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
)

// TestMigrateCharset: a database of schema version 1, whose instances keep
// their Specific Character Set only in the stored JSON, is migrated on Open
// and answers CharacterSet and FindMatches from the new column.
func TestMigrateCharset(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "index.db")
	db, err := sql.Open("sqlite", dsn(path, Options{BusyTimeout: DefaultBusyTimeout}, true))
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, db, migrations[:1]); err != nil {
		t.Fatalf("migrate to version 1: %v", err)
	}
	for _, s := range []string{
		`INSERT INTO patient VALUES (1, 'P1', '', 'A^B', 'a^b', '', '', 1, 3, 3, 1, 0)`,
		`INSERT INTO study (id, patient_fk, study_instance_uid, study_date, study_time, accession_number, study_id,
			study_description, referring_physician_name, referring_physician_name_norm, num_series, num_instances, rep_instance, updated_at)
			VALUES (1, 1, '1.2.1', '', '', '', '', '', '', '', 3, 3, 1, 0)`,
		`INSERT INTO series VALUES (1, 1, '1.2.1.1', 'OT', '', '', '', '', '', 3, 1, 0)`,
	} {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	for i, attrs := range []string{
		`{"00080005":{"vr":"CS","Value":["ISO_IR 100"]}}`,
		`{"00080005":{"vr":"CS","Value":[null,"ISO 2022 IR 87"]}}`,
		`{"00100010":{"vr":"PN","Value":[{"Alphabetic":"A^B"}]}}`,
	} {
		if _, err := db.ExecContext(ctx, `INSERT INTO instance VALUES (?, 1, ?, '1.2.840.10008.5.1.4.1.1.7', '', 'fs', ?, 0, '', '', '1.2.840.10008.1.2.1', 0, 0, ?)`,
			i+1, "1.2.1.1."+string(rune('1'+i)), "k", attrs); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	ix, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("Open (migrating): %v", err)
	}
	defer ix.Close()
	for _, tc := range []struct {
		level Level
		uid   string
		want  []string
	}{
		{Image, "1.2.1.1.1", []string{"ISO_IR 100"}},
		{Image, "1.2.1.1.2", []string{"", "ISO 2022 IR 87"}},
		{Image, "1.2.1.1.3", nil},
		{Study, "1.2.1", []string{"ISO_IR 100"}}, // its representative, instance 1
	} {
		got, err := ix.CharacterSet(ctx, tc.level, tc.uid)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("CharacterSet(%s %s) = %q, %v; want %q", tc.level, tc.uid, got, err, tc.want)
		}
	}
	var version int
	if err := ix.reader.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&version); err != nil || version != schemaVersion() {
		t.Errorf("schema version %d (%v), want %d", version, err, schemaVersion())
	}
	// Version 3 dropped two instance indexes that no query used.
	var dropped int
	if err := ix.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index'
		AND name IN ('instance_sop_class_idx', 'instance_received_idx')`).Scan(&dropped); err != nil || dropped != 0 {
		t.Errorf("%d of the dropped indexes left (%v)", dropped, err)
	}
}
