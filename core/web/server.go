package web

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Defaults of ServerOptions.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultShutdownTimeout   = 10 * time.Second
	DefaultMaxHeaderBytes    = 64 << 10
)

// ServerOptions configure Serve. The zero value uses the defaults above and
// no whole-request or whole-response limits (ReadTimeout, WriteTimeout 0),
// since future handlers stream large bodies; such handlers set their own
// deadlines with http.ResponseController.
type ServerOptions struct {
	// ReadHeaderTimeout bounds reading a request's header; 0 means
	// DefaultReadHeaderTimeout.
	ReadHeaderTimeout time.Duration
	// ReadTimeout and WriteTimeout bound a whole request and response; 0
	// means none.
	ReadTimeout, WriteTimeout time.Duration
	// IdleTimeout closes idle keep-alive connections; 0 means
	// DefaultIdleTimeout.
	IdleTimeout time.Duration
	// ShutdownTimeout is how long requests in progress may run after ctx
	// is done; 0 means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// MaxHeaderBytes bounds a request's header; 0 means
	// DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// Logger receives the server's errors; nil logs nowhere.
	Logger hclog.Logger
}

// Serve serves h on ln until ctx is done, then stops accepting, lets the
// requests in progress finish for at most ShutdownTimeout and returns nil
// (or the shutdown's error). It returns the error that stopped serving
// before that. ln is closed on return.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, opt ServerOptions) error {
	if opt.ReadHeaderTimeout <= 0 {
		opt.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if opt.IdleTimeout <= 0 {
		opt.IdleTimeout = DefaultIdleTimeout
	}
	if opt.ShutdownTimeout <= 0 {
		opt.ShutdownTimeout = DefaultShutdownTimeout
	}
	if opt.MaxHeaderBytes <= 0 {
		opt.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if opt.Logger == nil {
		opt.Logger = hclog.NewNullLogger()
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: opt.ReadHeaderTimeout,
		ReadTimeout:       opt.ReadTimeout,
		WriteTimeout:      opt.WriteTimeout,
		IdleTimeout:       opt.IdleTimeout,
		MaxHeaderBytes:    opt.MaxHeaderBytes,
		ErrorLog:          opt.Logger.StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Debug}),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), opt.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
