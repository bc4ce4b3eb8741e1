package s3storage

import (
	"testing"

	"github.com/pacsforge/pacs/internal/peertest"
	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/storagetest"
)

// TestConformance runs the sdk.Storage conformance suite against VersityGW,
// with the default part size and with S3's smallest (5 MiB, so that the
// suite's 24 MiB object is five parts uploaded two at a time).
// Options.KeepsSHA256 stays off only because S3 lists no user metadata:
// List leaves SHA256 empty, while Stat returns it (TestRoundTrip, TestMultipart).
func TestConformance(t *testing.T) {
	srv := peertest.StartS3(t)
	srv.CreateBucket(t, "pacs")
	for _, tc := range []struct {
		name        string
		partSize    string
		concurrency int
	}{
		{name: "default"},
		{name: "small parts", partSize: "5MiB", concurrency: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storagetest.RunWith(t, func(t *testing.T) sdk.Storage {
				cfg := testConfig(t, srv, "pacs", false)
				cfg.PartSize, cfg.Concurrency = tc.partSize, tc.concurrency
				return newStorage(t, cfg)
			}, storagetest.Options{})
		})
	}
}
