package plugin

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/pacsforge/pacs/core/storage"
	"github.com/pacsforge/pacs/sdk"
)

// Options configure a Manager. The zero value is usable.
type Options struct {
	// Logger receives the host's messages about plugins and every line the
	// plugins log, under plugin.<name> (nil: discarded).
	Logger hclog.Logger
	// EvalContext evaluates config {} bodies (config.Parser.EvalContext:
	// env() and the string functions; nil: no functions).
	EvalContext *hcl.EvalContext
	// HealthInterval, MinBackoff, MaxBackoff and DrainTimeout default to
	// the constants of the same names.
	HealthInterval time.Duration
	MinBackoff     time.Duration
	MaxBackoff     time.Duration
	DrainTimeout   time.Duration

	// Host is what plugins may call back (reading instances, querying the
	// index, logging), served to every plugin process over go-plugin's
	// broker before its instances are configured (nil: plugins get no
	// host services).
	Host sdk.HostServices

	// launch starts a process (nil: go-plugin); tests replace it.
	launch launchFunc
}

// Manager runs the plugin processes of a site. Its methods are safe for
// concurrent use. Lifecycle: New, Start, then Storage/Status/Ready, Close.
type Manager struct {
	opt     Options
	sups    []*supervisor
	byName  map[string]*supervisor
	storage map[string]*supervisor // storage instance -> its plugin
	handler map[string]*supervisor // sop_handler instance -> its plugin

	mu      sync.Mutex
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started bool
}

// New returns a Manager of the plugins specs describe; nothing is started.
func New(specs []*Spec, opt Options) *Manager {
	if opt.Logger == nil {
		opt.Logger = hclog.NewNullLogger()
	}
	if opt.HealthInterval <= 0 {
		opt.HealthInterval = HealthInterval
	}
	if opt.MinBackoff <= 0 {
		opt.MinBackoff = MinBackoff
	}
	if opt.MaxBackoff < opt.MinBackoff {
		opt.MaxBackoff = max(MaxBackoff, opt.MinBackoff)
	}
	if opt.DrainTimeout <= 0 {
		opt.DrainTimeout = DrainTimeout
	}
	launch := opt.launch
	if launch == nil {
		launch = launchGoPlugin
	}
	m := &Manager{opt: opt, byName: map[string]*supervisor{}, storage: map[string]*supervisor{}, handler: map[string]*supervisor{}}
	for _, s := range specs {
		sup := newSupervisor(s, &m.opt, launch)
		m.sups = append(m.sups, sup)
		m.byName[s.Name] = sup
		for _, in := range s.Instances {
			switch in.Kind {
			case KindStorage:
				m.storage[in.Name] = sup
			case KindSOPHandler:
				m.handler[in.Name] = sup
			}
		}
	}
	return m
}

// Start launches every plugin and configures its instances, then
// supervises them until Close. A plugin that fails to start is retried
// with back-off (Ready reports it); Start returns an error only for
// configuration mistakes (a *DiagnosticsError, a checksum mismatch, a
// plugin of another protocol version), after
// which the Manager must be closed.
func (m *Manager) Start(ctx context.Context) error {
	m.mu.Lock()
	if m.started {
		m.mu.Unlock()
		return errors.New("plugin manager already started")
	}
	m.started = true
	runCtx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.mu.Unlock()

	firsts := make([]*generation, len(m.sups))
	errs := make([]error, len(m.sups))
	var wg sync.WaitGroup
	for i, s := range m.sups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g, err := s.start(ctx)
			if err != nil {
				s.failed(err)
				errs[i] = err
				return
			}
			firsts[i] = g
			s.up(g)
		}()
	}
	wg.Wait()
	var fatal []error
	for i, s := range m.sups {
		var de *DiagnosticsError
		if errs[i] != nil && (errors.As(errs[i], &de) || errors.Is(errs[i], ErrChecksumMismatch) || errors.Is(errs[i], ErrProtocolVersion)) {
			fatal = append(fatal, errs[i])
		}
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			s.run(runCtx, firsts[i])
		}()
	}
	return errors.Join(fatal...)
}

