package azurestorage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/pacsforge/pacs/sdk"
)

// Limits of the backend.
const (
	// MaxPageSize is the most objects one List page returns (Azure's
	// own maximum for List Blobs).
	MaxPageSize = 5000
	// MaxKeyLength is the longest key, configured prefix included (Azure's
	// limit of a blob name).
	MaxKeyLength = 1024
	// sha256Metadata is the blob metadata entry holding the SHA-256 of
	// the object's bytes, lower-case hex.
	sha256Metadata = "sha256"
)

// Storage is an sdk.Storage on one Azure Blob Storage container. It is safe
// for concurrent use.
type Storage struct {
	instance  string
	container *container.Client
	cfg       settings
}

var (
	_ sdk.Storage       = (*Storage)(nil)
	_ sdk.HealthChecker = (*Storage)(nil)
)

// New returns the Storage of the instance named instance configured by
// cfg. It checks the configuration (a *sdk.ConfigError names the attribute
// in error) and that the container exists, creating it when
// create_container is set. Credentials the service refuses and a missing
// container are configuration errors; a service that cannot be reached
// gives an error matching sdk.ErrUnavailable.
func New(ctx context.Context, instance string, cfg *Config) (sdk.Storage, error) {
	if cfg == nil {
		return nil, &sdk.ConfigError{Message: "the azure backend needs a config { } body"}
	}
	s, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	opts := &azblob.ClientOptions{ClientOptions: azcore.ClientOptions{
		Retry:     policy.RetryOptions{MaxRetries: s.maxRetries, RetryDelay: s.retryDelay},
		Telemetry: policy.TelemetryOptions{ApplicationID: "forge-pacs"},
	}}
	var client *azblob.Client
	credPath := "connection_string"
	if cfg.ConnectionString != "" {
		client, err = azblob.NewClientFromConnectionString(cfg.ConnectionString, opts)
		if err != nil {
			// The SDK's message may quote the string; it holds the key.
			return nil, &sdk.ConfigError{Path: "connection_string", Message: "cannot be parsed as an Azure Storage connection string"}
		}
	} else {
		credPath = "account_key"
		cred, err := azblob.NewSharedKeyCredential(cfg.AccountName, cfg.AccountKey)
		if err != nil {
			return nil, &sdk.ConfigError{Path: "account_key", Message: "is not a base64 shared key"}
		}
		endpoint := cfg.Endpoint
		if endpoint == "" {
			endpoint = "https://" + cfg.AccountName + ".blob.core.windows.net/"
		}
		client, err = azblob.NewClientWithSharedKeyCredential(endpoint, cred, opts)
		if err != nil {
			return nil, &sdk.ConfigError{Path: "endpoint", Message: err.Error()}
		}
	}
	st := &Storage{
		instance:  instance,
		container: client.ServiceClient().NewContainerClient(cfg.Container),
		cfg:       s,
	}
	if err := st.checkContainer(ctx, cfg.Container, cfg.CreateContainer, credPath); err != nil {
		return nil, err
	}
	return st, nil
}

// checkContainer makes sure the container exists, creating it when
// create is set.
func (s *Storage) checkContainer(ctx context.Context, name string, create bool, credPath string) error {
	_, err := s.container.GetProperties(ctx, nil)
	if err == nil {
		return nil
	}
	if bloberror.HasCode(err, bloberror.ContainerNotFound) || statusCode(err) == 404 {
		if !create {
			return &sdk.ConfigError{Path: "container", Message: fmt.Sprintf("container %q does not exist (create it, or set create_container = true)", name)}
		}
		_, err = s.container.Create(ctx, nil)
		if err == nil || bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
			return nil
		}
	}
	if bloberror.HasCode(err, bloberror.AuthenticationFailed) || statusCode(err) == 403 {
		return &sdk.ConfigError{Path: credPath, Message: fmt.Sprintf("the storage service refused the credentials for container %q (%s): check the account name and key", name, errorCode(err))}
	}
	return s.mapError("open container "+name, err)
}

