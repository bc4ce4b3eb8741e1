package config

import (
	"fmt"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
)

// BackendFS is the ID of the built-in filesystem storage backend.
const BackendFS = "fs"

// The values of FSConfig.Layout.
const (
	// LayoutUID stores an object under its Study, Series and SOP Instance UIDs.
	LayoutUID = "uid"
	// LayoutDate stores an object under the date it was received, then its UIDs.
	LayoutDate = "date"
)

// FSConfig is the config {} body of an "fs" storage block, with root and
// layout attributes.
type FSConfig struct {
	// Root is the directory of the objects; empty means DataDir/objects
	// (see RootDir). Relative paths are relative to the working directory.
	Root string `hcl:"root,optional"`
	// Layout is LayoutUID (the default) or LayoutDate.
	Layout string `hcl:"layout,optional"`

	RootRange   hcl.Range `hcl:"root,attr_range"`
	LayoutRange hcl.Range `hcl:"layout,attr_range"`
}

// RootDir returns the directory of the objects: Root, or dataDir/objects
// when Root is empty.
func (f *FSConfig) RootDir(dataDir string) string {
	if f.Root != "" {
		return f.Root
	}
	return filepath.Join(dataDir, defaultObjectsDirInsideData)
}

// DecodeFS decodes and checks the config {} body of an "fs" storage block
// (nil: every default) with the evaluation context of site files.
// Diagnostics point at the site's file: an unknown attribute, a wrong type
// or an unknown layout.
func DecodeFS(pc *PluginConfig, ctx *hcl.EvalContext) (*FSConfig, hcl.Diagnostics) {
	fs := &FSConfig{Layout: DefaultFSLayout}
	if pc == nil || pc.Body == nil {
		return fs, nil
	}
	diags := gohcl.DecodeBody(pc.Body, ctx, fs)
	switch fs.Layout {
	case LayoutUID, LayoutDate:
	default:
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid storage layout",
			Detail:   fmt.Sprintf("The fs backend's layout is %q or %q, not %q.", LayoutUID, LayoutDate, fs.Layout),
			Subject:  subject(fs.LayoutRange),
		})
	}
	return fs, diags
}
