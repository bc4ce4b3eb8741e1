package index

import (
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// foldPN returns the case- and accent-insensitive form of a person name (or
// of a query pattern over one): decomposed, combining marks removed,
// recomposed and upper-cased. Wildcards and separators are left as they are.
func foldPN(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToUpper(s)
	}
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.ToUpper(out)
}

// normPN trims the empty trailing components of each component group of a
// person name and the empty trailing groups ("Doe^John^^^" → "Doe^John"), so
// that equal names compare equal however they were padded (PS3.5 6.2.1).
func normPN(s string) string {
	if !strings.ContainsAny(s, "^=") {
		return s
	}
	groups := strings.Split(s, "=")
	for i, g := range groups {
		groups[i] = strings.TrimRight(strings.TrimSpace(g), "^ ")
	}
	for len(groups) > 1 && groups[len(groups)-1] == "" {
		groups = groups[:len(groups)-1]
	}
	return strings.Join(groups, "=")
}

// normDA returns a date as YYYYMMDD (accepting the ACR-NEMA form
// YYYY.MM.DD), or "" if s is not a date.
func normDA(s string) string {
	s = strings.TrimSpace(s)
	if len(s) == 10 && s[4] == '.' && s[7] == '.' {
		s = s[:4] + s[5:7] + s[8:]
	}
	if len(s) != 8 || !allDigits(s) {
		return ""
	}
	return s
}

// normTM returns a time as HHMMSS with the fraction, if any, kept
// ("1200" → "120000", "12:30" → "123000"), or "" if s is not a time. Such
// values compare in time order as strings.
func normTM(s string) string {
	return padTM(s, "00")
}

// padTM completes a time of reduced precision with fill for each missing
// minute and second pair.
func padTM(s, fill string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), ":", "")
	whole, frac, hasFrac := strings.Cut(s, ".")
	if len(whole) < 2 || len(whole) > 6 || len(whole)%2 != 0 || !allDigits(whole) {
		return ""
	}
	if hasFrac && (len(whole) != 6 || len(frac) == 0 || len(frac) > 6 || !allDigits(frac)) {
		return ""
	}
	for len(whole) < 6 {
		whole += fill
	}
	if hasFrac {
		return whole + "." + frac
	}
	return whole
}

// upperTM returns the last instant that a time of reduced precision stands
// for, as the upper end of a range ("13" → "135959.999999").
func upperTM(s string) string {
	t := padTM(s, "59")
	if t == "" || strings.Contains(t, ".") {
		return t
	}
	return t + ".999999"
}

// normDT returns a date-time as YYYYMMDDHHMMSS with any fraction, without
// its UTC offset, or "" if s is not a date-time. Missing month and day are
// completed with 01, missing time parts with 0.
func normDT(s string) string {
	return padDT(s, false)
}

// padDT completes a date-time of reduced precision to its first (upper
// false) or last (upper true) instant.
func padDT(s string, upper bool) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "+-"); i >= 0 {
		s = s[:i] // UTC offsets are ignored in matching
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	if len(whole) < 4 || len(whole) > 14 || len(whole)%2 != 0 || !allDigits(whole) {
		return ""
	}
	if hasFrac && (len(whole) != 14 || len(frac) == 0 || len(frac) > 6 || !allDigits(frac)) {
		return ""
	}
	lo, hi := "00000101000000", "99991231235959"
	if upper {
		whole += hi[len(whole):]
		if !hasFrac {
			return whole + ".999999"
		}
	} else {
		whole += lo[len(whole):]
	}
	if hasFrac {
		return whole + "." + frac
	}
	return whole
}

// normIS returns an integer string in canonical form ("007" → "7"), or s
// trimmed if it is not an integer.
func normIS(s string) string {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(strings.TrimPrefix(s, "+"), 10, 64); err == nil {
		return strconv.FormatInt(n, 10)
	}
	return s
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// likeEscape is the escape character of every LIKE pattern built here.
const likeEscape = `\`

// likePattern turns a DICOM wildcard pattern (PS3.4 C.2.2.2.4: * any
// sequence, ? one character) into a LIKE pattern escaped with likeEscape.
func likePattern(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 4)
	for _, r := range s {
		switch r {
		case '*':
			b.WriteByte('%')
		case '?':
			b.WriteByte('_')
		case '%', '_', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// hasWildcard reports whether s holds * or ?.
func hasWildcard(s string) bool { return strings.ContainsAny(s, "*?") }

// onlyStars reports whether s is made only of *, which matches everything.
func onlyStars(s string) bool { return s != "" && strings.Trim(s, "*") == "" }

// wildcardMatch reports whether s matches the DICOM wildcard pattern p, rune
// by rune, as the LIKE pattern of likePattern does.
func wildcardMatch(p, s string) bool {
	pr, sr := []rune(p), []rune(s)
	// Iterative matching with backtracking to the last star: linear in
	// practice and never exponential.
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(sr) {
		switch {
		case pi < len(pr) && (pr[pi] == '?' || pr[pi] == sr[si]):
			pi++
			si++
		case pi < len(pr) && pr[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(pr) && pr[pi] == '*' {
		pi++
	}
	return pi == len(pr)
}