// Close drains and stops every plugin (see DrainTimeout) and waits for
// them. It may be called after a failed or without a Start.
func (m *Manager) Close() error {
	m.mu.Lock()
	cancel := m.cancel
	m.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	m.wg.Wait()
	return nil
}

// Storage returns the storage.Backend of the storage instance (block
// label) name, served by its plugin. It also implements storage.Lister.
func (m *Manager) Storage(name string) (storage.Backend, error) {
	s := m.storage[name]
	if s == nil {
		return nil, fmt.Errorf("no plugin serves storage %q", name)
	}
	return &storageBackend{s: s, instance: name}, nil
}

// Ready returns nil when every required plugin is up and its instances
// healthy, else an error naming the first that is not.
func (m *Manager) Ready() error {
	for _, s := range m.sups {
		if err := s.ready(); err != nil && s.spec.Required {
			return err
		}
	}
	return nil
}

// PluginReady returns nil when the plugin name is up and its instances
// healthy, else an error saying what is wrong (for a readiness check per
// plugin).
func (m *Manager) PluginReady(name string) error {
	s := m.byName[name]
	if s == nil {
		return fmt.Errorf("no plugin %q", name)
	}
	return s.ready()
}

func (s *supervisor) ready() error {
	st := s.status()
	if st.State != StateUp {
		return fmt.Errorf("plugin %s is %s", st.Name, st.State)
	}
	for _, in := range st.Instances {
		if in.Error != "" {
			return fmt.Errorf("plugin %s: %s %s is unhealthy", st.Name, in.Kind, in.Name)
		}
	}
	return nil
}

// Status describes each plugin, in the order of the specs.
func (m *Manager) Status() []Status {
	out := make([]Status, 0, len(m.sups))
	for _, s := range m.sups {
		out = append(out, s.status())
	}
	return out
}

// Status is the state of one plugin for pacs plugins list and /ready. It
// holds no configuration values, so no secret.
type Status struct {
	Name string
	// Path and Args are the executable and its arguments (secret-looking
	// arguments redacted, see RedactArgs).
	Path string
	Args []string
	// SelfServed marks a first-party plugin served by the pacs executable.
	SelfServed bool
	// Version, SDKVersion and Kinds are the plugin's answer to Info;
	// Protocol the negotiated protocol version (0 before the first start).
	Version, SDKVersion string
	Kinds               []string
	Protocol            int
	// PID is the process ID while it runs.
	PID   int
	State State
	// Restarts counts the restarts after a crash or a hang.
	Restarts int
	// LastError is the last failure (start, crash, hang), "" if none.
	LastError string
	Required  bool
	// Instances are the configured instances with their last health.
	Instances []InstanceStatus
}

// InstanceStatus is the health of one instance; Error is "" when its
// last Health call succeeded (or none was made yet).
type InstanceStatus struct {
	Kind, Name string
	Error      string
}

func (s *supervisor) status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{
		Name: s.spec.Name, Path: s.spec.Path, Args: RedactArgs(s.spec.Args), SelfServed: s.spec.SelfServed,
		Version: s.info.Version, SDKVersion: s.info.SDKVersion, Kinds: append([]string(nil), s.info.Kinds...),
		Protocol: s.protocol, PID: s.pid, State: s.state, Restarts: s.restarts, LastError: s.lastErr,
		Required: s.spec.Required,
	}
	sort.Strings(st.Kinds)
	for _, in := range s.spec.Instances {
		st.Instances = append(st.Instances, InstanceStatus{Kind: in.Kind, Name: in.Name, Error: s.health[in.Name]})
	}
	return st
}

// Host returns the host services plugins are given (Options.Host).
func (m *Manager) Host() sdk.HostServices { return m.opt.Host }
