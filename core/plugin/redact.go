package plugin

import "strings"

// sensitiveWords mark a name (attribute, flag, variable) as holding a
// secret whose value is never logged or listed.
var sensitiveWords = []string{"secret", "key", "password", "passwd", "token", "connection_string", "credential"}

// Redacted replaces a secret value wherever one would be shown.
const Redacted = "<redacted>"

// IsSensitiveName reports whether name (case-insensitive, - and _ alike)
// looks like it holds a secret: it contains secret, key, password, token,
// connection_string or credential.
func IsSensitiveName(name string) bool {
	n := strings.ReplaceAll(strings.ToLower(name), "-", "_")
	for _, w := range sensitiveWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// RedactArgs returns args with the values of secret-looking flags
// replaced by Redacted: "--token=x" becomes "--token=<redacted>", and the
// argument after "--token" too.
func RedactArgs(args []string) []string {
	if len(args) == 0 {
		return nil
	}
	out := make([]string, len(args))
	redactNext := false
	for i, a := range args {
		switch {
		case redactNext:
			out[i] = Redacted
			redactNext = false
		case strings.HasPrefix(a, "-"):
			name, _, hasValue := strings.Cut(a, "=")
			out[i] = a
			if IsSensitiveName(name) {
				if hasValue {
					out[i] = name + "=" + Redacted
				} else {
					redactNext = true
				}
			}
		default:
			out[i] = a
		}
	}
	return out
}
