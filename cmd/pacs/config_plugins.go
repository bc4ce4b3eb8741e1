package main

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/pacsforge/pacs/core/config"
	azurestorage "github.com/pacsforge/pacs/plugins/storage-azure"
	s3storage "github.com/pacsforge/pacs/plugins/storage-s3"
	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/rpc"
)

// firstPartySchemas are the configuration schemas of the first-party
// storage backends served by this executable: their config { } bodies
// are checked without starting them.
var firstPartySchemas = map[string]func() (*sdk.ConfigSchema, error){
	config.BackendS3:    sdk.SchemaOf[s3storage.Config],
	config.BackendAzure: sdk.SchemaOf[azurestorage.Config],
}

// checkFirstPartyBodies decodes the config { } body of every storage block
// served by a first-party plugin against that plugin's schema, with the
// site's functions (env()), and returns the problems at their place in the
// site's file: unknown or missing attributes, wrong types, unset
// environment variables. What a backend can only check by connecting (a
// missing bucket, wrong credentials) is left to `pacs plugins check`.
func checkFirstPartyBodies(cfg *config.Config, ectx *hcl.EvalContext) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, st := range cfg.Storage {
		schemaOf := firstPartySchemas[st.Backend]
		if schemaOf == nil || cfg.PluginByName(st.Backend) != nil {
			continue // fs is decoded by core/config; a plugin block's schema is the plugin's
		}
		schema, err := schemaOf()
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Backend schema unavailable",
				Detail: fmt.Sprintf("Storage %q: %v.", st.Name, err), Subject: st.DefRange.Ptr()})
			continue
		}
		var body hcl.Body
		if st.Config != nil {
			body = st.Config.Body
		}
		_, d := rpc.DecodeConfig(body, schema.Spec, ectx)
		if body == nil && d.HasErrors() {
			for _, dd := range d {
				if dd.Subject == nil {
					dd.Subject = st.DefRange.Ptr()
				}
			}
		}
		diags = append(diags, d...)
	}
	return diags
}
