package main

import (
	"context"

	"github.com/hashicorp/go-hclog"

	"github.com/pacsforge/pacs/core/config"
)

// startHTTP starts the HTTP server of cfg.HTTP (health and readiness) in
// the background; it stops when ctx is done.
func startHTTP(ctx context.Context, cfg *config.Config, arc *archiveStore, log hclog.Logger) error {
	return nil
}
