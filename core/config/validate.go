package config

import (
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/sdk"
)

// Validate checks every value of c and returns all the problems found,
// each pointing at its attribute when c was parsed from a file. It does
// not change c. Parse calls it; call it again after changing c (for
// instance with command-line flags).
func (c *Config) Validate() hcl.Diagnostics {
	var diags hcl.Diagnostics
	if c.DataDir == "" {
		diags = append(diags, errorAt(c.DataDirRange, "Invalid data directory", "data_dir cannot be empty."))
	}
	if c.Log != nil {
		diags = append(diags, c.Log.validate()...)
	}
	if c.DICOM != nil {
		diags = append(diags, c.DICOM.validate()...)
	}
	if c.HTTP != nil {
		diags = append(diags, checkListen(c.HTTP.Listen, c.HTTP.ListenRange, "http")...)
	}
	diags = append(diags, validateStorage(c.Storage)...)
	diags = append(diags, validateRemotes(c.Remotes)...)
	diags = append(diags, c.validatePlugins()...)
	return diags
}

// LogLevels are the values of log.level, most verbose first.
var LogLevels = []string{"trace", "debug", "info", "warn", "error", "off"}

func (l *Log) validate() (diags hcl.Diagnostics) {
	if !oneOf(l.Level, LogLevels...) {
		diags = append(diags, errorAt(l.LevelRange, "Invalid log level",
			fmt.Sprintf("The log level is one of %s, not %q.", strings.Join(LogLevels, ", "), l.Level)))
	}
	if !oneOf(l.Format, "text", "json") {
		diags = append(diags, errorAt(l.FormatRange, "Invalid log format",
			fmt.Sprintf("The log format is \"text\" or \"json\", not %q.", l.Format)))
	}
	return diags
}

