package dimse

import (
	"context"

	"github.com/pacsforge/pacs/core/ul"
)

// Dial opens an association to addr ("host:port") with opt (see ul.Dial)
// and returns its Client.
func Dial(ctx context.Context, addr string, opt ul.DialOptions) (*Client, error) {
	return DialWith(ctx, addr, opt, ClientOptions{Logger: opt.Logger})
}

// DialWith is Dial with client options (the DIMSE response timeout, a Mux
// for C-GET sub-operations, ...). A nil copt.Logger takes opt.Logger.
func DialWith(ctx context.Context, addr string, opt ul.DialOptions, copt ClientOptions) (*Client, error) {
	a, err := ul.Dial(ctx, "tcp", addr, opt)
	if err != nil {
		return nil, err
	}
	if copt.Logger == nil {
		copt.Logger = opt.Logger
	}
	return NewClient(a, copt), nil
}
