package azurestorage

import (
	"context"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/pacsforge/pacs/internal/peertest"
	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/plugintest"
	"github.com/pacsforge/pacs/sdk/storagetest"
)

// TestConformance runs the storage conformance suite in process, with a
// block size small enough that its large objects are staged in blocks.
func TestConformance(t *testing.T) {
	az := peertest.StartAzurite(t)
	name := "conformance"
	storagetest.RunWith(t, func(t *testing.T) sdk.Storage {
		return newStorage(t, az, func(c *Config) {
			c.Container = name
			c.BlockSize = "4MiB"
		})
	}, storagetest.Options{KeepsSHA256: true})
}

// TestConformancePlugin runs the suite through the plugin protocol: the
// plugin served in process over gRPC, configured as the host does.
func TestConformancePlugin(t *testing.T) {
	az := peertest.StartAzurite(t)
	c := plugintest.Start(t, Plugin())
	val := cty.ObjectVal(map[string]cty.Value{
		"connection_string": cty.StringVal(az.ConnectionString),
		"account_name":      cty.NullVal(cty.String),
		"account_key":       cty.NullVal(cty.String),
		"endpoint":          cty.NullVal(cty.String),
		"container":         cty.StringVal("plugin"),
		"prefix":            cty.NullVal(cty.String),
		"access_tier":       cty.NullVal(cty.String),
		"block_size":        cty.StringVal("2MiB"),
		"concurrency":       cty.NumberIntVal(3),
		"max_retries":       cty.NumberIntVal(-1),
		"retry_delay":       cty.NullVal(cty.String),
		"create_container":  cty.True,
	})
	if err := c.Configure(context.Background(), sdk.KindStorage, "cloud", val); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	if err := c.Health(context.Background(), sdk.KindStorage, "cloud"); err != nil {
		t.Errorf("Health: %v", err)
	}
	st := c.Storage("cloud")
	storagetest.RunWith(t, func(t *testing.T) sdk.Storage { return st }, storagetest.Options{KeepsSHA256: true})
}
