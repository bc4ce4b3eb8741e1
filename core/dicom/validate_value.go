package dicom

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ValidateValue checks one value of vr, as decoded (UTF-8) and split at
// backslash, against PS3.5 Table 6.2-1: length (characters for SH LO ST LT PN
// UC UT, bytes otherwise), character repertoire and syntax. Trailing spaces
// are insignificant padding; a trailing NUL is allowed only on UI. Text of
// binary VRs (US "12", FD "1.5", AT "(0010,0010)") is checked for range and
// form; OB, OW, OD, OF, OL, OV, UN and SQ accept anything. The error wraps
// ErrInvalidValue and names the rule broken, never the value.
func ValidateValue(vr VR, value string) error { return validateOne(vr, value, false) }

// ValidateQueryValue is ValidateValue for a key of a C-FIND identifier (PS3.4
// §C.2.2.2): DA, TM and DT also take ranges ("20240101-", "-1200",
// "20240101-20240131"), with the longer limits of Table 6.2-1 (18, 28 and 54
// bytes), and AE CS LO LT PN SH ST UC UR UT also take the wildcards * and ?.
func ValidateQueryValue(vr VR, value string) error { return validateOne(vr, value, true) }

func validateOne(vr VR, value string, query bool) error {
	var err error
	checkValue(vr, value, query, func(rule, msg string) {
		if err == nil {
			err = fmt.Errorf("%w: %s %s: %s", ErrInvalidValue, vr, rule, msg)
		}
	})
	return err
}

// maxChars returns the maximum length of one value of vr: characters for the
// character-set VRs (per component group for PN), bytes for the others.
func maxChars(vr VR, query bool) int {
	switch vr {
	case DA:
		if query {
			return 18
		}
		return 8
	case TM:
		if query {
			return 28
		}
		return 14
	case DT:
		if query {
			return 54
		}
		return 26
	case UC, UR, UT:
		return MaxLongValueLength
	}
	return vr.MaxLength()
}

// checkValue reports, by rule, what is wrong with the single value v of vr:
// at most one problem per rule.
func checkValue(vr VR, v string, query bool, report func(rule, msg string)) {
	switch {
	case vr == UI:
		t := strings.TrimRight(v, "\x00")
		if strings.HasSuffix(t, " ") {
			report(RulePadding, "UI is padded with NUL, not space")
		}
		v = strings.TrimRight(t, " ")
	case strings.HasSuffix(v, "\x00") && vr.IsText():
		report(RulePadding, "text is padded with space, not NUL")
		v = strings.TrimRight(v, " \x00")
	default:
		v = strings.TrimRight(v, " ")
	}
	if !vr.IsText() {
		checkBinaryText(vr, v, report)
		return
	}
	if max := maxChars(vr, query); max > 0 {
		if vr == PN {
			for g := range strings.SplitSeq(v, "=") {
				if n := utf8.RuneCountInString(g); n > max {
					report(RuleLength, fmt.Sprintf("a component group of %d characters exceeds %d", n, max))
					break
				}
			}
		} else if n := valueLen(vr, v); n > max {
			unit := "bytes"
			if vr.UsesCharset() {
				unit = "characters"
			}
			report(RuleLength, fmt.Sprintf("%d %s exceed %d", n, unit, max))
		}
	}
	if v == "" {
		return
	}
	if vr.UsesCharset() && !utf8.ValidString(v) {
		report(RuleCharset, "bytes that are not UTF-8, and no character set to decode them")
	} else if c, at, ok := badChar(vr, v, query); !ok {
		report(RuleCharset, fmt.Sprintf("%s at offset %d is not allowed in %s", describeChar(c), at, vr))
	}
	if msg := checkSyntax(vr, v, query); msg != "" {
		report(RuleSyntax, msg)
	}
}

func valueLen(vr VR, v string) int {
	if vr.UsesCharset() {
		return utf8.RuneCountInString(v)
	}
	return len(v)
}

