package main

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// Input files, relative to the -standard directory.
const (
	dcmtkFile      = "dictionary/dcmtk-dicom.dic"
	innoliticsFile = "dictionary/innolitics-attributes.json"
)

var tplFiles = []string{
	"dictionary/dicom3tools-dicom3.tpl",
	"dictionary/dicom3tools-diconde.tpl",
	"dictionary/dicom3tools-dicos.tpl",
}

// The 34 VRs of PS3.5, spelled as the constants of package dicom.
var knownVRs = map[string]bool{}

func init() {
	for _, v := range strings.Fields("AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV") {
		knownVRs[v] = true
	}
}

const (
	exactMask = 0xffffffff
	// groupEven is the mask bit that restricts a repeating group such as
	// (60xx,eeee) to even groups (PS3.5 §7.6).
	groupEven  = 0x00010000
	tagLUTData = 0x00283006
)

// entry is one row of the generated dictionary.
type entry struct {
	tag     uint32 // the tag, or the first tag of a repeating entry
	mask    uint32
	pattern string // "(60XX,3000)" for repeating entries
	vrs     []string
	vm      string
	keyword string
	name    string
	retired bool
	source  string // where the name came from
	alias   bool   // a further tag of an expanded range: no constant of its own
}

// nameRef is a name found in a secondary source.
type nameRef struct{ keyword, name string }

// secondary holds what the name sources say, by tag ("(0010,0010)",
// "(60XX,3000)") and by keyword, and the repeating patterns by keyword.
type secondary struct {
	label     string
	byTag     map[string]nameRef
	byKeyword map[string]string
	patterns  map[string]string
}

func newSecondary(label string) *secondary {
	return &secondary{label: label, byTag: map[string]nameRef{}, byKeyword: map[string]string{}, patterns: map[string]string{}}
}

func (s *secondary) add(tag, keyword, name string) {
	tag = strings.ToUpper(strings.TrimSpace(tag))
	if _, ok := s.byTag[tag]; !ok {
		s.byTag[tag] = nameRef{keyword, name}
	}
	if keyword == "" {
		return
	}
	if _, ok := s.byKeyword[keyword]; !ok && name != "" {
		s.byKeyword[keyword] = name
	}
	if strings.Contains(tag, "X") {
		if _, ok := s.patterns[keyword]; !ok {
			s.patterns[keyword] = tag
		}
	}
}

type dictionary struct {
	exact  []*entry
	masked []*entry
	notes  []string // disagreements between sources, reported with -v
}

func loadDictionary(std string) (*dictionary, error) {
	tpl := newSecondary("dicom3tools")
	for _, f := range tplFiles {
		if err := readTpl(filepath.Join(std, f), tpl); err != nil {
			return nil, err
		}
	}
	inno := newSecondary("innolitics")
	if err := readInnolitics(filepath.Join(std, innoliticsFile), inno); err != nil {
		return nil, err
	}
	rows, err := readDcmtk(filepath.Join(std, dcmtkFile))
	if err != nil {
		return nil, err
	}
	d := &dictionary{}
	seenTag := map[uint32]string{}
	seenKw := map[string]string{}
	for _, r := range rows {
		e, err := d.resolve(r, tpl, inno)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", dcmtkFile, r.line, err)
		}
		for _, e := range e {
			if e.alias {
				d.exact = append(d.exact, e)
				continue
			}
			if prev, ok := seenKw[goName(e.keyword)]; ok {
				return nil, fmt.Errorf("%s:%d: keyword %s already used by %s", dcmtkFile, r.line, e.keyword, prev)
			}
			seenKw[goName(e.keyword)] = r.tag
			if e.mask == exactMask {
				if prev, ok := seenTag[e.tag]; ok {
					return nil, fmt.Errorf("%s:%d: tag %08X already defined by %s", dcmtkFile, r.line, e.tag, prev)
				}
				seenTag[e.tag] = e.keyword
				d.exact = append(d.exact, e)
			} else {
				d.masked = append(d.masked, e)
			}
		}
	}
	byTag := func(a, b *entry) int {
		if a.tag != b.tag {
			if a.tag < b.tag {
				return -1
			}
			return 1
		}
		return strings.Compare(a.keyword, b.keyword)
	}
	slices.SortFunc(d.exact, byTag)
	slices.SortFunc(d.masked, byTag)
	for _, e := range d.exact {
		for _, m := range d.masked {
			if e.tag&m.mask == m.tag&m.mask {
				d.notes = append(d.notes, fmt.Sprintf("exact %08X %s is also matched by %s %s; the exact entry wins", e.tag, e.keyword, m.pattern, m.keyword))
			}
		}
	}
	return d, nil
}

