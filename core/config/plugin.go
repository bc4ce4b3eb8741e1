package config

import (
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/pacsforge/pacs/core/dicom/uid"
)

// uidSOPClassTypes are the UID types a sop_classes entry may name.
var uidSOPClassTypes = []uid.Type{uid.TypeSOPClass, uid.TypeMetaSOPClass}

// The first-party storage backends: BackendFS runs in process unless its
// block says out_of_process; the others always run as plugin processes
// served by the pacs executable itself. A plugin block of the same name
// takes the place of the first-party plugin.
const (
	BackendS3    = "s3"
	BackendAzure = "azure"
)

// FirstPartyBackends are the storage backends a site may name without a
// plugin block.
var FirstPartyBackends = []string{BackendFS, BackendS3, BackendAzure}

// PluginExecutablePrefix starts the name of every plugin executable found
// in plugin_dir: pacs-plugin-<name>.
const PluginExecutablePrefix = "pacs-plugin-"

// Plugin defaults and limits.
const (
	// DefaultCallTimeout is the deadline of one plugin call, and the idle
	// timeout between the chunks of a stream.
	DefaultCallTimeout = "30s"
	// DefaultSOPHandlerTimeout is the deadline of one sop_handler call.
	DefaultSOPHandlerTimeout = "5s"
	// MaxPluginConcurrency bounds plugin.max_concurrency.
	MaxPluginConcurrency = 4096
	// ServiceCStore is the only DIMSE service a sop_handler handles now.
	ServiceCStore = "C-STORE"
)

// The values of SOPHandler.OnError.
const (
	// OnErrorReject fails the instance (0110) when the handler fails.
	OnErrorReject = "reject"
	// OnErrorAccept goes on with the chain when the handler fails.
	OnErrorAccept = "accept"
)

// Plugin is a plugin block: an executable serving storage backends, SOP
// handlers or tasks over the plugin protocol:
//
//	plugin "dedup" { path = "/opt/pacs/pacs-plugin-dedup", sha256 = "…" }
type Plugin struct {
	// Name is the block label, unique among plugin blocks; storage,
	// sop_handler and task blocks name the plugin by it.
	Name string `hcl:"name,label"`
	// Path is the executable. Empty: plugin_dir/pacs-plugin-<name> (see
	// Config.PluginPath). Relative paths are relative to the working
	// directory.
	Path string `hcl:"path,optional"`
	// SHA256 is the executable's SHA-256 in hex (64 digits, required): a
	// file with another digest is never started.
	SHA256 string `hcl:"sha256,optional"`
	// Args are the executable's command-line arguments.
	Args []string `hcl:"args,optional"`
	// CallTimeout is the deadline of one call, and the idle timeout
	// between chunks of a streamed call. Default "30s". See Timeout.
	CallTimeout string `hcl:"call_timeout,optional"`
	// MaxConcurrency bounds the calls in flight to the plugin (0: the
	// host's default).
	MaxConcurrency int `hcl:"max_concurrency,optional"`
	// Required makes the archive not ready (/ready) while the plugin is
	// down. A plugin serving a storage block is always required.
	Required bool `hcl:"required,optional"`

	NameRange           hcl.Range `hcl:"name,label_range"`
	DefRange            hcl.Range `hcl:",def_range"`
	PathRange           hcl.Range `hcl:"path,attr_range"`
	SHA256Range         hcl.Range `hcl:"sha256,attr_range"`
	CallTimeoutRange    hcl.Range `hcl:"call_timeout,attr_range"`
	MaxConcurrencyRange hcl.Range `hcl:"max_concurrency,attr_range"`
}

// Timeout returns CallTimeout parsed, or the default when Validate
// rejects it.
func (p *Plugin) Timeout() time.Duration {
	if d, err := parseDuration(p.CallTimeout); err == nil && d > 0 {
		return d
	}
	d, _ := parseDuration(DefaultCallTimeout)
	return d
}

