package azurestorage

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/pacsforge/pacs/sdk"
)

// Defaults and limits of the configuration.
const (
	// DefaultBlockSize is the size of a staged block, and the largest
	// object sent in a single Put Blob request, when block_size is unset.
	DefaultBlockSize = 8 << 20
	// MinBlockSize and MaxBlockSize bound block_size. Azure accepts staged
	// blocks of up to 4000 MiB; a larger buffer per block is not useful to
	// an archive and costs memory (concurrency x block_size).
	MinBlockSize = 64 << 10
	MaxBlockSize = 256 << 20
	// DefaultConcurrency is the number of blocks staged in parallel for one
	// Put when concurrency is unset; MaxConcurrency bounds it.
	DefaultConcurrency = 4
	MaxConcurrency     = 64
	// MaxRetries bounds max_retries.
	MaxRetries = 20
	// MaxBlocks is Azure's limit of committed blocks in a block blob. A
	// Put needing more blocks fails (raise block_size).
	MaxBlocks = 50000
	// MaxPrefixLength bounds prefix; Azure's blob names are at most 1024
	// characters, prefix included.
	MaxPrefixLength = 256
)

// Config is the config { } body of a storage block whose backend is
// "azure". Credentials come either as connection_string, or as
// account_name and account_key with an optional endpoint.
type Config struct {
	// ConnectionString is an Azure Storage connection string
	// (AccountName=...;AccountKey=...;BlobEndpoint=... or
	// EndpointSuffix=...). It is a secret.
	ConnectionString string `hcl:"connection_string,optional" pacs:"sensitive"`
	// AccountName and AccountKey are the storage account and its shared
	// key (a secret), used when ConnectionString is empty.
	AccountName string `hcl:"account_name,optional"`
	AccountKey  string `hcl:"account_key,optional" pacs:"sensitive"`
	// Endpoint is the blob service URL with AccountName/AccountKey; empty
	// means https://ACCOUNT.blob.core.windows.net/.
	Endpoint string `hcl:"endpoint,optional"`
	// Container holds the objects (required).
	Container string `hcl:"container"`
	// Prefix is prepended to every key (a "/" is added when it does not
	// end with one); List strips it again.
	Prefix string `hcl:"prefix,optional"`
	// AccessTier is set on every blob Put writes: "Hot", "Cool", "Cold"
	// or "Archive"; empty leaves the account's default tier. An object in
	// the Archive tier cannot be read before it is rehydrated (hours).
	AccessTier string `hcl:"access_tier,optional"`
	// BlockSize is a size such as "8MiB" (sdk.ParseSize: units B, kB, MB,
	// GB, KiB, MiB, GiB): objects up to it are sent in one request, larger ones in
	// staged blocks of this size. Empty means DefaultBlockSize.
	BlockSize string `hcl:"block_size,optional"`
	// Concurrency is the number of blocks one Put stages in parallel; a
	// Put holds at most Concurrency x BlockSize bytes of the object in
	// memory (plus 512 KiB of read-ahead when its context can be
	// cancelled). 0 means DefaultConcurrency.
	Concurrency int `hcl:"concurrency,optional"`
	// MaxRetries is the number of retries of a failed request (the Azure
	// SDK's own retry policy, with exponential back-off from RetryDelay):
	// 0 means the SDK's default (3), a negative number no retry.
	MaxRetries int `hcl:"max_retries,optional"`
	// RetryDelay is the first back-off such as "500ms"; empty means the
	// SDK's default (4s).
	RetryDelay string `hcl:"retry_delay,optional"`
	// CreateContainer creates the container at start when it does not
	// exist; off, a missing container is a configuration error.
	CreateContainer bool `hcl:"create_container,optional"`
}

// settings is a validated Config.
type settings struct {
	prefix      string
	tier        string
	blockSize   int64
	concurrency int
	maxRetries  int32
	retryDelay  time.Duration
}

