package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pacsforge/pacs/core/config"
	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/core/web"
)

// storageCheckTTL is how long the storage readiness check's result is
// reused: a probe every second costs one small file write per TTL.
const storageCheckTTL = 5 * time.Second

// readyProbePattern names the file the storage readiness check writes and
// removes in the storage root. The filesystem backend treats names starting
// ".put-" as its temporary files (never listed), so a probe left by a crash
// is not taken for an object.
const readyProbePattern = ".put-ready-*"

// dicomListening holds the address of this process's DICOM listener once it
// is bound (listenDICOM); the "dicom" readiness check reads it.
var dicomListening atomic.Pointer[string]

// listenDICOM binds the DICOM listener on addr and records that it is up
// for the readiness check.
func listenDICOM(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	a := ln.Addr().String()
	dicomListening.Store(&a)
	return ln, nil
}

// startHTTP binds the HTTP server of cfg.HTTP and serves the probes
// (/health, /live, /ready) in the background until ctx is done. A failure
// to bind is returned: start-up stops. The bound address is logged
// ("HTTP server listening", addr).
func startHTTP(ctx context.Context, cfg *config.Config, arc *archiveStore, log hclog.Logger) error {
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTP.Listen, err)
	}
	log = log.Named("http")
	h := newHealth(ctx, arc)
	mux := http.NewServeMux()
	h.Register(mux)
	log.Info("HTTP server listening", "addr", ln.Addr().String())
	go func() {
		if err := web.Serve(ctx, ln, mux, web.ServerOptions{Logger: log}); err != nil {
			log.Error("HTTP server stopped", "error", err)
		}
	}()
	return nil
}

// newHealth returns the probes of pacs serve with its readiness checks:
// the index answers a lookup, the storage root takes a new file, the DICOM
// listener is bound, and the server is not shutting down (ctx).
func newHealth(ctx context.Context, arc *archiveStore) *web.Health {
	h := web.NewHealth(web.HealthOptions{Version: version()})
	h.AddCheck("index", func(cctx context.Context) error {
		if _, err := arc.index.Instance(cctx, "1.2"); err != nil && !errors.Is(err, index.ErrNotFound) {
			return fmt.Errorf("index lookup: %w", err)
		}
		return nil
	})
	if arc.storage != nil {
		h.AddCheck("storage", web.Cached(storageCheckTTL, web.WritableDir(arc.storage.Root(), readyProbePattern)))
	}
	addPluginChecks(h, arc.plugins)
	h.AddCheck("dicom", func(context.Context) error {
		if ctx.Err() != nil {
			return errors.New("shutting down")
		}
		if dicomListening.Load() == nil {
			return errors.New("listener not started")
		}
		return nil
	})
	return h
}

// version returns the program's version from its build information: the
// module version, else the VCS revision, else "devel".
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			return s.Value
		}
	}
	return "devel"
}
