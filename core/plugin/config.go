package plugin

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/pacsforge/pacs/sdk"
)

// DiagnosticsError is a plugin's refusal of the config {} bodies of its
// instances, as diagnostics pointing into the site's file (print them
// with config.WriteDiagnostics). Manager.Start returns it; Check too.
type DiagnosticsError struct {
	Plugin string
	Diags  hcl.Diagnostics
}

// Error lists the diagnostics.
func (e *DiagnosticsError) Error() string {
	return fmt.Sprintf("plugin %s: configuration: %s", e.Plugin, e.Diags.Error())
}

// Unwrap makes a DiagnosticsError match sdk.ErrInvalidConfig.
func (e *DiagnosticsError) Unwrap() error { return sdk.ErrInvalidConfig }

// fixSubjects gives the diagnostics without a place (a config body not
// parsed from a file) the instance block's header.
func fixSubjects(diags hcl.Diagnostics, def hcl.Range) hcl.Diagnostics {
	for _, d := range diags {
		if d.Subject == nil || *d.Subject == (hcl.Range{}) {
			d.Subject = subjectOf(def)
		}
	}
	return diags
}

func subjectOf(r hcl.Range) *hcl.Range {
	if r == (hcl.Range{}) {
		return nil
	}
	return r.Ptr()
}
