package dicom_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/part10"
	"github.com/pacsforge/pacs/internal/peertest"
)

// knownViolations lists the files of the shared corpus that break PS3.5, and
// the rules they break; every other file must validate cleanly, so a rule that
// flags conforming data shows up here.
var knownViolations = map[string][]string{
	"OT-PAL-8-face.dcm":        {dicom.RuleCharset, dicom.RuleLength, dicom.RuleSyntax}, // ACR-NEMA "1993.05.26" and "11:28:41"
	"gdcm-US-ALOKA-16.dcm":     {dicom.RuleCharset},                                     // Image Type "NORMAL/RAW" style CS
	"meta_missing_tsyntax.dcm": {dicom.RuleOddLength},                                   // odd UN in illegal group 0001
	"nested_priv_SQ.dcm":       {dicom.RuleOddLength},
	"ExplVR_BigEnd.dcm":        {dicom.RuleCharset, dicom.RuleLength, dicom.RuleSyntax}, // ACR-NEMA date and time
	"rtdose.dcm":               {dicom.RuleSyntax},                                      // UIDs with leading zeros
	"rtdose_expb.dcm":          {dicom.RuleSyntax},
	"rtdose_1frame.dcm":        {dicom.RuleSyntax},
}

func TestValidateCorpus(t *testing.T) {
	root := peertest.TestData(t)
	strict := strings.HasSuffix(filepath.ToSlash(root), "shared/testdata/dicom")
	read := 0
	for _, path := range peertest.TestDataFiles(t, root) {
		rel, _ := filepath.Rel(root, path)
		if strings.HasPrefix(filepath.ToSlash(rel), "malformed/") {
			continue
		}
		f, err := part10.ReadFile(path)
		if err != nil {
			continue // not this test's concern: the readers have their own
		}
		read++
		var rules []string
		for _, v := range f.Dataset.Validate() {
			if !slices.Contains(rules, v.Rule) {
				rules = append(rules, v.Rule)
			}
			if want, known := knownViolations[filepath.Base(path)]; strict && (!known || !slices.Contains(want, v.Rule)) {
				t.Errorf("%s: %s", rel, v)
			}
		}
		for _, rule := range knownViolations[filepath.Base(path)] {
			if strict && !slices.Contains(rules, rule) {
				t.Errorf("%s: no %q violation, want one", rel, rule)
			}
		}
	}
	if read == 0 {
		t.Fatalf("no file of %s could be read", root)
	}
	t.Logf("validated %d files of %s", read, root)
}
