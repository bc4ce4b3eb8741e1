package s3storage

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/pacsforge/pacs/sdk"
)

// S3 error codes by what they mean to the archive. Throttling and server
// errors have already been retried (max_retries) when they arrive here.
var (
	notFoundCodes = map[string]bool{"NoSuchKey": true, "NotFound": true}
	// unavailableCodes: the service is down, overloaded or throttling.
	unavailableCodes = map[string]bool{
		"SlowDown": true, "Throttling": true, "ThrottlingException": true, "RequestLimitExceeded": true,
		"TooManyRequestsException": true, "ServiceUnavailable": true, "InternalError": true,
		"RequestTimeout": true, "NoSuchBucket": true,
	}
	// spaceCodes: the store or the account is full or over quota.
	spaceCodes = map[string]bool{
		"QuotaExceeded": true, "XMinioStorageFull": true, "InsufficientStorage": true,
		"StorageFull": true, "XMinioAdminBucketQuotaExceeded": true,
	}
	// deniedCodes: the credentials are wrong or lack a permission.
	deniedCodes = map[string]bool{
		"AccessDenied": true, "Forbidden": true, "InvalidAccessKeyId": true,
		"SignatureDoesNotMatch": true, "InvalidToken": true, "ExpiredToken": true,
		"XAdminUserNotFound": true, // VersityGW's answer (404) for an unknown access key
	}
)

// classify wraps err from an S3 call with the sdk sentinel it stands for:
// ErrNotFound for a missing key, ErrUnavailable for network errors,
// throttling, 5xx and a missing bucket, ErrInsufficientSpace for a full
// store or an exceeded quota. Cancellation and other errors are returned
// as they are.
func classify(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var se *smithyhttp.RequestSendError
	var ne net.Error
	if errors.As(err, &se) || errors.As(err, &ne) {
		return fmt.Errorf("%w: %w", sdk.ErrUnavailable, err)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode()
		switch {
		case notFoundCodes[code]:
			return fmt.Errorf("%w: %w", sdk.ErrNotFound, err)
		case unavailableCodes[code]:
			return fmt.Errorf("%w: %w", sdk.ErrUnavailable, err)
		case spaceCodes[code]:
			return fmt.Errorf("%w: %w", sdk.ErrInsufficientSpace, err)
		case deniedCodes[code]:
			return fmt.Errorf("access denied, check the credentials and the bucket policy: %w", err)
		}
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		switch st := re.HTTPStatusCode(); {
		case st == http.StatusNotFound:
			return fmt.Errorf("%w: %w", sdk.ErrNotFound, err)
		case st == http.StatusInsufficientStorage:
			return fmt.Errorf("%w: %w", sdk.ErrInsufficientSpace, err)
		case st == http.StatusTooManyRequests || st >= 500:
			return fmt.Errorf("%w: %w", sdk.ErrUnavailable, err)
		case st == http.StatusForbidden:
			return fmt.Errorf("access denied, check the credentials and the bucket policy: %w", err)
		}
		return err
	}
	return err
}

// errorCode returns the S3 error code of err, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// httpStatus returns the HTTP status of err's response, or 0.
func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}
