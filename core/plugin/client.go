package plugin

import (
	"context"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/rpc"
)

// client is the protocol side of one running plugin process, what the
// supervisor and the adapters call: *rpc.Client's methods. Tests use
// fakes.
type client interface {
	Info(ctx context.Context) (*rpc.Info, error)
	Schema(ctx context.Context, kind string) (*rpc.Schema, error)
	// Configure creates or replaces the instance; mistakes in cfg come
	// back as *sdk.ConfigError values (rpc.ConfigErrors).
	Configure(ctx context.Context, kind, instance string, cfg cty.Value) error
	Health(ctx context.Context, kind, instance string) error
	Storage(instance string) sdk.Storage
	SOPHandler(instance string) sdk.SOPHandler
}

var _ client = (*rpc.Client)(nil)

// process is one launched plugin process.
type process struct {
	client client
	// protocol is the negotiated protocol version; pid the process ID.
	protocol int
	pid      int
	// exited is closed when the process is gone.
	exited <-chan struct{}
	// kill stops the process (gracefully, then by force) and waits for it.
	kill func()
}

// launchFunc starts the process of s; log is the logger its output is
// folded into. The returned process's kill must be called.
type launchFunc func(ctx context.Context, s *Spec, log hclog.Logger) (*process, error)
