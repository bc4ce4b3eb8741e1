package rpc

import (
	"context"
	"errors"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pacsforge/pacs/sdk"
)

// Error is an error that came back from a plugin call. Error() is the
// plugin's message; errors.Is matches the sdk sentinel it stands for
// (sdk.ErrNotFound, sdk.ErrInsufficientSpace, sdk.ErrUnavailable,
// sdk.ErrInvalidConfig, sdk.ErrNotConfigured, sdk.ErrChecksumMismatch,
// context.Canceled, context.DeadlineExceeded), and status.Code gives the
// gRPC code. A plugin process that died or cannot be reached gives
// codes.Unavailable, which matches sdk.ErrUnavailable.
type Error struct {
	Code     codes.Code
	Message  string
	sentinel error
	st       *status.Status
}

// Error returns the plugin's message.
func (e *Error) Error() string { return e.Message }

// Unwrap returns the sentinel the error stands for, or nil.
func (e *Error) Unwrap() error { return e.sentinel }

// GRPCStatus returns the gRPC status the error came as.
func (e *Error) GRPCStatus() *status.Status { return e.st }

// fromStatus turns an error of a gRPC call into an *Error; nil and errors
// that are no status (e.g. io.EOF) pass unchanged.
func fromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	e := &Error{Code: st.Code(), Message: st.Message(), st: st}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == sdk.ErrorDomain {
			e.sentinel = reasonSentinel(info.GetReason())
		}
	}
	if e.sentinel == nil {
		switch st.Code() {
		case codes.NotFound:
			e.sentinel = sdk.ErrNotFound
		case codes.ResourceExhausted:
			e.sentinel = sdk.ErrInsufficientSpace
		case codes.Unavailable:
			e.sentinel = sdk.ErrUnavailable
		case codes.FailedPrecondition:
			e.sentinel = sdk.ErrInvalidConfig
		case codes.Canceled:
			e.sentinel = context.Canceled
		case codes.DeadlineExceeded:
			e.sentinel = context.DeadlineExceeded
		case codes.DataLoss:
			e.sentinel = sdk.ErrChecksumMismatch
		}
	}
	return e
}

func reasonSentinel(reason string) error {
	switch reason {
	case sdk.ReasonNotFound:
		return sdk.ErrNotFound
	case sdk.ReasonInsufficientSpace:
		return sdk.ErrInsufficientSpace
	case sdk.ReasonUnavailable:
		return sdk.ErrUnavailable
	case sdk.ReasonInvalidConfig:
		return sdk.ErrInvalidConfig
	case sdk.ReasonNotConfigured:
		return sdk.ErrNotConfigured
	case sdk.ReasonChecksumMismatch:
		return sdk.ErrChecksumMismatch
	}
	return nil
}

// ConfigErrors returns the *sdk.ConfigError values in err (as Configure
// returns them: one, or several joined), in order; see sdk.ConfigErrors.
func ConfigErrors(err error) []*sdk.ConfigError { return sdk.ConfigErrors(err) }

// fromStatus is the package's fromStatus, except that once the plugin
// process has exited, a call cut off by its death is sdk.ErrUnavailable
// (codes.Unavailable) rather than the Canceled of the closed connection.
func (c *Client) fromStatus(err error) error {
	err = fromStatus(err)
	var e *Error
	if c.exited == nil || !errors.As(err, &e) || (e.Code != codes.Canceled && e.Code != codes.Unavailable) {
		return err
	}
	select {
	case <-c.exited:
		return &Error{Code: codes.Unavailable, Message: "plugin exited: " + e.Message, sentinel: sdk.ErrUnavailable,
			st: status.New(codes.Unavailable, "plugin exited: "+e.Message)}
	default:
		return err
	}
}
