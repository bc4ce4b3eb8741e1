package config

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Limits of the values a file may give.
const (
	// MaxAETitleLength is the length limit of an AE title (PS3.5 Table 6.2-1).
	MaxAETitleLength = 16
	// MinPDULength and MaxPDULength bound dicom.max_pdu_length: dcmtk's
	// smallest, and the largest PDU core/ul reads.
	MinPDULength = 4 << 10
	MaxPDULength = 64 << 20
	// MaxAsyncOps bounds dicom.async_ops.
	MaxAsyncOps = 256
	// MaxAssociationsLimit bounds dicom.max_associations.
	MaxAssociationsLimit = 100000
	// maxAgeYears keeps an age's nanoseconds inside an int64.
	maxAgeYears = 200
	maxAge      = maxAgeYears * 365 * 24 * time.Hour
)

// ValidAETitle checks an AE title (PS3.5 Table 6.2-1): 1 to 16 characters
// of the default repertoire (printable ASCII), no backslash, not only
// spaces. Leading and trailing spaces are not significant but allowed.
func ValidAETitle(ae string) error {
	switch {
	case ae == "":
		return errors.New("an AE title cannot be empty")
	case len(ae) > MaxAETitleLength:
		return fmt.Errorf("%q has %d characters, more than %d", ae, len(ae), MaxAETitleLength)
	case strings.TrimSpace(ae) == "":
		return errors.New("an AE title cannot be only spaces")
	}
	for i := 0; i < len(ae); i++ {
		switch c := ae[i]; {
		case c == '\\':
			return fmt.Errorf("%q contains a backslash", ae)
		case c < 0x20 || c > 0x7e:
			return fmt.Errorf("%q contains %q, which is not a printable ASCII character", ae, c)
		}
	}
	return nil
}

// ParseAge parses an age: a whole number followed by h (hours), d (days),
// w (weeks) or y (years of 365 days), such as "30d", "12h" or "1y". Ages
// of more than 200 years are refused.
func ParseAge(s string) (time.Duration, error) {
	if len(s) < 2 {
		return 0, fmt.Errorf("%q is not an age such as \"30d\"", s)
	}
	var unit time.Duration
	switch s[len(s)-1] {
	case 'h':
		unit = time.Hour
	case 'd':
		unit = 24 * time.Hour
	case 'w':
		unit = 7 * 24 * time.Hour
	case 'y':
		unit = 365 * 24 * time.Hour
	default:
		return 0, fmt.Errorf("%q is not an age such as \"30d\" (units: h, d, w, y)", s)
	}
	n, err := strconv.ParseUint(s[:len(s)-1], 10, 32)
	if err != nil || s[0] == '+' {
		return 0, fmt.Errorf("%q is not an age such as \"30d\" (a whole number and a unit)", s)
	}
	if n > uint64(maxAge/unit) {
		return 0, fmt.Errorf("%q is more than %d years", s, maxAgeYears)
	}
	return time.Duration(n) * unit, nil
}

// parseDuration parses a duration of time.ParseDuration ("30s", "5m",
// "1h30m") that is not negative.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as \"30s\" or \"5m\"", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}

// CheckListen checks a listen address: host:port with a port from 1 to
// 65535; the host is an IP address, a host name, or empty for every
// interface.
func CheckListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not an address such as \"0.0.0.0:11112\" (host:port)", addr)
	}
	if err := CheckPort(port); err != nil {
		return fmt.Errorf("in %q: %w", addr, err)
	}
	if host != "" && net.ParseIP(host) == nil && !validHostName(host) {
		return fmt.Errorf("in %q: %q is neither an IP address nor a host name", addr, host)
	}
	return nil
}

// CheckPort checks a TCP port number written as text: 1 to 65535.
func CheckPort(port string) error {
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || port[0] == '+' {
		return fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	return nil
}

// validHostName reports whether h is a DNS host name: dot-separated labels
// of letters, digits and hyphens, 1-63 characters each, 253 in all.
func validHostName(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
