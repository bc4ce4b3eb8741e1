package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/dicomjson"
)

// InstanceInfo is an indexed instance: its location and times.
type InstanceInfo struct {
	Location
	ReceivedAt time.Time
	AccessedAt time.Time
}

// locationColumns selects a Location from instance i, series se, study st.
const locationColumns = `st.study_instance_uid, se.series_instance_uid, i.sop_instance_uid, i.sop_class_uid,
	i.transfer_syntax_uid, i.backend, i.storage_key, i.size, i.sha256, i.tier`

const instanceJoins = ` FROM instance i JOIN series se ON se.id = i.series_fk JOIN study st ON st.id = se.study_fk`

func (l *Location) dest() []any {
	return []any{&l.StudyInstanceUID, &l.SeriesInstanceUID, &l.SOPInstanceUID, &l.SOPClassUID,
		&l.TransferSyntaxUID, &l.Backend, &l.Key, &l.Size, &l.SHA256, &l.Tier}
}

// Instance returns the indexed instance with the given SOP Instance UID, or
// ErrNotFound.
func (ix *Index) Instance(ctx context.Context, sopInstanceUID string) (InstanceInfo, error) {
	var in InstanceInfo
	var recv, acc int64
	err := ix.reads.queryRow(ctx, `SELECT `+locationColumns+`, i.received_at, i.accessed_at`+instanceJoins+
		` WHERE i.sop_instance_uid = ?`, sopInstanceUID).Scan(append(in.dest(), &recv, &acc)...)
	if errors.Is(err, sql.ErrNoRows) {
		return in, fmt.Errorf("%w: instance %s", ErrNotFound, sopInstanceUID)
	}
	if err != nil {
		return in, fmt.Errorf("index: instance %s: %w", sopInstanceUID, err)
	}
	in.ReceivedAt, in.AccessedAt = time.Unix(0, recv).UTC(), time.Unix(0, acc).UTC()
	return in, nil
}

// LatestReceived returns the latest reception time of an indexed instance,
// or the zero time when there is none.
func (ix *Index) LatestReceived(ctx context.Context) (time.Time, error) {
	var recv sql.NullInt64
	if err := ix.reads.queryRow(ctx, `SELECT MAX(received_at) FROM instance`).Scan(&recv); err != nil {
		return time.Time{}, fmt.Errorf("index: latest reception: %w", err)
	}
	if !recv.Valid {
		return time.Time{}, nil
	}
	return time.Unix(0, recv.Int64).UTC(), nil
}

// Attributes returns the stored attributes of an instance (its header
// without bulk data, see MaxInlineBinary), text in UTF-8, or ErrNotFound.
func (ix *Index) Attributes(ctx context.Context, sopInstanceUID string) (*dicom.Dataset, error) {
	var attrs string
	err := ix.reads.queryRow(ctx, `SELECT attrs FROM instance WHERE sop_instance_uid = ?`, sopInstanceUID).Scan(&attrs)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: instance %s", ErrNotFound, sopInstanceUID)
	}
	if err != nil {
		return nil, fmt.Errorf("index: attributes of %s: %w", sopInstanceUID, err)
	}
	ds, err := dicomjson.Unmarshal([]byte(attrs))
	if err != nil {
		return nil, fmt.Errorf("index: stored attributes of %s: %w", sopInstanceUID, err)
	}
	return ds, nil
}

// Locations returns the locations of every instance under an entity, for
// retrieval: uid is a Patient ID (all issuers) at Patient level, else the
// Study, Series or SOP Instance UID. The instances are in series and
// instance order of insertion. An unknown entity gives ErrNotFound.
func (ix *Index) Locations(ctx context.Context, level Level, uid string) ([]Location, error) {
	var where string
	switch level {
	case Patient:
		where = ` JOIN patient p ON p.id = st.patient_fk WHERE p.patient_id = ?`
	case Study:
		where = ` WHERE st.study_instance_uid = ?`
	case Series:
		where = ` WHERE se.series_instance_uid = ?`
	case Image:
		where = ` WHERE i.sop_instance_uid = ?`
	default:
		return nil, fmt.Errorf("index: locations at %s", level)
	}
	rows, err := ix.reads.query(ctx, `SELECT `+locationColumns+instanceJoins+where+` ORDER BY se.id, i.id`, uid)
	if err != nil {
		return nil, fmt.Errorf("index: locations of %s %s: %w", level, uid, err)
	}
	defer rows.Close()
	var locs []Location
	for rows.Next() {
		var l Location
		if err := rows.Scan(l.dest()...); err != nil {
			return nil, fmt.Errorf("index: locations of %s %s: %w", level, uid, err)
		}
		locs = append(locs, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("index: locations of %s %s: %w", level, uid, err)
	}
	if len(locs) == 0 {
		return nil, fmt.Errorf("%w: %s %s", ErrNotFound, level, uid)
	}
	return locs, nil
}

// allInstancesPage is how many rows AllInstances reads per query; between
// pages no read transaction is held, so checkpoints are not held up.
const allInstancesPage = 1000

// AllInstances iterates over the location of every indexed instance, in
// order of insertion, for verification. It reads in pages, so instances
// added or removed during the iteration may or may not be seen. Iteration
// stops at the first error, which is yielded, and when ctx is done.
func (ix *Index) AllInstances(ctx context.Context) iter.Seq2[Location, error] {
	return func(yield func(Location, error) bool) {
		var last int64
		for {
			page, err := ix.instancePage(ctx, last)
			if err != nil {
				yield(Location{}, err)
				return
			}
			for _, r := range page {
				if err := ctx.Err(); err != nil {
					yield(Location{}, context.Cause(ctx))
					return
				}
				if !yield(r.loc, nil) {
					return
				}
				last = r.id
			}
			if len(page) < allInstancesPage {
				return
			}
		}
	}
}

type idLocation struct {
	id  int64
	loc Location
}

func (ix *Index) instancePage(ctx context.Context, after int64) ([]idLocation, error) {
	rows, err := ix.reads.query(ctx, `SELECT i.id, `+locationColumns+instanceJoins+
		` WHERE i.id > ? ORDER BY i.id LIMIT ?`, after, allInstancesPage)
	if err != nil {
		return nil, fmt.Errorf("index: list instances: %w", err)
	}
	defer rows.Close()
	page := make([]idLocation, 0, allInstancesPage)
	for rows.Next() {
		var r idLocation
		if err := rows.Scan(append([]any{&r.id}, r.loc.dest()...)...); err != nil {
			return nil, fmt.Errorf("index: list instances: %w", err)
		}
		page = append(page, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("index: list instances: %w", err)
	}
	return page, nil
}
