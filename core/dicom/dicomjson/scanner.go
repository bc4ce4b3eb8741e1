package dicomjson

import (
	"encoding/json"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner tokenises JSON held in memory, with the token model of
// json.Decoder.Token (delimiters, strings, json.Number, bool, nil) but without
// its per-token allocations. It validates the grammar of RFC 8259 as it goes.
type scanner struct {
	b     []byte
	pos   int
	stack []byte // open containers: '{' or '['
	state scanState
}

type scanState uint8

const (
	stValue           scanState = iota // a value is expected
	stArrayValueOrEnd                  // after '[': a value or ']'
	stKeyOrEnd                         // after '{': a key or '}'
	stKey                              // after ',' in an object: a key
	stColon                            // after a key: ':'
	stCommaOrEnd                       // after a value in a container: ',' or the closing delimiter
	stDone                             // the top-level value is complete
)

func newScanner(b []byte, pos int) *scanner { return &scanner{b: b, pos: pos} }

func (s *scanner) errorf(msg string) error {
	return &SyntaxError{Offset: int64(s.pos), Msg: msg}
}

func (s *scanner) ws() {
	for s.pos < len(s.b) {
		switch s.b[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// More reports whether another element follows in the current array or object.
func (s *scanner) More() bool {
	s.ws()
	return s.pos < len(s.b) && s.b[s.pos] != ']' && s.b[s.pos] != '}'
}

func (s *scanner) afterValue() {
	if len(s.stack) == 0 {
		s.state = stDone
	} else {
		s.state = stCommaOrEnd
	}
}

// Token returns the next token; io.EOF after the top-level value when the
// input ends, io.ErrUnexpectedEOF when it ends inside a value.
func (s *scanner) Token() (json.Token, error) {
	for {
		s.ws()
		if s.pos >= len(s.b) {
			if s.state == stDone {
				return nil, io.EOF
			}
			return nil, &SyntaxError{Offset: int64(s.pos), Err: io.ErrUnexpectedEOF}
		}
		c := s.b[s.pos]
		switch s.state {
		case stDone:
			return nil, s.errorf("data after the top-level value")
		case stColon:
			if c != ':' {
				return nil, s.errorf("expected ':' after object key")
			}
			s.pos++
			s.state = stValue
			continue
		case stCommaOrEnd:
			top := s.stack[len(s.stack)-1]
			switch {
			case c == ',':
				s.pos++
				s.state = stValue
				if top == '{' {
					s.state = stKey
				}
				continue
			case c == '}' && top == '{', c == ']' && top == '[':
				s.pos++
				s.stack = s.stack[:len(s.stack)-1]
				s.afterValue()
				return json.Delim(c), nil
			}
			return nil, s.errorf("expected ',' or the end of the container")
		case stKeyOrEnd, stKey:
			if c == '}' && s.state == stKeyOrEnd {
				s.pos++
				s.stack = s.stack[:len(s.stack)-1]
				s.afterValue()
				return json.Delim(c), nil
			}
			if c != '"' {
				return nil, s.errorf("expected an object key")
			}
			str, err := s.readString()
			if err != nil {
				return nil, err
			}
			s.state = stColon
			return str, nil
		case stArrayValueOrEnd:
			if c == ']' {
				s.pos++
				s.stack = s.stack[:len(s.stack)-1]
				s.afterValue()
				return json.Delim(c), nil
			}
		}
		return s.value(c)
	}
}

// value reads a value starting with c at s.pos.
func (s *scanner) value(c byte) (json.Token, error) {
	switch {
	case c == '{' || c == '[':
		s.pos++
		s.stack = append(s.stack, c)
		s.state = stKeyOrEnd
		if c == '[' {
			s.state = stArrayValueOrEnd
		}
		return json.Delim(c), nil
	case c == '"':
		str, err := s.readString()
		if err != nil {
			return nil, err
		}
		s.afterValue()
		return str, nil
	case c == '-' || c >= '0' && c <= '9':
		start := s.pos
		for s.pos < len(s.b) && strings.IndexByte("+-.0123456789eE", s.b[s.pos]) >= 0 {
			s.pos++
		}
		n := string(s.b[start:s.pos])
		if !isJSONNumber(n) {
			s.pos = start
			return nil, s.errorf("invalid number")
		}
		s.afterValue()
		return json.Number(n), nil
	}
	for _, lit := range [...]struct {
		text string
		tok  json.Token
	}{{"null", nil}, {"true", true}, {"false", false}} {
		if len(s.b)-s.pos >= len(lit.text) && string(s.b[s.pos:s.pos+len(lit.text)]) == lit.text {
			s.pos += len(lit.text)
			s.afterValue()
			return lit.tok, nil
		}
	}
	return nil, s.errorf("invalid character")
}

// skipValue consumes the next value (of any depth, iteratively) and returns
// the span of its bytes.
func (s *scanner) skipValue() (start, end int, err error) {
	for {
		s.ws()
		if s.state != stColon {
			break
		}
		if s.pos >= len(s.b) || s.b[s.pos] != ':' {
			return 0, 0, s.errorf("expected ':' after object key")
		}
		s.pos++
		s.state = stValue
	}
	start = s.pos
	depth := 0
	for {
		t, err := s.Token()
		if err != nil {
			return 0, 0, err
		}
		if d, ok := t.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
		if depth == 0 {
			return start, s.pos, nil
		}
	}
}

// readString reads a JSON string at s.pos (its opening quote). Invalid UTF-8
// is replaced by U+FFFD, as encoding/json does.
func (s *scanner) readString() (string, error) {
	s.pos++
	start := s.pos
	for s.pos < len(s.b) {
		c := s.b[s.pos]
		switch {
		case c == '"':
			str := string(s.b[start:s.pos])
			s.pos++
			if !utf8.ValidString(str) {
				str = strings.ToValidUTF8(str, "\uFFFD")
			}
			return str, nil
		case c == '\\':
			return s.readEscaped(start)
		case c < 0x20:
			return "", s.errorf("control character in string")
		}
		s.pos++
	}
	return "", &SyntaxError{Offset: int64(s.pos), Err: io.ErrUnexpectedEOF}
}

// readEscaped continues readString from the first backslash.
func (s *scanner) readEscaped(start int) (string, error) {
	buf := append([]byte(nil), s.b[start:s.pos]...)
	for s.pos < len(s.b) {
		c := s.b[s.pos]
		switch {
		case c == '"':
			s.pos++
			if !utf8.Valid(buf) {
				buf = []byte(strings.ToValidUTF8(string(buf), "\uFFFD"))
			}
			return string(buf), nil
		case c < 0x20:
			return "", s.errorf("control character in string")
		case c != '\\':
			buf = append(buf, c)
			s.pos++
			continue
		}
		if s.pos+1 >= len(s.b) {
			break
		}
		e := s.b[s.pos+1]
		s.pos += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return "", s.errorf("invalid \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if s.pos+1 < len(s.b) && s.b[s.pos] == '\\' && s.b[s.pos+1] == 'u' {
					save := s.pos
					s.pos += 2
					if lo, ok := s.hex4(); ok && utf16.DecodeRune(r, lo) != utf8.RuneError {
						r2 = utf16.DecodeRune(r, lo)
					} else {
						s.pos = save
					}
				}
				r = r2
			}
			buf = utf8.AppendRune(buf, r)
		default:
			s.pos -= 2
			return "", s.errorf("invalid escape in string")
		}
	}
	return "", &SyntaxError{Offset: int64(s.pos), Err: io.ErrUnexpectedEOF}
}

func (s *scanner) hex4() (rune, bool) {
	if len(s.b)-s.pos < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.pos : s.pos+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	s.pos += 4
	return r, true
}
