package index

import (
	"errors"
	"fmt"
	"testing"
)

type codedError int

func (e codedError) Error() string { return fmt.Sprintf("code %d", int(e)) }
func (e codedError) Code() int     { return int(e) }

// TestNoSpace: SQLite's SQLITE_FULL, primary or extended, is marked
// ErrNoSpace and keeps the original error; other errors are untouched.
func TestNoSpace(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "full", err: fmt.Errorf("commit: %w", codedError(13)), want: true},
		{name: "full extended", err: codedError(13 | 1<<8), want: true},
		{name: "busy", err: codedError(5)},
		{name: "plain", err: errors.New("x")},
		{name: "nil"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := noSpace(tc.err)
			if errors.Is(got, ErrNoSpace) != tc.want {
				t.Errorf("noSpace(%v) = %v; ErrNoSpace want %v", tc.err, got, tc.want)
			}
			if tc.err != nil && !errors.Is(got, tc.err) {
				t.Errorf("noSpace(%v) lost the original error", tc.err)
			}
			if tc.err == nil && got != nil {
				t.Errorf("noSpace(nil) = %v", got)
			}
		})
	}
}