// dcmtkRow is one data line of dcmtk's dicom.dic.
type dcmtkRow struct {
	line                          int
	tag, vr, keyword, vm, version string
}

func readDcmtk(name string) ([]dcmtkRow, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []dcmtkRow
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		fs := strings.Split(line, "\t")
		if len(fs) != 5 {
			return nil, fmt.Errorf("%s:%d: want 5 tab-separated fields, have %d", name, n, len(fs))
		}
		rows = append(rows, dcmtkRow{n, fs[0], fs[1], fs[2], fs[3], fs[4]})
	}
	return rows, sc.Err()
}

var (
	tplLine = regexp.MustCompile(`^\(([0-9A-Fa-fx]{4},[0-9A-Fa-fx]{4})\)\s+(.*)$`)
	tplAttr = regexp.MustCompile(`(\w+)="([^"]*)"`)
)

func readTpl(name string, s *secondary) error {
	b, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(b), "\n") {
		m := tplLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		attrs := map[string]string{}
		for _, a := range tplAttr.FindAllStringSubmatch(m[2], -1) {
			attrs[a[1]] = a[2]
		}
		s.add("("+m[1]+")", attrs["Keyword"], attrs["Name"])
	}
	return nil
}

func readInnolitics(name string, s *secondary) error {
	b, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	var rows []struct{ Tag, Name, Keyword string }
	if err := json.Unmarshal(b, &rows); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	for _, r := range rows {
		s.add(r.Tag, r.Keyword, r.Name)
	}
	return nil
}

// resolve turns a dcmtk row into zero or more dictionary entries (more than one
// when a range cannot be written as one mask). Names come from tpl, then inno;
// repeating patterns from inno (which keeps the standard's spelling, such as
// (1000,XXX0)), then tpl.
func (d *dictionary) resolve(r dcmtkRow, tpl, inno *secondary) ([]*entry, error) {
	sources := []*secondary{tpl, inno}
	switch r.version {
	case "DICOM", "DICOM/retired", "DICOM/DICONDE", "DICOM/DICOS":
	case "PRIVATE", "GENERIC", "ILLEGAL":
		return nil, nil
	default:
		return nil, fmt.Errorf("unknown version %q", r.version)
	}
	kw, prefixed := strings.CutPrefix(r.keyword, "RETIRED_")
	retired := r.version == "DICOM/retired"
	if prefixed != retired {
		return nil, fmt.Errorf("%s: RETIRED_ prefix disagrees with version %s", r.keyword, r.version)
	}
	if !isIdent(kw) {
		return nil, fmt.Errorf("keyword %q is not an identifier", kw)
	}
	g, el, err := parseRangeTag(r.tag)
	if err != nil {
		return nil, err
	}
	vrs, err := mapVR(r.vr, g.lo<<16|el.lo)
	if err != nil {
		return nil, err
	}
	base := entry{vrs: vrs, vm: r.vm, keyword: kw, retired: retired}

	// The standard's own notation ((60xx,3000), (0028,04x0), (1010,xxxx)) as
	// given by the secondary sources decides the mask; dcmtk spells some of
	// these as their first instance only.
	var pattern string
	for _, s := range []*secondary{inno, tpl} {
		if p, ok := s.patterns[kw]; ok {
			pattern = p
			break
		}
	}
	var out []*entry
	switch {
	case pattern != "":
		tag, mask, err := patternMask(pattern)
		if err != nil {
			return nil, err
		}
		first := g.lo<<16 | el.lo
		if first&mask != tag {
			return nil, fmt.Errorf("%s %s does not match pattern %s", r.tag, kw, pattern)
		}
		if g.lo != g.hi || el.lo != el.hi {
			if note := compareRange(g, el, mask, tag); note != "" {
				d.notes = append(d.notes, fmt.Sprintf("%s %s: dcmtk range %s, standard %s: %s", r.tag, kw, r.tag, pattern, note))
			}
		} else {
			d.notes = append(d.notes, fmt.Sprintf("%s %s widened to the standard's %s", r.tag, kw, pattern))
		}
		e := base
		e.tag, e.mask, e.pattern = first, mask, pattern
		out = append(out, &e)
	case g.lo == g.hi && el.lo == el.hi:
		e := base
		e.tag, e.mask = g.lo<<16|el.lo, exactMask
		out = append(out, &e)
	default:
		gm, gv, gok := rangeMask(g)
		em, ev, eok := rangeMask(el)
		if gok && eok {
			e := base
			e.tag, e.mask = g.lo<<16|el.lo, gm<<16|em
			e.pattern = maskPattern(gv<<16|ev, e.mask)
			out = append(out, &e)
			break
		}
		// Not expressible as one mask: one exact entry per tag, the
		// constant names the first.
		d.notes = append(d.notes, fmt.Sprintf("%s %s expanded into single tags", r.tag, kw))
		for _, gg := range g.values() {
			for _, ee := range el.values() {
				e := base
				e.tag, e.mask = gg<<16|ee, exactMask
				e.alias = len(out) > 0 // only the first instance names a constant
				out = append(out, &e)
			}
		}
	}
	for _, e := range out {
		e.name, e.source = findName(kw, e, sources)
		// dicom3tools marks some retired DICONDE names "(Retired)"; in PS3.6
		// only the names whose keyword ends in Retired carry it.
		if n, ok := strings.CutSuffix(e.name, " (Retired)"); ok && !strings.HasSuffix(kw, "Retired") {
			e.name = n
		}
	}
	return out, nil
}

