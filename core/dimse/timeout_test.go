package dimse_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/ul"
)

// TestResponseTimeout: an SCP that never answers a C-ECHO makes the client
// give up after its DIMSE response timeout, abort the association and return
// an error matching ErrResponseTimeout and ul.ErrTimeout; later requests on
// the aborted association fail at once.
func TestResponseTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	mux := dimse.NewMux(nil)
	mux.HandleCEcho(func(ctx context.Context, op *dimse.Op, rq *dimse.CEchoRequest) dimse.Status {
		select {
		case <-ctx.Done():
		case <-release:
		}
		return dimse.StatusSuccess
	})
	s := startSCP(t, storagePolicy(), mux)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := dimse.DialWith(ctx, s.addr, ul.DialOptions{CallingAE: "GOTEST", CalledAE: "TEST",
		Contexts: []ul.ProposedContext{dimse.VerificationContext()}}, dimse.ClientOptions{ResponseTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = c.Echo(ctx)
	if !errors.Is(err, dimse.ErrResponseTimeout) || !errors.Is(err, ul.ErrTimeout) {
		t.Fatalf("Echo error = %v, want ErrResponseTimeout", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("Echo returned after %v, long after the response timeout", time.Since(start))
	}
	// The association was aborted: a further request fails at once.
	start = time.Now()
	if err := c.Echo(ctx); err == nil {
		t.Fatal("Echo on the aborted association succeeded")
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("Echo on the aborted association took %v", time.Since(start))
	}
}
