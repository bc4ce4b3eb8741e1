package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrSchemaTooNew is returned by Open when the database was migrated by a
// newer version of this package: its highest schema version is unknown here,
// and writing to it could corrupt what the newer code relies on.
var ErrSchemaTooNew = errors.New("index: database schema is newer than this program")

// migration is one step of the schema; steps run in order of version, each
// in its own transaction together with its row in schema_migrations.
type migration struct {
	version int
	name    string
	stmts   []string
}

// migrations is the ordered list of schema steps. Append; never edit a step
// that has been released.
var migrations = []migration{
	{version: 1, name: "patient study series instance", stmts: []string{
		`CREATE TABLE patient (
			id INTEGER PRIMARY KEY,
			patient_id TEXT NOT NULL,
			issuer TEXT NOT NULL,
			patient_name TEXT NOT NULL,
			patient_name_norm TEXT NOT NULL,
			patient_birth_date TEXT NOT NULL,
			patient_sex TEXT NOT NULL,
			num_studies INTEGER NOT NULL,
			num_series INTEGER NOT NULL,
			num_instances INTEGER NOT NULL,
			rep_instance INTEGER NOT NULL,
			updated_at BIGINT NOT NULL,
			UNIQUE (patient_id, issuer)
		)`,
		`CREATE INDEX patient_name_idx ON patient (patient_name)`,
		`CREATE INDEX patient_name_norm_idx ON patient (patient_name_norm)`,
		`CREATE INDEX patient_birth_date_idx ON patient (patient_birth_date)`,
		`CREATE TABLE study (
			id INTEGER PRIMARY KEY,
			patient_fk INTEGER NOT NULL REFERENCES patient (id),
			study_instance_uid TEXT NOT NULL UNIQUE,
			study_date TEXT NOT NULL,
			study_time TEXT NOT NULL,
			accession_number TEXT NOT NULL,
			study_id TEXT NOT NULL,
			study_description TEXT NOT NULL,
			referring_physician_name TEXT NOT NULL,
			referring_physician_name_norm TEXT NOT NULL,
			modalities_in_study TEXT NOT NULL DEFAULT '',
			sop_classes_in_study TEXT NOT NULL DEFAULT '',
			num_series INTEGER NOT NULL,
			num_instances INTEGER NOT NULL,
			rep_instance INTEGER NOT NULL,
			updated_at BIGINT NOT NULL
		)`,
		`CREATE INDEX study_patient_idx ON study (patient_fk)`,
		`CREATE INDEX study_date_idx ON study (study_date, study_time)`,
		`CREATE INDEX study_accession_idx ON study (accession_number)`,
		`CREATE INDEX study_id_idx ON study (study_id)`,
		`CREATE INDEX study_referring_idx ON study (referring_physician_name_norm)`,
		`CREATE TABLE series (
			id INTEGER PRIMARY KEY,
			study_fk INTEGER NOT NULL REFERENCES study (id),
			series_instance_uid TEXT NOT NULL UNIQUE,
			modality TEXT NOT NULL,
			series_number TEXT NOT NULL,
			series_description TEXT NOT NULL,
			body_part_examined TEXT NOT NULL,
			series_date TEXT NOT NULL,
			series_time TEXT NOT NULL,
			num_instances INTEGER NOT NULL,
			rep_instance INTEGER NOT NULL,
			updated_at BIGINT NOT NULL
		)`,
		`CREATE INDEX series_study_idx ON series (study_fk)`,
		`CREATE INDEX series_modality_idx ON series (modality)`,
		`CREATE TABLE instance (
			id INTEGER PRIMARY KEY,
			series_fk INTEGER NOT NULL REFERENCES series (id),
			sop_instance_uid TEXT NOT NULL UNIQUE,
			sop_class_uid TEXT NOT NULL,
			instance_number TEXT NOT NULL,
			backend TEXT NOT NULL,
			storage_key TEXT NOT NULL,
			size BIGINT NOT NULL,
			sha256 TEXT NOT NULL,
			tier TEXT NOT NULL,
			transfer_syntax_uid TEXT NOT NULL,
			received_at BIGINT NOT NULL,
			accessed_at BIGINT NOT NULL,
			attrs TEXT NOT NULL
		)`,
		`CREATE INDEX instance_series_idx ON instance (series_fk)`,
		`CREATE INDEX instance_sop_class_idx ON instance (sop_class_uid)`,
		`CREATE INDEX instance_received_idx ON instance (received_at)`,
	}},
	{version: 2, name: "instance character set", stmts: []string{
		// The Specific Character Set an instance was received with, its
		// values joined by backslashes: what a C-FIND response in the
		// entity's own character set names, read with the match instead
		// of out of the stored JSON.
		`ALTER TABLE instance ADD COLUMN charset TEXT NOT NULL DEFAULT ''`,
		`UPDATE instance SET charset = COALESCE((SELECT group_concat(COALESCE(value, ''), '\')
			FROM json_each(instance.attrs, '$."00080005".Value')), '')`,
	}},
	{version: 3, name: "instance indexes no query uses", stmts: []string{
		// Every instance write maintained them, and no query needs them:
		// instances are found by SOP Instance UID or through their series
		// (a SOP class is matched within a study's or series' instances).
		`DROP INDEX IF EXISTS instance_sop_class_idx`,
		`DROP INDEX IF EXISTS instance_received_idx`,
	}},
}

// schemaVersion is the version this code writes: the last migration's.
func schemaVersion() int { return migrations[len(migrations)-1].version }

// migrate creates schema_migrations if needed and applies every migration
// newer than the database's version, in order.
func migrate(ctx context.Context, db *sql.DB, steps []migration) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at BIGINT NOT NULL
	)`); err != nil {
		return fmt.Errorf("index: create schema_migrations: %w", err)
	}
	var cur sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&cur); err != nil {
		return fmt.Errorf("index: read schema version: %w", err)
	}
	latest := steps[len(steps)-1].version
	if int(cur.Int64) > latest {
		return fmt.Errorf("%w: database has version %d, this program knows up to %d", ErrSchemaTooNew, cur.Int64, latest)
	}
	for _, m := range steps {
		if m.version <= int(cur.Int64) {
			continue
		}
		if err := apply(ctx, db, m); err != nil {
			return err
		}
	}
	return nil
}

// apply runs one migration in a transaction.
func apply(ctx context.Context, db *sql.DB, m migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("index: migration %d: %w", m.version, err)
	}
	defer tx.Rollback()
	for _, s := range m.stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("index: migration %d (%s): %w", m.version, m.name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("index: record migration %d: %w", m.version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("index: commit migration %d: %w", m.version, err)
	}
	return nil
}
