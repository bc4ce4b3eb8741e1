package plugin

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/rpc"
)

// State is the state of a plugin process.
type State string

// The states of a plugin process.
const (
	// StateStarting: launched for the first time, not configured yet.
	StateStarting State = "starting"
	// StateUp: running and configured; calls are admitted.
	StateUp State = "up"
	// StateRestarting: it crashed, hung or failed to start; it is started
	// again after a back-off. Calls fail with ErrPluginDown.
	StateRestarting State = "restarting"
	// StateStopped: shut down by Manager.Close.
	StateStopped State = "stopped"
)

// Supervision parameters (Options may shorten the durations, for tests).
const (
	// HungAfter consecutive calls past their deadline mark a plugin hung:
	// it is killed and restarted.
	HungAfter = 3
	// HealthInterval is the period of the Health calls to each instance.
	HealthInterval = 10 * time.Second
	// HealthTimeout bounds one Health call.
	HealthTimeout = 5 * time.Second
	// MinBackoff and MaxBackoff bound the wait before a restart, doubled
	// at each failure in a row.
	MinBackoff = 500 * time.Millisecond
	MaxBackoff = time.Minute
	// DrainTimeout bounds the wait for calls in flight at shutdown.
	DrainTimeout = 10 * time.Second
	// startTimeout bounds the launch, Info, schema and Configure calls
	// of a start.
	startTimeout = time.Minute
)

// generation is one run of a plugin's process.
type generation struct {
	proc *process
	info rpc.Info
	// ctx is cancelled (cause ErrPluginDown) when the process is gone.
	ctx      context.Context
	cancel   context.CancelCauseFunc
	overruns atomic.Int32
	// hungAfter is the overrun count at which it was declared hung (0: not).
	hungAfter atomic.Int32
	killOnce  sync.Once
	killed    chan struct{}
}

// kill stops the process once, in the background; killed is closed when
// it is gone.
func (g *generation) kill() {
	g.killOnce.Do(func() {
		go func() {
			g.proc.kill()
			g.cancel(ErrPluginDown)
			close(g.killed)
		}()
	})
}

// supervisor runs one plugin: starts, watches, restarts and stops it.
type supervisor struct {
	spec    *Spec
	opt     *Options
	log     hclog.Logger
	timeout time.Duration
	sem     chan struct{}
	launch  launchFunc

	mu       sync.Mutex
	gen      *generation
	state    State
	info     rpc.Info
	protocol int
	pid      int
	restarts int
	lastErr  string
	health   map[string]string // instance -> last health error ("" healthy)
	closing  bool
}

func newSupervisor(s *Spec, opt *Options, launch launchFunc) *supervisor {
	timeout := s.CallTimeout
	if timeout <= 0 {
		timeout = DefaultCallTimeout
	}
	n := s.MaxConcurrency
	if n <= 0 {
		n = DefaultConcurrency()
	}
	return &supervisor{
		spec: s, opt: opt, timeout: timeout, sem: make(chan struct{}, n), launch: launch,
		log:    opt.Logger.Named("plugin").Named(s.Name),
		state:  StateStarting,
		health: map[string]string{},
	}
}

// current returns the running generation, or nil when calls are not
// admitted.
func (s *supervisor) current() *generation {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != StateUp || s.closing {
		return nil
	}
	return s.gen
}

// start launches the process and configures every instance. On error the
// process is killed.
func (s *supervisor) start(ctx context.Context) (*generation, error) {
	if err := verify(s.spec); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	p, err := s.launch(ctx, s.spec, s.log)
	if err != nil {
		return nil, err
	}
	g := &generation{proc: p, killed: make(chan struct{})}
	g.ctx, g.cancel = context.WithCancelCause(context.Background())
	go func() {
		select {
		case <-p.exited:
			g.cancel(ErrPluginDown)
		case <-g.ctx.Done():
		}
	}()
	if err := s.configure(ctx, g); err != nil {
		g.kill()
		<-g.killed
		return nil, err
	}
	return g, nil
}

// configure asks the plugin who it is and configures its instances,
// decoding their config {} bodies against its schemas.
func (s *supervisor) configure(ctx context.Context, g *generation) error {
	cl := g.proc.client
	info, err := cl.Info(ctx)
	if err != nil {
		return fmt.Errorf("plugin %s: %w", s.spec.Name, err)
	}
	g.info = *info
	if hs, ok := cl.(interface{ ServeHost(sdk.HostServices) error }); ok && s.opt.Host != nil {
		if err := hs.ServeHost(s.opt.Host); err != nil {
			return fmt.Errorf("plugin %s: serve host services: %w", s.spec.Name, err)
		}
	}
	schemas := map[string]*rpc.Schema{}
	var diags hcl.Diagnostics
	for _, in := range s.spec.Instances {
		if !info.Serves(in.Kind) {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Wrong plugin kind",
				Detail:  fmt.Sprintf("Plugin %s serves %s, not %s (%s %q names it).", s.spec.Name, strings.Join(info.Kinds, ", "), in.Kind, in.Kind, in.Name),
				Subject: subjectOf(in.DefRange)})
			continue
		}
		val := in.Value
		if val == cty.NilVal {
			schema := schemas[in.Kind]
			if schema == nil {
				if schema, err = cl.Schema(ctx, in.Kind); err != nil {
					return fmt.Errorf("plugin %s: %w", s.spec.Name, err)
				}
				schemas[in.Kind] = schema
			}
			var d hcl.Diagnostics
			if val, d = rpc.DecodeConfig(in.Body, schema.Spec, s.opt.EvalContext); d.HasErrors() {
				diags = append(diags, d...)
				continue
			}
		}
		if err := cl.Configure(ctx, in.Kind, in.Name, val); err != nil {
			if d := rpc.ConfigDiagnostics(in.Body, err); len(d) > 0 {
				diags = append(diags, fixSubjects(d, in.DefRange)...)
				continue
			}
			return fmt.Errorf("plugin %s: %w", s.spec.Name, err)
		}
	}
	if len(diags) > 0 {
		return &DiagnosticsError{Plugin: s.spec.Name, Diags: diags}
	}
	return nil
}

