package fsstorage

import (
	"testing"

	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/storagetest"
)

// TestConformance runs the storage suite in process, each subtest on its
// own root.
func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) sdk.Storage {
		s, err := New(t.Context(), "test", &Config{Root: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
