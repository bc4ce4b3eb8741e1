package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/pacsforge/pacs/core/config"
	"github.com/pacsforge/pacs/core/plugin"
	"github.com/pacsforge/pacs/core/storage"
	"github.com/pacsforge/pacs/core/web"
	azurestorage "github.com/pacsforge/pacs/plugins/storage-azure"
	fsstorage "github.com/pacsforge/pacs/plugins/storage-fs"
	s3storage "github.com/pacsforge/pacs/plugins/storage-s3"
)

// pluginServeCommand is the hidden subcommand that makes the pacs
// executable serve one of its first-party plugins: the plugin manager
// re-executes pacs with it.
const pluginServeCommand = "plugin-serve"

// firstPartyPlugins are the plugins the pacs executable serves, by the
// name plugin-serve takes; adding one is one line.
var firstPartyPlugins = map[string]func(){
	"storage-fs":    fsstorage.Serve,
	"storage-s3":    s3storage.Serve,
	"storage-azure": azurestorage.Serve,
}

// firstPartyStorage maps a first-party storage backend to its plugin.
var firstPartyStorage = map[string]string{
	config.BackendFS:    "storage-fs",
	config.BackendS3:    "storage-s3",
	config.BackendAzure: "storage-azure",
}

// runPluginServe serves the first-party plugin args[0] until the host
// stops it.
func runPluginServe(args []string) int {
	if len(args) != 1 || firstPartyPlugins[args[0]] == nil {
		fmt.Fprintf(stderr, "usage: pacs %s NAME (started by pacs serve, not by hand)\n", pluginServeCommand)
		return 2
	}
	firstPartyPlugins[args[0]]()
	return 0
}

// firstParty says how this executable serves the first-party backends.
func firstParty() plugin.FirstParty {
	exe, _ := os.Executable()
	return plugin.FirstParty{Path: exe, Args: func(backend string) ([]string, bool) {
		name, ok := firstPartyStorage[backend]
		if !ok || firstPartyPlugins[name] == nil {
			return nil, false
		}
		return []string{pluginServeCommand, name}, true
	}}
}

// newPluginManager returns the plugin manager of cfg (nil when cfg needs
// no plugin process).
func newPluginManager(cfg *config.Config, log hclog.Logger) (*plugin.Manager, error) {
	specs, err := plugin.Specs(cfg, firstParty())
	if err != nil || len(specs) == 0 {
		return nil, err
	}
	host := &hostServices{log: log.Named("plugin-host")}
	return plugin.New(specs, plugin.Options{Logger: log, EvalContext: config.NewParser().EvalContext(), Host: host}), nil
}

// openBackend opens the first storage tier of cfg: the filesystem in
// process, or a plugin's instance through the started manager m.
func openBackend(cfg *config.Config, m *plugin.Manager) (storage.Backend, storage.Layout, error) {
	tier := cfg.Storage[0]
	fsc := tier.FS
	if fsc == nil {
		fsc = &config.FSConfig{}
	}
	layout, err := storage.ParseLayout(fsc.Layout)
	if err != nil {
		return nil, 0, err
	}
	if tier.Backend == config.BackendFS && !tier.OutOfProcess && cfg.PluginByName(config.BackendFS) == nil {
		st, err := storage.NewFS(tier.Name, fsc.RootDir(cfg.DataDir))
		if err != nil {
			return nil, 0, err
		}
		return st, layout, nil
	}
	if m == nil {
		return nil, 0, fmt.Errorf("storage %q: no plugin serves backend %q", tier.Name, tier.Backend)
	}
	b, err := m.Storage(tier.Name)
	return b, layout, err
}

