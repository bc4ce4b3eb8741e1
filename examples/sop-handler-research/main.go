// Command pacs-plugin-research-filter is a sample SOP handler plugin. It
// refuses instances without an Accession Number and, for the calling AE
// titles of a research site, replaces the patient's name and ID by a
// pseudonym derived from the ID with a secret salt, so that one patient
// keeps one pseudonym.
//
// Build it, pin its digest and bind it in the site's configuration:
//
//	go build -o /usr/lib/pacs/plugins/pacs-plugin-research-filter ./examples/sop-handler-research
//	sha256sum /usr/lib/pacs/plugins/pacs-plugin-research-filter
//
//	plugin "research-filter" {
//	  path   = "/usr/lib/pacs/plugins/pacs-plugin-research-filter"
//	  sha256 = "…"
//	}
//	sop_handler "research" {
//	  plugin = "research-filter"
//	  config {
//	    require_accession = true
//	    research_aes      = ["RESEARCH"]
//	    salt              = env("RESEARCH_SALT")
//	  }
//	}
package main

import "github.com/pacsforge/pacs/sdk"

func main() {
	sdk.Serve(sdk.Plugin{
		Name:       "research-filter",
		Version:    "1.0.0",
		SOPHandler: sdk.NewSOPHandler(newFilter, sdk.SOPHandlerSpec{Mode: sdk.HeaderOnly}),
	})
}
