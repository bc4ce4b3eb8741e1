package dump

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/codec"
)

// Options controls the layout.
type Options struct {
	// MaxValue is the number of characters of a value printed before it is
	// cut with "..."; 0 means 64 (as dcmdump), negative means never cut.
	MaxValue int
	// Raw prints text values as their encoded bytes, with non-ASCII and
	// control bytes quoted as octal (\ooo), as dcmdump +Qo does. The default
	// decodes text through the data set's character set into UTF-8.
	Raw bool
}

// Write prints ds to w. It stops at the first write error.
func Write(w io.Writer, ds *dicom.Dataset, opt Options) error {
	if opt.MaxValue == 0 {
		opt.MaxValue = 64
	}
	bw := bufio.NewWriter(w)
	p := printer{w: bw, opt: opt}
	p.dataset(ds, ds.Codec, 0)
	return bw.Flush()
}

type printer struct {
	w   *bufio.Writer
	opt Options
}

func (p *printer) dataset(ds *dicom.Dataset, tc dicom.TextCodec, depth int) {
	if ds.Codec != nil {
		tc = ds.Codec
	}
	for e := range ds.All() {
		p.element(e, tc, depth)
	}
}

// Name returns the keyword dcmdump would print for t.
func Name(t dicom.Tag) string {
	if kw := t.Keyword(); kw != "" {
		return kw
	}
	switch {
	case t.IsPrivateCreator():
		return "PrivateCreator"
	case t == dicom.ItemTag:
		return "Item"
	case t == dicom.ItemDelimitationItemTag:
		return "ItemDelimitationItem"
	case t == dicom.SequenceDelimitationItemTag:
		return "SequenceDelimitationItem"
	}
	return "Unknown Tag & Data"
}

func (p *printer) line(depth int, t dicom.Tag, vr, value, length string, vm int, name string) {
	ind := strings.Repeat("  ", depth)
	left := fmt.Sprintf("%s%s %s %s", ind, t, vr, value)
	pad := len(ind) + 56 - len(left)
	if pad < 1 {
		pad = 1
	}
	fmt.Fprintf(p.w, "%s%s# %3s,%2d %s\n", left, strings.Repeat(" ", pad), length, vm, name)
}

func (p *printer) element(e *dicom.Element, tc dicom.TextCodec, depth int) {
	name := Name(e.Tag)
	switch {
	case e.IsSequence():
		kind, length := "undefined length", "u/l"
		if !e.UndefinedLength {
			kind, length = "explicit length", "-"
			if n, err := codec.EncodedLength(e, codec.ExplicitVRLittleEndian); err == nil {
				length = strconv.FormatInt(n-12, 10) // less the explicit VR header
			}
		}
		p.line(depth, e.Tag, e.VR.String(), fmt.Sprintf("(Sequence with %s #=%d)", kind, len(e.Items)), length, 1, name)
		for _, it := range e.Items {
			p.line(depth+1, dicom.ItemTag, "na", fmt.Sprintf("(Item with %s #=%d)", kind, it.Len()), "-", 1, "Item")
			p.dataset(it, tc, depth+2)
			p.line(depth+1, dicom.ItemDelimitationItemTag, "na", "(ItemDelimitationItem)", "0", 0, "ItemDelimitationItem")
		}
		p.line(depth, dicom.SequenceDelimitationItemTag, "na", "(SequenceDelimitationItem)", "0", 0, "SequenceDelimitationItem")
	case e.Fragments != nil:
		p.line(depth, e.Tag, e.VR.String(), fmt.Sprintf("(PixelSequence #=%d)", len(e.Fragments.Items)+1), "u/l", 1, name)
		p.fragment(depth+1, e.Fragments.OffsetTable)
		for _, f := range e.Fragments.Items {
			p.fragment(depth+1, f)
		}
		p.line(depth, dicom.SequenceDelimitationItemTag, "na", "(SequenceDelimitationItem)", "0", 0, "SequenceDelimitationItem")
	case e.Bulk != nil:
		p.line(depth, e.Tag, e.VR.String(), fmt.Sprintf("(not loaded: %d bytes at offset %d)", e.Bulk.Length, e.Bulk.Offset),
			strconv.FormatInt(e.Bulk.Length, 10), 1, name)
	default:
		v := Value(e, tc, p.opt.Raw)
		if v == "" {
			v = "(no value available)"
		} else if e.VR.IsText() {
			v = "[" + p.cut(v) + "]"
		} else {
			v = p.cut(v)
		}
		p.line(depth, e.Tag, e.VR.String(), v, strconv.Itoa(len(e.Value)), e.VM(), name)
	}
}