// printPluginError writes a plugin start error, one per failed plugin when
// joined, with the configuration diagnostics at their file:line:col when it
// has some.
func printPluginError(err error, files map[string]*hcl.File) {
	var de *plugin.DiagnosticsError
	for _, e := range unjoin(err) {
		if errors.As(e, &de) {
			config.WriteDiagnostics(stderr, de.Diags, files)
			continue
		}
		fmt.Fprintf(stderr, "error: %v\n", e)
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func runPlugins(args []string) int {
	usage := func() {
		fmt.Fprintf(stderr, `usage: pacs plugins list [--config FILE]
       pacs plugins check [--config FILE]

list   shows the configured plugins (and the executables in plugin_dir):
       path, whether the sha256 matches, and, after starting each one,
       its version, protocol, kinds and health.
check  starts every plugin, configures its instances and checks their
       health; exits 1 on any problem.
`)
	}
	if len(args) == 0 {
		usage()
		return 2
	}
	fs := flag.NewFlagSet("plugins "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = usage
	configPath := fs.String("config", "", "configuration file")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 {
		return 2
	}
	switch args[0] {
	case "list", "check":
	case "-h", "--help", "help":
		usage()
		return 0
	default:
		fmt.Fprintf(stderr, "pacs plugins: unknown subcommand %q\n", args[0])
		usage()
		return 2
	}
	p := config.NewParser()
	cfg, ok := loadConfig(p, *configPath)
	if !ok {
		return 1
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "pacs", Output: stderr, Level: hclog.Warn})
	if args[0] == "check" {
		log.SetLevel(hclog.Info)
	}
	specs, err := plugin.Specs(cfg, firstParty())
	if err != nil {
		fmt.Fprintf(stderr, "pacs plugins: %v\n", err)
		return 1
	}
	m := plugin.New(specs, plugin.Options{Logger: log, EvalContext: p.EvalContext()})
	startErr := m.Start(context.Background())
	defer m.Close()
	if startErr != nil {
		printPluginError(startErr, p.Files())
	}
	code := 0
	if startErr != nil {
		code = 1
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tPATH\tSHA256\tVERSION\tPROTOCOL\tKINDS\tSTATE\tHEALTH")
	for i, st := range m.Status() {
		sum := "ok"
		switch {
		case specs[i].SelfServed:
			sum = "built in"
		default:
			if got, err := plugin.FileSHA256(st.Path); err != nil {
				sum, code = "unreadable", 1
			} else if !strings.EqualFold(got, specs[i].SHA256) {
				sum, code = "MISMATCH "+got, 1
			}
		}
		health := "ok"
		for _, in := range st.Instances {
			if in.Error != "" {
				health, code = fmt.Sprintf("%s %s: %s", in.Kind, in.Name, in.Error), 1
			}
		}
		if st.State != plugin.StateUp {
			health, code = st.LastError, 1
		}
		path := st.Path
		if len(st.Args) > 0 {
			path += " " + strings.Join(st.Args, " ")
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", st.Name, path, sum, orDash(st.Version), orDash(protocolString(st.Protocol)), orDash(strings.Join(st.Kinds, ",")), st.State, health)
	}
	if cfg.PluginDir != "" {
		found, err := plugin.Discover(cfg.PluginDir)
		if err != nil {
			fmt.Fprintf(stderr, "pacs plugins: plugin_dir: %v\n", err)
			code = 1
		}
		for _, d := range found {
			if cfg.PluginByName(d.Name) != nil {
				continue
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t-\t-\t-\tnot configured\t-\n", d.Name, d.Path, orDash(d.SHA256))
		}
	}
	w.Flush()
	if args[0] == "list" {
		return 0
	}
	if code == 0 {
		fmt.Fprintf(stdout, "%d plugin(s) ok\n", len(specs))
	}
	return code
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func protocolString(v int) string {
	if v == 0 {
		return ""
	}
	return fmt.Sprint(v)
}

// addPluginChecks adds a readiness check per required plugin of m (nil:
// none): /ready is false while it is down or an instance is unhealthy.
func addPluginChecks(h *web.Health, m *plugin.Manager) {
	if m == nil {
		return
	}
	for _, st := range m.Status() {
		if !st.Required {
			continue
		}
		name := st.Name
		h.AddCheck("plugin."+name, func(context.Context) error { return m.PluginReady(name) })
	}
}
