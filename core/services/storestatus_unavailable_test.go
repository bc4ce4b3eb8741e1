package services

import (
	"context"
	"fmt"
	"testing"

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