func describeChar(c rune) string {
	if c < 0x20 || c == 0x7f || c == utf8.RuneError || c >= 0x80 && c < 0xa0 {
		return fmt.Sprintf("character %U", c)
	}
	return fmt.Sprintf("character %q", c)
}

// isWildcard reports whether c is a C-FIND wildcard allowed for vr (PS3.4
// §C.2.2.2.4).
func isWildcard(vr VR, c rune, query bool) bool {
	if !query || (c != '*' && c != '?') {
		return false
	}
	switch vr {
	case AE, CS, LO, LT, PN, SH, ST, UC, UR, UT:
		return true
	}
	return false
}

// badChar returns the first character of v outside vr's repertoire, its byte
// offset, and false; or true when every character is allowed.
func badChar(vr VR, v string, query bool) (rune, int, bool) {
	for i, c := range v {
		if isWildcard(vr, c, query) || allowedChar(vr, c, query) {
			continue
		}
		return c, i, false
	}
	return 0, 0, true
}

func isDigit(c rune) bool { return c >= '0' && c <= '9' }

func allowedChar(vr VR, c rune, query bool) bool {
	switch vr {
	case AE:
		return c >= 0x20 && c < 0x7f && c != '\\'
	case AS:
		return isDigit(c) || c == 'D' || c == 'W' || c == 'M' || c == 'Y'
	case CS:
		return c >= 'A' && c <= 'Z' || isDigit(c) || c == ' ' || c == '_'
	case DA:
		return isDigit(c) || query && c == '-'
	case DS:
		return isDigit(c) || strings.ContainsRune("+-Ee. ", c)
	case DT:
		return isDigit(c) || c == '.' || c == '+' || c == '-'
	case IS:
		return isDigit(c) || c == '+' || c == '-' || c == ' '
	case TM:
		return isDigit(c) || c == '.' || query && c == '-'
	case UI:
		return isDigit(c) || c == '.'
	case UR:
		return c < 0x80 && (c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || isDigit(c) ||
			strings.ContainsRune("-._~:/?#[]@!$&'()*+,;=% ", c))
	case LO, SH, UC, PN:
		return c != '\\' && (c >= 0x20 && c != 0x7f || c == 0x1b)
	case LT, ST, UT:
		return (c >= 0x20 && c != 0x7f || c == '\r' || c == '\n' || c == '\f' || c == '\t' || c == 0x1b)
	}
	return true
}

