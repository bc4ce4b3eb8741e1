package fsstorage

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/plugintest"
	"github.com/pacsforge/pacs/sdk/storagetest"
)

// TestConformanceOverGRPC runs the storage suite through the plugin
// protocol: one plugin served over a real gRPC connection, one configured
// instance (with its own root) per subtest.
func TestConformanceOverGRPC(t *testing.T) {
	c := plugintest.Start(t, Plugin())
	var n atomic.Int64
	storagetest.Run(t, func(t *testing.T) sdk.Storage {
		instance := fmt.Sprintf("fs%d", n.Add(1))
		cfg := cty.ObjectVal(map[string]cty.Value{"root": cty.StringVal(t.TempDir()), "layout": cty.StringVal("uid")})
		if err := c.Configure(t.Context(), sdk.KindStorage, instance, cfg); err != nil {
			t.Fatalf("Configure(%s) error = %v", instance, err)
		}
		return c.Storage(instance)
	})
}
