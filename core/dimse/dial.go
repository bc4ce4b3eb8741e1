package dimse

import (
	"context"

	"github.com/pacsforge/pacs/core/ul"
)

// Dial opens an association to addr ("host:port") with opt (see ul.Dial)
// and returns its Client.
func Dial(ctx context.Context, addr string, opt ul.DialOptions) (*Client, error) {
	a, err := ul.Dial(ctx, "tcp", addr, opt)
	if err != nil {
		return nil, err
	}
	return NewClient(a, ClientOptions{Logger: opt.Logger}), nil
}
