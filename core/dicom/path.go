package dicom

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxWalkDepth bounds the nesting of sequences that Walk and Dataset.Validate
// enter, and the number of steps of a path expression. Decoders reject deeper
// data sets long before; the bound guards against data sets built in memory
// whose items contain themselves.
const MaxWalkDepth = 128

// maxPathIndex bounds an item index in a path expression.
const maxPathIndex = 1<<31 - 1

// ErrInvalidPath is wrapped by errors about path expressions that cannot be
// parsed or do not fit the data set's shape (an index on an element that is not
// a sequence, an item index beyond the end on SetPath).
var ErrInvalidPath = errors.New("dicom: invalid path")

// SkipItems is returned by a Walk callback to skip the items of the element it
// was called for. It is not returned by Walk.
var SkipItems = errors.New("dicom: skip items")

// PathStep is one step of a Path: an element and, for a sequence that is
// entered, the index of the item.
type PathStep struct {
	Tag Tag
	// Index is the item's index (from 0), or -1 when the step names the element
	// itself.
	Index int
}

// Path locates an element or item inside nested sequences. Its text form is
// steps separated by '.', each a keyword ("PatientName") or a tag in any of the
// forms "(0010,0010)", "0010,0010" or "00100010", optionally followed by an item
// index "[i]": "ScheduledProcedureStepSequence[0].Modality". Private tags are
// written only as tags.
type Path []PathStep

// ParsePath parses a path expression (see Path). An intermediate step without
// an index keeps Index -1; lookups take it as item 0. Errors wrap
// ErrInvalidPath and name the failing segment.
func ParsePath(expr string) (Path, error) {
	if expr == "" {
		return nil, fmt.Errorf("%w: empty path", ErrInvalidPath)
	}
	n := strings.Count(expr, ".") + 1
	if n > MaxWalkDepth {
		return nil, fmt.Errorf("%w: %d steps, at most %d are allowed", ErrInvalidPath, n, MaxWalkDepth)
	}
	p := make(Path, 0, n)
	for seg := range strings.SplitSeq(expr, ".") {
		step, err := parseStep(seg)
		if err != nil {
			return nil, fmt.Errorf("%w: segment %d %q: %s", ErrInvalidPath, len(p), seg, err.Error())
		}
		p = append(p, step)
	}
	return p, nil
}

// parseStep parses one segment: a keyword or tag, and an optional "[i]".
func parseStep(seg string) (PathStep, error) {
	name, index := seg, -1
	if i := strings.IndexByte(seg, '['); i >= 0 {
		name = seg[:i]
		digits, ok := strings.CutSuffix(seg[i+1:], "]")
		if !ok || digits == "" || !allDigits(digits) || len(digits) > 10 {
			return PathStep{}, errors.New("an item index is written [n] with n a decimal number")
		}
		n, err := strconv.ParseInt(digits, 10, 64)
		if err != nil || n > maxPathIndex {
			return PathStep{}, errors.New("item index out of range")
		}
		index = int(n)
	}
	if name == "" {
		return PathStep{}, errors.New("no keyword or tag")
	}
	if looksLikeTag(name) {
		t, err := ParseTag(name)
		if err != nil {
			return PathStep{}, errors.New("not a tag (gggg,eeee)")
		}
		return PathStep{Tag: t, Index: index}, nil
	}
	t, ok := LookupKeyword(name)
	if !ok {
		return PathStep{}, errors.New("unknown keyword")
	}
	return PathStep{Tag: t, Index: index}, nil
}

// looksLikeTag reports whether name is written as a tag, not a keyword: it
// starts with '(' or is 8 hexadecimal digits, possibly with a comma. No
// keyword of PS3.6 has that form.
func looksLikeTag(name string) bool {
	if name[0] == '(' {
		return true
	}
	if len(name) != 8 && len(name) != 9 {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isHex(c) && c != ',' {
			return false
		}
	}
	return true
}

// String formats p canonically: "(0040,0100)[0].(0008,0060)".
func (p Path) String() string {
	var b strings.Builder
	b.Grow(len(p) * 15)
	for i, s := range p {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.Tag.String())
		if s.Index >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.Index))
			b.WriteByte(']')
		}
	}
	return b.String()
}

// itemIndex is the item a step enters: its index, or 0 when it has none.
func (s PathStep) itemIndex() int { return max(s.Index, 0) }

// Path returns the element that the path expression expr names (see Path). A
// sequence step without an index enters item 0. The last step must not have an
// index (use PathItem for items). A missing element or item is an error
// wrapping ErrNotFound that names the failing segment; a malformed expression
// wraps ErrInvalidPath. The pointer is valid until the data set holding the
// element is next modified.
func (ds *Dataset) Path(expr string) (*Element, error) {
	p, err := ParsePath(expr)
	if err != nil {
		return nil, err
	}
	last := p[len(p)-1]
	if last.Index >= 0 {
		return nil, fmt.Errorf("%w: %q ends in an item index; use PathItem", ErrInvalidPath, expr)
	}
	item, err := ds.follow(expr, p[:len(p)-1])
	if err != nil {
		return nil, err
	}
	e := item.Get(last.Tag)
	if e == nil {
		return nil, fmt.Errorf("dicom: path %q: segment %d %s: %w", expr, len(p)-1, last.Tag, ErrNotFound)
	}
	return e, nil
}

