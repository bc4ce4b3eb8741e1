package sdk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pacsforge/pacs/sdk/proto/pluginv1"
)

// MaxKeyLength is the longest storage key, in bytes.
const MaxKeyLength = 1024

// errPutReturned closes a Put's pipe once the plugin's Put has returned.
var errPutReturned = errors.New("storage put returned")

// CheckKey reports whether key is a valid storage key: non-empty, at most
// MaxKeyLength bytes, relative, slash-separated, without empty, "." or
// ".." elements or NUL bytes. The SDK checks every key before a Storage
// sees it.
func CheckKey(key string) error {
	if key == "" || len(key) > MaxKeyLength || strings.HasPrefix(key, "/") || strings.ContainsRune(key, 0) {
		return fmt.Errorf("invalid storage key %q", key)
	}
	for el := range strings.SplitSeq(key, "/") {
		if el == "" || el == "." || el == ".." {
			return fmt.Errorf("invalid storage key %q", key)
		}
	}
	return nil
}

// storageService implements the Storage service over the configured
// storage instances.
type storageService struct {
	pluginv1.UnimplementedStorageServer
	s *server
}

// storage returns the call's context and the storage instance label.
func (ss *storageService) storage(ctx context.Context, label string) (context.Context, Storage, error) {
	impl, err := ss.s.instance(KindStorage, label)
	if err != nil {
		return nil, nil, err
	}
	return ss.s.callContext(ctx, KindStorage, label), impl.(Storage), nil
}

// Put receives the header, feeds the chunks to the instance's Put through
// a pipe and checks the trailer before the last chunk is handed over, so
// that a Put that stops reading at the announced size cannot complete an
// object whose checksum is wrong.
func (ss *storageService) Put(stream pluginv1.Storage_PutServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	h := first.GetHeader()
	if h == nil {
		return status.Error(codes.InvalidArgument, "put: the first message is not a header")
	}
	if err := CheckKey(h.GetKey()); err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	ctx, st, err := ss.storage(stream.Context(), h.GetInstance())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type result struct {
		info ObjectInfo
		err  error
	}
	pr, pw := io.Pipe()
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			pr.CloseWithError(errPutReturned)
			done <- r
		}()
		defer ss.s.recoverAs("Storage.Put", &r.err)
		r.info, r.err = st.Put(ctx, h.GetKey(), pr, h.GetSize())
	}()

	sum := sha256.New()
	var n int64
	feedErr := func() error {
		var held []byte
		for {
			msg, err := stream.Recv()
			if err == io.EOF {
				return status.Error(codes.InvalidArgument, "put: stream ended without a trailer")
			}
			if err != nil {
				return err
			}
			switch m := msg.GetMsg().(type) {
			case *pluginv1.PutRequest_Chunk:
				sum.Write(m.Chunk)
				n += int64(len(m.Chunk))
				if h.GetSize() >= 0 && n > h.GetSize() {
					return fmt.Errorf("put %s: more than the %d bytes announced: %w", h.GetKey(), h.GetSize(), ErrChecksumMismatch)
				}
				if held != nil {
					if _, err := pw.Write(held); err != nil {
						return err
					}
				}
				held = m.Chunk
			case *pluginv1.PutRequest_Trailer:
				got := hex.EncodeToString(sum.Sum(nil))
				t := m.Trailer
				if t.GetSize() != n || t.GetSha256() != got || (h.GetSize() >= 0 && h.GetSize() != n) {
					return fmt.Errorf("put %s: received %d bytes with SHA-256 %s, sent %d with %s: %w",
						h.GetKey(), n, got, t.GetSize(), t.GetSha256(), ErrChecksumMismatch)
				}
				if held != nil {
					if _, err := pw.Write(held); err != nil {
						return err
					}
				}
				return pw.Close()
			default:
				return status.Error(codes.InvalidArgument, "put: unexpected message after the header")
			}
		}
	}()
	if feedErr != nil {
		pw.CloseWithError(feedErr)
		cancel()
		r := <-done
		if errors.Is(feedErr, errPutReturned) && r.err != nil {
			return statusError(r.err) // the storage failed first
		}
		if errors.Is(feedErr, errPutReturned) {
			return status.Errorf(codes.Internal, "put %s: the storage returned before reading the whole object", h.GetKey())
		}
		return statusError(feedErr)
	}
	r := <-done
	if r.err != nil {
		return statusError(r.err)
	}
	digest := hex.EncodeToString(sum.Sum(nil))
	if r.info.Size != n || (r.info.SHA256 != "" && r.info.SHA256 != digest) {
		return statusError(fmt.Errorf("put %s: the storage reports %d bytes with SHA-256 %q, %d with %s were sent: %w",
			h.GetKey(), r.info.Size, r.info.SHA256, n, digest, ErrChecksumMismatch))
	}
	r.info.SHA256 = digest
	if r.info.Key == "" {
		r.info.Key = h.GetKey()
	}
	return stream.SendAndClose(&pluginv1.PutResponse{Info: objectInfoToProto(r.info)})
}