// SOPHandler is a sop_handler block: a plugin that inspects, rejects or
// modifies instances of some SOP classes before they are stored. Handlers
// run in the order of their blocks.
type SOPHandler struct {
	// Name is the block label, unique among sop_handler blocks.
	Name string `hcl:"name,label"`
	// Plugin names the plugin block serving the handler (required).
	Plugin string `hcl:"plugin"`
	// SOPClasses are the SOP classes handled, as UIDs or keywords; empty
	// means every one. See SOPClassUIDs.
	SOPClasses []string `hcl:"sop_classes,optional"`
	// Services are the DIMSE services handled. Default ["C-STORE"], the
	// only one now.
	Services []string `hcl:"services,optional"`
	// Timeout is the deadline of one call. Default "5s". See CallTimeout.
	Timeout string `hcl:"timeout,optional"`
	// OnError is what a failed call (crash, timeout, error) does:
	// OnErrorReject (the default) or OnErrorAccept.
	OnError string `hcl:"on_error,optional"`
	// Config is the handler's config {} block, decoded against the
	// plugin's schema when the plugin is started (nil when absent).
	Config *PluginConfig `hcl:"config,block"`

	NameRange       hcl.Range `hcl:"name,label_range"`
	DefRange        hcl.Range `hcl:",def_range"`
	PluginRange     hcl.Range `hcl:"plugin,attr_range"`
	SOPClassesRange hcl.Range `hcl:"sop_classes,attr_range"`
	ServicesRange   hcl.Range `hcl:"services,attr_range"`
	TimeoutRange    hcl.Range `hcl:"timeout,attr_range"`
	OnErrorRange    hcl.Range `hcl:"on_error,attr_range"`
}

// CallTimeout returns Timeout parsed, or the default when Validate
// rejects it.
func (h *SOPHandler) CallTimeout() time.Duration {
	if d, err := parseDuration(h.Timeout); err == nil && d > 0 {
		return d
	}
	d, _ := parseDuration(DefaultSOPHandlerTimeout)
	return d
}

// SOPClassUIDs returns SOPClasses as UIDs, or nil (every SOP class) when
// empty. Entries Validate rejects are left out.
func (h *SOPHandler) SOPClassUIDs() []string {
	return resolveAll(h.SOPClasses, uidSOPClassTypes...)
}

// PluginPath returns the executable of p: its path, or
// plugin_dir/pacs-plugin-<name> when it has none ("" when neither is set).
func (c *Config) PluginPath(p *Plugin) string {
	switch {
	case p.Path != "":
		return p.Path
	case c.PluginDir != "":
		return filepath.Join(c.PluginDir, PluginExecutablePrefix+p.Name)
	}
	return ""
}

