package s3storage

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/pacsforge/pacs/sdk"
)

// Limits and defaults of the configuration. S3 requires parts of 5 MiB to
// 5 GiB (the last one may be smaller) and at most 10,000 parts per upload.
const (
	DefaultRegion      = "us-east-1"
	DefaultPartSize    = 8 << 20 // bytes; also the single-PutObject threshold
	DefaultConcurrency = 4       // parts uploaded at once
	DefaultMaxRetries  = 2       // retries after the first attempt of a request
	DefaultMaxBackoff  = 20 * time.Second

	MinPartSize    = 5 << 20
	MaxPartSize    = 5 << 30
	MaxParts       = 10000
	MaxConcurrency = 64
	MaxRetries     = 20
	maxKeyPrefix   = 512 // bytes of the prefix attribute
)

// Config is the config { } body of a storage block with backend "s3".
// Sizes are strings such as "8MiB" and durations strings such as "20s".
// AccessKeyID, SecretAccessKey and SessionToken are secrets: String
// redacts them and nothing in this package logs them.
type Config struct {
	// Bucket is the bucket's name (required).
	Bucket string `hcl:"bucket"`
	// Region is the bucket's region; empty means the default AWS chain's
	// region (AWS_REGION, shared config), else DefaultRegion.
	Region string `hcl:"region,optional"`
	// Endpoint is the base URL of an S3-compatible server, such as
	// "http://127.0.0.1:7070"; empty means AWS S3.
	Endpoint string `hcl:"endpoint,optional"`
	// PathStyle addresses the bucket in the path (http://host/bucket/key)
	// instead of the host name; most S3-compatible servers need it.
	PathStyle bool `hcl:"path_style,optional"`
	// Prefix is prepended to every key ("pacs" stores "a/b" as "pacs/a/b");
	// a missing trailing slash is added.
	Prefix string `hcl:"prefix,optional"`
	// AccessKeyID and SecretAccessKey (with SessionToken for temporary
	// credentials) are static credentials; both empty means the default
	// AWS credential chain.
	AccessKeyID     string `hcl:"access_key_id,optional" pacs:"sensitive"`
	SecretAccessKey string `hcl:"secret_access_key,optional" pacs:"sensitive"`
	SessionToken    string `hcl:"session_token,optional" pacs:"sensitive"`
	// ServerSideEncryption is "" (the bucket's default), "AES256" (SSE-S3)
	// or "aws:kms" (SSE-KMS, with SSEKMSKeyID or the account's default key).
	ServerSideEncryption string `hcl:"server_side_encryption,optional"`
	SSEKMSKeyID          string `hcl:"sse_kms_key_id,optional"`
	// PartSize is the multipart part size and the threshold above which an
	// object is uploaded in parts: "5MiB" to "5GiB", default "8MiB"
	// (sdk.ParseSize).
	PartSize string `hcl:"part_size,optional"`
	// Concurrency is how many parts of one object are uploaded at once
	// (1 to MaxConcurrency, default DefaultConcurrency).
	Concurrency int `hcl:"concurrency,optional"`
	// MaxRetries is how many times a failed request (throttling, 5xx,
	// network error) is retried with exponential back-off and jitter, 0 to
	// MaxRetries; nil means DefaultMaxRetries.
	MaxRetries *int `hcl:"max_retries,optional"`
	// MaxBackoff caps the delay between retries, such as "20s" (default).
	MaxBackoff string `hcl:"max_backoff,optional"`
	// CreateBucket creates the bucket at start-up when it does not exist.
	CreateBucket bool `hcl:"create_bucket,optional"`
}

// String describes the configuration with the secrets redacted.
func (c Config) String() string {
	redact := func(s string) string {
		if s == "" {
			return `""`
		}
		return "(redacted)"
	}
	return fmt.Sprintf("s3 bucket=%q region=%q endpoint=%q path_style=%t prefix=%q access_key_id=%s secret_access_key=%s session_token=%s",
		c.Bucket, c.Region, c.Endpoint, c.PathStyle, c.Prefix, redact(c.AccessKeyID), redact(c.SecretAccessKey), redact(c.SessionToken))
}

// GoString is String, so that %#v redacts the secrets too.
func (c Config) GoString() string { return c.String() }

// settings is a validated Config with defaults applied.
type settings struct {
	bucket, region, endpoint, prefix string
	pathStyle, createBucket          bool
	sse, kmsKeyID                    string
	partSize                         int64
	concurrency, maxRetries          int
	maxBackoff                       time.Duration
}

