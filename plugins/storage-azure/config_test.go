package azurestorage

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pacsforge/pacs/sdk"
)

func TestConfigErrors(t *testing.T) {
	const conn = "AccountName=a;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:1/a"
	tests := []struct {
		name     string
		cfg      Config
		wantPath string
		wantMsg  string
	}{
		{name: "no credentials", cfg: Config{Container: "abc"}, wantPath: "connection_string", wantMsg: "is required"},
		{name: "both credentials", cfg: Config{ConnectionString: conn, AccountName: "a", AccountKey: "a2V5", Container: "abc"}, wantPath: "connection_string", wantMsg: "not both"},
		{name: "not a connection string", cfg: Config{ConnectionString: "secret", Container: "abc"}, wantPath: "connection_string", wantMsg: "not a connection string"},
		{name: "unparsable connection string", cfg: Config{ConnectionString: "Foo=bar", Container: "abc"}, wantPath: "connection_string", wantMsg: "cannot be parsed"},
		{name: "key without name", cfg: Config{AccountKey: "a2V5", Container: "abc"}, wantPath: "account_name"},
		{name: "name without key", cfg: Config{AccountName: "a", Container: "abc"}, wantPath: "account_key"},
		{name: "key not base64", cfg: Config{AccountName: "a", AccountKey: "not base64!", Container: "abc"}, wantPath: "account_key", wantMsg: "base64"},
		{name: "endpoint not a URL", cfg: Config{AccountName: "a", AccountKey: "a2V5", Endpoint: "127.0.0.1:10000", Container: "abc"}, wantPath: "endpoint"},
		{name: "no container", cfg: Config{ConnectionString: conn}, wantPath: "container", wantMsg: "is required"},
		{name: "container upper case", cfg: Config{ConnectionString: conn, Container: "Pacs"}, wantPath: "container"},
		{name: "container too short", cfg: Config{ConnectionString: conn, Container: "ab"}, wantPath: "container"},
		{name: "container double hyphen", cfg: Config{ConnectionString: conn, Container: "a--b"}, wantPath: "container"},
		{name: "container ends with hyphen", cfg: Config{ConnectionString: conn, Container: "abc-"}, wantPath: "container"},
		{name: "absolute prefix", cfg: Config{ConnectionString: conn, Container: "abc", Prefix: "/x"}, wantPath: "prefix"},
		{name: "dot-dot prefix", cfg: Config{ConnectionString: conn, Container: "abc", Prefix: "a/../b"}, wantPath: "prefix"},
		{name: "empty element in prefix", cfg: Config{ConnectionString: conn, Container: "abc", Prefix: "a//b"}, wantPath: "prefix"},
		{name: "tier", cfg: Config{ConnectionString: conn, Container: "abc", AccessTier: "hot"}, wantPath: "access_tier", wantMsg: `"hot"`},
		{name: "premium tier", cfg: Config{ConnectionString: conn, Container: "abc", AccessTier: "P10"}, wantPath: "access_tier"},
		{name: "block size syntax", cfg: Config{ConnectionString: conn, Container: "abc", BlockSize: "8 megs"}, wantPath: "block_size"},
		{name: "block size too small", cfg: Config{ConnectionString: conn, Container: "abc", BlockSize: "1KiB"}, wantPath: "block_size"},
		{name: "block size too large", cfg: Config{ConnectionString: conn, Container: "abc", BlockSize: "1GiB"}, wantPath: "block_size"},
		{name: "negative concurrency", cfg: Config{ConnectionString: conn, Container: "abc", Concurrency: -1}, wantPath: "concurrency"},
		{name: "huge concurrency", cfg: Config{ConnectionString: conn, Container: "abc", Concurrency: 1000}, wantPath: "concurrency"},
		{name: "max retries", cfg: Config{ConnectionString: conn, Container: "abc", MaxRetries: 100}, wantPath: "max_retries"},
		{name: "retry delay", cfg: Config{ConnectionString: conn, Container: "abc", RetryDelay: "soon"}, wantPath: "retry_delay"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(context.Background(), "test", &tc.cfg)
			var ce *sdk.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("New() error = %v, want a *sdk.ConfigError", err)
			}
			if ce.Path != tc.wantPath || !strings.Contains(ce.Message, tc.wantMsg) {
				t.Errorf("New() error = %q at %q, want %q at %q", ce.Message, ce.Path, tc.wantMsg, tc.wantPath)
			}
			if !errors.Is(err, sdk.ErrInvalidConfig) {
				t.Errorf("New() error does not match sdk.ErrInvalidConfig")
			}
			if tc.cfg.AccountKey != "" && strings.Contains(err.Error(), tc.cfg.AccountKey) {
				t.Errorf("the error quotes the key: %v", err)
			}
		})
	}
	if _, err := New(context.Background(), "test", nil); !errors.Is(err, sdk.ErrInvalidConfig) {
		t.Errorf("New(nil config) = %v, want ErrInvalidConfig", err)
	}
}

func TestConfigSettings(t *testing.T) {
	cfg := Config{ConnectionString: "AccountName=a;AccountKey=a2V5", Container: "pacs-01", Prefix: "site/a",
		AccessTier: "Cool", BlockSize: "4MiB", Concurrency: 8, MaxRetries: -1, RetryDelay: "250ms"}
	s, err := cfg.validate()
	if err != nil {
		t.Fatal(err)
	}
	if s.prefix != "site/a/" || s.tier != "Cool" || s.blockSize != 4<<20 || s.concurrency != 8 || s.maxRetries != -1 || s.retryDelay.Milliseconds() != 250 {
		t.Errorf("validate() = %+v", s)
	}
	s, err = (&Config{ConnectionString: "AccountName=a;AccountKey=a2V5", Container: "abc", Prefix: "p/"}).validate()
	if err != nil {
		t.Fatal(err)
	}
	if s.prefix != "p/" || s.blockSize != DefaultBlockSize || s.concurrency != DefaultConcurrency || s.maxRetries != 0 {
		t.Errorf("validate() defaults = %+v", s)
	}
}
