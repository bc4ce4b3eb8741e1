package config

import (
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/sdk"
)

// Timeouts are the parsed timeouts of a dicom block; zero means none.
type Timeouts struct {
	Association, Idle, DIMSE, Release time.Duration
}

// Timeouts returns the block's timeouts parsed. A value Validate rejects
// is returned as zero.
func (d *DICOM) Timeouts() Timeouts {
	p := func(s string) time.Duration { v, _ := parseDuration(s); return v }
	return Timeouts{
		Association: p(d.AssociationTimeout),
		Idle:        p(d.IdleTimeout),
		DIMSE:       p(d.DIMSETimeout),
		Release:     p(d.ReleaseTimeout),
	}
}

// MaxPDU returns MaxPDULength in bytes, or 0 when Validate rejects it.
func (d *DICOM) MaxPDU() uint32 {
	n, err := sdk.ParseSize(d.MaxPDULength)
	if err != nil || n < MinPDULength || n > MaxPDULength {
		return 0
	}
	return uint32(n)
}

// SOPClassUIDs returns SOPClasses as UIDs (keywords resolved), or nil when
// SOPClasses is empty: every Storage SOP class, Verification and
// Query/Retrieve. Entries Validate rejects are left out.
func (d *DICOM) SOPClassUIDs() []string {
	return resolveAll(d.SOPClasses, uid.TypeSOPClass, uid.TypeMetaSOPClass)
}

// TransferSyntaxUIDs returns TransferSyntaxes as UIDs (keywords resolved),
// or nil when TransferSyntaxes is empty: the default policy. Entries
// Validate rejects are left out.
func (d *DICOM) TransferSyntaxUIDs() []string {
	return resolveAll(d.TransferSyntaxes, uid.TypeTransferSyntax)
}

func resolveAll(names []string, types ...uid.Type) []string {
	var out []string
	for _, n := range names {
		if u, err := resolveUID(n, types...); err == nil {
			out = append(out, u)
		}
	}
	return out
}

// Age returns After parsed, or 0 when After is empty (the first tier) or
// Validate rejects it.
func (s *Storage) Age() time.Duration {
	d, _ := ParseAge(s.After)
	return d
}

// readCAs reads the CA certificates of CAFile.
func (r *Remote) readCAs() (*x509.CertPool, error) {
	b, err := os.ReadFile(r.CAFile)
	if err != nil {
		return nil, fmt.Errorf("remote %q: %w", r.AETitle, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("remote %q: %s holds no PEM certificate", r.AETitle, r.CAFile)
	}
	return pool, nil
}