// PluginByName returns the plugin block named name, or nil.
func (c *Config) PluginByName(name string) *Plugin {
	for _, p := range c.Plugins {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// IsFirstPartyBackend reports whether name is a first-party storage
// backend (fs, s3, azure).
func IsFirstPartyBackend(name string) bool { return oneOf(name, FirstPartyBackends...) }

// applyPluginDefaults fills the attributes plugin and sop_handler blocks
// left out.
func (c *Config) applyPluginDefaults() {
	for _, p := range c.Plugins {
		if p.CallTimeoutRange == (hcl.Range{}) && p.CallTimeout == "" {
			p.CallTimeout = DefaultCallTimeout
		}
	}
	for _, h := range c.SOPHandlers {
		if h.ServicesRange == (hcl.Range{}) && len(h.Services) == 0 {
			h.Services = []string{ServiceCStore}
		}
		if h.TimeoutRange == (hcl.Range{}) && h.Timeout == "" {
			h.Timeout = DefaultSOPHandlerTimeout
		}
		if h.OnErrorRange == (hcl.Range{}) && h.OnError == "" {
			h.OnError = OnErrorReject
		}
		if len(h.SOPClasses) == 0 {
			h.SOPClasses = nil
		}
	}
}

// validatePlugins checks plugin and sop_handler blocks and that every
// storage backend and handler names a plugin that exists.
func (c *Config) validatePlugins() (diags hcl.Diagnostics) {
	seen := map[string]*Plugin{}
	for _, p := range c.Plugins {
		switch {
		case p.Name == "":
			diags = append(diags, errorAt(p.NameRange, "Invalid plugin name", "A plugin block's label cannot be empty."))
		case strings.ContainsAny(p.Name, "/\\\x00") || p.Name == "." || p.Name == "..":
			diags = append(diags, errorAt(p.NameRange, "Invalid plugin name",
				fmt.Sprintf("%q cannot name a plugin: it holds a slash, a backslash or a NUL, or is a dot.", p.Name)))
		default:
			if first, ok := seen[p.Name]; ok {
				diags = append(diags, errorAt(p.NameRange, "Duplicate plugin block",
					fmt.Sprintf("Plugin %q is already defined at %s.", p.Name, first.DefRange)))
			} else {
				seen[p.Name] = p
			}
		}
		if p.Path == "" && c.PluginDir == "" {
			diags = append(diags, errorAt(orRange(p.PathRange, p.DefRange), "Missing plugin path",
				fmt.Sprintf("Plugin %q needs path = \"/path/to/executable\", or plugin_dir where %s%s is found.", p.Name, PluginExecutablePrefix, p.Name)))
		}
		if p.SHA256 == "" {
			diags = append(diags, errorAt(orRange(p.SHA256Range, p.DefRange), "Missing plugin checksum",
				fmt.Sprintf("Plugin %q needs sha256 = \"<64 hex digits>\": an executable is started only if its SHA-256 matches (sha256sum prints it; so does pacs plugins list).", p.Name)))
		} else if b, err := hex.DecodeString(p.SHA256); err != nil || len(b) != 32 {
			diags = append(diags, errorAt(p.SHA256Range, "Invalid plugin checksum",
				fmt.Sprintf("sha256 is a SHA-256 digest in 64 hexadecimal digits, not %q.", p.SHA256)))
		}
		if d, err := parseDuration(p.CallTimeout); err != nil {
			diags = append(diags, errorAt(p.CallTimeoutRange, "Invalid duration", fmt.Sprintf("call_timeout: %s.", err)))
		} else if d == 0 {
			diags = append(diags, errorAt(p.CallTimeoutRange, "Invalid duration", "call_timeout must be longer than zero."))
		}
		if p.MaxConcurrency < 0 || p.MaxConcurrency > MaxPluginConcurrency {
			diags = append(diags, errorAt(p.MaxConcurrencyRange, "Invalid concurrency limit",
				fmt.Sprintf("max_concurrency is from 0 (the default) to %d, not %d.", MaxPluginConcurrency, p.MaxConcurrency)))
		}
	}
	for _, s := range c.Storage {
		if s.Backend == "" || seen[s.Backend] != nil || IsFirstPartyBackend(s.Backend) {
			continue
		}
		diags = append(diags, errorAt(orRange(s.BackendRange, s.DefRange), "Unknown storage backend",
			fmt.Sprintf("Storage %q names backend %q, which is neither %s nor a plugin block's name.", s.Name, s.Backend, quotedList(FirstPartyBackends))))
	}
	handlers := map[string]*SOPHandler{}
	for _, h := range c.SOPHandlers {
		if h.Name == "" {
			diags = append(diags, errorAt(h.NameRange, "Invalid SOP handler name", "A sop_handler block's label cannot be empty."))
		} else if first, ok := handlers[h.Name]; ok {
			diags = append(diags, errorAt(h.NameRange, "Duplicate sop_handler block",
				fmt.Sprintf("SOP handler %q is already defined at %s.", h.Name, first.DefRange)))
		} else {
			handlers[h.Name] = h
		}
		if h.Plugin == "" {
			if h.PluginRange != (hcl.Range{}) || h.DefRange == (hcl.Range{}) {
				diags = append(diags, errorAt(h.PluginRange, "Missing plugin", fmt.Sprintf("SOP handler %q needs plugin = \"<plugin block name>\".", h.Name)))
			}
		} else if seen[h.Plugin] == nil {
			diags = append(diags, errorAt(h.PluginRange, "Unknown plugin",
				fmt.Sprintf("SOP handler %q names plugin %q, which no plugin block defines.", h.Name, h.Plugin)))
		}
		for _, s := range h.SOPClasses {
			if _, err := resolveUID(s, uidSOPClassTypes...); err != nil {
				diags = append(diags, errorAt(h.SOPClassesRange, "Invalid SOP class", "In sop_classes: "+err.Error()+"."))
			}
		}
		if len(h.Services) == 0 {
			diags = append(diags, errorAt(h.ServicesRange, "Invalid services", fmt.Sprintf("services lists at least one DIMSE service, such as %q.", ServiceCStore)))
		}
		for _, s := range h.Services {
			if s != ServiceCStore {
				diags = append(diags, errorAt(h.ServicesRange, "Invalid service",
					fmt.Sprintf("In services: a SOP handler handles %q, not %q.", ServiceCStore, s)))
			}
		}
		if d, err := parseDuration(h.Timeout); err != nil {
			diags = append(diags, errorAt(h.TimeoutRange, "Invalid duration", fmt.Sprintf("timeout: %s.", err)))
		} else if d == 0 {
			diags = append(diags, errorAt(h.TimeoutRange, "Invalid duration", "timeout must be longer than zero."))
		}
		if !oneOf(h.OnError, OnErrorReject, OnErrorAccept) {
			diags = append(diags, errorAt(h.OnErrorRange, "Invalid error policy",
				fmt.Sprintf("on_error is %q or %q, not %q.", OnErrorReject, OnErrorAccept, h.OnError)))
		}
	}
	return diags
}

// quotedList writes values as "a", "b" or "c".
func quotedList(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = fmt.Sprintf("%q", v)
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// encodePlugins appends plugin_dir, the plugin blocks and the sop_handler
// blocks of c to b, for Encode. A handler's config {} body belongs to its
// plugin and is not reproduced.
func encodePlugins(b *hclwrite.Body, c *Config) {
	if c.PluginDir != "" {
		b.AppendNewline()
		b.SetAttributeValue("plugin_dir", cty.StringVal(c.PluginDir))
	}
	for _, p := range c.Plugins {
		b.AppendNewline()
		pb := b.AppendNewBlock("plugin", []string{p.Name}).Body()
		if p.Path != "" {
			pb.SetAttributeValue("path", cty.StringVal(p.Path))
		}
		pb.SetAttributeValue("sha256", cty.StringVal(p.SHA256))
		if len(p.Args) > 0 {
			pb.SetAttributeValue("args", stringList(p.Args))
		}
		pb.SetAttributeValue("call_timeout", cty.StringVal(p.CallTimeout))
		pb.SetAttributeValue("max_concurrency", cty.NumberIntVal(int64(p.MaxConcurrency)))
		pb.SetAttributeValue("required", cty.BoolVal(p.Required))
	}
	for _, h := range c.SOPHandlers {
		b.AppendNewline()
		hb := b.AppendNewBlock("sop_handler", []string{h.Name}).Body()
		hb.SetAttributeValue("plugin", cty.StringVal(h.Plugin))
		hb.SetAttributeValue("sop_classes", stringList(h.SOPClasses))
		hb.SetAttributeValue("services", stringList(h.Services))
		hb.SetAttributeValue("timeout", cty.StringVal(h.Timeout))
		hb.SetAttributeValue("on_error", cty.StringVal(h.OnError))
		if h.Config != nil {
			cb := hb.AppendNewBlock("config", nil).Body()
			appendComment(cb, "# the settings of plugin "+h.Plugin+" are not reproduced\n")
		}
	}
}
