package rpc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/proto/pluginv1"
)

// Storage returns the plugin's storage instance labelled instance (made
// by Configure) as an sdk.Storage: Put and Get stream in sdk.ChunkSize
// chunks, and Put checks the size and SHA-256 end to end.
func (c *Client) Storage(instance string) sdk.Storage {
	return &storage{c: c, instance: instance}
}

type storage struct {
	c        *Client
	instance string
}

var _ sdk.Storage = (*storage)(nil)

// chunkPool holds the sdk.ChunkSize buffers of Put: allocating (and
// zeroing, and collecting) one per object costs more than the copy.
var chunkPool = sync.Pool{New: func() any {
	b := make([]byte, sdk.ChunkSize)
	return &b
}}

// Put streams r to the plugin: a header, chunks of sdk.ChunkSize, and a
// trailer with the size and SHA-256 of what was sent, which the plugin
// checks before the object becomes visible. The returned info is checked
// against the same. A read error or a cancelled ctx aborts the stream and
// the plugin stores nothing.
func (s *storage) Put(ctx context.Context, key string, r io.Reader, size int64) (sdk.ObjectInfo, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fail := func(err error) (sdk.ObjectInfo, error) {
		return sdk.ObjectInfo{}, fmt.Errorf("put %s on %s: %w", key, s.instance, err)
	}
	stream, err := s.c.storage.Put(ctx, s.c.callOpts...)
	if err != nil {
		return fail(s.c.fromStatus(err))
	}
	// sendFailed gets the plugin's reason when a Send fails (io.EOF means
	// the plugin ended the stream; its status is in CloseAndRecv).
	sendFailed := func(err error) (sdk.ObjectInfo, error) {
		if errors.Is(err, io.EOF) {
			_, err = stream.CloseAndRecv()
		}
		return fail(s.c.fromStatus(err))
	}
	if err := stream.Send(&pluginv1.PutRequest{Msg: &pluginv1.PutRequest_Header{Header: &pluginv1.PutHeader{
		Instance: s.instance, Key: key, Size: size}}}); err != nil {
		return sendFailed(err)
	}
	sum := sha256.New()
	var n int64
	bp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bp)
	buf := *bp
	for {
		m, rerr := io.ReadFull(r, buf)
		if m > 0 {
			sum.Write(buf[:m])
			n += int64(m)
			// Send marshals before it returns: buf may be reused.
			if err := stream.Send(&pluginv1.PutRequest{Msg: &pluginv1.PutRequest_Chunk{Chunk: buf[:m]}}); err != nil {
				return sendFailed(err)
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			cancel() // aborts the stream: the plugin stores nothing
			return fail(fmt.Errorf("read: %w", rerr))
		}
	}
	digest := hex.EncodeToString(sum.Sum(nil))
	if size >= 0 && n != size {
		cancel()
		return fail(fmt.Errorf("read %d bytes, %d announced: %w", n, size, sdk.ErrChecksumMismatch))
	}
	if err := stream.Send(&pluginv1.PutRequest{Msg: &pluginv1.PutRequest_Trailer{Trailer: &pluginv1.PutTrailer{
		Size: n, Sha256: digest}}}); err != nil {
		return sendFailed(err)
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return fail(s.c.fromStatus(err))
	}
	info := objectInfoFromProto(resp.GetInfo())
	if info.Size != n || info.SHA256 != digest {
		return fail(fmt.Errorf("stored %d bytes with SHA-256 %s, sent %d with %s: %w",
			info.Size, info.SHA256, n, digest, sdk.ErrChecksumMismatch))
	}
	return info, nil
}

// Get opens a stream of the object; the first response (or the plugin's
// error, e.g. sdk.ErrNotFound) is awaited before Get returns. The reader
// streams the rest as it is read; Close cancels the stream.
func (s *storage) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	ctx, cancel := context.WithCancel(ctx)
	stream, err := s.c.storage.Get(ctx, &pluginv1.GetRequest{Instance: s.instance, Key: key, Offset: offset, Length: length}, s.c.callOpts...)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("get %s on %s: %w", key, s.instance, s.c.fromStatus(err))
	}
	first, err := stream.Recv()
	if err != nil {
		cancel()
		if err == io.EOF {
			err = errors.New("plugin ended the stream without a header")
		}
		return nil, fmt.Errorf("get %s on %s: %w", key, s.instance, s.c.fromStatus(err))
	}
	r := &getReader{c: s.c, stream: stream, cancel: cancel, key: key, instance: s.instance}
	if c := first.GetChunk(); c != nil {
		r.buf = c
	}
	return r, nil
}

// getReader reads a Get stream. Not safe for concurrent use.
type getReader struct {
	c        *Client
	stream   pluginv1.Storage_GetClient
	cancel   func()
	key      string
	instance string
	buf      []byte
	err      error
}

func (r *getReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		msg, err := r.stream.Recv()
		if err == io.EOF {
			r.err = io.EOF
			continue
		}
		if err != nil {
			r.err = fmt.Errorf("get %s on %s: %w", r.key, r.instance, r.c.fromStatus(err))
			continue
		}
		r.buf = msg.GetChunk()
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// Close cancels the stream; it always returns nil.
func (r *getReader) Close() error {
	r.cancel()
	if r.err == nil {
		r.err = errors.New("read after close")
	}
	return nil
}

func (s *storage) Stat(ctx context.Context, key string) (sdk.ObjectInfo, error) {
	p, err := s.c.storage.Stat(ctx, &pluginv1.StatRequest{Instance: s.instance, Key: key}, s.c.callOpts...)
	if err != nil {
		return sdk.ObjectInfo{}, fmt.Errorf("stat %s on %s: %w", key, s.instance, s.c.fromStatus(err))
	}
	return objectInfoFromProto(p), nil
}

func (s *storage) Delete(ctx context.Context, key string) error {
	if _, err := s.c.storage.Delete(ctx, &pluginv1.DeleteRequest{Instance: s.instance, Key: key}, s.c.callOpts...); err != nil {
		return fmt.Errorf("delete %s on %s: %w", key, s.instance, s.c.fromStatus(err))
	}
	return nil
}

func (s *storage) List(ctx context.Context, prefix, pageToken string, pageSize int) (sdk.ListPage, error) {
	resp, err := s.c.storage.List(ctx, &pluginv1.ListRequest{Instance: s.instance, Prefix: prefix,
		PageToken: pageToken, PageSize: int32(min(pageSize, 1<<30))}, s.c.callOpts...)
	if err != nil {
		return sdk.ListPage{}, fmt.Errorf("list %q on %s: %w", prefix, s.instance, s.c.fromStatus(err))
	}
	page := sdk.ListPage{NextPageToken: resp.GetNextPageToken(), Objects: make([]sdk.ObjectInfo, len(resp.GetObjects()))}
	for i, o := range resp.GetObjects() {
		page.Objects[i] = objectInfoFromProto(o)
	}
	return page, nil
}

func objectInfoFromProto(p *pluginv1.ObjectInfo) sdk.ObjectInfo {
	o := sdk.ObjectInfo{Key: p.GetKey(), Size: p.GetSize(), SHA256: p.GetSha256()}
	if ns := p.GetModTimeUnixNano(); ns != 0 {
		o.ModTime = time.Unix(0, ns)
	}
	return o
}
