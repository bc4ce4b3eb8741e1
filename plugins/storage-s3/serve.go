package s3storage

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/pacsforge/pacs/sdk"
)

// Name and Version identify the plugin to the archive ("pacs plugins").
const (
	Name    = "storage-s3"
	Version = "0.1.0"
)

// Plugin describes the plugin: one storage kind whose instances New makes
// from a Config.
func Plugin() sdk.Plugin {
	return sdk.Plugin{Name: Name, Version: Version, Storage: sdk.NewStorage[Config](New)}
}

// Serve runs the plugin process for the archive (sdk.Serve) and exits; it
// is the whole main of the plugin's executable, and what the pacs binary
// runs when it serves this plugin itself.
func Serve() { sdk.Serve(Plugin()) }

var _ sdk.HealthChecker = (*Storage)(nil)

// Healthy checks with one HeadBucket that the bucket can be reached with
// the credentials: an error matches sdk.ErrUnavailable when S3 cannot be
// reached or answers with a server error.
func (b *Storage) Healthy(ctx context.Context) error {
	if _, err := b.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b.s.bucket)}); err != nil {
		return fmt.Errorf("bucket %q: %w", b.s.bucket, classify(err))
	}
	return nil
}
