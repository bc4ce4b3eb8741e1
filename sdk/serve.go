package sdk

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"github.com/zclconf/go-cty/cty"
	"google.golang.org/grpc"
)

// The plugin protocol's fixed parameters, shared by Serve and the host
// (sdk/rpc).
const (
	// ProtocolVersion is the plugin protocol this SDK speaks
	// (sdk/proto/pluginv1). go-plugin refuses a host of another version
	// with a message naming both.
	ProtocolVersion = 1
	// SDKVersion is this SDK's version, reported by GetInfo.
	SDKVersion = "0.1.0"
	// MagicCookieKey and MagicCookieValue are the go-plugin handshake
	// cookie: a plugin binary started by hand (without it in its
	// environment) says it is a plugin and exits.
	MagicCookieKey   = "FORGEPACS_PLUGIN_COOKIE"
	MagicCookieValue = "9c1c0a3e6f3d4f0ba1d7e0c2c4b4a8d1-dicom-archive-plugin"
	// PluginSetName is the name the plugin is registered under in
	// go-plugin's plugin set (what the host dispenses).
	PluginSetName = "forgepacs"
	// ChunkSize is the size of the byte chunks of a streamed object.
	ChunkSize = 1 << 20
	// MaxMessageSize is the largest gRPC message either side accepts (a
	// chunk, a SOP handler's header, a list page).
	MaxMessageSize = 16 << 20
	// LogLevelEnv names the environment variable with the plugin's log
	// level (trace, debug, info, warn, error; default info).
	LogLevelEnv = "FORGEPACS_PLUGIN_LOG_LEVEL"
)

// The plugin kinds, as GetInfo and Configure name them.
const (
	KindStorage    = "storage"
	KindSOPHandler = "sop_handler"
	KindTask       = "task"
)

// Handshake is go-plugin's handshake for protocol ProtocolVersion.
var Handshake = goplugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   MagicCookieKey,
	MagicCookieValue: MagicCookieValue,
}

// Plugin describes a plugin process: its name and version and the kinds
// it serves (at least one of Storage, SOPHandler, Task).
type Plugin struct {
	Name    string
	Version string

	Storage    *StorageKind
	SOPHandler *SOPHandlerKind
	Task       *TaskKind

	// Logger is the plugin's logger; nil means JSON to stderr, which the
	// host folds into its own log, at the level LogLevelEnv names.
	Logger hclog.Logger
}

// kind is a plugin kind with its config type erased. schema derives the
// config schema once (newServer checks it; GetConfigSchema and Configure
// reuse it).
type kind struct {
	schema    func() (*ConfigSchema, error)
	configure func(ctx context.Context, instance string, val cty.Value) (any, error)
}

func newKind[C, T any](f func(context.Context, string, *C) (T, error)) kind {
	return kind{
		schema: sync.OnceValues(SchemaOf[C]),
		configure: func(ctx context.Context, instance string, val cty.Value) (any, error) {
			cfg := new(C)
			if err := DecodeConfig(val, cfg); err != nil {
				return nil, err
			}
			return f(ctx, instance, cfg)
		},
	}
}

// StorageKind is the storage kind of a plugin; see NewStorage.
type StorageKind struct{ k kind }

// NewStorage declares a storage kind whose instances factory makes from
// their config, decoded into a C (a struct with hcl tags; see SchemaOf).
func NewStorage[C any](factory StorageFactory[C]) *StorageKind {
	return &StorageKind{k: newKind(factory)}
}

// SOPHandlerKind is the SOP handler kind of a plugin; see NewSOPHandler.
type SOPHandlerKind struct {
	k    kind
	spec SOPHandlerSpec
}

// NewSOPHandler declares a SOP handler kind whose instances factory makes
// from their config (a C), seeing what spec declares.
func NewSOPHandler[C any](factory SOPHandlerFactory[C], spec SOPHandlerSpec) *SOPHandlerKind {
	return &SOPHandlerKind{k: newKind(factory), spec: spec}
}

// TaskKind is the task kind of a plugin; see NewTask.
type TaskKind struct {
	k     kind
	kinds []string
}

// NewTask declares the task kinds (e.g. "cleanup") whose instances factory
// makes from their config (a C).
func NewTask[C any](factory TaskFactory[C], kinds ...string) *TaskKind {
	return &TaskKind{k: newKind(factory), kinds: kinds}
}

// HealthChecker is implemented by a Storage, SOPHandler or Task instance
// that can tell whether it works (its backend is reachable). The host
// calls it periodically; an error wrapping ErrInsufficientSpace reports
// the instance degraded, any other error down. Instances without it are
// healthy while the process lives.
type HealthChecker interface {
	Healthy(ctx context.Context) error
}

// Serve runs the plugin process: it answers the go-plugin handshake,
// serves p over gRPC until the host stops it, and exits the process. Call
// it from main; started by hand (not by the host), it prints that it is a
// plugin and exits with status 1.
func Serve(p Plugin) {
	cfg, err := NewServeConfig(p)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", p.Name, err)
		os.Exit(1)
	}
	goplugin.Serve(cfg)
}

// NewServeConfig returns the go-plugin configuration Serve runs p with:
// the handshake, VersionedPlugins{ProtocolVersion: ...}, the gRPC server
// with MaxMessageSize and panic recovery, and the logger. Tests and
// harnesses (sdk/plugintest) set its Test field to serve in process.
func NewServeConfig(p Plugin) (*goplugin.ServeConfig, error) {
	if p.Storage == nil && p.SOPHandler == nil && p.Task == nil {
		return nil, fmt.Errorf("plugin %q serves no kind", p.Name)
	}
	log := p.Logger
	if log == nil {
		log = hclog.New(&hclog.LoggerOptions{
			Name:       p.Name,
			Level:      hclog.LevelFromString(os.Getenv(LogLevelEnv)),
			Output:     os.Stderr,
			JSONFormat: true,
		})
	}
	s, err := newServer(p, log)
	if err != nil {
		return nil, err
	}
	return &goplugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: map[int]goplugin.PluginSet{ProtocolVersion: {PluginSetName: &grpcPlugin{s: s}}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			opts = append(opts,
				grpc.MaxRecvMsgSize(MaxMessageSize),
				grpc.MaxSendMsgSize(MaxMessageSize),
				grpc.ChainUnaryInterceptor(s.recoverUnary),
				grpc.ChainStreamInterceptor(s.recoverStream),
			)
			return grpc.NewServer(opts...)
		},
		Logger: log,
	}, nil
}
