package sdk

import (
	"context"
	"errors"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Errors of the plugin protocol itself, besides the ones plugins return.
var (
	// ErrNotConfigured: a call named an instance that Configure has not
	// created in this plugin process (e.g. after a restart); configure it
	// again.
	ErrNotConfigured = errors.New("instance not configured")
	// ErrChecksumMismatch: the bytes of a streamed object do not have the
	// size or SHA-256 announced; nothing was stored.
	ErrChecksumMismatch = errors.New("size or checksum mismatch")
)

// ErrorDomain is the domain of the google.rpc.ErrorInfo detail the plugin
// attaches to an error status; its Reason names the sentinel (one of the
// Reason constants), which sdk/rpc turns back into it.
const ErrorDomain = "forgepacs.plugin"

// The ErrorInfo reasons, one per sentinel error.
const (
	ReasonNotFound          = "NOT_FOUND"
	ReasonInsufficientSpace = "INSUFFICIENT_SPACE"
	ReasonUnavailable       = "UNAVAILABLE"
	ReasonInvalidConfig     = "INVALID_CONFIG"
	ReasonNotConfigured     = "NOT_CONFIGURED"
	ReasonChecksumMismatch  = "CHECKSUM_MISMATCH"
)

// statusError turns an error of plugin code into a gRPC status error: the
// sentinels become their status codes with an ErrorInfo reason, context
// errors Canceled and DeadlineExceeded, anything else Unknown. A status
// error passes unchanged.
func statusError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(interface{ GRPCStatus() *status.Status }); ok {
		return err
	}
	code, reason := codes.Unknown, ""
	switch {
	case errors.Is(err, ErrNotFound):
		code, reason = codes.NotFound, ReasonNotFound
	case errors.Is(err, ErrInsufficientSpace):
		code, reason = codes.ResourceExhausted, ReasonInsufficientSpace
	case errors.Is(err, ErrUnavailable):
		code, reason = codes.Unavailable, ReasonUnavailable
	case errors.Is(err, ErrInvalidConfig):
		code, reason = codes.FailedPrecondition, ReasonInvalidConfig
	case errors.Is(err, ErrNotConfigured):
		code, reason = codes.FailedPrecondition, ReasonNotConfigured
	case errors.Is(err, ErrChecksumMismatch):
		code, reason = codes.DataLoss, ReasonChecksumMismatch
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	}
	st := status.New(code, err.Error())
	if reason != "" {
		if d, derr := st.WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: ErrorDomain}); derr == nil {
			st = d
		}
	}
	return st.Err()
}