// tagRange is one half of a dcmtk tag: lo-hi with a parity restriction.
type tagRange struct {
	lo, hi uint32
	parity byte // 'e' even, 'o' odd, 'u' any
}

func (r tagRange) values() []uint32 {
	var vs []uint32
	for v := r.lo; v <= r.hi; v++ {
		if r.parity == 'u' || (r.parity == 'e') == (v%2 == 0) {
			vs = append(vs, v)
		}
	}
	return vs
}

// parseRangeTag parses dcmtk's "(gggg,eeee)", with either half optionally a
// range "llll-hhhh" (even values only, dcmtk's default) or "llll-o-hhhh" /
// "llll-u-hhhh" / "llll-e-hhhh".
func parseRangeTag(s string) (g, e tagRange, err error) {
	if len(s) < 2 || s[0] != '(' || s[len(s)-1] != ')' {
		return g, e, fmt.Errorf("bad tag %q", s)
	}
	gs, es, ok := strings.Cut(s[1:len(s)-1], ",")
	if !ok {
		return g, e, fmt.Errorf("bad tag %q", s)
	}
	if g, err = parseRange(gs); err != nil {
		return g, e, fmt.Errorf("bad tag %q: %w", s, err)
	}
	if e, err = parseRange(es); err != nil {
		return g, e, fmt.Errorf("bad tag %q: %w", s, err)
	}
	return g, e, nil
}

func parseRange(s string) (tagRange, error) {
	parts := strings.Split(s, "-")
	r := tagRange{parity: 'u'}
	var err error
	hex := func(p string) uint32 {
		v, e := strconv.ParseUint(p, 16, 16)
		if e != nil || len(p) != 4 {
			err = fmt.Errorf("bad hex %q", p)
		}
		return uint32(v)
	}
	switch len(parts) {
	case 1:
		r.lo = hex(parts[0])
		r.hi = r.lo
	case 2:
		r.lo, r.hi, r.parity = hex(parts[0]), hex(parts[1]), 'e'
	case 3:
		r.lo, r.hi = hex(parts[0]), hex(parts[2])
		switch p := strings.ToLower(parts[1]); p {
		case "e", "o", "u":
			r.parity = p[0]
		default:
			return r, fmt.Errorf("bad range restriction %q", parts[1])
		}
	default:
		return r, fmt.Errorf("bad range %q", s)
	}
	if err == nil && r.lo > r.hi {
		err = fmt.Errorf("empty range %q", s)
	}
	return r, err
}

// rangeMask returns the 16-bit mask and value selecting exactly the values
// of r, if one mask can.
func rangeMask(r tagRange) (mask, value uint32, ok bool) {
	span := r.lo ^ r.hi
	if span&(span+1) != 0 || r.lo&span != 0 { // span must be 0..01..1, aligned
		return 0, 0, false
	}
	mask, value = 0xffff&^span, r.lo
	switch {
	case r.parity == 'u':
	case span == 0:
		if (r.parity == 'e') != (r.lo%2 == 0) {
			return 0, 0, false
		}
	case r.parity == 'e':
		mask |= 1
	case r.parity == 'o':
		mask |= 1
		value |= 1
	}
	return mask, value, true
}

// compareRange describes how the dcmtk range differs from the mask, or
// returns "" when they select the same tags.
func compareRange(g, e tagRange, mask, value uint32) string {
	gm, gv, gok := rangeMask(g)
	em, ev, eok := rangeMask(e)
	if gok && eok && gm<<16|em == mask && gv<<16|ev == value {
		return ""
	}
	return fmt.Sprintf("dcmtk selects mask %04X%04X, the standard %08X; using the standard", gm, em, mask)
}

