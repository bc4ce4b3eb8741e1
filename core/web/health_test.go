package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// get serves one GET of path with h and decodes the JSON body into v.
func get(t *testing.T, h http.Handler, path string, v any) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	res := rec.Result()
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET %s: Content-Type = %q, want application/json", path, ct)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: decode body: %v", path, err)
	}
	return res
}

func TestLiveness(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	h := NewHealth(HealthOptions{Version: "1.2.3", Now: clock})
	now = now.Add(90*time.Second + 500*time.Millisecond)
	h.AddCheck("broken", func(context.Context) error { return errors.New("down") })
	for _, path := range []string{"/health", "/live"} {
		t.Run(path, func(t *testing.T) {
			var got Liveness
			res := get(t, h.Handler(), path, &got)
			if res.StatusCode != http.StatusOK {
				t.Errorf("status = %d, want 200 (liveness ignores readiness checks)", res.StatusCode)
			}
			want := Liveness{Status: StatusOK, Version: "1.2.3", UptimeSeconds: 90}
			if got != want {
				t.Errorf("body = %+v, want %+v", got, want)
			}
		})
	}
}

func TestReady(t *testing.T) {
	ok := func(context.Context) error { return nil }
	tests := []struct {
		name        string
		checks      map[string]Check
		order       []string
		wantCode    int
		wantFailing []string
	}{
		{name: "no checks", wantCode: http.StatusOK},
		{
			name:     "all pass",
			checks:   map[string]Check{"index": ok, "storage": ok},
			order:    []string{"index", "storage"},
			wantCode: http.StatusOK,
		},
		{
			name: "one fails",
			checks: map[string]Check{
				"index": ok,
				"dicom": func(context.Context) error { return errors.New("not listening") },
			},
			order:       []string{"index", "dicom"},
			wantCode:    http.StatusServiceUnavailable,
			wantFailing: []string{"dicom"},
		},
		{
			name: "panic and overrun fail",
			checks: map[string]Check{
				"panics": func(context.Context) error { panic("boom") },
				"hangs":  func(ctx context.Context) error { <-ctx.Done(); time.Sleep(time.Millisecond); return nil },
				"index":  ok,
			},
			order:       []string{"panics", "hangs", "index"},
			wantCode:    http.StatusServiceUnavailable,
			wantFailing: []string{"panics", "hangs"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHealth(HealthOptions{CheckTimeout: 50 * time.Millisecond})
			for _, name := range tc.order {
				h.AddCheck(name, tc.checks[name])
			}
			var got Readiness
			res := get(t, h.Handler(), "/ready", &got)
			if res.StatusCode != tc.wantCode {
				t.Errorf("status = %d, want %d", res.StatusCode, tc.wantCode)
			}
			if !slices.Equal(got.Failing, tc.wantFailing) {
				t.Errorf("failing = %q, want %q", got.Failing, tc.wantFailing)
			}
			var names []string
			for _, c := range got.Checks {
				names = append(names, c.Name)
				failing := slices.Contains(tc.wantFailing, c.Name)
				if failing != (c.Status == StatusFailing) || failing != (c.Error != "") {
					t.Errorf("check %+v: want failing %v with an error", c, failing)
				}
			}
			if !slices.Equal(names, tc.order) {
				t.Errorf("checks = %q, want %q", names, tc.order)
			}
			wantStatus := StatusOK
			if tc.wantFailing != nil {
				wantStatus = StatusUnavailable
			}
			if got.Status != wantStatus {
				t.Errorf("status field = %q, want %q", got.Status, wantStatus)
			}
		})
	}
}

func TestAddCheckReplacesAndRemoves(t *testing.T) {
	h := NewHealth(HealthOptions{})
	h.AddCheck("plugin.a", func(context.Context) error { return errors.New("starting") })
	h.AddCheck("index", func(context.Context) error { return nil })
	if got := h.Ready(context.Background()); got.Status != StatusUnavailable {
		t.Fatalf("Ready() = %+v, want unavailable", got)
	}
	h.AddCheck("plugin.a", func(context.Context) error { return nil })
	got := h.Ready(context.Background())
	if got.Status != StatusOK || len(got.Checks) != 2 || got.Checks[0].Name != "plugin.a" {
		t.Fatalf("after replacing: Ready() = %+v, want ok with plugin.a first", got)
	}
	h.RemoveCheck("plugin.a")
	if got := h.Ready(context.Background()); len(got.Checks) != 1 || got.Checks[0].Name != "index" {
		t.Fatalf("after removing: Ready() = %+v, want only index", got)
	}
}

func TestProbeMethods(t *testing.T) {
	h := NewHealth(HealthOptions{}).Handler()
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodHead, "/health", http.StatusOK},
		{http.MethodPost, "/ready", http.StatusMethodNotAllowed},
		{http.MethodGet, "/nothing", http.StatusNotFound},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.want {
			t.Errorf("%s %s: status = %d, want %d", tc.method, tc.path, rec.Code, tc.want)
		}
	}
}

func TestCached(t *testing.T) {
	var calls atomic.Int32
	fail := errors.New("fails")
	c := Cached(time.Hour, func(context.Context) error {
		if calls.Add(1) == 1 {
			return fail
		}
		return nil
	})
	for range 3 {
		if err := c(context.Background()); !errors.Is(err, fail) {
			t.Fatalf("Cached check = %v, want the first result %v", err, fail)
		}
	}
	if got := calls.Load(); got != 1 {
		t.Errorf("check ran %d times within its TTL, want 1", got)
	}
	c = Cached(0, func(context.Context) error { calls.Add(1); return nil })
	c(context.Background())
	c(context.Background())
	if got := calls.Load(); got != 3 {
		t.Errorf("with TTL 0 the check ran %d times in all, want 3", got)
	}
}

func TestWritableDir(t *testing.T) {
	dir := t.TempDir()
	if err := WritableDir(dir, ".probe-*")(context.Background()); err != nil {
		t.Fatalf("writable directory: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("the probe left %d files", len(ents))
	}
	if err := WritableDir(filepath.Join(dir, "absent"), ".probe-*")(context.Background()); err == nil {
		t.Error("missing directory: check passed, want an error")
	}
}
