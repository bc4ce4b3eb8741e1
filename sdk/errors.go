package sdk

import "errors"

// Errors a plugin returns (wrapped or not) so that the host can tell what
// failed; they travel as gRPC status codes.
var (
	// ErrNotFound: the object, or whatever was named, does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInsufficientSpace: the backend is full, over quota or throttling;
	// the operation may succeed later (C-STORE A700).
	ErrInsufficientSpace = errors.New("insufficient space")
	// ErrUnavailable: the backend cannot be reached now; the operation may
	// succeed later.
	ErrUnavailable = errors.New("unavailable")
	// ErrInvalidConfig: the instance's configuration cannot be used. Wrap
	// it in a *ConfigError to point at an attribute.
	ErrInvalidConfig = errors.New("invalid configuration")
)

// ConfigError is a mistake in an instance's config { } body, at the
// attribute Path (its name, e.g. "bucket"; nested blocks as "block.attr").
// The host reports it at that attribute's file:line:col in the site's file.
type ConfigError struct {
	Path    string
	Message string
}

// Error returns the path and the message.
func (e *ConfigError) Error() string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

// Unwrap makes a ConfigError match ErrInvalidConfig.
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

// ConfigErrors returns the *ConfigError values in err (one, or several
// joined with errors.Join, each possibly wrapped), in order; nil when err
// holds none.
func ConfigErrors(err error) []*ConfigError {
	var out []*ConfigError
	var walk func(error)
	walk = func(e error) {
		if ce, ok := e.(*ConfigError); ok {
			out = append(out, ce)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var ce *ConfigError
		if errors.As(e, &ce) {
			out = append(out, ce)
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}
