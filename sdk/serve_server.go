package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/rpc"
	"runtime/debug"
	"sort"
	"sync"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/msgpack"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pacsforge/pacs/sdk/proto/pluginv1"
)

// server is the plugin side of the protocol: the configured instances of
// each kind and the gRPC services over them.
type server struct {
	p     Plugin
	log   hclog.Logger
	kinds map[string]kind

	mu        sync.RWMutex
	instances map[string]map[string]any // kind -> instance label -> implementation
	broker    *goplugin.GRPCBroker
	hosts     map[uint32]*hostConn    // broker id -> host connection
	instHosts map[string]HostServices // kind NUL instance label -> host
}

func newServer(p Plugin, log hclog.Logger) (*server, error) {
	s := &server{p: p, log: log, kinds: map[string]kind{}, instances: map[string]map[string]any{}, hosts: map[uint32]*hostConn{}, instHosts: map[string]HostServices{}}
	if p.Storage != nil {
		s.kinds[KindStorage] = p.Storage.k
	}
	if p.SOPHandler != nil {
		s.kinds[KindSOPHandler] = p.SOPHandler.k
	}
	if p.Task != nil {
		s.kinds[KindTask] = p.Task.k
	}
	for name, k := range s.kinds {
		if _, err := k.schema(); err != nil {
			return nil, fmt.Errorf("plugin %q, kind %s: %w", p.Name, name, err)
		}
	}
	return s, nil
}

// grpcPlugin registers the server's services with go-plugin.
type grpcPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	s *server
}

var _ goplugin.GRPCPlugin = (*grpcPlugin)(nil)

// GRPCServer registers the services of the kinds the plugin serves.
func (g *grpcPlugin) GRPCServer(broker *goplugin.GRPCBroker, gs *grpc.Server) error {
	s := g.s
	s.mu.Lock()
	s.broker = broker
	s.mu.Unlock()
	pluginv1.RegisterPluginServer(gs, &pluginService{s: s})
	if s.p.Storage != nil {
		pluginv1.RegisterStorageServer(gs, &storageService{s: s})
	}
	if s.p.SOPHandler != nil {
		pluginv1.RegisterSopHandlerServer(gs, &sopHandlerService{s: s})
	}
	if s.p.Task != nil {
		pluginv1.RegisterTaskServer(gs, &taskService{s: s})
	}
	return nil
}

// GRPCClient is the host's side, which sdk/rpc implements.
func (g *grpcPlugin) GRPCClient(context.Context, *goplugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("sdk serves plugins; hosts dial them with sdk/rpc")
}

// Client is unused (gRPC only); it satisfies goplugin.Plugin.
func (g *grpcPlugin) Client(*goplugin.MuxBroker, *rpc.Client) (any, error) {
	return nil, errors.New("net/rpc is not supported")
}

// recoverUnary turns a panic in a handler into codes.Internal.
func (s *server) recoverUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
	defer s.recoverAs(info.FullMethod, &err)
	return h(ctx, req)
}

// recoverStream turns a panic in a streaming handler into codes.Internal.
func (s *server) recoverStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) (err error) {
	defer s.recoverAs(info.FullMethod, &err)
	return h(srv, ss)
}

