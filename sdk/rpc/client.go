package rpc

import (
	"context"
	"errors"
	"fmt"
	"net/rpc"

	goplugin "github.com/hashicorp/go-plugin"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/msgpack"
	"google.golang.org/grpc"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/proto/pluginv1"
)

// The protocol's parameters, as the host needs them to launch a plugin.
const (
	// ProtocolVersion is the plugin protocol version this package speaks.
	ProtocolVersion = sdk.ProtocolVersion
	// PluginName is the name to Dispense from go-plugin's ClientProtocol.
	PluginName = sdk.PluginSetName
)

// Handshake is go-plugin's handshake configuration for plugins built with
// sdk.Serve.
var Handshake = sdk.Handshake

// VersionedPlugins returns the plugin sets for goplugin.ClientConfig's
// VersionedPlugins: protocol ProtocolVersion, dispensing a *Client under
// PluginName. A plugin of another protocol version fails the handshake
// with go-plugin's message naming both versions.
func VersionedPlugins() map[int]goplugin.PluginSet {
	return map[int]goplugin.PluginSet{ProtocolVersion: {PluginName: &clientPlugin{}}}
}

// clientPlugin is the host's side of the go-plugin registration.
type clientPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
}

var _ goplugin.GRPCPlugin = (*clientPlugin)(nil)

// GRPCServer is the plugin's side, which sdk.Serve implements.
func (clientPlugin) GRPCServer(*goplugin.GRPCBroker, *grpc.Server) error {
	return errors.New("sdk/rpc dials plugins; plugins serve with sdk.Serve")
}

// GRPCClient returns a *Client over the plugin connection. ctx is done
// when the plugin process exits.
func (clientPlugin) GRPCClient(ctx context.Context, broker *goplugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	c := NewClient(conn)
	c.broker = broker
	c.exited = ctx.Done()
	return c, nil
}

// Client is unused (gRPC only); it satisfies goplugin.Plugin.
func (clientPlugin) Client(*goplugin.MuxBroker, *rpc.Client) (any, error) {
	return nil, errors.New("net/rpc is not supported")
}

// Client talks to one plugin process. It is safe for concurrent use; all
// calls share the process's single gRPC connection. Errors are *Error
// values matching the sdk sentinels.
type Client struct {
	conn     grpc.ClientConnInterface
	plugin   pluginv1.PluginClient
	storage  pluginv1.StorageClient
	sop      pluginv1.SopHandlerClient
	task     pluginv1.TaskClient
	callOpts []grpc.CallOption
	broker   *goplugin.GRPCBroker
	exited   <-chan struct{}
	host     hostState
}

// NewClient returns a Client over conn (go-plugin's connection, or any
// gRPC connection to a server set up by sdk.NewServeConfig). A Client made
// here has no broker: host callbacks are not served.
func NewClient(conn grpc.ClientConnInterface) *Client {
	return &Client{
		conn:    conn,
		plugin:  pluginv1.NewPluginClient(conn),
		storage: pluginv1.NewStorageClient(conn),
		sop:     pluginv1.NewSopHandlerClient(conn),
		task:    pluginv1.NewTaskClient(conn),
		callOpts: []grpc.CallOption{
			grpc.MaxCallRecvMsgSize(sdk.MaxMessageSize),
			grpc.MaxCallSendMsgSize(sdk.MaxMessageSize),
		},
	}
}

// Exited is closed when the plugin process has exited (nil for a Client
// made with NewClient).
func (c *Client) Exited() <-chan struct{} { return c.exited }

// Info describes a plugin, as GetInfo reports it.
type Info struct {
	Name       string
	Version    string
	SDKVersion string
	// ProtocolVersion is the protocol the plugin speaks (ProtocolVersion).
	ProtocolVersion int
	// Kinds are the kinds served: sdk.KindStorage, sdk.KindSOPHandler,
	// sdk.KindTask.
	Kinds []string
	// SOPHandlerSpec is set when the plugin serves sdk.KindSOPHandler.
	SOPHandlerSpec *sdk.SOPHandlerSpec
	// TaskKinds are the task kinds of sdk.KindTask.
	TaskKinds []string
}

// Serves reports whether the plugin serves kind.
func (i *Info) Serves(kind string) bool {
	for _, k := range i.Kinds {
		if k == kind {
			return true
		}
	}
	return false
}

