package azurestorage

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/pacsforge/pacs/internal/peertest"
	"github.com/pacsforge/pacs/sdk"
)

func TestMapError(t *testing.T) {
	st := &Storage{instance: "test"}
	responseError := func(status int, code string) error {
		req, _ := http.NewRequest(http.MethodPut, "http://127.0.0.1/acct/c/k", nil)
		h := http.Header{}
		if code != "" {
			h.Set("x-ms-error-code", code)
		}
		return runtime.NewResponseError(&http.Response{StatusCode: status, Header: h, Request: req, Body: http.NoBody})
	}
	tests := []struct {
		name string
		err  error
		want error // nil: none of the sentinels
	}{
		{name: "blob not found", err: responseError(404, "BlobNotFound"), want: sdk.ErrNotFound},
		{name: "bare 404", err: responseError(404, ""), want: sdk.ErrNotFound},
		{name: "container gone", err: responseError(404, "ContainerNotFound"), want: sdk.ErrUnavailable},
		{name: "server busy", err: responseError(503, "ServerBusy"), want: sdk.ErrUnavailable},
		{name: "internal error", err: responseError(500, "InternalError"), want: sdk.ErrUnavailable},
		{name: "bare 503", err: responseError(503, ""), want: sdk.ErrUnavailable},
		{name: "throttled", err: responseError(429, ""), want: sdk.ErrUnavailable},
		{name: "account limit", err: responseError(409, "AccountLimitExceeded"), want: sdk.ErrInsufficientSpace},
		{name: "block count", err: responseError(409, "BlockCountExceedsLimit"), want: sdk.ErrInsufficientSpace},
		{name: "insufficient storage", err: responseError(507, ""), want: sdk.ErrInsufficientSpace},
		{name: "archived", err: responseError(409, "BlobArchived"), want: sdk.ErrUnavailable},
		{name: "forbidden", err: responseError(403, "AuthenticationFailed")},
		{name: "connection refused", err: errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), want: sdk.ErrUnavailable},
	}
	sentinels := []error{sdk.ErrNotFound, sdk.ErrUnavailable, sdk.ErrInsufficientSpace}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := st.mapError("put k", tc.err)
			for _, s := range sentinels {
				if errors.Is(got, s) != (s == tc.want) {
					t.Errorf("mapError() = %v; matches %v: %v, want %v", got, s, errors.Is(got, s), s == tc.want)
				}
			}
			if strings.Contains(got.Error(), "\n") {
				t.Errorf("mapError() = %q spans lines", got)
			}
		})
	}
	if got := st.mapError("get k", context.Canceled); !errors.Is(got, context.Canceled) || errors.Is(got, sdk.ErrUnavailable) {
		t.Errorf("mapError(context.Canceled) = %v, want context.Canceled only", got)
	}
}

// TestRetries puts a proxy in front of Azurite that answers 503 Server Busy
// to the first attempt of every distinct request: with retries every
// operation succeeds, without them the busy answer is ErrUnavailable. The
// refusal is decided per request, not by a shared counter, because blocks
// are staged concurrently and a counter would let one block's attempts all
// be refused.
func TestRetries(t *testing.T) {
	az := peertest.StartAzurite(t)
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
	)
	var busy atomic.Bool
	target := az.BlobEndpoint[:strings.LastIndex(az.BlobEndpoint, "/")]
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if busy.Load() {
			key := r.Method + " " + r.URL.RequestURI()
			mu.Lock()
			first := !seen[key]
			seen[key] = true
			mu.Unlock()
			if first {
				w.Header().Set("x-ms-error-code", "ServerBusy")
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
		}
		req, err := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.RequestURI(), r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		req.Header = r.Header.Clone()
		req.ContentLength = r.ContentLength
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		buf := make([]byte, 32<<10)
		for {
			m, err := resp.Body.Read(buf)
			w.Write(buf[:m])
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(proxy.Close)
	endpoint := proxy.URL + "/" + peertest.AzuriteAccount
	open := func(retries int) *Storage {
		st, err := New(context.Background(), "test", &Config{
			AccountName: peertest.AzuriteAccount, AccountKey: peertest.AzuriteKey, Endpoint: endpoint,
			Container: "retries", CreateContainer: true, MaxRetries: retries, RetryDelay: "1ms", BlockSize: "64KiB",
		})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		return st.(*Storage)
	}
	withRetries, without := open(3), open(-1)
	busy.Store(true)
	ctx := context.Background()
	data := randomBytes(300<<10, 9)
	if _, err := withRetries.Put(ctx, "k", strings.NewReader(string(data)), int64(len(data))); err != nil {
		t.Fatalf("Put through a busy service with retries: %v", err)
	}
	if info, err := withRetries.Stat(ctx, "k"); err != nil || info.SHA256 != hexSHA256(data) {
		t.Errorf("Stat with retries = %+v, %v", info, err)
	}
	mu.Lock()
	clear(seen) // the next request is refused
	mu.Unlock()
	_, err := without.Stat(ctx, "k")
	if !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("Stat through a busy service without retries: %v, want ErrUnavailable", err)
	}
}
