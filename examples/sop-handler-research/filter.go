package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/sdk"
)

// Config is the sop_handler block's config { } body.
type Config struct {
	// RequireAccession refuses instances without an Accession Number.
	RequireAccession bool `hcl:"require_accession,optional"`
	// ResearchAEs are the calling AE titles whose instances are
	// pseudonymised.
	ResearchAEs []string `hcl:"research_aes,optional"`
	// Salt keys the pseudonyms; without it they could be recomputed from
	// the patient ID. Never logged.
	Salt string `hcl:"salt,optional" pacs:"sensitive"`
	// ReportPriors logs, through the archive, how many studies of the
	// patient the archive already holds (an example of host callbacks).
	ReportPriors bool `hcl:"report_priors,optional"`
}

// filter is the handler of one configured instance.
type filter struct{ cfg Config }

// newFilter checks the configuration and returns the handler.
func newFilter(_ context.Context, _ string, cfg *Config) (sdk.SOPHandler, error) {
	if len(cfg.ResearchAEs) != 0 && len(cfg.Salt) < 16 {
		return nil, &sdk.ConfigError{Path: "salt", Message: "pseudonymising needs a salt of at least 16 characters"}
	}
	return &filter{cfg: *cfg}, nil
}

// Handle refuses, pseudonymises or accepts one instance.
func (f *filter) Handle(ctx context.Context, req *sdk.StoreRequest) (*sdk.Decision, error) {
	ds := req.Dataset
	if f.cfg.ReportPriors {
		f.reportPriors(ctx, ds)
	}
	if f.cfg.RequireAccession && strings.TrimSpace(ds.String(dicom.AccessionNumber)) == "" {
		d := sdk.Reject(0xA900, "AccessionNumber missing")
		d.OffendingTags = []dicom.Tag{dicom.AccessionNumber}
		return d, nil
	}
	if !slices.Contains(f.cfg.ResearchAEs, strings.TrimSpace(req.CallingAE)) {
		return sdk.Accept(), nil
	}
	p := pseudonym(f.cfg.Salt, ds.String(dicom.PatientID))
	return sdk.Modify(sdk.NewPatch().
		Set("PatientName", "ANON^"+p).
		Set("PatientID", p).
		Delete("PatientBirthDate").
		Set("PatientIdentityRemoved", "YES")), nil
}

// pseudonym is a stable 16-character pseudonym of a patient ID.
func pseudonym(salt, patientID string) string {
	m := hmac.New(sha256.New, []byte(salt))
	m.Write([]byte(patientID))
	return strings.ToUpper(hex.EncodeToString(m.Sum(nil))[:16])
}

// reportPriors asks the archive for the patient's studies and logs their
// number in the archive's log. A failure is logged, not fatal.
func (f *filter) reportPriors(ctx context.Context, ds *dicom.Dataset) {
	host := sdk.Host(ctx)
	if host == nil {
		return
	}
	keys := dicom.NewDataset(2)
	if err := keys.SetString(dicom.PatientID, ds.String(dicom.PatientID)); err != nil {
		return
	}
	if err := keys.SetString(dicom.StudyInstanceUID); err != nil {
		return
	}
	studies, err := host.QueryIndex(ctx, "STUDY", keys, 1000)
	if err != nil {
		host.Log(ctx, "warn", "prior studies unknown", map[string]string{"error": err.Error()})
		return
	}
	n := 0
	for _, s := range studies {
		if s.String(dicom.StudyInstanceUID) != ds.String(dicom.StudyInstanceUID) {
			n++
		}
	}
	host.Log(ctx, "info", "prior studies of the patient", map[string]string{"count": strconv.Itoa(n)})
}
