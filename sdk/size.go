package sdk

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseSize parses a size in bytes, the syntax of every size in the
// archive's configuration and in first-party plugin configs: a whole number
// of bytes, optionally followed by a decimal unit (B, kB or KB, MB, GB: powers
// of 1000) or a binary one (KiB, MiB, GiB: powers of 1024), such as "65536",
// "64KiB" or "16MB". Units are case-sensitive; a unit may be preceded by a
// space. Signs, fractions, other units and sizes past math.MaxInt64 bytes are
// errors; callers check their own range.
func ParseSize(s string) (int64, error) {
	num := strings.TrimRight(s, "KMGBbik ")
	unit := strings.TrimSpace(s[len(num):])
	var mul int64
	switch unit {
	case "", "B":
		mul = 1
	case "kB", "KB":
		mul = 1000
	case "MB":
		mul = 1000 * 1000
	case "GB":
		mul = 1000 * 1000 * 1000
	case "KiB":
		mul = 1 << 10
	case "MiB":
		mul = 1 << 20
	case "GiB":
		mul = 1 << 30
	default:
		return 0, fmt.Errorf("%q is not a size such as \"64KiB\" (units: B, kB, MB, GB, KiB, MiB, GiB)", s)
	}
	n, err := strconv.ParseUint(num, 10, 63)
	if err != nil || num == "" || num[0] == '+' {
		return 0, fmt.Errorf("%q is not a size such as \"64KiB\" (a whole number and an optional unit)", s)
	}
	if n > math.MaxInt64/uint64(mul) {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return int64(n) * mul, nil
}
