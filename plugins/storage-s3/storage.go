package s3storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/pacsforge/pacs/sdk"
)

// Limits of the S3 API that the backend respects.
const (
	maxKeyLength = 1024 // bytes of an S3 key, prefix included
	maxListPage  = 1000 // objects in one ListObjectsV2 page
	metaSHA256   = "sha256"
)

// Storage is an sdk.Storage on one S3 bucket. It is safe for concurrent
// use.
type Storage struct {
	instance string
	s        *settings
	client   *s3.Client
	bufs     sync.Pool // *[]byte of s.partSize bytes
}

var _ sdk.Storage = (*Storage)(nil)

// New returns the Storage of the storage block instance: it validates cfg
// (a mistake is a *sdk.ConfigError naming the attribute), builds the S3
// client and checks that the bucket exists and the credentials may reach
// it, creating the bucket when it is missing and create_bucket is set. An
// unreachable endpoint gives an error matching sdk.ErrUnavailable. It is an
// sdk.StorageFactory[Config].
func New(ctx context.Context, instance string, cfg *Config) (sdk.Storage, error) {
	if cfg == nil {
		return nil, &sdk.ConfigError{Path: "bucket", Message: "a bucket name is required"}
	}
	s, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = s.maxRetries + 1
				o.MaxBackoff = s.maxBackoff
				o.RateLimiter = ratelimit.None // back-off, not a client-side retry quota
			})
		}),
	}
	if s.region != "" {
		opts = append(opts, config.WithRegion(s.region))
	}
	if cfg.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("storage %s: load the AWS configuration: %w", instance, err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = DefaultRegion
	}
	s.region = awsCfg.Region
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if s.endpoint != "" {
			o.BaseEndpoint = aws.String(s.endpoint)
		}
		o.UsePathStyle = s.pathStyle
		// Checksums only where S3 requires them: S3-compatible servers
		// differ in the newer checksum headers; SigV4 (over HTTP) and TLS
		// protect the bytes, and Put keeps its own SHA-256.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	b := &Storage{instance: instance, s: s, client: client}
	b.bufs.New = func() any { buf := make([]byte, s.partSize); return &buf }
	if err := b.checkBucket(ctx, cfg.AccessKeyID != ""); err != nil {
		return nil, fmt.Errorf("storage %s: %w", instance, err)
	}
	return b, nil
}

// checkBucket checks that the bucket exists and can be reached, creating it
// when create_bucket is set.
func (b *Storage) checkBucket(ctx context.Context, staticKeys bool) error {
	_, err := b.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b.s.bucket)})
	if st := httpStatus(err); st == http.StatusNotFound || st == http.StatusForbidden {
		// A HEAD answer has no body, hence no error code: a missing bucket
		// and unknown credentials can look alike (VersityGW answers 404 to
		// an unknown access key). A one-key listing says which.
		_, lerr := b.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b.s.bucket), MaxKeys: aws.Int32(1)})
		if lerr == nil {
			return nil
		}
		if errorCode(lerr) != "" {
			err = lerr
		}
	}
	switch code, st := errorCode(err), httpStatus(err); {
	case err == nil:
		return nil
	case st == http.StatusForbidden || deniedCodes[code]:
		path, creds := "", "the default AWS credential chain's credentials"
		if staticKeys {
			path, creds = "access_key_id", "access_key_id and secret_access_key"
		}
		return &sdk.ConfigError{Path: path, Message: fmt.Sprintf("access to bucket %q denied (HTTP %d %s): check %s and the bucket policy", b.s.bucket, st, code, creds)}
	case st == http.StatusNotFound || code == "NoSuchBucket":
		if !b.s.createBucket {
			return &sdk.ConfigError{Path: "bucket", Message: fmt.Sprintf("bucket %q does not exist (create it, or set create_bucket = true)", b.s.bucket)}
		}
		return b.createBucket(ctx)
	case st == http.StatusMovedPermanently || st == http.StatusBadRequest && code == "AuthorizationHeaderMalformed":
		where := ""
		var re *smithyhttp.ResponseError
		if errors.As(err, &re) && re.Response != nil {
			if r := re.Response.Header.Get("X-Amz-Bucket-Region"); r != "" {
				where = fmt.Sprintf(" (it is in %q)", r)
			}
		}
		return &sdk.ConfigError{Path: "region", Message: fmt.Sprintf("bucket %q is not in region %q%s", b.s.bucket, b.s.region, where)}
	default:
		return fmt.Errorf("check bucket %q: %w", b.s.bucket, classify(err))
	}
}

// createBucket creates the configured bucket in the configured region.
func (b *Storage) createBucket(ctx context.Context) error {
	in := &s3.CreateBucketInput{Bucket: aws.String(b.s.bucket)}
	if b.s.region != DefaultRegion {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(b.s.region)}
	}
	_, err := b.client.CreateBucket(ctx, in)
	if err != nil && errorCode(err) != "BucketAlreadyOwnedByYou" {
		return fmt.Errorf("create bucket %q: %w", b.s.bucket, classify(err))
	}
	return nil
}