// Info asks the plugin what it is and serves.
func (c *Client) Info(ctx context.Context) (*Info, error) {
	p, err := c.plugin.GetInfo(ctx, &pluginv1.GetInfoRequest{}, c.callOpts...)
	if err != nil {
		return nil, fmt.Errorf("plugin info: %w", c.fromStatus(err))
	}
	info := &Info{Name: p.GetName(), Version: p.GetVersion(), SDKVersion: p.GetSdkVersion(),
		ProtocolVersion: int(p.GetProtocolVersion()), Kinds: p.GetKinds(), TaskKinds: p.GetTaskKinds()}
	if s := p.GetSopHandler(); s != nil {
		spec := &sdk.SOPHandlerSpec{SOPClasses: s.GetSopClasses(), Mode: sdk.DataMode(s.GetMode())}
		for _, t := range s.GetAttributes() {
			spec.Attributes = append(spec.Attributes, dicom.Tag(t))
		}
		info.SOPHandlerSpec = spec
	}
	return info, nil
}

// Schema is a kind's config schema as the host uses it: the spec to
// decode the config { } body with, and the attribute paths never to log.
type Schema struct {
	Spec      hcldec.Spec
	Sensitive []string
}

// Schema returns the config schema of the plugin's kind.
func (c *Client) Schema(ctx context.Context, kind string) (*Schema, error) {
	p, err := c.plugin.GetConfigSchema(ctx, &pluginv1.GetConfigSchemaRequest{Kind: kind}, c.callOpts...)
	if err != nil {
		return nil, fmt.Errorf("config schema of %s: %w", kind, c.fromStatus(err))
	}
	spec, err := specFromProto(p.GetSpec())
	if err != nil {
		return nil, fmt.Errorf("config schema of %s: %w", kind, err)
	}
	return &Schema{Spec: spec, Sensitive: p.GetSensitive()}, nil
}

// Configure creates (or replaces) the plugin's instance of kind labelled
// instance with val, the config { } body decoded with the kind's spec
// (hcldec.Decode; a null value for an absent body). The plugin's
// objections come back as *sdk.ConfigError values (several joined with
// errors.Join; ConfigErrors lists them) whose Path names the attribute;
// ConfigRange finds it in the body.
func (c *Client) Configure(ctx context.Context, kind, instance string, val cty.Value) error {
	req := &pluginv1.ConfigureRequest{Kind: kind, Instance: instance, HostBrokerId: c.hostBrokerID()}
	if !val.IsNull() {
		b, err := msgpack.Marshal(val, cty.DynamicPseudoType)
		if err != nil {
			return fmt.Errorf("configure %s %q: encode config: %w", kind, instance, err)
		}
		req.Config = b
	}
	resp, err := c.plugin.Configure(ctx, req, c.callOpts...)
	if err != nil {
		return fmt.Errorf("configure %s %q: %w", kind, instance, c.fromStatus(err))
	}
	var errs []error
	for _, d := range resp.GetDiagnostics() {
		if d.GetSeverity() == pluginv1.Diagnostic_SEVERITY_ERROR {
			errs = append(errs, &sdk.ConfigError{Path: d.GetPath(), Message: d.GetMessage()})
		}
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return errors.Join(errs...)
}

// HealthError is an unhealthy instance's answer to Health. It matches
// sdk.ErrUnavailable.
type HealthError struct {
	// Degraded is true when the instance works with reduced capacity
	// (e.g. nearly full), false when it is down.
	Degraded bool
	Detail   string
}

// Error returns the state and the detail.
func (e *HealthError) Error() string {
	if e.Degraded {
		return "degraded: " + e.Detail
	}
	return "down: " + e.Detail
}

// Unwrap makes a HealthError match sdk.ErrUnavailable.
func (e *HealthError) Unwrap() error { return sdk.ErrUnavailable }

// Health checks the instance: nil when healthy, a *HealthError when the
// instance reports a problem, another error when the call failed
// (sdk.ErrNotConfigured after a plugin restart).
func (c *Client) Health(ctx context.Context, kind, instance string) error {
	resp, err := c.plugin.Health(ctx, &pluginv1.HealthRequest{Kind: kind, Instance: instance}, c.callOpts...)
	if err != nil {
		return fmt.Errorf("health of %s %q: %w", kind, instance, c.fromStatus(err))
	}
	switch resp.GetStatus() {
	case pluginv1.HealthResponse_STATUS_OK:
		return nil
	case pluginv1.HealthResponse_STATUS_DEGRADED:
		return &HealthError{Degraded: true, Detail: resp.GetDetail()}
	}
	return &HealthError{Detail: resp.GetDetail()}
}
