package dicomjson

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/pacsforge/pacs/core/dicom"
)

// values reads the "Value" member of an attribute of the given VR into an
// element: null or [] give an empty value.
func (d *decoder) values(tag dicom.Tag, vr dicom.VR, depth int) (dicom.Element, error) {
	el := dicom.Element{Tag: tag, VR: vr}
	t, err := d.token()
	if err != nil {
		return el, err
	}
	if t == nil {
		if vr == dicom.SQ {
			el.Items = []*dicom.Dataset{}
		}
		return el, nil
	}
	if dl, ok := t.(json.Delim); !ok || dl != '[' {
		return el, d.errorf("Value is %s, not an array", describe(t))
	}
	switch {
	case vr == dicom.SQ:
		el.Items = []*dicom.Dataset{}
		for d.sc.More() {
			it, err := d.dataset(depth + 1)
			if err != nil {
				return el, err
			}
			d.tag = tag
			el.Items = append(el.Items, it)
		}
	case vr.IsText():
		var ss []string
		for d.sc.More() {
			s, err := d.textValue(vr)
			if err != nil {
				return el, err
			}
			ss = append(ss, s)
		}
		if len(ss) > 1 && !vr.IsMultiValued() {
			return el, d.errorf("VR %s holds one value, Value has %d", vr, len(ss))
		}
		if len(ss) > 0 {
			b := []byte(strings.Join(ss, `\`))
			el.Value = dicom.PadValue(b, vr)
		}
	case vr == dicom.AT:
		for d.sc.More() {
			t, err := d.token()
			if err != nil {
				return el, err
			}
			s, _ := t.(string)
			at, ok := parseTagKey(s)
			if !ok {
				return el, d.errorf("AT value is not eight hexadecimal digits")
			}
			el.Value = binary.LittleEndian.AppendUint16(el.Value, at.Group())
			el.Value = binary.LittleEndian.AppendUint16(el.Value, at.Element())
		}
	case vr == dicom.FL || vr == dicom.FD:
		for d.sc.More() {
			f, err := d.floatValue()
			if err != nil {
				return el, err
			}
			if vr == dicom.FL {
				el.Value = binary.LittleEndian.AppendUint32(el.Value, math.Float32bits(float32(f)))
			} else {
				el.Value = binary.LittleEndian.AppendUint64(el.Value, math.Float64bits(f))
			}
		}
	case vr == dicom.US || vr == dicom.SS || vr == dicom.UL || vr == dicom.SL || vr == dicom.SV || vr == dicom.UV:
		for d.sc.More() {
			if el.Value, err = d.intValue(vr, el.Value); err != nil {
				return el, err
			}
		}
	default:
		return el, d.errorf("VR %s takes InlineBinary or BulkDataURI, not Value", vr)
	}
	if err := d.delim(']'); err != nil {
		return el, err
	}
	return el, nil
}

// textValue reads one value of a text VR: a string, a number (IS DS and
// tolerantly any VR), null (an empty value), or for PN an object of component
// groups or a plain string. The value is returned trimmed as the encoder
// writes it, so that decoding what Marshal wrote gives the same bytes.
func (d *decoder) textValue(vr dicom.VR) (string, error) {
	t, err := d.token()
	if err != nil {
		return "", err
	}
	var s string
	switch v := t.(type) {
	case nil:
		return "", nil
	case string:
		s = v
	case json.Number:
		s = string(v)
	case json.Delim:
		if vr != dicom.PN || v != '{' {
			return "", d.errorf("%s value is %s", vr, describe(t))
		}
		return d.personName()
	default:
		return "", d.errorf("%s value is %s", vr, describe(t))
	}
	if vr.IsMultiValued() && strings.IndexByte(s, '\\') >= 0 {
		return "", d.errorf("%s value contains a backslash", vr)
	}
	d.noteText(s)
	switch vr {
	case dicom.PN:
		// A plain string: normalise its groups as an object would be.
		if strings.Count(s, "=") > 2 {
			return "", d.errorf("PN value has more than three component groups")
		}
		g := strings.Split(s, "=")
		for i := range g {
			g[i] = dicom.TrimValue(g[i], vr)
		}
		return joinPN(g), nil
	case dicom.IS:
		s = dicom.TrimValue(s, vr)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return strconv.FormatInt(n, 10), nil
		}
		return s, nil
	case dicom.DS:
		s = dicom.TrimValue(s, vr)
		if num, ok := normalizeDS(s); ok {
			return num, nil
		}
		return s, nil
	}
	return dicom.TrimValue(s, vr), nil
}

// personName reads the rest of a PN object (after '{').
func (d *decoder) personName() (string, error) {
	var g [3]string
	for d.sc.More() {
		t, err := d.token()
		if err != nil {
			return "", err
		}
		key, _ := t.(string)
		i := -1
		for j, name := range pnGroups {
			if key == name {
				i = j
			}
		}
		if i < 0 {
			if err := d.skip(); err != nil {
				return "", err
			}
			continue
		}
		t, err = d.token()
		if err != nil {
			return "", err
		}
		s, ok := t.(string)
		if !ok && t != nil {
			return "", d.errorf("PN %s is %s, not a string", key, describe(t))
		}
		if strings.ContainsAny(s, `=\`) {
			return "", d.errorf("PN %s contains '=' or a backslash", key)
		}
		d.noteText(s)
		g[i] = dicom.TrimValue(s, dicom.PN)
	}
	if err := d.delim('}'); err != nil {
		return "", err
	}
	return joinPN(g[:]), nil
}

// joinPN joins component groups with '=', dropping trailing empty groups.
func joinPN(g []string) string {
	n := len(g)
	for n > 0 && g[n-1] == "" {
		n--
	}
	return strings.Join(g[:n], "=")
}

func (d *decoder) noteText(s string) {
	if *d.nonASCII {
		return
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			*d.nonASCII = true
			return
		}
	}
}

// numberText reads a value that may be a number or a string and returns its text.
func (d *decoder) numberText(what string) (string, error) {
	t, err := d.token()
	if err != nil {
		return "", err
	}
	switch v := t.(type) {
	case json.Number:
		return string(v), nil
	case string:
		return strings.TrimSpace(v), nil
	}
	return "", d.errorf("%s value is %s", what, describe(t))
}

// floatValue reads an FL or FD value: a number, or a string holding a number,
// "NaN", "Infinity" or "-Infinity".
func (d *decoder) floatValue() (float64, error) {
	s, err := d.numberText("floating-point")
	if err != nil {
		return 0, err
	}
	switch s {
	case "NaN":
		return math.NaN(), nil
	case "Infinity", "+Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	}
	if !isJSONNumber(strings.TrimPrefix(s, "+")) {
		return 0, d.errorf("invalid floating-point value %q", truncate(s))
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, d.errorf("invalid floating-point value %q", truncate(s))
	}
	return f, nil
}

// intValue reads one value of a binary integer VR and appends its encoding.
// SV and UV accept strings (PS3.18 F.2.3.1); all accept integral numbers
// written with a fraction or exponent ("3.0", "1e3").
func (d *decoder) intValue(vr dicom.VR, b []byte) ([]byte, error) {
	s, err := d.numberText(vr.String())
	if err != nil {
		return b, err
	}
	if vr == dicom.UV {
		u, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			f, ok := integral(s)
			if !ok || f < 0 || f >= 1<<64 {
				return b, d.errorf("invalid UV value %q", truncate(s))
			}
			u = uint64(f)
		}
		return binary.LittleEndian.AppendUint64(b, u), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ok := integral(s)
		if !ok || f < math.MinInt64 || f >= 1<<63 {
			return b, d.errorf("invalid %s value %q", vr, truncate(s))
		}
		n = int64(f)
	}
	var lo, hi int64
	switch vr {
	case dicom.US:
		lo, hi = 0, math.MaxUint16
	case dicom.SS:
		lo, hi = math.MinInt16, math.MaxInt16
	case dicom.UL:
		lo, hi = 0, math.MaxUint32
	case dicom.SL:
		lo, hi = math.MinInt32, math.MaxInt32
	default:
		lo, hi = math.MinInt64, math.MaxInt64
	}
	if n < lo || n > hi {
		return b, d.errorf("value %d out of range for %s", n, vr)
	}
	switch vr.ByteWidth() {
	case 2:
		return binary.LittleEndian.AppendUint16(b, uint16(n)), nil
	case 4:
		return binary.LittleEndian.AppendUint32(b, uint32(n)), nil
	}
	return binary.LittleEndian.AppendUint64(b, uint64(n)), nil
}

// integral parses s as a JSON number whose value is a whole number.
func integral(s string) (float64, bool) {
	if !isJSONNumber(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) {
		return 0, false
	}
	return f, true
}

// decodeBase64 decodes standard base64, padded or not; white space is not
// allowed (it is not in PS3.18's examples, and JSON strings rarely carry it).
func decodeBase64(s string) ([]byte, error) {
	if len(s)%4 == 0 {
		return base64.StdEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// settleCharset applies DecodeOptions.WithCodec, or records UTF-8, once the
// top-level object is read (see DecodeOptions.WithCodec).
func (d *decoder) settleCharset(ds *dicom.Dataset) error {
	if cs := ds.Get(specificCharacterSet); cs != nil && d.opt.WithCodec != nil {
		tc, err := d.opt.WithCodec(cs.Strings(nil))
		if err != nil {
			return &SyntaxError{Offset: d.offset(), Tag: specificCharacterSet, Msg: "character set", Err: err}
		}
		if tc == nil {
			return nil
		}
		ds.Codec = tc
		if *d.nonASCII {
			if err := reencode(ds, tc); err != nil {
				return &SyntaxError{Offset: d.offset(), Tag: specificCharacterSet, Msg: "encode text", Err: err}
			}
		}
		return nil
	}
	if *d.nonASCII {
		e, err := dicom.NewElement(specificCharacterSet, dicom.CS, "ISO_IR 192", nil)
		if err != nil {
			return err
		}
		ds.Put(e)
	}
	return nil
}

// reencode converts the UTF-8 text of the character-set VRs of ds and its
// items to tc's encoding.
func reencode(ds *dicom.Dataset, tc dicom.TextCodec) error {
	for e := range ds.All() {
		for _, it := range e.Items {
			if err := reencode(it, tc); err != nil {
				return err
			}
		}
		if !e.VR.UsesCharset() || len(e.Value) == 0 {
			continue
		}
		b, err := tc.Encode(e.VR, string(e.Value))
		if err != nil {
			return err
		}
		e.Value = dicom.PadValue(b, e.VR)
	}
	return nil
}