// patternMask turns "(60XX,3000)" into tag 0x60003000 and mask 0xFF01FFFF:
// each X nibble is free, except that a repeating group is even (PS3.5 §7.6).
func patternMask(p string) (tag, mask uint32, err error) {
	s := strings.NewReplacer("(", "", ")", "", ",", "").Replace(p)
	if len(s) != 8 {
		return 0, 0, fmt.Errorf("bad pattern %q", p)
	}
	for _, c := range s {
		tag, mask = tag<<4, mask<<4
		if c == 'X' {
			continue
		}
		v, err := strconv.ParseUint(string(c), 16, 8)
		if err != nil {
			return 0, 0, fmt.Errorf("bad pattern %q", p)
		}
		tag |= uint32(v)
		mask |= 0xf
	}
	if s[3] == 'X' {
		mask |= groupEven
	}
	return tag, mask, nil
}

// maskPattern writes a mask as the standard's xx notation, for the comments
// of the generated file.
func maskPattern(tag, mask uint32) string {
	var b strings.Builder
	b.WriteByte('(')
	for i := 7; i >= 0; i-- {
		if i == 3 {
			b.WriteByte(',')
		}
		if mask>>(4*i)&0xe == 0 {
			b.WriteByte('X')
		} else {
			fmt.Fprintf(&b, "%X", tag>>(4*i)&0xf)
		}
	}
	b.WriteByte(')')
	return b.String()
}

// mapVR maps dcmtk's VR column, including its internal codes, to the VRs of
// PS3.6.
func mapVR(vr string, tag uint32) ([]string, error) {
	switch vr {
	case "up":
		return []string{"UL"}, nil
	case "xs":
		return []string{"US", "SS"}, nil
	case "ox", "px":
		return []string{"OB", "OW"}, nil
	case "lt":
		if tag == tagLUTData { // PS3.6 says "US or OW"; dcmtk's lt is generic
			return []string{"US", "OW"}, nil
		}
		return []string{"US", "SS", "OW"}, nil
	case "na":
		return nil, nil
	}
	if !knownVRs[vr] {
		return nil, fmt.Errorf("unknown VR %q", vr)
	}
	return []string{vr}, nil
}

// findName returns the human-readable name of e: from a source that has the
// same tag and keyword, else from one that has the keyword, else derived
// from the keyword.
func findName(kw string, e *entry, sources []*secondary) (name, source string) {
	key := fmt.Sprintf("(%04X,%04X)", e.tag>>16, e.tag&0xffff)
	if e.pattern != "" {
		key = e.pattern
	}
	for _, s := range sources {
		if r, ok := s.byTag[key]; ok && r.keyword == kw && r.name != "" {
			return r.name, s.label
		}
	}
	for _, s := range sources {
		if n, ok := s.byKeyword[kw]; ok {
			return n, s.label + " by keyword"
		}
	}
	return nameFromKeyword(kw), "derived"
}

