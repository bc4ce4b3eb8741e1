package peertest

import (
	"net/http"
	"strings"
	"testing"
)

func TestStartAzurite(t *testing.T) {
	a := StartAzurite(t)
	if !strings.HasPrefix(a.BlobEndpoint, "http://127.0.0.1:") || !strings.HasSuffix(a.BlobEndpoint, "/"+AzuriteAccount) {
		t.Errorf("BlobEndpoint = %q, want http://127.0.0.1:PORT/%s", a.BlobEndpoint, AzuriteAccount)
	}
	for _, part := range []string{"AccountName=" + AzuriteAccount, "AccountKey=" + AzuriteKey, "BlobEndpoint=" + a.BlobEndpoint} {
		if !strings.Contains(a.ConnectionString, part) {
			t.Errorf("ConnectionString = %q, want it to contain %q", a.ConnectionString, part)
		}
	}
	resp, err := http.Get(a.BlobEndpoint + "?comp=list")
	if err != nil {
		t.Fatalf("GET blob service: %v", err)
	}
	resp.Body.Close()
	// An anonymous request is refused, but by Azurite.
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		t.Errorf("anonymous list: status %d, want a 4xx refusal", resp.StatusCode)
	}
}