// Get streams the object: a header once the instance's Get succeeded, then
// chunks of at most ChunkSize bytes.
func (ss *storageService) Get(req *pluginv1.GetRequest, stream pluginv1.Storage_GetServer) error {
	ctx, st, err := ss.storage(stream.Context(), req.GetInstance())
	if err != nil {
		return err
	}
	if err := CheckKey(req.GetKey()); err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	if req.GetOffset() < 0 {
		return status.Error(codes.InvalidArgument, "get: negative offset")
	}
	rc, err := st.Get(ctx, req.GetKey(), req.GetOffset(), req.GetLength())
	if err != nil {
		return statusError(err)
	}
	defer rc.Close()
	if err := stream.Send(&pluginv1.GetResponse{Msg: &pluginv1.GetResponse_Header{Header: &pluginv1.GetHeader{Key: req.GetKey()}}}); err != nil {
		return err
	}
	buf := make([]byte, ChunkSize)
	for {
		n, err := io.ReadFull(rc, buf)
		if n > 0 {
			// Send marshals the message before it returns: buf is free again.
			if serr := stream.Send(&pluginv1.GetResponse{Msg: &pluginv1.GetResponse_Chunk{Chunk: buf[:n]}}); serr != nil {
				return serr
			}
		}
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return nil
		case err != nil:
			return statusError(fmt.Errorf("get %s: %w", req.GetKey(), err))
		}
	}
}

func (ss *storageService) Stat(ctx context.Context, req *pluginv1.StatRequest) (*pluginv1.ObjectInfo, error) {
	ctx, st, err := ss.storage(ctx, req.GetInstance())
	if err != nil {
		return nil, err
	}
	if err := CheckKey(req.GetKey()); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	info, err := st.Stat(ctx, req.GetKey())
	if err != nil {
		return nil, statusError(err)
	}
	return objectInfoToProto(info), nil
}

func (ss *storageService) Delete(ctx context.Context, req *pluginv1.DeleteRequest) (*pluginv1.DeleteResponse, error) {
	ctx, st, err := ss.storage(ctx, req.GetInstance())
	if err != nil {
		return nil, err
	}
	if err := CheckKey(req.GetKey()); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if err := st.Delete(ctx, req.GetKey()); err != nil {
		return nil, statusError(err)
	}
	return &pluginv1.DeleteResponse{}, nil
}

func (ss *storageService) List(ctx context.Context, req *pluginv1.ListRequest) (*pluginv1.ListResponse, error) {
	ctx, st, err := ss.storage(ctx, req.GetInstance())
	if err != nil {
		return nil, err
	}
	page, err := st.List(ctx, req.GetPrefix(), req.GetPageToken(), int(req.GetPageSize()))
	if err != nil {
		return nil, statusError(err)
	}
	resp := &pluginv1.ListResponse{NextPageToken: page.NextPageToken, Objects: make([]*pluginv1.ObjectInfo, len(page.Objects))}
	for i, o := range page.Objects {
		resp.Objects[i] = objectInfoToProto(o)
	}
	return resp, nil
}

func objectInfoToProto(o ObjectInfo) *pluginv1.ObjectInfo {
	p := &pluginv1.ObjectInfo{Key: o.Key, Size: o.Size, Sha256: o.SHA256}
	if !o.ModTime.IsZero() {
		p.ModTimeUnixNano = o.ModTime.UnixNano()
	}
	return p
}