// nameFromKeyword splits a keyword at case changes: "PatientID" -> "Patient ID".
func nameFromKeyword(kw string) string {
	rs := []rune(kw)
	var b strings.Builder
	for i, r := range rs {
		if i > 0 {
			prev := rs[i-1]
			next := rune(0)
			if i+1 < len(rs) {
				next = rs[i+1]
			}
			upper := unicode.IsUpper(r)
			switch {
			case upper && unicode.IsLower(prev),
				upper && unicode.IsUpper(prev) && unicode.IsLower(next),
				upper && unicode.IsDigit(prev):
				b.WriteByte(' ')
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(unicode.IsLetter(r) || r == '_' || (i > 0 && unicode.IsDigit(r))) {
			return false
		}
	}
	return true
}

// goName is the exported Go name of a keyword: the keyword itself, or with
// its first letter upper-cased for the few keywords of the standard that
// start in lower case ("dBdt" -> DBdt, "dicomDeviceName" -> DicomDeviceName).
func goName(kw string) string {
	r := []rune(kw)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// constNames lists the generated Tag constants.
func (d *dictionary) constNames() []string {
	var ns []string
	for _, e := range append(slices.Clone(d.exact), d.masked...) {
		if !e.alias {
			ns = append(ns, goName(e.keyword))
		}
	}
	return ns
}

func (d *dictionary) checkCollisions(pkg string) error {
	declared, err := declaredIdents(pkg, "dict_gen.go")
	if err != nil {
		return err
	}
	names := d.constNames()
	for vrs := range d.vrVars() {
		names = append(names, vrs)
	}
	names = append(names, "dictEntries", "dictMasked")
	if err := collisions(names, declared); err != nil {
		return fmt.Errorf("package dicom: %w", err)
	}
	return nil
}

// vrVars names the shared []VR variables: vrsUSSS for {US, SS}.
func (d *dictionary) vrVars() map[string][]string {
	m := map[string][]string{}
	for _, e := range append(slices.Clone(d.exact), d.masked...) {
		if len(e.vrs) > 0 {
			m[vrVar(e.vrs)] = e.vrs
		}
	}
	return m
}

func vrVar(vrs []string) string {
	if len(vrs) == 0 {
		return "nil"
	}
	return "vrs" + strings.Join(vrs, "")
}

func (d *dictionary) report(w io.Writer) {
	src := map[string]int{}
	retired := 0
	for _, e := range append(slices.Clone(d.exact), d.masked...) {
		src[e.source]++
		if e.retired {
			retired++
		}
	}
	fmt.Fprintf(w, "dictionary: %d exact + %d repeating entries, %d retired\n", len(d.exact), len(d.masked), retired)
	keys := make([]string, 0, len(src))
	for k := range src {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  names from %s: %d\n", k, src[k])
	}
	for _, n := range d.notes {
		fmt.Fprintln(w, "  note:", n)
	}
	for _, e := range append(slices.Clone(d.exact), d.masked...) {
		if e.source == "derived" {
			fmt.Fprintf(w, "  derived name: %08X %s -> %q\n", e.tag, e.keyword, e.name)
		}
	}
}

func (d *dictionary) generate() ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, `// Code generated by gendict; DO NOT EDIT.
//
// Sources, in the DICOM standard tables:
//   - %s: tags, VRs, VMs, keywords and retired flags of
//     PS3.6 and PS3.7 2026b (dcmtk's internal VR codes mapped to the standard's);
//   - %s: names and repeating-group notation;
//   - %s: names and repeating-group notation (second source).

package dicom

// Tags of the data elements of PS3.6 (including retired, DICONDE and DICOS
// elements) and the command elements of PS3.7, named by keyword. A repeating
// element, such as (60xx,3000) OverlayData, is named by its first tag.
const (
`, dcmtkFile, strings.Join(tplFiles, ",\n//     "), innoliticsFile)
	all := append(slices.Clone(d.exact), d.masked...)
	slices.SortStableFunc(all, func(a, b *entry) int {
		return cmp.Compare(a.tag, b.tag)
	})
	lastGroup := uint32(0)
	for i, e := range all {
		if e.alias {
			continue
		}
		if i > 0 && e.tag>>16 != lastGroup {
			b.WriteByte('\n')
		}
		lastGroup = e.tag >> 16
		fmt.Fprintf(&b, "\t%s Tag = 0x%08x // %s\n", goName(e.keyword), e.tag, comment(e))
	}
	b.WriteString(")\n\n")

	vars := d.vrVars()
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	sort.Strings(names)
	b.WriteString("// Shared VR lists of the entries; never modified.\nvar (\n")
	for _, n := range names {
		fmt.Fprintf(&b, "\t%s = []VR{%s}\n", n, strings.Join(vars[n], ", "))
	}
	b.WriteString(")\n\n")

	b.WriteString("// dictEntries holds the entries of single tags, sorted by tag.\nvar dictEntries = []DictEntry{\n")
	for _, e := range d.exact {
		writeEntry(&b, e)
	}
	b.WriteString("}\n\n")
	b.WriteString("// dictMasked holds the repeating entries; Tag is the first tag, and\n// t matches when t&Mask == Tag&Mask.\nvar dictMasked = []DictEntry{\n")
	for _, e := range d.masked {
		writeEntry(&b, e)
	}
	b.WriteString("}\n")
	return b.Bytes(), nil
}

func comment(e *entry) string {
	t := fmt.Sprintf("(%04X,%04X)", e.tag>>16, e.tag&0xffff)
	if e.pattern != "" {
		t = strings.ReplaceAll(e.pattern, "X", "x")
	}
	vr := strings.Join(e.vrs, " or ")
	if vr == "" {
		vr = "no VR"
	}
	c := t + " " + vr + " " + e.vm + " " + e.name
	if e.retired && !strings.HasSuffix(e.name, "(Retired)") {
		c += " (retired)"
	}
	return c
}

func writeEntry(b *bytes.Buffer, e *entry) {
	vr := "NoVR"
	if len(e.vrs) > 0 {
		vr = e.vrs[0]
	}
	fmt.Fprintf(b, "\t{0x%08x, 0x%08x, %s, %s, %q, %q, %q, %t},\n",
		e.tag, e.mask, vr, vrVar(e.vrs), e.vm, e.keyword, e.name, e.retired)
}
