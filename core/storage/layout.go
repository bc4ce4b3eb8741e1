package storage

import (
	"fmt"
	"time"

	"github.com/pacsforge/pacs/core/dicom/uid"
)

// Layout turns an instance's UIDs into a storage key.
type Layout uint8

const (
	// LayoutUID keys an object "<study>/<series>/<sop>.dcm".
	LayoutUID Layout = iota
	// LayoutDate keys an object "YYYY/MM/DD/<study>/<series>/<sop>.dcm" by
	// the UTC date it was received.
	LayoutDate
)

// ParseLayout returns the Layout named "uid" or "date" (the values of the
// fs backend's layout attribute); "" is LayoutUID.
func ParseLayout(s string) (Layout, error) {
	switch s {
	case "", "uid":
		return LayoutUID, nil
	case "date":
		return LayoutDate, nil
	}
	return 0, fmt.Errorf("unknown storage layout %q (want uid or date)", s)
}

// String returns the layout's name as ParseLayout reads it.
func (l Layout) String() string {
	if l == LayoutDate {
		return "date"
	}
	return "uid"
}

// Key returns the key of an instance received at t. Each UID is checked with
// uid.Valid first (digits and dots only), so no UID can put '/', "..", or
// anything else into a path; an invalid one gives an error wrapping
// ErrInvalidKey.
func (l Layout) Key(study, series, sop string, t time.Time) (string, error) {
	for _, u := range []string{study, series, sop} {
		if err := uid.Valid(u); err != nil {
			return "", fmt.Errorf("%w: %w", ErrInvalidKey, err)
		}
	}
	k := study + "/" + series + "/" + sop + ".dcm"
	if l == LayoutDate {
		t = t.UTC()
		k = fmt.Sprintf("%04d/%02d/%02d/%s", t.Year(), int(t.Month()), t.Day(), k)
	}
	return k, nil
}
