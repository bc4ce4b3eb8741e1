package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/proto/pluginv1"
)

// hostState is the Host service a Client serves over the broker.
type hostState struct {
	mu sync.Mutex
	id uint32
}

// ServeHost serves h to the plugin over go-plugin's broker, from now on:
// every later Configure tells the plugin where to find it, and sdk.Host
// returns it in the plugin's factory and in every call on the instances
// configured so. Only the first call has an effect; a Client made with
// NewClient (no broker) returns an error.
func (c *Client) ServeHost(h sdk.HostServices) error {
	if c.broker == nil {
		return errors.New("serve host services: the client has no broker")
	}
	c.host.mu.Lock()
	defer c.host.mu.Unlock()
	if c.host.id != 0 {
		return nil
	}
	id := c.broker.NextId()
	go c.broker.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
		opts = append(opts, grpc.MaxRecvMsgSize(sdk.MaxMessageSize), grpc.MaxSendMsgSize(sdk.MaxMessageSize))
		s := grpc.NewServer(opts...)
		pluginv1.RegisterHostServer(s, &hostServer{h: h})
		return s
	})
	c.host.id = id
	return nil
}

func (c *Client) hostBrokerID() uint32 {
	c.host.mu.Lock()
	defer c.host.mu.Unlock()
	return c.host.id
}

// hostServer implements the Host service over the host's HostServices.
type hostServer struct {
	pluginv1.UnimplementedHostServer
	h sdk.HostServices
}

// hostStatus maps a host error to a status for the plugin.
func hostStatus(err error) error {
	code := codes.Unknown
	switch {
	case errors.Is(err, sdk.ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, sdk.ErrInsufficientSpace):
		code = codes.ResourceExhausted
	case errors.Is(err, sdk.ErrUnavailable):
		code = codes.Unavailable
	}
	return status.Error(code, err.Error())
}

func (s *hostServer) ReadInstance(req *pluginv1.ReadInstanceRequest, stream pluginv1.Host_ReadInstanceServer) (err error) {
	defer recoverHost(&err)
	rc, err := s.h.ReadInstance(stream.Context(), req.GetSopInstanceUid())
	if err != nil {
		return hostStatus(err)
	}
	defer rc.Close()
	buf := make([]byte, sdk.ChunkSize)
	for {
		n, err := io.ReadFull(rc, buf)
		if n > 0 {
			if serr := stream.Send(&pluginv1.ReadInstanceChunk{Chunk: buf[:n]}); serr != nil {
				return serr
			}
		}
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return nil
		case err != nil:
			return hostStatus(err)
		}
	}
}

func (s *hostServer) QueryIndex(req *pluginv1.QueryIndexRequest, stream pluginv1.Host_QueryIndexServer) (err error) {
	defer recoverHost(&err)
	keys, err := sdk.DecodeDataset(req.GetKeys())
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "query keys: %v", err)
	}
	rows, err := s.h.QueryIndex(stream.Context(), req.GetLevel(), keys, int(req.GetLimit()))
	if err != nil {
		return hostStatus(err)
	}
	for _, r := range rows {
		b, err := sdk.EncodeDataset(r)
		if err != nil {
			return status.Errorf(codes.Internal, "encode match: %v", err)
		}
		if err := stream.Send(&pluginv1.QueryIndexRow{Dataset: b}); err != nil {
			return err
		}
	}
	return nil
}

func (s *hostServer) Log(ctx context.Context, req *pluginv1.LogRequest) (_ *pluginv1.LogResponse, err error) {
	defer recoverHost(&err)
	if err := s.h.Log(ctx, req.GetLevel(), req.GetMessage(), req.GetFields()); err != nil {
		return nil, hostStatus(err)
	}
	return &pluginv1.LogResponse{}, nil
}

// recoverHost, deferred, turns a panic of the host's services into an
// Internal status for the plugin's call.
func recoverHost(err *error) {
	if r := recover(); r != nil {
		*err = status.Error(codes.Internal, fmt.Sprintf("host panic: %v", r))
	}
}