// run supervises the plugin from its first start until ctx is done, then
// drains and stops it. first is the generation Start launched (nil when
// it failed).
func (s *supervisor) run(ctx context.Context, first *generation) {
	backoff := s.opt.MinBackoff
	g := first
	for {
		if g == nil {
			select {
			case <-ctx.Done():
				s.setStopped()
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, s.opt.MaxBackoff)
			var err error
			if g, err = s.start(ctx); err != nil {
				if ctx.Err() != nil {
					s.setStopped()
					return
				}
				s.failed(err)
				continue
			}
			s.up(g)
		}
		upSince := time.Now()
		if !s.watch(ctx, g) {
			s.shutdown(g)
			return
		}
		s.crashed(g)
		if time.Since(upSince) > s.opt.MaxBackoff {
			backoff = s.opt.MinBackoff
		}
		g = nil
	}
}

// watch checks the health of g's instances until its process is gone
// (true) or ctx is done (false).
func (s *supervisor) watch(ctx context.Context, g *generation) bool {
	t := time.NewTicker(s.opt.HealthInterval)
	defer t.Stop()
	for {
		select {
		case <-g.ctx.Done():
			return true
		case <-ctx.Done():
			return false
		case <-t.C:
			s.checkHealth(ctx)
		}
	}
}

// checkHealth calls Health on every instance and records the answers.
func (s *supervisor) checkHealth(ctx context.Context) {
	for _, in := range s.spec.Instances {
		err := s.do(ctx, min(s.timeout, HealthTimeout), func(ctx context.Context, cl client) error {
			return cl.Health(ctx, in.Kind, in.Name)
		})
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		s.mu.Lock()
		prev, seen := s.health[in.Name]
		s.health[in.Name] = msg
		s.mu.Unlock()
		switch {
		case msg != "" && (prev != msg || !seen):
			s.log.Warn("instance unhealthy", "instance", in.Name, "error", err)
		case msg == "" && prev != "":
			s.log.Info("instance healthy again", "instance", in.Name)
		}
	}
}

// hung kills g after n calls in a row passed their deadline; run restarts it.
func (s *supervisor) hung(g *generation, n int) {
	if !g.hungAfter.CompareAndSwap(0, int32(n)) {
		return
	}
	s.log.Warn("plugin hung; killing it", "overruns", n, "call_timeout", s.timeout)
	g.kill()
}

// shutdown stops admitting calls, waits up to the drain timeout for those
// in flight, then stops the process.
func (s *supervisor) shutdown(g *generation) {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	drain := time.NewTimer(s.opt.DrainTimeout)
	defer drain.Stop()
	taken := 0
	for ; taken < cap(s.sem); taken++ {
		select {
		case s.sem <- struct{}{}:
			continue
		case <-drain.C:
			s.log.Warn("calls still in flight at shutdown", "calls", cap(s.sem)-taken)
		case <-g.ctx.Done():
		}
		break
	}
	for ; taken > 0; taken-- {
		<-s.sem
	}
	g.kill()
	<-g.killed
	s.setStopped()
	s.log.Info("plugin stopped")
}

func (s *supervisor) up(g *generation) {
	s.mu.Lock()
	s.gen, s.state, s.info, s.protocol, s.pid = g, StateUp, g.info, g.proc.protocol, g.proc.pid
	s.health = map[string]string{}
	s.mu.Unlock()
	s.log.Info("plugin started", "pid", g.proc.pid, "version", g.info.Version, "protocol", g.proc.protocol)
	s.checkHealth(context.Background())
}

func (s *supervisor) failed(err error) {
	s.mu.Lock()
	s.state, s.lastErr, s.gen, s.pid = StateRestarting, err.Error(), nil, 0
	s.mu.Unlock()
	s.log.Error("plugin failed to start", "error", err)
}

func (s *supervisor) crashed(g *generation) {
	s.mu.Lock()
	s.restarts++
	if n := g.hungAfter.Load(); n > 0 {
		s.lastErr = fmt.Sprintf("hung: %d calls in a row passed their deadline; killed", n)
	} else {
		s.lastErr = "process exited"
	}
	s.state, s.gen, s.pid = StateRestarting, nil, 0
	s.mu.Unlock()
	g.kill()
	s.log.Warn("plugin process exited; restarting", "pid", g.proc.pid)
}

func (s *supervisor) setStopped() {
	s.mu.Lock()
	s.state, s.gen, s.pid = StateStopped, nil, 0
	s.mu.Unlock()
}
