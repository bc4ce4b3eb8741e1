package plugin

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pacsforge/pacs/sdk"
)

// Errors of calls into a plugin; the storage adapter turns both into a
// *storage.UnavailableError.
var (
	// ErrPluginDown: the plugin process is not running (it crashed, hangs
	// and was killed, is being restarted or stopped); calls in flight when
	// it died fail with it at once.
	ErrPluginDown = errors.New("plugin is not running")
	// ErrCallTimeout: the call passed its deadline (call_timeout, or no
	// progress of a stream for that long).
	ErrCallTimeout = errors.New("plugin call timed out")
)

// call is one admitted call into a plugin: it holds a slot of the
// plugin's semaphore until end. Its ctx is cancelled when the caller's
// is, when the process dies (cause ErrPluginDown) and when the deadline
// passes (cause ErrCallTimeout); for an idle deadline, touch pushes it
// back.
type call struct {
	s       *supervisor
	g       *generation
	ctx     context.Context
	parent  context.Context
	cancel  context.CancelCauseFunc
	timer   *time.Timer
	timeout time.Duration
	idle    bool
	stop    func() bool
	ended   atomic.Bool
}

// begin admits a call with the given deadline (idle: reset by touch), or
// fails with ErrPluginDown at once when the plugin is not up. Waiting for
// a slot of the semaphore respects ctx.
func (s *supervisor) begin(ctx context.Context, timeout time.Duration, idle bool) (*call, error) {
	g := s.current()
	if g == nil {
		return nil, s.downError(nil)
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	case <-g.ctx.Done():
		return nil, s.downError(nil)
	}
	c := &call{s: s, g: g, parent: ctx, timeout: timeout, idle: idle}
	c.ctx, c.cancel = context.WithCancelCause(ctx)
	c.stop = context.AfterFunc(g.ctx, func() { c.cancel(ErrPluginDown) })
	c.timer = time.AfterFunc(timeout, func() { c.cancel(ErrCallTimeout) })
	return c, nil
}

// touch records progress of a stream: the idle deadline starts again.
func (c *call) touch() {
	if c.idle && !c.ended.Load() {
		c.timer.Reset(c.timeout)
	}
}

// end classifies the call's outcome, releases its slot and returns the
// error to hand to the caller. Only the first end counts.
func (c *call) end(err error) error {
	if !c.ended.CompareAndSwap(false, true) {
		return err
	}
	c.timer.Stop()
	c.stop()
	cause := context.Cause(c.ctx)
	c.cancel(context.Canceled)
	<-c.s.sem
	return c.s.classify(c, cause, err)
}

// do runs fn as one unary call with the plugin's call timeout.
func (s *supervisor) do(ctx context.Context, timeout time.Duration, fn func(ctx context.Context, cl client) error) error {
	c, err := s.begin(ctx, timeout, false)
	if err != nil {
		return err
	}
	return c.end(fn(c.ctx, c.g.proc.client))
}

// classify maps the error of a call: the process's death and transport
// failures become ErrPluginDown, the deadline ErrCallTimeout (counted
// towards HungAfter), the caller's cancellation and the plugin's own
// errors stay as they are.
func (s *supervisor) classify(c *call, cause, err error) error {
	switch {
	case err == nil:
		c.g.overruns.Store(0)
		return nil
	case c.parent.Err() != nil:
		return err
	case errors.Is(cause, ErrPluginDown) || c.g.ctx.Err() != nil:
		return s.downError(err)
	case errors.Is(cause, ErrCallTimeout):
		if n := c.g.overruns.Add(1); n >= HungAfter {
			s.hung(c.g, int(n))
		}
		return fmt.Errorf("plugin %s: %w (%s)", s.spec.Name, ErrCallTimeout, c.timeout)
	case transportFailure(err):
		return s.downError(err)
	}
	c.g.overruns.Store(0)
	return err
}

// transportFailure reports an error of the connection rather than of the
// plugin: gRPC Unavailable or Canceled without the SDK's error details
// (which a plugin returning sdk.ErrUnavailable sends).
func transportFailure(err error) bool {
	st, ok := status.FromError(err)
	if !ok {
		var se interface{ GRPCStatus() *status.Status }
		if !errors.As(err, &se) {
			return false
		}
		st = se.GRPCStatus()
	}
	if st.Code() != codes.Unavailable && st.Code() != codes.Canceled {
		return false
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == sdk.ErrorDomain {
			return false
		}
	}
	return true
}

// downError is ErrPluginDown for this plugin, with the transport error
// when there is one.
func (s *supervisor) downError(err error) error {
	if err == nil {
		return fmt.Errorf("plugin %s: %w", s.spec.Name, ErrPluginDown)
	}
	return fmt.Errorf("plugin %s: %w: %v", s.spec.Name, ErrPluginDown, err)
}
