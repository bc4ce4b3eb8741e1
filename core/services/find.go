package services

import (
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/ul"
)

// registerFind installs the C-FIND service class provider.
func registerFind(mux *dimse.Mux, policy *ul.Policy, o Options) {}
