package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"slices"
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
func (f *filter) Handle(_ context.Context, req *sdk.StoreRequest) (*sdk.Decision, error) {
	ds := req.Dataset
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