// Healthy reports whether the container can be reached with the
// configured credentials (sdk.HealthChecker).
func (s *Storage) Healthy(ctx context.Context) error {
	if _, err := s.container.GetProperties(ctx, nil); err != nil {
		return s.mapError("check container", err)
	}
	return nil
}

// blobName returns the blob name of key, or an error for a key the
// archive never uses.
func (s *Storage) blobName(key string) (string, error) {
	if key == "" || strings.HasPrefix(key, "/") {
		return "", fmt.Errorf("azure %s: invalid key %q", s.instance, key)
	}
	name := s.cfg.prefix + key
	if len(name) > MaxKeyLength {
		return "", fmt.Errorf("azure %s: key %q is longer than %d bytes with the prefix", s.instance, key, MaxKeyLength)
	}
	return name, nil
}

// accessTier returns the configured tier, or nil.
func (s *Storage) accessTier() *blob.AccessTier {
	if s.cfg.tier == "" {
		return nil
	}
	t := blob.AccessTier(s.cfg.tier)
	return &t
}

// Put stores the bytes of r under key. Objects up to the block size go in
// one Put Blob request; larger ones as staged blocks (up to concurrency at
// a time, each block_size bytes held in memory) made visible by one Put
// Block List, so that an error or a cancelled ctx leaves nothing committed
// (staged blocks are invisible and expire). The SHA-256, computed while
// reading, is kept in the blob's metadata. When size >= 0 and r yields
// another number of bytes, Put fails.
func (s *Storage) Put(ctx context.Context, key string, r io.Reader, size int64) (sdk.ObjectInfo, error) {
	name, err := s.blobName(key)
	if err != nil {
		return sdk.ObjectInfo{}, err
	}
	if size >= 0 {
		r = io.LimitReader(r, size+1) // one byte too many is enough to tell
	}
	h := sha256.New()
	r = io.TeeReader(newContextReader(ctx, r), h)
	bb := s.container.NewBlockBlobClient(name)

	// The first block decides: a short object is one request.
	firstLen := s.cfg.blockSize
	if size >= 0 && size+1 < firstLen {
		firstLen = size + 1
	}
	first := make([]byte, firstLen)
	n, err := io.ReadFull(r, first)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		first = first[:n]
		if size >= 0 && int64(n) != size {
			return sdk.ObjectInfo{}, s.sizeError(key, int64(n), size)
		}
		sum := hex.EncodeToString(h.Sum(nil))
		_, err := bb.Upload(ctx, streaming.NopCloser(bytes.NewReader(first)), &blockblob.UploadOptions{
			Metadata: map[string]*string{sha256Metadata: &sum},
			Tier:     s.accessTier(),
		})
		if err != nil {
			return sdk.ObjectInfo{}, s.mapError("put "+key, err)
		}
		return sdk.ObjectInfo{Key: key, Size: int64(n), SHA256: sum, ModTime: time.Now()}, nil
	case err != nil:
		return sdk.ObjectInfo{}, fmt.Errorf("azure %s: put %s: read: %w", s.instance, key, err)
	}
	if int64(len(first)) < s.cfg.blockSize {
		// size+1 bytes read: the reader yields more than size.
		return sdk.ObjectInfo{}, s.sizeError(key, int64(len(first)), size)
	}
	return s.putBlocks(ctx, key, bb, first, r, h, size)
}

// sizeError reports a reader that did not yield the announced size.
func (s *Storage) sizeError(key string, got, want int64) error {
	if got > want {
		return fmt.Errorf("azure %s: put %s: the reader yields more than the announced %d bytes", s.instance, key, want)
	}
	return fmt.Errorf("azure %s: put %s: the reader yields %d bytes, not the announced %d", s.instance, key, got, want)
}