// checkSyntax returns what is wrong with the form of v (trailing padding
// removed, characters already checked), or "".
func checkSyntax(vr VR, v string, query bool) string {
	switch vr {
	case AS:
		if len(v) != 4 || !allDigits(v[:3]) || !strings.ContainsRune("DWMY", rune(v[3])) {
			return "not an age of the form nnnD, nnnW, nnnM or nnnY"
		}
	case DA:
		if query {
			return checkRange(v, checkDA)
		}
		return checkDA(v)
	case DS:
		return checkDS(v)
	case DT:
		if query {
			return checkDTRange(v)
		}
		return checkDT(v)
	case IS:
		return checkIS(v)
	case TM:
		if query {
			return checkRange(v, checkTM)
		}
		return checkTM(v)
	case UI:
		return checkUID(v)
	case UR:
		return checkURI(v)
	case PN:
		groups := strings.Split(v, "=")
		if len(groups) > 3 {
			return fmt.Sprintf("%d component groups, at most 3 are allowed", len(groups))
		}
		for _, g := range groups {
			if n := strings.Count(g, "^") + 1; n > 5 {
				return fmt.Sprintf("%d components in a group, at most 5 are allowed", n)
			}
		}
	}
	return ""
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// atoi2 decodes the two digits at s[i:i+2]; s is known to be all digits.
func atoi2(s string, i int) int { return int(s[i]-'0')*10 + int(s[i+1]-'0') }

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// checkDate checks the digits of YYYY[MM[DD]] (len 4, 6 or 8).
func checkDate(s string) string {
	if !allDigits(s) {
		return "a date has digits only"
	}
	if len(s) >= 6 {
		if m := atoi2(s, 4); m < 1 || m > 12 {
			return fmt.Sprintf("month %02d is out of range", m)
		}
	}
	if len(s) >= 8 {
		y, _ := strconv.Atoi(s[:4])
		m, d := atoi2(s, 4), atoi2(s, 6)
		if d < 1 || d > daysIn(y, m) {
			return fmt.Sprintf("day %02d is out of range for month %02d", d, m)
		}
	}
	return ""
}

// checkDA checks a date YYYYMMDD (PS3.5 Table 6.2-1).
func checkDA(s string) string {
	if len(s) != 8 {
		return "a date has the form YYYYMMDD"
	}
	return checkDate(s)
}

// checkTM checks a time HH[MM[SS[.F{1,6}]]]; SS may be 60 (leap second).
func checkTM(s string) string {
	hms, frac, hasFrac := strings.Cut(s, ".")
	if hasFrac && (len(hms) != 6 || len(frac) < 1 || len(frac) > 6 || !allDigits(frac)) {
		return "a fraction of a second needs HHMMSS and 1 to 6 digits"
	}
	if (len(hms) != 2 && len(hms) != 4 && len(hms) != 6) || !allDigits(hms) {
		return "a time has the form HH[MM[SS[.FFFFFF]]]"
	}
	return checkClock(hms)
}

// checkClock checks HH[MM[SS]] digits.
func checkClock(s string) string {
	if h := atoi2(s, 0); h > 23 {
		return fmt.Sprintf("hour %02d is out of range", h)
	}
	if len(s) >= 4 {
		if m := atoi2(s, 2); m > 59 {
			return fmt.Sprintf("minute %02d is out of range", m)
		}
	}
	if len(s) >= 6 {
		if sec := atoi2(s, 4); sec > 60 {
			return fmt.Sprintf("second %02d is out of range", sec)
		}
	}
	return ""
}

// checkDT checks a date time YYYY[MM[DD[HH[MM[SS[.F{1,6}]]]]]][&ZZXX].
func checkDT(s string) string {
	if i := strings.LastIndexAny(s, "+-"); i >= 0 {
		off := s[i:]
		if i < 4 || len(off) != 5 || !allDigits(off[1:]) {
			return "a UTC offset has the form &ZZXX"
		}
		h, m := atoi2(off, 1), atoi2(off, 3)
		if m > 59 || (off[0] == '-' && h*60+m > 12*60) || (off[0] == '+' && h*60+m > 14*60) {
			return "a UTC offset is within -1200 and +1400"
		}
		s = s[:i]
	}
	main, frac, hasFrac := strings.Cut(s, ".")
	if hasFrac && (len(main) != 14 || len(frac) < 1 || len(frac) > 6 || !allDigits(frac)) {
		return "a fraction of a second needs YYYYMMDDHHMMSS and 1 to 6 digits"
	}
	if len(main) < 4 || len(main) > 14 || len(main)%2 == 1 || !allDigits(main) {
		return "a date time has the form YYYY[MM[DD[HH[MM[SS[.FFFFFF]]]]]][&ZZXX]"
	}
	if msg := checkDate(main[:min(len(main), 8)]); msg != "" {
		return msg
	}
	if len(main) > 8 {
		return checkClock(main[8:])
	}
	return ""
}

// checkRange checks a C-FIND range "a-b", "a-" or "-b" of values that contain
// no '-' themselves (DA, TM), or a single value.
func checkRange(s string, one func(string) string) string {
	lo, hi, isRange := strings.Cut(s, "-")
	if !isRange {
		return one(s)
	}
	if lo == "" && hi == "" || strings.Contains(hi, "-") {
		return "a range has the form a-b, a- or -b"
	}
	for _, x := range []string{lo, hi} {
		if x == "" {
			continue
		}
		if msg := one(x); msg != "" {
			return msg
		}
	}
	return ""
}

// checkDTRange checks a DT query value: a single date time or a range, whose
// separating '-' must be told apart from the '-' of a UTC offset.
func checkDTRange(s string) string {
	first := checkDT(s)
	if first == "" || len(s) > maxChars(DT, true) {
		return first // too long to be a range: the length rule reports it
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '-' {
			continue
		}
		lo, hi := s[:i], s[i+1:]
		if lo == "" && hi == "" {
			break
		}
		if (lo == "" || checkDT(lo) == "") && (hi == "" || checkDT(hi) == "") {
			return ""
		}
	}
	return first
}

// checkDS checks a decimal string: a fixed or floating point number, with
// leading and trailing spaces but none embedded.
func checkDS(s string) string {
	t := strings.TrimLeft(s, " ")
	if strings.ContainsRune(t, ' ') {
		return "a decimal string has no embedded spaces"
	}
	if _, err := strconv.ParseFloat(t, 64); err != nil {
		return "not a decimal number"
	}
	return ""
}

// checkIS checks an integer string in the range -2^31 to 2^31-1.
func checkIS(s string) string {
	t := strings.TrimLeft(s, " ")
	if strings.ContainsRune(t, ' ') {
		return "an integer string has no embedded spaces"
	}
	digits := strings.TrimPrefix(strings.TrimPrefix(t, "+"), "-")
	if digits == "" || !allDigits(digits) {
		return "not a decimal integer"
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < math.MinInt32 || n > math.MaxInt32 {
		return "an integer string is within -2^31 and 2^31-1"
	}
	return ""
}

// checkUID checks the form of a UID (PS3.5 §9.1): components of digits
// separated by '.', none empty, none with a leading zero.
func checkUID(s string) string {
	for c := range strings.SplitSeq(s, ".") {
		switch {
		case c == "":
			return "a UID has no empty component"
		case len(c) > 1 && c[0] == '0':
			return "a UID component has no leading zero"
		}
	}
	return ""
}

// validUID reports whether s is a UID (PS3.5 §9.1): at most 64 bytes, digits
// and dots only, no empty component and no leading zero. Padding must have
// been removed.
func validUID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	if _, _, ok := badChar(UI, s, false); !ok {
		return false
	}
	return checkUID(s) == ""
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// checkURI checks a URI or URL (RFC 3986): no leading or embedded spaces and a
// percent sign only before two hexadecimal digits.
func checkURI(s string) string {
	if strings.HasPrefix(s, " ") {
		return "a URI has no leading spaces"
	}
	if strings.ContainsRune(s, ' ') {
		return "a URI has no embedded spaces"
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && (i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2])) {
			return "a percent sign is followed by two hexadecimal digits"
		}
	}
	return ""
}

// checkBinaryText checks a binary VR's value given as text.
func checkBinaryText(vr VR, v string, report func(rule, msg string)) {
	v = strings.TrimSpace(v)
	var bits int
	signed := true
	switch vr {
	case US:
		bits, signed = 16, false
	case UL:
		bits, signed = 32, false
	case UV:
		bits, signed = 64, false
	case SS:
		bits = 16
	case SL:
		bits = 32
	case SV:
		bits = 64
	case FL, FD:
		size := 64
		if vr == FL {
			size = 32
		}
		if _, err := strconv.ParseFloat(v, size); err != nil {
			report(RuleSyntax, fmt.Sprintf("not a number in the range of %s", vr))
		}
		return
	case AT:
		if _, err := ParseTag(v); err != nil {
			report(RuleSyntax, "not a tag of the form (gggg,eeee)")
		}
		return
	default:
		return
	}
	var err error
	if signed {
		_, err = strconv.ParseInt(v, 10, bits)
	} else {
		_, err = strconv.ParseUint(v, 10, bits)
	}
	if err != nil {
		report(RuleSyntax, fmt.Sprintf("not an integer in the range of %s", vr))
	}
}