// bucketName is an S3 bucket name (general purpose buckets).
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// validate checks c and applies the defaults. A mistake is a
// *sdk.ConfigError naming the attribute.
func (c *Config) validate() (*settings, error) {
	s := &settings{
		bucket:       c.Bucket,
		region:       c.Region,
		endpoint:     c.Endpoint,
		pathStyle:    c.PathStyle,
		createBucket: c.CreateBucket,
		sse:          c.ServerSideEncryption,
		kmsKeyID:     c.SSEKMSKeyID,
		partSize:     DefaultPartSize,
		concurrency:  DefaultConcurrency,
		maxRetries:   DefaultMaxRetries,
		maxBackoff:   DefaultMaxBackoff,
	}
	switch {
	case c.Bucket == "":
		return nil, &sdk.ConfigError{Path: "bucket", Message: "a bucket name is required"}
	case !bucketName.MatchString(c.Bucket) || strings.Contains(c.Bucket, ".."):
		return nil, &sdk.ConfigError{Path: "bucket", Message: fmt.Sprintf("%q is not a bucket name (3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit)", c.Bucket)}
	}
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, &sdk.ConfigError{Path: "endpoint", Message: fmt.Sprintf("%q is not a base URL such as \"https://s3.example.org\"", c.Endpoint)}
		}
	}
	if p := c.Prefix; p != "" {
		if strings.HasPrefix(p, "/") || len(p) > maxKeyPrefix {
			return nil, &sdk.ConfigError{Path: "prefix", Message: fmt.Sprintf("%q must be relative (no leading slash) and at most %d bytes", p, maxKeyPrefix)}
		}
		if !strings.HasSuffix(p, "/") {
			p += "/"
		}
		s.prefix = p
	}
	switch {
	case (c.AccessKeyID == "") != (c.SecretAccessKey == ""):
		path := "secret_access_key"
		if c.AccessKeyID == "" {
			path = "access_key_id"
		}
		return nil, &sdk.ConfigError{Path: path, Message: "access_key_id and secret_access_key are set together, or both left empty for the default AWS credential chain"}
	case c.SessionToken != "" && c.AccessKeyID == "":
		return nil, &sdk.ConfigError{Path: "session_token", Message: "a session token needs access_key_id and secret_access_key"}
	}
	switch c.ServerSideEncryption {
	case "", "AES256":
		if c.SSEKMSKeyID != "" {
			return nil, &sdk.ConfigError{Path: "sse_kms_key_id", Message: `a KMS key needs server_side_encryption = "aws:kms"`}
		}
	case "aws:kms":
	default:
		return nil, &sdk.ConfigError{Path: "server_side_encryption", Message: fmt.Sprintf(`%q is not "", "AES256" or "aws:kms"`, c.ServerSideEncryption)}
	}
	if c.PartSize != "" {
		n, err := sdk.ParseSize(c.PartSize)
		if err != nil || n < MinPartSize || n > MaxPartSize {
			return nil, &sdk.ConfigError{Path: "part_size", Message: fmt.Sprintf(`%q is not a size from "5MiB" to "5GiB" (S3's part size limits)`, c.PartSize)}
		}
		s.partSize = n
	}
	if c.Concurrency != 0 {
		if c.Concurrency < 1 || c.Concurrency > MaxConcurrency {
			return nil, &sdk.ConfigError{Path: "concurrency", Message: fmt.Sprintf("%d is not from 1 to %d", c.Concurrency, MaxConcurrency)}
		}
		s.concurrency = c.Concurrency
	}
	if c.MaxRetries != nil {
		if *c.MaxRetries < 0 || *c.MaxRetries > MaxRetries {
			return nil, &sdk.ConfigError{Path: "max_retries", Message: fmt.Sprintf("%d is not from 0 to %d", *c.MaxRetries, MaxRetries)}
		}
		s.maxRetries = *c.MaxRetries
	}
	if c.MaxBackoff != "" {
		d, err := time.ParseDuration(c.MaxBackoff)
		if err != nil || d <= 0 {
			return nil, &sdk.ConfigError{Path: "max_backoff", Message: fmt.Sprintf(`%q is not a positive duration such as "20s"`, c.MaxBackoff)}
		}
		s.maxBackoff = d
	}
	return s, nil
}