func (p *printer) fragment(depth int, b []byte) {
	v := hexBytes(b, 1)
	if v == "" {
		v = "(no value available)"
	} else {
		v = p.cut(v)
	}
	p.line(depth, dicom.ItemTag, "pi", v, strconv.Itoa(len(b)), 1, "Item")
}

func (p *printer) cut(v string) string {
	if p.opt.MaxValue > 0 && len(v) > p.opt.MaxValue {
		return v[:p.opt.MaxValue] + "..."
	}
	return v
}

// Value formats the value of a non-sequence element as dcmdump shows it:
// text as stored less trailing spaces (and NUL for UI) (decoded to UTF-8 through tc unless raw),
// numbers in decimal, floats with 9 (FL, OF) or 17 (FD, OD) significant
// digits, AT as tags, and OB/UN bytes or OW words in hexadecimal, values
// separated by backslash.
func Value(e *dicom.Element, tc dicom.TextCodec, raw bool) string {
	switch e.VR {
	case dicom.OB, dicom.UN:
		return hexBytes(e.Value, 1)
	case dicom.OW:
		return hexBytes(e.Value, 2)
	case dicom.AT:
		return strings.Join(e.Strings(nil), `\`)
	case dicom.FL, dicom.OF, dicom.FD, dicom.OD:
		return floats(e)
	case dicom.US, dicom.SS, dicom.UL, dicom.SL, dicom.SV, dicom.UV, dicom.OL, dicom.OV:
		return strings.Join(e.Strings(nil), `\`)
	case dicom.NoVR:
		return hexBytes(e.Value, 1)
	}
	b := e.Value
	for len(b) > 0 && (b[len(b)-1] == ' ' || (b[len(b)-1] == 0 && e.VR == dicom.UI)) {
		b = b[:len(b)-1]
	}
	if raw || tc == nil || !e.VR.UsesCharset() {
		return quote(b)
	}
	s, _ := tc.Decode(e.VR, b)
	return s
}

// quote writes ASCII as is and every other byte as an octal escape.
func quote(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		if c < 0x20 || c >= 0x7f {
			fmt.Fprintf(&sb, `\%03o`, c)
			continue
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

func hexBytes(b []byte, width int) string {
	const digits = "0123456789abcdef"
	if width == 2 && len(b)%2 == 1 {
		width = 1
	}
	var sb strings.Builder
	sb.Grow(len(b) / width * (2*width + 1))
	for i := 0; i+width <= len(b); i += width {
		if i > 0 {
			sb.WriteByte('\\')
		}
		if width == 2 {
			v := binary.LittleEndian.Uint16(b[i:])
			sb.WriteByte(digits[v>>12])
			sb.WriteByte(digits[v>>8&0xf])
			sb.WriteByte(digits[v>>4&0xf])
			sb.WriteByte(digits[v&0xf])
			continue
		}
		sb.WriteByte(digits[b[i]>>4])
		sb.WriteByte(digits[b[i]&0xf])
	}
	return sb.String()
}

func floats(e *dicom.Element) string {
	w := e.VR.ByteWidth()
	n := len(e.Value) / w
	parts := make([]string, n)
	for i := 0; i < n; i++ {
		if w == 4 {
			f := math.Float32frombits(binary.LittleEndian.Uint32(e.Value[4*i:]))
			parts[i] = strconv.FormatFloat(float64(f), 'g', 9, 32)
		} else {
			f := math.Float64frombits(binary.LittleEndian.Uint64(e.Value[8*i:]))
			parts[i] = strconv.FormatFloat(f, 'g', 17, 64)
		}
		parts[i] = trimFloat(parts[i])
	}
	return strings.Join(parts, `\`)
}

// trimFloat drops trailing zeros of the mantissa as C's %g does.
func trimFloat(s string) string {
	mant, exp, _ := strings.Cut(s, "e")
	if strings.Contains(mant, ".") {
		mant = strings.TrimRight(strings.TrimRight(mant, "0"), ".")
	}
	if exp != "" {
		return mant + "e" + exp
	}
	return mant
}
