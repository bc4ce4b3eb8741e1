package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// DefaultCheckTimeout bounds each readiness check when HealthOptions does
// not say otherwise: a check still running then is reported as failing.
const DefaultCheckTimeout = 2 * time.Second

// Status values of the JSON bodies of the probes.
const (
	StatusOK          = "ok"
	StatusFailing     = "failing"
	StatusUnavailable = "unavailable"
)

// Check reports whether one dependency of the archive is ready: nil when it
// is, otherwise an error saying what is wrong. The error text is shown in
// the body of /ready, so it must hold no patient data. A Check must return
// when ctx is done; it may be called concurrently.
type Check func(ctx context.Context) error

// HealthOptions configure a Health. The zero value is ready to use.
type HealthOptions struct {
	// Version is reported by /health; empty reports "unknown".
	Version string
	// CheckTimeout bounds each readiness check; 0 means
	// DefaultCheckTimeout.
	CheckTimeout time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Health answers the liveness and readiness probes. Checks may be added and
// removed at any time; it is safe for concurrent use.
type Health struct {
	opt   HealthOptions
	start time.Time

	mu     sync.RWMutex
	checks []namedCheck // in the order they were first added
}

type namedCheck struct {
	name  string
	check Check
}

// NewHealth returns a Health whose uptime starts now, with no checks: until
// one is added, /ready answers 200.
func NewHealth(opt HealthOptions) *Health {
	if opt.Version == "" {
		opt.Version = "unknown"
	}
	if opt.CheckTimeout <= 0 {
		opt.CheckTimeout = DefaultCheckTimeout
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Health{opt: opt, start: opt.Now()}
}

// AddCheck registers the readiness check name (a short snake_case or dotted
// lowercase name such as "index" or "plugin.storage-s3"); a check already
// registered under name is replaced and keeps its place in the report.
func (h *Health) AddCheck(name string, c Check) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range h.checks {
		if h.checks[i].name == name {
			h.checks[i].check = c
			return
		}
	}
	h.checks = append(h.checks, namedCheck{name: name, check: c})
}

// RemoveCheck unregisters the readiness check name, if any.
func (h *Health) RemoveCheck(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checks = slices.DeleteFunc(h.checks, func(c namedCheck) bool { return c.name == name })
}

// Liveness is the body of /health and /live.
type Liveness struct {
	Status        string `json:"status"` // always StatusOK
	Version       string `json:"version"`
	UptimeSeconds int64  `json:"uptime_seconds"`
}

// Liveness returns the liveness report: the process is up.
func (h *Health) Liveness() Liveness {
	return Liveness{Status: StatusOK, Version: h.opt.Version, UptimeSeconds: int64(h.opt.Now().Sub(h.start) / time.Second)}
}

// Readiness is the body of /ready.
type Readiness struct {
	// Status is StatusOK when every check passed, else StatusUnavailable.
	Status string `json:"status"`
	// Checks holds every check in the order they were added.
	Checks []CheckResult `json:"checks"`
	// Failing names the failing checks; empty when ready.
	Failing []string `json:"failing,omitempty"`
}

// CheckResult is the outcome of one readiness check.
type CheckResult struct {
	Name   string `json:"name"`
	Status string `json:"status"`          // StatusOK or StatusFailing
	Error  string `json:"error,omitempty"` // why it failed
}

// Ready runs every check concurrently, each bounded by the check timeout,
// and returns the report. A check that panics or overruns its timeout is
// failing.
func (h *Health) Ready(ctx context.Context) Readiness {
	h.mu.RLock()
	checks := slices.Clone(h.checks)
	h.mu.RUnlock()
	res := make([]CheckResult, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = CheckResult{Name: c.name, Status: StatusOK}
			if err := h.run(ctx, c.check); err != nil {
				res[i].Status = StatusFailing
				res[i].Error = err.Error()
			}
		}()
	}
	wg.Wait()
	r := Readiness{Status: StatusOK, Checks: res}
	for _, c := range res {
		if c.Status != StatusOK {
			r.Status = StatusUnavailable
			r.Failing = append(r.Failing, c.Name)
		}
	}
	return r
}

// run calls c with the check timeout. It returns when the timeout expires
// even if c does not, leaving c to finish in the background.
func (h *Health) run(ctx context.Context, c Check) error {
	ctx, cancel := context.WithTimeout(ctx, h.opt.CheckTimeout)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				errc <- fmt.Errorf("check panicked: %v", p)
			}
		}()
		errc <- c(ctx)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return fmt.Errorf("no answer within %s", h.opt.CheckTimeout)
	}
}

// Register installs the probes on mux: GET (and HEAD) /health, /live and
// /ready.
func (h *Health) Register(mux *http.ServeMux) {
	live := func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, h.Liveness())
	}
	mux.HandleFunc("GET /health", live)
	mux.HandleFunc("GET /live", live)
	mux.HandleFunc("GET /ready", func(w http.ResponseWriter, r *http.Request) {
		rep := h.Ready(r.Context())
		code := http.StatusOK
		if rep.Status != StatusOK {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, rep)
	})
}

// Handler returns a handler serving only the probes (see Register).
func (h *Health) Handler() http.Handler {
	mux := http.NewServeMux()
	h.Register(mux)
	return mux
}

// writeJSON answers v as JSON with code; probes are never cached.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "cannot encode the response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}