// validate checks cfg and returns its settings, or a *sdk.ConfigError
// naming the first attribute in error.
func (cfg *Config) validate() (settings, error) {
	s := settings{blockSize: DefaultBlockSize, concurrency: DefaultConcurrency}
	bad := func(path, format string, args ...any) (settings, error) {
		return settings{}, &sdk.ConfigError{Path: path, Message: fmt.Sprintf(format, args...)}
	}
	switch {
	case cfg.ConnectionString != "" && (cfg.AccountName != "" || cfg.AccountKey != "" || cfg.Endpoint != ""):
		return bad("connection_string", "give either connection_string or account_name and account_key, not both")
	case cfg.ConnectionString != "":
		if !strings.Contains(cfg.ConnectionString, "=") {
			return bad("connection_string", "is not a connection string such as \"AccountName=...;AccountKey=...;EndpointSuffix=core.windows.net\"")
		}
	case cfg.AccountName == "" && cfg.AccountKey == "":
		return bad("connection_string", "is required (or account_name and account_key)")
	case cfg.AccountName == "":
		return bad("account_name", "is required with account_key")
	case cfg.AccountKey == "":
		return bad("account_key", "is required with account_name")
	}
	if cfg.Endpoint != "" {
		u, err := url.Parse(cfg.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("endpoint", "%q is not an http or https URL", cfg.Endpoint)
		}
	}
	if err := checkContainerName(cfg.Container); err != nil {
		return bad("container", "%v", err)
	}
	if p := cfg.Prefix; p != "" {
		if len(p) > MaxPrefixLength {
			return bad("prefix", "is longer than %d bytes", MaxPrefixLength)
		}
		if strings.HasPrefix(p, "/") || strings.Contains(p, "//") || strings.ContainsAny(p, "\\\x00") {
			return bad("prefix", "%q must be relative slash-separated names without empty elements", p)
		}
		for _, elem := range strings.Split(strings.TrimSuffix(p, "/"), "/") {
			if elem == "." || elem == ".." {
				return bad("prefix", "%q must not contain \".\" or \"..\"", p)
			}
		}
		if !strings.HasSuffix(p, "/") {
			p += "/"
		}
		s.prefix = p
	}
	switch cfg.AccessTier {
	case "", "Hot", "Cool", "Cold", "Archive":
		s.tier = cfg.AccessTier
	default:
		return bad("access_tier", "%q is not one of \"Hot\", \"Cool\", \"Cold\", \"Archive\"", cfg.AccessTier)
	}
	if cfg.BlockSize != "" {
		n, err := sdk.ParseSize(cfg.BlockSize)
		if err != nil {
			return bad("block_size", "%v", err)
		}
		if n < MinBlockSize || n > MaxBlockSize {
			return bad("block_size", "%q is outside %dKiB..%dMiB", cfg.BlockSize, MinBlockSize>>10, MaxBlockSize>>20)
		}
		s.blockSize = n
	}
	switch {
	case cfg.Concurrency < 0 || cfg.Concurrency > MaxConcurrency:
		return bad("concurrency", "%d is outside 1..%d (0: %d)", cfg.Concurrency, MaxConcurrency, DefaultConcurrency)
	case cfg.Concurrency > 0:
		s.concurrency = cfg.Concurrency
	}
	switch {
	case cfg.MaxRetries > MaxRetries:
		return bad("max_retries", "%d is more than %d", cfg.MaxRetries, MaxRetries)
	case cfg.MaxRetries < 0:
		s.maxRetries = -1
	default:
		s.maxRetries = int32(cfg.MaxRetries)
	}
	if cfg.RetryDelay != "" {
		d, err := time.ParseDuration(cfg.RetryDelay)
		if err != nil || d <= 0 || d > time.Minute {
			return bad("retry_delay", "%q is not a duration between 1ms and 1m such as \"500ms\"", cfg.RetryDelay)
		}
		s.retryDelay = d
	}
	return s, nil
}

// checkContainerName applies Azure's container naming rules: 3 to 63
// lower-case letters, digits and single hyphens, starting and ending with a
// letter or a digit.
func checkContainerName(name string) error {
	if name == "" {
		return fmt.Errorf("is required")
	}
	if len(name) < 3 || len(name) > 63 {
		return fmt.Errorf("%q must be 3 to 63 characters long", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && i > 0 && i < len(name)-1 && name[i-1] != '-':
		default:
			return fmt.Errorf("%q may hold only lower-case letters, digits and single hyphens, and must start and end with a letter or a digit", name)
		}
	}
	return nil
}