// PathItem returns the item that the path expression expr names:
// "ReferencedSeriesSequence[1]". Every sequence step without an index,
// including the last, enters item 0. Errors are those of Path.
func (ds *Dataset) PathItem(expr string) (*Dataset, error) {
	p, err := ParsePath(expr)
	if err != nil {
		return nil, err
	}
	return ds.follow(expr, p)
}

// follow enters the items that the steps of p name and returns the last.
func (ds *Dataset) follow(expr string, p Path) (*Dataset, error) {
	cur := ds
	for i, s := range p {
		e := cur.Get(s.Tag)
		if e == nil {
			return nil, fmt.Errorf("dicom: path %q: segment %d %s: %w", expr, i, s.Tag, ErrNotFound)
		}
		if !e.IsSequence() {
			return nil, fmt.Errorf("%w: %q: segment %d %s is %s, not a sequence", ErrInvalidPath, expr, i, s.Tag, e.VR)
		}
		k := s.itemIndex()
		if k >= len(e.Items) || e.Items[k] == nil {
			return nil, fmt.Errorf("dicom: path %q: segment %d %s: item %d of %d: %w", expr, i, s.Tag, k, len(e.Items), ErrNotFound)
		}
		cur = e.Items[k]
	}
	return cur, nil
}

// SetPath puts e at the place that the path expression expr names, replacing
// any element there, and sets e.Tag to the path's last tag (e.Tag must be 0 or
// that tag). Missing sequences and items on the way are created: a sequence
// step without an index means item 0, and a new item may be added only at
// index len(items). The last step must not have an index. Nothing is changed
// when an error is returned; errors wrap ErrInvalidPath.
func (ds *Dataset) SetPath(expr string, e Element) error {
	p, err := ParsePath(expr)
	if err != nil {
		return err
	}
	last := p[len(p)-1]
	switch {
	case last.Index >= 0:
		return fmt.Errorf("%w: %q ends in an item index; an element goes there", ErrInvalidPath, expr)
	case e.Tag != 0 && e.Tag != last.Tag:
		return fmt.Errorf("%w: %q names %s, the element is %s", ErrInvalidPath, expr, last.Tag, e.Tag)
	}
	e.Tag = last.Tag
	if err := ds.checkItems(expr, p[:len(p)-1]); err != nil {
		return err
	}
	cur := ds
	for _, s := range p[:len(p)-1] {
		cur = cur.enterOrCreate(s)
	}
	cur.Put(e)
	return nil
}

// checkItems checks that the items on the way of p exist or can be created,
// without changing anything.
func (ds *Dataset) checkItems(expr string, p Path) error {
	cur := ds
	for i, s := range p {
		k := s.itemIndex()
		var e *Element
		if cur != nil {
			e = cur.Get(s.Tag)
		}
		if e == nil {
			if d, ok := LookupTag(s.Tag); ok && d.VR != SQ && !s.Tag.IsPrivate() {
				return fmt.Errorf("%w: %q: segment %d %s is %s, not a sequence", ErrInvalidPath, expr, i, s.Tag, d.VR)
			}
			if k != 0 {
				return fmt.Errorf("%w: %q: segment %d %s: item %d of a new sequence", ErrInvalidPath, expr, i, s.Tag, k)
			}
			cur = nil // everything below is created
			continue
		}
		if !e.IsSequence() {
			return fmt.Errorf("%w: %q: segment %d %s is %s, not a sequence", ErrInvalidPath, expr, i, s.Tag, e.VR)
		}
		if k > len(e.Items) {
			return fmt.Errorf("%w: %q: segment %d %s: item %d of %d", ErrInvalidPath, expr, i, s.Tag, k, len(e.Items))
		}
		if k == len(e.Items) {
			cur = nil
			continue
		}
		cur = e.Items[k]
	}
	return nil
}

// enterOrCreate returns the item that s names, creating the sequence and the
// item if they are missing (checkItems has checked that it may).
func (ds *Dataset) enterOrCreate(s PathStep) *Dataset {
	e := ds.Get(s.Tag)
	if e == nil {
		ds.Put(Element{Tag: s.Tag, VR: SQ, Items: []*Dataset{}})
		e = ds.Get(s.Tag)
	}
	k := s.itemIndex()
	if k == len(e.Items) {
		e.Items = append(e.Items, &Dataset{})
	}
	if e.Items[k] == nil {
		e.Items[k] = &Dataset{}
	}
	return e.Items[k]
}

// Walk calls fn for every element of ds, depth first, in tag order, each
// element before the elements of its items, with the element's path (whose
// last step has Index -1). The path is reused between calls: copy it to keep
// it. If fn returns SkipItems, the element's items are skipped; any other
// error stops the walk and is returned. Items nested deeper than MaxWalkDepth
// are not entered. The data set must not be modified during the walk.
func (ds *Dataset) Walk(fn func(path Path, e *Element) error) error {
	return ds.walk(make(Path, 0, 8), fn)
}

func (ds *Dataset) walk(prefix Path, fn func(Path, *Element) error) error {
	if ds == nil {
		return nil
	}
	for i := range ds.elems {
		e := &ds.elems[i]
		p := append(prefix, PathStep{Tag: e.Tag, Index: -1})
		err := fn(p, e)
		if errors.Is(err, SkipItems) {
			continue
		}
		if err != nil {
			return err
		}
		if len(e.Items) == 0 || len(p) >= MaxWalkDepth {
			continue
		}
		for k, item := range e.Items {
			p[len(p)-1].Index = k
			if err := item.walk(p, fn); err != nil {
				return err
			}
		}
	}
	return nil
}
