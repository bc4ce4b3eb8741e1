package s3storage

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pacsforge/pacs/sdk"
)

func TestConfigErrors(t *testing.T) {
	neg, big := -1, MaxRetries+1
	tests := []struct {
		name     string
		cfg      Config
		wantPath string
	}{
		{name: "no bucket", cfg: Config{}, wantPath: "bucket"},
		{name: "upper-case bucket", cfg: Config{Bucket: "Pacs"}, wantPath: "bucket"},
		{name: "short bucket", cfg: Config{Bucket: "ab"}, wantPath: "bucket"},
		{name: "bucket with slash", cfg: Config{Bucket: "pacs/warm"}, wantPath: "bucket"},
		{name: "bucket with two dots", cfg: Config{Bucket: "pacs..warm"}, wantPath: "bucket"},
		{name: "endpoint without scheme", cfg: Config{Bucket: "pacs", Endpoint: "127.0.0.1:7070"}, wantPath: "endpoint"},
		{name: "endpoint ftp", cfg: Config{Bucket: "pacs", Endpoint: "ftp://host"}, wantPath: "endpoint"},
		{name: "absolute prefix", cfg: Config{Bucket: "pacs", Prefix: "/pacs"}, wantPath: "prefix"},
		{name: "access key alone", cfg: Config{Bucket: "pacs", AccessKeyID: "AKIA"}, wantPath: "secret_access_key"},
		{name: "secret alone", cfg: Config{Bucket: "pacs", SecretAccessKey: "s"}, wantPath: "access_key_id"},
		{name: "session token alone", cfg: Config{Bucket: "pacs", SessionToken: "t"}, wantPath: "session_token"},
		{name: "unknown encryption", cfg: Config{Bucket: "pacs", ServerSideEncryption: "aes256"}, wantPath: "server_side_encryption"},
		{name: "kms key without kms", cfg: Config{Bucket: "pacs", ServerSideEncryption: "AES256", SSEKMSKeyID: "k"}, wantPath: "sse_kms_key_id"},
		{name: "part size below 5MiB", cfg: Config{Bucket: "pacs", PartSize: "4MiB"}, wantPath: "part_size"},
		{name: "part size above 5GiB", cfg: Config{Bucket: "pacs", PartSize: "6GiB"}, wantPath: "part_size"},
		{name: "part size not a size", cfg: Config{Bucket: "pacs", PartSize: "big"}, wantPath: "part_size"},
		{name: "negative concurrency", cfg: Config{Bucket: "pacs", Concurrency: -1}, wantPath: "concurrency"},
		{name: "concurrency over the limit", cfg: Config{Bucket: "pacs", Concurrency: MaxConcurrency + 1}, wantPath: "concurrency"},
		{name: "negative retries", cfg: Config{Bucket: "pacs", MaxRetries: &neg}, wantPath: "max_retries"},
		{name: "retries over the limit", cfg: Config{Bucket: "pacs", MaxRetries: &big}, wantPath: "max_retries"},
		{name: "back-off not a duration", cfg: Config{Bucket: "pacs", MaxBackoff: "20"}, wantPath: "max_backoff"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(t.Context(), "warm", &tc.cfg)
			var ce *sdk.ConfigError
			if !errors.As(err, &ce) || !errors.Is(err, sdk.ErrInvalidConfig) {
				t.Fatalf("New() error = %v, want a *sdk.ConfigError", err)
			}
			if ce.Path != tc.wantPath {
				t.Errorf("New() error path = %q (%v), want %q", ce.Path, err, tc.wantPath)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	s, err := (&Config{Bucket: "pacs", Prefix: "archive"}).validate()
	if err != nil {
		t.Fatalf("validate() error = %v", err)
	}
	if s.partSize != DefaultPartSize || s.concurrency != DefaultConcurrency || s.maxRetries != DefaultMaxRetries ||
		s.maxBackoff != DefaultMaxBackoff || s.prefix != "archive/" {
		t.Errorf("validate() = %+v, want the defaults and prefix \"archive/\"", s)
	}
}

func TestConfigStringRedactsSecrets(t *testing.T) {
	cfg := Config{Bucket: "pacs", AccessKeyID: "AKIAEXAMPLEKEYID", SecretAccessKey: "very-secret-value", SessionToken: "token-value"}
	for _, s := range []string{cfg.String(), fmt.Sprint(cfg), fmt.Sprintf("%+v", &cfg), fmt.Sprintf("%#v", cfg)} {
		for _, secret := range []string{cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken} {
			if strings.Contains(s, secret) {
				t.Errorf("%q shows a secret", s)
			}
		}
	}
}