func (d *DICOM) validate() (diags hcl.Diagnostics) {
	if err := ValidAETitle(d.AETitle); err != nil {
		diags = append(diags, errorAt(d.AETitleRange, "Invalid AE title", upperFirst(err.Error())+"."))
	}
	diags = append(diags, checkListen(d.Listen, d.ListenRange, "dicom")...)
	if t := d.TLS; t != nil {
		diags = append(diags, checkListen(t.Listen, t.ListenRange, "dicom.tls")...)
		if t.Listen == d.Listen {
			diags = append(diags, errorAt(t.ListenRange, "Invalid listen address",
				fmt.Sprintf("dicom.tls.listen is the address of the plain listener, dicom.listen (%s): the TLS listener needs a port of its own.", d.Listen)))
		}
	}
	if d.MaxAssociations < 1 || d.MaxAssociations > MaxAssociationsLimit {
		diags = append(diags, errorAt(d.MaxAssociationsRange, "Invalid association limit",
			fmt.Sprintf("max_associations is from 1 to %d, not %d.", MaxAssociationsLimit, d.MaxAssociations)))
	}
	switch {
	case d.MaxAssociationsPerAE < 0:
		diags = append(diags, errorAt(d.MaxAssociationsPerAERange, "Invalid association limit",
			fmt.Sprintf("max_associations_per_ae is 0 (no limit per AE) or more, not %d.", d.MaxAssociationsPerAE)))
	case d.MaxAssociationsPerAE > d.MaxAssociations && d.MaxAssociations >= 1:
		diags = append(diags, errorAt(d.MaxAssociationsPerAERange, "Invalid association limit",
			fmt.Sprintf("max_associations_per_ae is at most max_associations (%d), not %d.", d.MaxAssociations, d.MaxAssociationsPerAE)))
	}
	if n, err := sdk.ParseSize(d.MaxPDULength); err != nil {
		diags = append(diags, errorAt(d.MaxPDULengthRange, "Invalid size", upperFirst(err.Error())+"."))
	} else if n < MinPDULength || n > MaxPDULength {
		diags = append(diags, errorAt(d.MaxPDULengthRange, "Invalid maximum PDU length",
			fmt.Sprintf("max_pdu_length is from %d (4KiB) to %d (64MiB) bytes, not %d.", MinPDULength, MaxPDULength, n)))
	}
	if d.AsyncOps < 1 || d.AsyncOps > MaxAsyncOps {
		diags = append(diags, errorAt(d.AsyncOpsRange, "Invalid asynchronous operations window",
			fmt.Sprintf("async_ops is from 1 (synchronous) to %d, not %d.", MaxAsyncOps, d.AsyncOps)))
	}
	for _, t := range []struct {
		name, value string
		rng         hcl.Range
		zeroOK      bool
	}{
		{"association_timeout", d.AssociationTimeout, d.AssociationTimeoutRange, false},
		{"idle_timeout", d.IdleTimeout, d.IdleTimeoutRange, true},
		{"dimse_timeout", d.DIMSETimeout, d.DIMSETimeoutRange, true},
		{"release_timeout", d.ReleaseTimeout, d.ReleaseTimeoutRange, false},
	} {
		v, err := parseDuration(t.value)
		switch {
		case err != nil:
			diags = append(diags, errorAt(t.rng, "Invalid duration", fmt.Sprintf("%s: %s.", t.name, err)))
		case v == 0 && !t.zeroOK:
			diags = append(diags, errorAt(t.rng, "Invalid duration", fmt.Sprintf("%s must be longer than zero.", t.name)))
		}
	}
	for _, ae := range d.AcceptedCallingAEs {
		if err := ValidAETitle(ae); err != nil {
			diags = append(diags, errorAt(d.AcceptedCallingAEsRange, "Invalid AE title", "In accepted_calling_aes: "+err.Error()+"."))
		}
	}
	for _, s := range d.SOPClasses {
		if _, err := resolveUID(s, uid.TypeSOPClass, uid.TypeMetaSOPClass); err != nil {
			diags = append(diags, errorAt(d.SOPClassesRange, "Invalid SOP class", "In sop_classes: "+err.Error()+"."))
		}
	}
	for _, s := range d.TransferSyntaxes {
		if _, err := resolveUID(s, uid.TypeTransferSyntax); err != nil {
			diags = append(diags, errorAt(d.TransferSyntaxesRange, "Invalid transfer syntax", "In transfer_syntaxes: "+err.Error()+"."))
		}
	}
	if !oneOf(d.DuplicatePolicy, DuplicateKeep, DuplicateReject, DuplicateOverwrite) {
		diags = append(diags, errorAt(d.DuplicatePolicyRange, "Invalid duplicate policy",
			fmt.Sprintf("duplicate_policy is %q, %q or %q, not %q.", DuplicateKeep, DuplicateReject, DuplicateOverwrite, d.DuplicatePolicy)))
	}
	if d.MaxFindResults < 0 {
		diags = append(diags, errorAt(d.MaxFindResultsRange, "Invalid query limit",
			fmt.Sprintf("max_find_results is 0 (unlimited) or more, not %d.", d.MaxFindResults)))
	}
	return diags
}

// validateStorage checks the tiers: unique names, a backend each, ages
// only after the first tier and growing from tier to tier.
func validateStorage(tiers []*Storage) (diags hcl.Diagnostics) {
	seen := map[string]*Storage{}
	var prevAge, prevName = int64(0), ""
	for i, s := range tiers {
		if s.Name == "" {
			diags = append(diags, errorAt(s.NameRange, "Invalid storage name", "A storage block's label cannot be empty."))
		} else if first, ok := seen[s.Name]; ok {
			diags = append(diags, errorAt(s.NameRange, "Duplicate storage block",
				fmt.Sprintf("Storage %q is already defined at %s.", s.Name, first.DefRange)))
		} else {
			seen[s.Name] = s
		}
		if s.Backend == "" && (s.BackendRange != hcl.Range{} || s.DefRange == hcl.Range{}) {
			diags = append(diags, errorAt(s.BackendRange, "Invalid storage backend", fmt.Sprintf("Storage %q needs a backend such as \"fs\".", s.Name)))
		}
		switch {
		case i == 0 && s.After != "":
			diags = append(diags, errorAt(s.AfterRange, "Invalid tier age",
				fmt.Sprintf("Storage %q is the first tier, where new instances go; after applies to later tiers.", s.Name)))
		case i > 0 && s.After == "":
			diags = append(diags, errorAt(orRange(s.AfterRange, s.DefRange), "Missing tier age",
				fmt.Sprintf("Storage %q follows another tier, so it needs after = \"30d\" (the age at which instances move here).", s.Name)))
		case i > 0:
			age, err := ParseAge(s.After)
			if err != nil {
				diags = append(diags, errorAt(s.AfterRange, "Invalid tier age", upperFirst(err.Error())+"."))
				break
			}
			if prevAge > 0 && int64(age) <= prevAge {
				diags = append(diags, errorAt(s.AfterRange, "Invalid tier age",
					fmt.Sprintf("Storage %q must have an age larger than that of %q, the tier before.", s.Name, prevName)))
			}
			prevAge = int64(age)
		}
		prevName = s.Name
	}
	return diags
}