// Get opens the object under key from offset for length bytes (length < 0:
// to the end). A blob in the Archive tier must be rehydrated first: Get
// returns an error matching sdk.ErrUnavailable that says so. The reader
// resumes a broken download (as long as the blob is unchanged).
func (s *Storage) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	name, err := s.blobName(key)
	if err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("azure %s: get %s: negative offset %d", s.instance, key, offset)
	}
	if length == 0 {
		// An empty range is no request header at all to Azure: check the
		// object exists and hand back nothing.
		if _, err := s.Stat(ctx, key); err != nil {
			return nil, err
		}
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	rng := blob.HTTPRange{Offset: offset}
	if length > 0 {
		rng.Count = length
	}
	b := s.container.NewBlobClient(name)
	resp, err := b.DownloadStream(ctx, &blob.DownloadStreamOptions{Range: rng})
	if err != nil {
		if bloberror.HasCode(err, bloberror.InvalidRange) {
			// The range starts at or past the end: cut at the end.
			if _, err := s.Stat(ctx, key); err != nil {
				return nil, err
			}
			return io.NopCloser(bytes.NewReader(nil)), nil
		}
		return nil, s.mapError("get "+key, err)
	}
	retries := s.cfg.maxRetries
	if retries == 0 {
		retries = 3
	} else if retries < 0 {
		retries = 0
	}
	return resp.NewRetryReader(ctx, &blob.RetryReaderOptions{MaxRetries: retries}), nil
}

// Stat describes the object under key, with the SHA-256 Put recorded.
func (s *Storage) Stat(ctx context.Context, key string) (sdk.ObjectInfo, error) {
	name, err := s.blobName(key)
	if err != nil {
		return sdk.ObjectInfo{}, err
	}
	p, err := s.container.NewBlobClient(name).GetProperties(ctx, nil)
	if err != nil {
		return sdk.ObjectInfo{}, s.mapError("stat "+key, err)
	}
	info := sdk.ObjectInfo{Key: key, SHA256: metadataSHA256(p.Metadata)}
	if p.ContentLength != nil {
		info.Size = *p.ContentLength
	}
	if p.LastModified != nil {
		info.ModTime = *p.LastModified
	}
	return info, nil
}

// Delete removes the object under key (and its snapshots).
func (s *Storage) Delete(ctx context.Context, key string) error {
	name, err := s.blobName(key)
	if err != nil {
		return err
	}
	include := blob.DeleteSnapshotsOptionTypeInclude
	_, err = s.container.NewBlobClient(name).Delete(ctx, &blob.DeleteOptions{DeleteSnapshots: &include})
	if err != nil {
		return s.mapError("delete "+key, err)
	}
	return nil
}

// List returns a page of the objects whose keys start with prefix, in
// lexical order (Azure lists blob names in UTF-8 byte order). The page
// token is Azure's continuation marker; pageSize is cut at MaxPageSize.
// Azure may return fewer objects than pageSize with a next token.
func (s *Storage) List(ctx context.Context, prefix, pageToken string, pageSize int) (sdk.ListPage, error) {
	if pageSize < 0 {
		return sdk.ListPage{}, fmt.Errorf("azure %s: list: negative page size %d", s.instance, pageSize)
	}
	opts := &container.ListBlobsFlatOptions{Include: container.ListBlobsInclude{Metadata: true}}
	if full := s.cfg.prefix + prefix; full != "" {
		opts.Prefix = &full
	}
	if pageToken != "" {
		opts.Marker = &pageToken
	}
	if pageSize > 0 {
		n := int32(min(pageSize, MaxPageSize))
		opts.MaxResults = &n
	}
	resp, err := s.container.NewListBlobsFlatPager(opts).NextPage(ctx)
	if err != nil {
		return sdk.ListPage{}, s.mapError("list "+prefix, err)
	}
	var page sdk.ListPage
	if resp.Segment != nil {
		for _, item := range resp.Segment.BlobItems {
			if item == nil || item.Name == nil {
				continue
			}
			key, ok := strings.CutPrefix(*item.Name, s.cfg.prefix)
			if !ok {
				continue
			}
			info := sdk.ObjectInfo{Key: key, SHA256: metadataSHA256(item.Metadata)}
			if p := item.Properties; p != nil {
				if p.ContentLength != nil {
					info.Size = *p.ContentLength
				}
				if p.LastModified != nil {
					info.ModTime = *p.LastModified
				}
			}
			page.Objects = append(page.Objects, info)
		}
	}
	if resp.NextMarker != nil {
		page.NextPageToken = *resp.NextMarker
	}
	return page, nil
}