// recoverAs, deferred, stores a recovered panic as an Internal status in
// *err and logs its stack.
func (s *server) recoverAs(what string, err *error) {
	if r := recover(); r != nil {
		s.log.Error("panic in plugin", "call", what, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		*err = status.Errorf(codes.Internal, "plugin panic in %s: %v", what, r)
	}
}

// instance returns the configured implementation of kind named label.
func (s *server) instance(kindName, label string) (any, error) {
	s.mu.RLock()
	impl, ok := s.instances[kindName][label]
	s.mu.RUnlock()
	if !ok {
		return nil, statusError(fmt.Errorf("%s %q: %w", kindName, label, ErrNotConfigured))
	}
	return impl, nil
}

// callContext attaches the per-call logger (hclog.FromContext) and the
// instance's host services (Host) to ctx.
func (s *server) callContext(ctx context.Context, kindName, label string) context.Context {
	s.mu.RLock()
	h := s.instHosts[kindName+"\x00"+label]
	s.mu.RUnlock()
	if h != nil {
		ctx = context.WithValue(ctx, hostKey{}, h)
	}
	return hclog.WithContext(ctx, s.log.With("kind", kindName, "instance", label))
}

// pluginService implements the Plugin service.
type pluginService struct {
	pluginv1.UnimplementedPluginServer
	s *server
}

func (ps *pluginService) GetInfo(context.Context, *pluginv1.GetInfoRequest) (*pluginv1.PluginInfo, error) {
	p := ps.s.p
	info := &pluginv1.PluginInfo{Name: p.Name, Version: p.Version, SdkVersion: SDKVersion, ProtocolVersion: ProtocolVersion}
	for name := range ps.s.kinds {
		info.Kinds = append(info.Kinds, name)
	}
	sort.Strings(info.Kinds)
	if p.SOPHandler != nil {
		spec := p.SOPHandler.spec
		info.SopHandler = &pluginv1.SopHandlerSpec{SopClasses: spec.SOPClasses, Mode: pluginv1.DataMode(spec.Mode)}
		for _, t := range spec.Attributes {
			info.SopHandler.Attributes = append(info.SopHandler.Attributes, uint32(t))
		}
	}
	if p.Task != nil {
		info.TaskKinds = p.Task.kinds
	}
	return info, nil
}

func (ps *pluginService) kind(name string) (kind, error) {
	k, ok := ps.s.kinds[name]
	if !ok {
		return kind{}, status.Errorf(codes.InvalidArgument, "plugin %q does not serve kind %q", ps.s.p.Name, name)
	}
	return k, nil
}

func (ps *pluginService) GetConfigSchema(_ context.Context, req *pluginv1.GetConfigSchemaRequest) (*pluginv1.ConfigSchema, error) {
	k, err := ps.kind(req.GetKind())
	if err != nil {
		return nil, err
	}
	sch, err := k.schema()
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	spec, err := specToProto(sch.Spec)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &pluginv1.ConfigSchema{Spec: spec, Sensitive: sch.Sensitive}, nil
}

func (ps *pluginService) Configure(ctx context.Context, req *pluginv1.ConfigureRequest) (*pluginv1.ConfigureResponse, error) {
	s := ps.s
	k, err := ps.kind(req.GetKind())
	if err != nil {
		return nil, err
	}
	if req.GetInstance() == "" {
		return nil, status.Error(codes.InvalidArgument, "configure: empty instance label")
	}
	sch, err := k.schema()
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	val := cty.NullVal(sch.impliedType())
	if len(req.GetConfig()) > 0 {
		val, err = msgpack.Unmarshal(req.GetConfig(), cty.DynamicPseudoType)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "configure %s %q: config value: %v", req.GetKind(), req.GetInstance(), err)
		}
	}
	ctx = s.callContext(ctx, req.GetKind(), req.GetInstance())
	if id := req.GetHostBrokerId(); id != 0 {
		ctx = s.withHost(ctx, id)
	}
	impl, err := k.configure(ctx, req.GetInstance(), val)
	if err != nil {
		if diags := configDiagnostics(err); diags != nil {
			return &pluginv1.ConfigureResponse{Diagnostics: diags}, nil
		}
		return nil, statusError(fmt.Errorf("configure %s %q: %w", req.GetKind(), req.GetInstance(), err))
	}
	s.mu.Lock()
	m := s.instances[req.GetKind()]
	if m == nil {
		m = map[string]any{}
		s.instances[req.GetKind()] = m
	}
	old := m[req.GetInstance()]
	m[req.GetInstance()] = impl
	s.mu.Unlock()
	s.setInstanceHost(req.GetKind(), req.GetInstance(), Host(ctx))
	if c, ok := old.(io.Closer); ok && old != impl {
		if err := c.Close(); err != nil {
			s.log.Warn("closing replaced instance", "kind", req.GetKind(), "instance", req.GetInstance(), "error", err)
		}
	}
	s.log.Info("instance configured", "kind", req.GetKind(), "instance", req.GetInstance())
	return &pluginv1.ConfigureResponse{}, nil
}

// configDiagnostics returns the *ConfigErrors in err (joined or single) as
// diagnostics, or nil when err holds none.
func configDiagnostics(err error) []*pluginv1.Diagnostic {
	var diags []*pluginv1.Diagnostic
	for _, ce := range ConfigErrors(err) {
		diags = append(diags, &pluginv1.Diagnostic{Path: ce.Path, Message: ce.Message})
	}
	return diags
}

func (ps *pluginService) Health(ctx context.Context, req *pluginv1.HealthRequest) (*pluginv1.HealthResponse, error) {
	impl, err := ps.s.instance(req.GetKind(), req.GetInstance())
	if err != nil {
		return nil, err
	}
	hc, ok := impl.(HealthChecker)
	if !ok {
		return &pluginv1.HealthResponse{}, nil
	}
	ctx = ps.s.callContext(ctx, req.GetKind(), req.GetInstance())
	if err := hc.Healthy(ctx); err != nil {
		st := pluginv1.HealthResponse_STATUS_DOWN
		if errors.Is(err, ErrInsufficientSpace) {
			st = pluginv1.HealthResponse_STATUS_DEGRADED
		}
		return &pluginv1.HealthResponse{Status: st, Detail: err.Error()}, nil
	}
	return &pluginv1.HealthResponse{}, nil
}