// validateRemotes checks each remote's AE title, host and port, and that
// no AE title is defined twice (leading and trailing spaces ignored).
func validateRemotes(remotes []*Remote) (diags hcl.Diagnostics) {
	seen := map[string]*Remote{}
	for _, r := range remotes {
		if err := ValidAETitle(r.AETitle); err != nil {
			diags = append(diags, errorAt(r.AETitleRange, "Invalid AE title", upperFirst(err.Error())+"."))
		} else if first, ok := seen[strings.TrimSpace(r.AETitle)]; ok {
			diags = append(diags, errorAt(r.AETitleRange, "Duplicate remote block",
				fmt.Sprintf("Remote %q is already defined at %s.", r.AETitle, first.DefRange)))
		} else {
			seen[strings.TrimSpace(r.AETitle)] = r
		}
		if r.Host == "" && (r.HostRange != hcl.Range{} || r.DefRange == hcl.Range{}) {
			diags = append(diags, errorAt(r.HostRange, "Invalid remote host", fmt.Sprintf("Remote %q needs a host name or IP address.", r.AETitle)))
		} else if r.Host != "" {
			if net.ParseIP(r.Host) == nil && !validHostName(r.Host) {
				diags = append(diags, errorAt(r.HostRange, "Invalid remote host",
					fmt.Sprintf("%q is neither an IP address nor a host name.", r.Host)))
			}
		}
		if r.Port < 1 || r.Port > 65535 {
			diags = append(diags, errorAt(r.PortRange, "Invalid port", fmt.Sprintf("A port is from 1 to 65535, not %d.", r.Port)))
		}
		if r.CAFile != "" && !r.TLS {
			diags = append(diags, errorAt(r.CAFileRange, "CA file without TLS",
				fmt.Sprintf("Remote %q has a ca_file but not tls = true: its certificates would not be used.", r.AETitle)))
		}
	}
	return diags
}

// checkListen reports an invalid listen address of block.
func checkListen(addr string, rng hcl.Range, block string) hcl.Diagnostics {
	if err := CheckListen(addr); err != nil {
		return hcl.Diagnostics{errorAt(rng, "Invalid listen address", fmt.Sprintf("%s.listen: %s.", block, err))}
	}
	return nil
}

// resolveUID returns the UID named by s, a UID or a PS3.6 keyword of one
// of the given types. A well-formed UID absent from the registry is
// accepted (private SOP classes), but a registered UID of another type is not.
func resolveUID(s string, types ...uid.Type) (string, error) {
	info, ok := uid.ByKeyword(s)
	if !ok {
		if err := uid.Valid(s); err != nil {
			return "", fmt.Errorf("%q is neither a UID nor a keyword of the UID registry", s)
		}
		info, ok = uid.Lookup(s)
		if !ok {
			if slices.Contains(types, uid.TypeTransferSyntax) {
				return "", fmt.Errorf("%q is not a registered transfer syntax", s)
			}
			return s, nil
		}
	}
	if !slices.Contains(types, info.Type) {
		return "", fmt.Errorf("%q is a %s, not a %s", s, info.Type, types[0])
	}
	return info.UID, nil
}

func oneOf(s string, values ...string) bool { return slices.Contains(values, s) }

// errorAt is an error diagnostic about the value at rng (none when rng is zero).
func errorAt(rng hcl.Range, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: subject(rng)}
}

func orRange(r, fallback hcl.Range) hcl.Range {
	if r == (hcl.Range{}) {
		return fallback
	}
	return r
}

// upperFirst upper-cases the first letter of a message, to make it a sentence.
func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
