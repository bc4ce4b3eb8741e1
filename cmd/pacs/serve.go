package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/ul"
)

// The embedded defaults of the DICOM server.
const (
	defaultAETitle       = "FORGE"
	defaultDICOMPort     = 11112
	shutdownGracePeriod  = 30 * time.Second
	defaultAssocIdleTime = 5 * time.Minute
)

// serveOptions are the settings of pacs serve.
type serveOptions struct {
	aeTitle  string
	strictAE bool
}

func runServe(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o serveOptions
	fs.StringVar(&o.aeTitle, "ae-title", defaultAETitle, "our AE title")
	port := fs.Int("port", defaultDICOMPort, "TCP port of the DICOM server")
	fs.BoolVar(&o.strictAE, "strict-ae", false, "reject associations whose called AE title is not ours")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: pacs serve [options]\n\nRuns the DICOM server (Verification) until SIGINT or SIGTERM.\n\noptions:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 || *port < 0 || *port > 65535 {
		fs.Usage()
		return 2
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "pacs", Output: stderr, Level: hclog.Info})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(*port)))
	if err != nil {
		log.Error("cannot listen", "error", err)
		return 1
	}
	if err := serveDICOM(ctx, ln, o, log); err != nil {
		log.Error("server stopped", "error", err)
		return 1
	}
	return 0
}

// newDICOMServer builds the DICOM server: the negotiation policy and the
// DIMSE services. The archive's services are registered here as they come.
func newDICOMServer(o serveOptions, log hclog.Logger) *ul.Server {
	mux := dimse.NewMux(log.Named("dimse"))
	// C-ECHO is answered by the Mux itself (Verification, PS3.4 Annex A).
	return ul.NewServer(ul.ServerOptions{
		Policy: ul.Policy{
			AETitle:        o.aeTitle,
			StrictCalledAE: o.strictAE,
			Syntaxes:       map[string][]string{uid.Verification: dimse.VerificationSyntaxes},
		},
		IdleTimeout: defaultAssocIdleTime,
		Logger:      log,
		Handler: func(ctx context.Context, a *ul.Association) {
			_ = dimse.Serve(ctx, a, mux)
		},
	})
}

// serveDICOM serves DICOM on ln until ctx is done, then shuts down
// gracefully: running associations get shutdownGracePeriod to finish.
func serveDICOM(ctx context.Context, ln net.Listener, o serveOptions, log hclog.Logger) error {
	srv := newDICOMServer(o, log)
	log.Info("DICOM server listening", "ae_title", o.aeTitle, "addr", ln.Addr().String(), "strict_ae", o.strictAE)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(context.Background(), ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "active", srv.Active())
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGracePeriod)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, ul.ErrServerClosed) && err == nil {
		err = serr
	}
	log.Info("stopped")
	return err
}