// metadataSHA256 returns the sha256 metadata entry (whatever its case: HTTP
// headers come back canonicalised), or "" when it is missing or malformed.
func metadataSHA256(md map[string]*string) string {
	for k, v := range md {
		if strings.EqualFold(k, sha256Metadata) && v != nil {
			if len(*v) == sha256.Size*2 {
				if _, err := hex.DecodeString(*v); err == nil {
					return strings.ToLower(*v)
				}
			}
		}
	}
	return ""
}

// Errors codes Azure returns for an account or blob over a limit.
var spaceCodes = []bloberror.Code{
	"AccountLimitExceeded",
	bloberror.BlockCountExceedsLimit,
	bloberror.ContentLengthLargerThanTierLimit,
	bloberror.SnapshotCountExceeded,
}

// mapError wraps an Azure error of operation op with the sdk sentinel the
// host branches on: ErrNotFound for a missing blob, ErrUnavailable for an
// unreachable or busy service (and an archived blob), ErrInsufficientSpace
// for a limit reached. A cancelled or expired ctx stays what it is.
func (s *Storage) mapError(op string, err error) error {
	var sentinel error
	var re *azcore.ResponseError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("azure %s: %s: %w", s.instance, op, err)
	case bloberror.HasCode(err, bloberror.BlobArchived):
		return fmt.Errorf("azure %s: %s: the blob is in the Archive access tier and must be rehydrated to Hot or Cool (Set Blob Tier, which takes hours) before it can be read: %w", s.instance, op, sdk.ErrUnavailable)
	case bloberror.HasCode(err, bloberror.BlobNotFound):
		sentinel = sdk.ErrNotFound
	case bloberror.HasCode(err, bloberror.ContainerNotFound):
		return fmt.Errorf("azure %s: %s: the container no longer exists (%w): %s", s.instance, op, sdk.ErrUnavailable, shortError(err))
	case bloberror.HasCode(err, spaceCodes...):
		sentinel = sdk.ErrInsufficientSpace
	case bloberror.HasCode(err, bloberror.ServerBusy, bloberror.OperationTimedOut, bloberror.InternalError):
		sentinel = sdk.ErrUnavailable
	case errors.As(err, &re):
		switch {
		case re.StatusCode == 404:
			sentinel = sdk.ErrNotFound
		case re.StatusCode == 507:
			sentinel = sdk.ErrInsufficientSpace
		case re.StatusCode == 408 || re.StatusCode == 429 || re.StatusCode >= 500:
			sentinel = sdk.ErrUnavailable
		}
	default:
		// No HTTP answer: a connection refused, reset or timed out.
		sentinel = sdk.ErrUnavailable
	}
	if sentinel == nil {
		return fmt.Errorf("azure %s: %s: %s", s.instance, op, shortError(err))
	}
	return fmt.Errorf("azure %s: %s: %w (%s)", s.instance, op, sentinel, shortError(err))
}

// shortError is the first line of an Azure error plus its code: the SDK's
// messages span many lines of request and response dumps.
func shortError(err error) string {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		if re.RawResponse != nil && re.RawResponse.Request != nil {
			return fmt.Sprintf("%s %s: HTTP %d %s", re.RawResponse.Request.Method, re.RawResponse.Request.URL.Path, re.StatusCode, re.ErrorCode)
		}
		return fmt.Sprintf("HTTP %d %s", re.StatusCode, re.ErrorCode)
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}

// statusCode returns the HTTP status of an Azure response error, or 0.
func statusCode(err error) int {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return 0
}

// errorCode returns the Azure error code of a response error, or its status.
func errorCode(err error) string {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return shortError(err)
	}
	if re.ErrorCode != "" {
		return re.ErrorCode
	}
	return fmt.Sprintf("HTTP %d", re.StatusCode)
}