// objectKey returns the S3 key of key, or an error for a key S3 cannot hold.
func (b *Storage) objectKey(key string) (string, error) {
	if key == "" || len(b.s.prefix)+len(key) > maxKeyLength {
		return "", fmt.Errorf("key %q: empty, or longer than S3's %d bytes with the prefix", key, maxKeyLength)
	}
	return b.s.prefix + key, nil
}

// Get opens the object under key from offset for length bytes (length < 0:
// to the end), with one ranged GetObject; the body streams from S3.
func (b *Storage) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	k, err := b.objectKey(key)
	if err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("get %s: negative offset %d", key, offset)
	}
	if length == 0 {
		if _, err := b.Stat(ctx, key); err != nil {
			return nil, err
		}
		return io.NopCloser(strings.NewReader("")), nil
	}
	in := &s3.GetObjectInput{Bucket: aws.String(b.s.bucket), Key: aws.String(k)}
	if offset > 0 || length > 0 {
		r := "bytes=" + strconv.FormatInt(offset, 10) + "-"
		if length > 0 && length <= math.MaxInt64-offset {
			r += strconv.FormatInt(offset+length-1, 10)
		}
		in.Range = aws.String(r)
	}
	out, err := b.client.GetObject(ctx, in)
	if err != nil {
		if httpStatus(err) == http.StatusRequestedRangeNotSatisfiable || errorCode(err) == "InvalidRange" {
			// The range starts at or past the end: an empty read of an
			// object that exists.
			if _, err := b.Stat(ctx, key); err != nil {
				return nil, err
			}
			return io.NopCloser(strings.NewReader("")), nil
		}
		return nil, fmt.Errorf("get %s: %w", key, classify(err))
	}
	return out.Body, nil
}

// Stat describes the object under key with one HeadObject; SHA256 is the
// x-amz-meta-sha256 metadata that Put stores ("" for objects written by
// other means).
func (b *Storage) Stat(ctx context.Context, key string) (sdk.ObjectInfo, error) {
	k, err := b.objectKey(key)
	if err != nil {
		return sdk.ObjectInfo{}, err
	}
	out, err := b.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.s.bucket), Key: aws.String(k)})
	if err != nil {
		return sdk.ObjectInfo{}, fmt.Errorf("stat %s: %w", key, classify(err))
	}
	info := sdk.ObjectInfo{Key: key, Size: aws.ToInt64(out.ContentLength), ModTime: aws.ToTime(out.LastModified)}
	if h := out.Metadata[metaSHA256]; sha256Hex.MatchString(h) {
		info.SHA256 = h
	}
	return info, nil
}

// sha256Hex is a lower-case hex SHA-256 digest.
var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Delete removes the object under key. S3 deletes are idempotent, so a
// HeadObject first tells a missing key (ErrNotFound).
func (b *Storage) Delete(ctx context.Context, key string) error {
	if _, err := b.Stat(ctx, key); err != nil {
		return err
	}
	k, _ := b.objectKey(key) // checked by Stat
	if _, err := b.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.s.bucket), Key: aws.String(k)}); err != nil {
		return fmt.Errorf("delete %s: %w", key, classify(err))
	}
	return nil
}

// List returns one ListObjectsV2 page of the objects whose keys start with
// prefix, in S3's (UTF-8 binary, that is lexical) order; pageToken is S3's
// continuation token and pageSize its MaxKeys (at most 1000). SHA256 is
// left empty: S3 lists no user metadata.
func (b *Storage) List(ctx context.Context, prefix, pageToken string, pageSize int) (sdk.ListPage, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(b.s.bucket), Prefix: aws.String(b.s.prefix + prefix)}
	if pageSize > 0 {
		in.MaxKeys = aws.Int32(int32(min(pageSize, maxListPage)))
	}
	if pageToken != "" {
		in.ContinuationToken = aws.String(pageToken)
	}
	out, err := b.client.ListObjectsV2(ctx, in)
	if err != nil {
		return sdk.ListPage{}, fmt.Errorf("list %q: %w", prefix, classify(err))
	}
	page := sdk.ListPage{Objects: make([]sdk.ObjectInfo, 0, len(out.Contents))}
	for _, o := range out.Contents {
		k, ok := strings.CutPrefix(aws.ToString(o.Key), b.s.prefix)
		if !ok || k == "" {
			continue
		}
		page.Objects = append(page.Objects, sdk.ObjectInfo{Key: k, Size: aws.ToInt64(o.Size), ModTime: aws.ToTime(o.LastModified)})
	}
	if aws.ToBool(out.IsTruncated) {
		page.NextPageToken = aws.ToString(out.NextContinuationToken)
	}
	return page, nil
}
