package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/sdk/proto/pluginv1"
)

// HostServices is what the archive offers its plugins (the Host service,
// served by the host over go-plugin's broker). Plugins get it with Host;
// the host implements it and hands it to sdk/rpc's Client.ServeHost.
type HostServices interface {
	// ReadInstance opens the stored Part 10 bytes of an instance, or
	// returns ErrNotFound. The caller closes the reader.
	ReadInstance(ctx context.Context, sopInstanceUID string) (io.ReadCloser, error)
	// QueryIndex runs a C-FIND-style query (level PATIENT, STUDY, SERIES or
	// IMAGE; keys as in a C-FIND identifier) and returns at most limit
	// matches (0: the host's limit).
	QueryIndex(ctx context.Context, level string, keys *dicom.Dataset, limit int) ([]*dicom.Dataset, error)
	// Log writes a line to the archive's log (level trace, debug, info,
	// warn or error).
	Log(ctx context.Context, level, message string, fields map[string]string) error
}

type hostKey struct{}

// Host returns the archive's services for the call whose ctx it is (the
// factory's ctx and every call on a configured instance), or nil when the
// host serves none.
func Host(ctx context.Context) HostServices {
	h, _ := ctx.Value(hostKey{}).(HostServices)
	return h
}

// hostConn is a plugin's connection to the Host service over the broker.
type hostConn struct {
	conn   *grpc.ClientConn
	client pluginv1.HostClient
}

var _ HostServices = (*hostConn)(nil)

var hostCallOpts = []grpc.CallOption{grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize)}

// withHost attaches the host connection on broker stream id to ctx,
// dialling it the first time.
func (s *server) withHost(ctx context.Context, id uint32) context.Context {
	h, err := s.host(id)
	if err != nil {
		s.log.Warn("cannot reach the host's services", "broker_id", id, "error", err)
		return ctx
	}
	return context.WithValue(ctx, hostKey{}, HostServices(h))
}

// setInstanceHost records the host services of a configured instance, for
// the context of its calls.
func (s *server) setInstanceHost(kindName, label string, h HostServices) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h == nil {
		delete(s.instHosts, kindName+"\x00"+label)
		return
	}
	s.instHosts[kindName+"\x00"+label] = h
}

func (s *server) host(id uint32) (*hostConn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := s.hosts[id]; h != nil {
		return h, nil
	}
	if s.broker == nil {
		return nil, errors.New("no broker")
	}
	conn, err := s.broker.Dial(id)
	if err != nil {
		return nil, err
	}
	h := &hostConn{conn: conn, client: pluginv1.NewHostClient(conn)}
	s.hosts[id] = h
	return h, nil
}

// hostError maps a Host call's status to the sdk sentinels (io.EOF and
// other non-status errors pass unchanged).
func hostError(err error) error {
	st, ok := status.FromError(err)
	if err == nil || !ok {
		return err
	}
	var sentinel error
	switch st.Code() {
	case codes.NotFound:
		sentinel = ErrNotFound
	case codes.ResourceExhausted:
		sentinel = ErrInsufficientSpace
	case codes.Unavailable:
		sentinel = ErrUnavailable
	case codes.Canceled:
		sentinel = context.Canceled
	case codes.DeadlineExceeded:
		sentinel = context.DeadlineExceeded
	default:
		return errors.New(st.Message())
	}
	return fmt.Errorf("%s: %w", st.Message(), sentinel)
}

func (h *hostConn) ReadInstance(ctx context.Context, uid string) (io.ReadCloser, error) {
	ctx, cancel := context.WithCancel(ctx)
	stream, err := h.client.ReadInstance(ctx, &pluginv1.ReadInstanceRequest{SopInstanceUid: uid}, hostCallOpts...)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("read instance %s: %w", uid, hostError(err))
	}
	first, err := stream.Recv()
	if err != nil && err != io.EOF {
		cancel()
		return nil, fmt.Errorf("read instance %s: %w", uid, hostError(err))
	}
	r := &chunkReader{cancel: cancel, recv: func() ([]byte, error) {
		m, err := stream.Recv()
		if err != nil {
			return nil, hostError(err)
		}
		return m.GetChunk(), nil
	}}
	if err == io.EOF {
		r.err = io.EOF
	} else {
		r.buf = first.GetChunk()
	}
	return r, nil
}

func (h *hostConn) QueryIndex(ctx context.Context, level string, keys *dicom.Dataset, limit int) ([]*dicom.Dataset, error) {
	kb, err := EncodeDataset(keys)
	if err != nil {
		return nil, fmt.Errorf("query index: keys: %w", err)
	}
	stream, err := h.client.QueryIndex(ctx, &pluginv1.QueryIndexRequest{Level: level, Keys: kb, Limit: int32(min(limit, 1<<30))}, hostCallOpts...)
	if err != nil {
		return nil, fmt.Errorf("query index: %w", hostError(err))
	}
	var out []*dicom.Dataset
	for {
		row, err := stream.Recv()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("query index: %w", hostError(err))
		}
		ds, err := DecodeDataset(row.GetDataset())
		if err != nil {
			return nil, fmt.Errorf("query index: match: %w", err)
		}
		out = append(out, ds)
	}
}

func (h *hostConn) Log(ctx context.Context, level, message string, fields map[string]string) error {
	if _, err := h.client.Log(ctx, &pluginv1.LogRequest{Level: level, Message: message, Fields: fields}, hostCallOpts...); err != nil {
		return fmt.Errorf("log: %w", hostError(err))
	}
	return nil
}

// chunkReader reads a stream of chunks. Not safe for concurrent use.
type chunkReader struct {
	recv   func() ([]byte, error)
	cancel func()
	buf    []byte
	err    error
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		r.buf, r.err = r.recv()
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func (r *chunkReader) Close() error {
	r.cancel()
	if r.err == nil {
		r.err = errors.New("read after close")
	}
	return nil
}
