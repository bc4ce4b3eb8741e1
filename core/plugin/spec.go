package plugin

import (
	"fmt"
	"runtime"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/pacsforge/pacs/core/config"
	"github.com/pacsforge/pacs/sdk"
)

// The kinds of plugin instances.
const (
	KindStorage    = sdk.KindStorage
	KindSOPHandler = sdk.KindSOPHandler
	KindTask       = sdk.KindTask
)

// Spec is one plugin process to run and the instances to configure in it.
type Spec struct {
	// Name is the plugin block's label, or the first-party backend's name
	// ("s3") for a plugin the pacs executable serves.
	Name string
	// Path is the executable; Args its arguments.
	Path string
	Args []string
	// SHA256 is the executable's pinned digest in hex. It is checked before
	// every start; it may be empty only when SelfServed.
	SHA256 string
	// SelfServed marks a first-party plugin served by the running pacs
	// executable (Path is os.Executable()), which is not checksummed.
	SelfServed bool
	// CallTimeout is the deadline of a call and the idle timeout between
	// stream chunks (0: DefaultCallTimeout).
	CallTimeout time.Duration
	// MaxConcurrency bounds the calls in flight (0: DefaultConcurrency()).
	MaxConcurrency int
	// Required makes Manager.Ready fail while the plugin is down.
	Required bool
	// Instances are configured after every start, in order.
	Instances []*Instance
}

// Instance is one configured use of a plugin: a storage or sop_handler
// block naming it.
type Instance struct {
	// Kind is KindStorage, KindSOPHandler or KindTask; Name the block label.
	Kind, Name string
	// Body is the block's config {} body (nil: empty), decoded against the
	// plugin's schema when the plugin starts; DefRange is the block's
	// header, where problems without a better place are reported.
	Body     hcl.Body
	DefRange hcl.Range
	// Value, when not cty.NilVal, is the decoded config itself and Body is
	// not used (the host builds it, as for the first-party fs backend).
	Value cty.Value
}

// DefaultCallTimeout is the deadline of a call when the spec gives none.
const DefaultCallTimeout = 30 * time.Second

// DefaultConcurrency is the number of calls in flight to one plugin when
// the spec gives no limit: 4 × GOMAXPROCS.
func DefaultConcurrency() int { return 4 * runtime.GOMAXPROCS(0) }

// FirstParty says how the running executable serves first-party plugins:
// Args returns the arguments that make Path serve the named one ("s3"),
// and false when it is not built in.
type FirstParty struct {
	Path string
	Args func(name string) ([]string, bool)
}

// Specs returns the plugin processes cfg needs: one per plugin block
// (with the storage and sop_handler blocks naming it), and one per
// first-party backend (s3, azure, or fs with out_of_process) served by
// self. A filesystem tier in process needs none. A first-party backend
// self does not serve is an error.
func Specs(cfg *config.Config, self FirstParty) ([]*Spec, error) {
	var specs []*Spec
	byName := map[string]*Spec{}
	for _, p := range cfg.Plugins {
		s := &Spec{
			Name:           p.Name,
			Path:           cfg.PluginPath(p),
			Args:           p.Args,
			SHA256:         p.SHA256,
			CallTimeout:    p.Timeout(),
			MaxConcurrency: p.MaxConcurrency,
			Required:       p.Required,
		}
		specs = append(specs, s)
		byName[p.Name] = s
	}
	for _, st := range cfg.Storage {
		s := byName[st.Backend]
		if s == nil {
			if st.Backend == config.BackendFS && !st.OutOfProcess {
				continue
			}
			if !config.IsFirstPartyBackend(st.Backend) {
				return nil, fmt.Errorf("storage %q: backend %q is neither first-party nor a plugin block", st.Name, st.Backend)
			}
			var args []string
			var ok bool
			if self.Args != nil {
				args, ok = self.Args(st.Backend)
			}
			if !ok || self.Path == "" {
				return nil, fmt.Errorf("storage %q: backend %q is not built into this executable", st.Name, st.Backend)
			}
			s = &Spec{Name: st.Backend, Path: self.Path, Args: args, SelfServed: true, CallTimeout: DefaultCallTimeout}
			specs = append(specs, s)
			byName[st.Backend] = s
		}
		s.Required = true // the archive cannot store without its tiers
		in := &Instance{Kind: KindStorage, Name: st.Name, DefRange: st.DefRange}
		if st.Config != nil {
			in.Body = st.Config.Body
		}
		if s.SelfServed && st.Backend == config.BackendFS && st.FS != nil {
			in.Value = cty.ObjectVal(map[string]cty.Value{
				"root":   cty.StringVal(st.FS.RootDir(cfg.DataDir)),
				"layout": cty.StringVal(st.FS.Layout),
			})
		}
		s.Instances = append(s.Instances, in)
	}
	for _, h := range cfg.SOPHandlers {
		s := byName[h.Plugin]
		if s == nil {
			return nil, fmt.Errorf("sop_handler %q: no plugin block is named %q", h.Name, h.Plugin)
		}
		in := &Instance{Kind: KindSOPHandler, Name: h.Name, DefRange: h.DefRange}
		if h.Config != nil {
			in.Body = h.Config.Body
		}
		s.Instances = append(s.Instances, in)
	}
	return specs, nil
}
