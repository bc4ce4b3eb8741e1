package storagetest

import (
	"testing"

	"github.com/pacsforge/pacs/sdk"
)

func TestMemory(t *testing.T) {
	m := NewMemory()
	RunWith(t, func(t *testing.T) sdk.Storage { return m }, Options{KeepsSHA256: true})
}
