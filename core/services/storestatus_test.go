package services

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/pacsforge/pacs/core/archive"
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/storage"
)

// TestStoreStatusUnavailable: a storage backend that cannot be reached
// (a crashed or hung plugin) is A700 with a comment naming the backend.
func TestStoreStatusUnavailable(t *testing.T) {
	tests := []struct {
		name        string
		err         error
		wantComment string
	}{
		{name: "named", err: fmt.Errorf("put a/b: %w", &storage.UnavailableError{Backend: "s3", Err: context.DeadlineExceeded}), wantComment: "storage backend s3 unavailable"},
		{name: "sentinel", err: fmt.Errorf("put a/b: %w", storage.ErrUnavailable), wantComment: "storage backend unavailable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := StoreStatus(tc.err)
			if got.Code != dimse.StatusOutOfResources.Code || got.ErrorComment != tc.wantComment {
				t.Errorf("StoreStatus() = %+v, want A700 %q", got, tc.wantComment)
			}
		})
	}
}

// TestStoreStatus: each ingest error has its C-STORE status (PS3.4 Table
// B.2-1), whatever wraps it.
func TestStoreStatus(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("store 1.2.3: %w", err) }
	tests := []struct {
		name string
		err  error
		code uint16
	}{
		{"success", nil, dimse.CodeSuccess},
		{"handler failed", wrap(fmt.Errorf("%w: plugin exited", archive.ErrHandlerFailed)), dimse.CodeProcessingFailure},
		{"handler rejected", wrap(&archive.RejectedError{Handler: "h", Status: 0xA950, Comment: "no"}), 0xA950},
		{"disk full", wrap(storage.ErrInsufficientSpace), dimse.StatusOutOfResources.Code},
		{"SOP class mismatch", wrap(archive.ErrSOPClassMismatch), dimse.StatusDataSetDoesNotMatchSOPClass.Code},
		{"SOP instance mismatch", wrap(archive.ErrSOPInstanceMismatch), dimse.StatusDataSetDoesNotMatchSOPClass.Code},
		{"malformed", wrap(archive.ErrMalformed), dimse.StatusCannotUnderstand.Code},
		{"duplicate", wrap(archive.ErrDuplicate), dimse.CodeDuplicateSOPInstance},
		{"anything else", wrap(errors.New("index: disk I/O error")), dimse.CodeProcessingFailure},
		{"status of a handler", wrap(&dimse.StatusError{Status: dimse.Status{Code: 0xC123}}), 0xC123},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := StoreStatus(tc.err)
			if got.Code != tc.code {
				t.Errorf("StoreStatus(%v) = %04X, want %04X", tc.err, got.Code, tc.code)
			}
			var se *dimse.StatusError
			if tc.err != nil && !errors.As(tc.err, &se) && got.ErrorComment == "" && tc.name != "anything else" {
				t.Errorf("StoreStatus(%v) has no comment", tc.err)
			}
		})
	}
}
