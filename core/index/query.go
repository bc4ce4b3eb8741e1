package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/dicomjson"
)

// ErrTooManyMatches is returned by Find, before any result, when more
// entities match than Query.Limit allows.
var ErrTooManyMatches = errors.New("index: more matches than the limit")

// ErrInvalidQuery is returned by Find for an identifier it cannot match: a
// level the model does not have, a missing unique key of a hierarchical
// query, a malformed date or time range, too long a list of UIDs.
var ErrInvalidQuery = errors.New("index: invalid query")

// MaxUIDList is the longest list of UIDs a key may hold (list of UID
// matching, PS3.4 C.2.2.2.2).
const MaxUIDList = 1000

// Query is a C-FIND request against the index.
type Query struct {
	// Level is the Query/Retrieve Level; Root the information model.
	Level Level
	Root  Root
	// Keys is the C-FIND identifier: matching and return keys. Query/Retrieve
	// Level and Specific Character Set in it are ignored (the fields above and
	// the data set's Codec are used).
	Keys *dicom.Dataset
	// Limit is the largest number of matches returned; more give
	// ErrTooManyMatches before any result. 0 means no limit.
	Limit int
	// CaseInsensitivePN matches person names ignoring case and accents.
	CaseInsensitivePN bool
	// Relational allows keys above the query level without the unique keys
	// of the levels above (relational queries, PS3.4 C.4.1.2.2.2). Without
	// it the query is hierarchical: the unique key of every level above the
	// query level must be given as a single value.
	Relational bool
	// CombinedDateTime matches Study Date and Study Time together as one
	// date-time range (PS3.4 C.2.2.2.5.1) when Study Time is a range.
	CombinedDateTime bool
}

// retSource says where a returned attribute comes from.
type retSource uint8

const (
	fromColumn retSource = iota // a selected column
	fromList                    // a selected backslash-separated list
	fromJSON                    // the stored attributes of an entity
	fromNone                    // nothing: returned empty
)

// retKey is one attribute of every result.
type retKey struct {
	key   *dicom.Element
	vr    dicom.VR
	src   retSource
	col   int   // select index (fromColumn, fromList)
	level Level // entity whose stored attributes hold it (fromJSON)
}

// filter is a key matched in Go against an entity's stored attributes.
type filter struct {
	key   *dicom.Element
	level Level
}

// plan is a query translated to SQL plus the work left for Go.
type plan struct {
	q       *Query
	sel     []string
	where   []string
	args    []any
	ret     []retKey
	filters []filter
	json    [4]int  // select index of each level's stored attributes, or -1
	rep     [4]bool // levels whose representative instance is joined
	charset int     // select index of the stored Specific Character Set, or -1
}

// selectCharset selects the Specific Character Set of the query level's
// entity: its representative instance's (its own at Image level).
func (p *plan) selectCharset() {
	r := "i"
	if l := p.q.Level; l != Image {
		p.rep[l] = true
		r = fmt.Sprintf("r%d", l)
	}
	p.charset = p.selectExpr(r + ".charset")
}

func (p *plan) selectExpr(e string) int {
	p.sel = append(p.sel, e)
	return len(p.sel) - 1
}

func (p *plan) needJSON(l Level) int {
	if p.json[l] < 0 {
		if l == Image {
			p.json[l] = p.selectExpr("i.attrs")
		} else {
			p.json[l] = p.selectExpr(fmt.Sprintf("r%d.attrs", l))
		}
	}
	return p.json[l]
}

// from returns the FROM clause: the level's table joined to its parents and
// to the representative instances whose attributes are selected.
func (p *plan) from() string {
	var b strings.Builder
	switch p.q.Level {
	case Patient:
		b.WriteString(" FROM patient p")
	case Study:
		b.WriteString(" FROM study st JOIN patient p ON p.id = st.patient_fk")
	case Series:
		b.WriteString(" FROM series se JOIN study st ON st.id = se.study_fk JOIN patient p ON p.id = st.patient_fk")
	case Image:
		b.WriteString(" FROM instance i JOIN series se ON se.id = i.series_fk JOIN study st ON st.id = se.study_fk JOIN patient p ON p.id = st.patient_fk")
	}
	for l := Patient; l < Image; l++ {
		if p.json[l] >= 0 || p.rep[l] {
			fmt.Fprintf(&b, " LEFT JOIN instance r%d ON r%d.id = %s.rep_instance", l, l, alias[l])
		}
	}
	return b.String()
}

func (p *plan) whereClause() string {
	if len(p.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(p.where, " AND ")
}

// compile translates q into a plan.
func compile(q *Query) (*plan, error) {
	if q.Level > Image {
		return nil, fmt.Errorf("%w: unknown level %d", ErrInvalidQuery, q.Level)
	}
	if q.Root == StudyRoot && q.Level == Patient {
		return nil, fmt.Errorf("%w: the Study Root model has no PATIENT level", ErrInvalidQuery)
	}
	p := &plan{q: q, json: [4]int{-1, -1, -1, -1}, charset: -1}
	p.selectExpr(alias[q.Level] + ".id")
	kc := q.Keys.Codec
	if !q.Relational {
		if err := checkHierarchical(q); err != nil {
			return nil, err
		}
	}
	combined := q.CombinedDateTime && q.Keys != nil && strings.Contains(q.Keys.String(dicom.StudyTime), "-") && q.Level >= Study
	if combined {
		if err := p.combinedDateTime(q.Keys.String(dicom.StudyDate), q.Keys.String(dicom.StudyTime)); err != nil {
			return nil, err
		}
	}
	if u := uniqueKey[q.Level]; !q.Keys.Contains(u) {
		// The unique key of the query level is always returned (PS3.4
		// C.4.1.2.2).
		c := columnOf[u]
		e := dicom.Element{Tag: u, VR: dicom.LO}
		if c.kind == kUI {
			e.VR = dicom.UI
		}
		p.ret = append(p.ret, retKey{key: &e, vr: e.VR, src: fromColumn, col: p.selectExpr(alias[c.level] + "." + c.name)})
	}
	for k := range q.Keys.All() {
		switch {
		case k.Tag == dicom.QueryRetrieveLevel, k.Tag == dicom.SpecificCharacterSet, k.Tag.IsGroupLength():
			continue
		}
		vr := keyVR(k)
		if d, ok := dicom.LookupTag(k.Tag); ok && d.VR != dicom.NoVR && !k.IsSequence() {
			vr = d.VR
		}
		r := retKey{key: k, vr: vr, src: fromNone}
		lvl, known := levelOf(k.Tag)
		if !known {
			lvl = q.Level
		}
		if lvl > q.Level {
			// A key below the query level neither matches nor is returned
			// with a value.
			p.ret = append(p.ret, r)
			continue
		}
		vals := k.Strings(kc)
		skip := combined && (k.Tag == dicom.StudyDate || k.Tag == dicom.StudyTime)
		switch c := columnOf[k.Tag]; {
		case c != nil:
			r.src, r.col = fromColumn, p.selectExpr(alias[c.level]+"."+c.name)
			if !skip {
				norm := ""
				if c.norm != "" && q.CaseInsensitivePN {
					norm = alias[c.level] + "." + c.norm
				}
				if err := p.match(alias[c.level]+"."+c.name, norm, c.kind, vals); err != nil {
					return nil, fmt.Errorf("%w: %s: %v", ErrInvalidQuery, k.Tag, err)
				}
			}
		case k.Tag == dicom.ModalitiesInStudy:
			r.src, r.col = fromList, p.selectExpr("st.modalities_in_study")
			if err := p.exists(`SELECT 1 FROM series ms WHERE ms.study_fk = st.id AND `, "ms.modality", kText, vals); err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrInvalidQuery, k.Tag, err)
			}
		case k.Tag == dicom.SOPClassesInStudy:
			r.src, r.col = fromList, p.selectExpr("st.sop_classes_in_study")
			// Matched against the study's own list, kept up to date by every
			// write, not by scanning the study's instances.
			if err := p.inList("st.sop_classes_in_study", vals); err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrInvalidQuery, k.Tag, err)
			}
		case k.Tag == dicom.AvailableTransferSyntaxUID:
			r.src, r.col = fromColumn, p.selectExpr("i.transfer_syntax_uid")
			if err := p.match("i.transfer_syntax_uid", "", kUI, vals); err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrInvalidQuery, k.Tag, err)
			}
		default:
			r.src, r.level = fromJSON, lvl
			p.needJSON(lvl)
			if k.IsSequence() || !universal(vr, vals) {
				p.filters = append(p.filters, filter{key: k, level: lvl})
			}
		}
		p.ret = append(p.ret, r)
	}
	return p, nil
}

// checkHierarchical requires the unique key of each level above the query
// level as a single value (PS3.4 C.4.1.2.2.1).
func checkHierarchical(q *Query) error {
	top := Patient
	if q.Root == StudyRoot {
		top = Study
	}
	for l := top; l < q.Level; l++ {
		t := uniqueKey[l]
		v := q.Keys.Strings(t)
		if len(v) != 1 || v[0] == "" || hasWildcard(v[0]) || v[0] == emptyValue {
			return fmt.Errorf("%w: a hierarchical query at %s level needs a single value of %s", ErrInvalidQuery, q.Level, t)
		}
	}
	return nil
}

// exists adds an EXISTS condition over a sub-query whose rows must match.
func (p *plan) exists(sub, expr string, k kind, vals []string) error {
	n := len(p.where)
	if err := p.match(expr, "", k, vals); err != nil {
		return err
	}
	if len(p.where) > n {
		p.where[n] = "EXISTS (" + sub + p.where[n] + ")"
	}
	return nil
}

// inList adds the condition that the backslash-separated list of UIDs in
// column expr holds one of the UIDs vals; no value, or a universal one, adds
// nothing.
func (p *plan) inList(expr string, vals []string) error {
	if universal(dicom.UI, vals) {
		return nil
	}
	if len(vals) > MaxUIDList {
		return fmt.Errorf("%d UIDs in a list, more than %d", len(vals), MaxUIDList)
	}
	alts := make([]string, len(vals))
	for i, v := range vals {
		if v == emptyValue {
			alts[i] = expr + " = ''"
			continue
		}
		alts[i] = `instr('\' || ` + expr + ` || '\', ?) > 0`
		p.args = append(p.args, `\`+v+`\`)
	}
	p.where = append(p.where, "("+strings.Join(alts, " OR ")+")")
	return nil
}

// match adds the condition of key values vals on column expr (norm: its
// folded copy, for case-insensitive person names). Several values match as
// alternatives; no value, or a universal one, adds nothing.
func (p *plan) match(expr, norm string, k kind, vals []string) error {
	if k == kCount || universal(kindVR[k], vals) {
		return nil
	}
	if k == kUI {
		if len(vals) > MaxUIDList {
			return fmt.Errorf("%d UIDs in a list, more than %d", len(vals), MaxUIDList)
		}
		if len(vals) == 1 {
			p.where = append(p.where, expr+" = ?")
			p.args = append(p.args, vals[0])
			return nil
		}
		p.where = append(p.where, expr+" IN (?"+strings.Repeat(", ?", len(vals)-1)+")")
		for _, v := range vals {
			p.args = append(p.args, v)
		}
		return nil
	}
	var alts []string
	var args []any
	for _, v := range vals {
		c, a, err := single(expr, norm, k, v)
		if err != nil {
			return err
		}
		if c == "" {
			return nil // one universal alternative matches everything
		}
		alts = append(alts, c)
		args = append(args, a...)
	}
	if len(alts) == 1 {
		p.where = append(p.where, alts[0])
	} else {
		p.where = append(p.where, "("+strings.Join(alts, " OR ")+")")
	}
	p.args = append(p.args, args...)
	return nil
}

// kindVR is the VR whose matching rules a column kind follows.
var kindVR = [...]dicom.VR{kText: dicom.LO, kPN: dicom.PN, kUI: dicom.UI, kDA: dicom.DA, kTM: dicom.TM, kIS: dicom.IS, kCount: dicom.NoVR}

// like is a LIKE comparison with the escape character of likePattern.
const like = " LIKE ? ESCAPE '" + likeEscape + "'"

// single returns the condition of one key value on a column, "" for a
// universal value.
func single(expr, norm string, k kind, v string) (string, []any, error) {
	if v == emptyValue {
		return expr + " = ''", nil, nil
	}
	switch k {
	case kDA, kTM:
		lower, upper := normDA, normDA
		if k == kTM {
			lower, upper = normTM, upperTM
		}
		lo, hi, isRange := strings.Cut(v, "-")
		if !isRange {
			s := lower(v)
			if s == "" {
				return "", nil, fmt.Errorf("%q is not a valid value", v)
			}
			return expr + " = ?", []any{s}, nil
		}
		conds, args := []string{expr + " <> ''"}, []any{}
		if lo != "" {
			s := lower(lo)
			if s == "" {
				return "", nil, fmt.Errorf("%q is not a valid range", v)
			}
			conds, args = append(conds, expr+" >= ?"), append(args, s)
		}
		if hi != "" {
			s := upper(hi)
			if s == "" {
				return "", nil, fmt.Errorf("%q is not a valid range", v)
			}
			conds, args = append(conds, expr+" <= ?"), append(args, s)
		}
		if len(args) == 0 {
			return "", nil, nil // "-" is the whole range
		}
		return "(" + strings.Join(conds, " AND ") + ")", args, nil
	case kIS:
		return expr + " = ?", []any{normIS(v)}, nil
	case kPN:
		v = normPN(v)
		if norm != "" {
			expr, v = norm, foldPN(v)
		}
		if onlyStars(v) {
			return "", nil, nil
		}
		pat := likePattern(v)
		first := expr + " = ?"
		var a0 any = v
		if hasWildcard(v) {
			first, a0 = expr+like, pat
		}
		cond, args := first, []any{a0}
		if !strings.Contains(v, "=") {
			// Also the alphabetic group of a name stored with several groups.
			cond, args = "("+first+" OR "+expr+like+")", []any{a0, pat + "=%"}
		}
		if prefix, _, _ := strings.Cut(v, "*"); hasWildcard(v) {
			// The literal start of the pattern as a range of the column, which
			// its index serves: LIKE alone is matched row by row.
			if prefix, _, _ = strings.Cut(prefix, "?"); prefix != "" {
				cond = "(" + expr + " >= ? AND " + expr + " < ? AND " + cond + ")"
				args = append([]any{prefix, prefix + string(utf8.MaxRune)}, args...)
			}
		}
		return cond, args, nil
	}
	if onlyStars(v) {
		return "", nil, nil
	}
	if hasWildcard(v) {
		return expr + like, []any{likePattern(v)}, nil
	}
	return expr + " = ?", []any{v}, nil
}

// combinedDateTime adds the condition of Study Date and Study Time matched
// as one range of date-times (PS3.4 C.2.2.2.5.1).
func (p *plan) combinedDateTime(date, tm string) error {
	dlo, dhi, isRange := strings.Cut(date, "-")
	if !isRange {
		dhi = dlo
	}
	tlo, thi, _ := strings.Cut(tm, "-")
	expr := "st.study_date || CASE WHEN st.study_time = '' THEN '000000' ELSE st.study_time END"
	conds := []string{"st.study_date <> ''"}
	if dlo != "" {
		d, t := normDA(dlo), "000000"
		if tlo != "" {
			t = normTM(tlo)
		}
		if d == "" || t == "" {
			return fmt.Errorf("%w: combined range %q %q", ErrInvalidQuery, date, tm)
		}
		conds, p.args = append(conds, "("+expr+") >= ?"), append(p.args, d+t)
	}
	if dhi != "" {
		d, t := normDA(dhi), "235959.999999"
		if thi != "" {
			t = upperTM(thi)
		}
		if d == "" || t == "" {
			return fmt.Errorf("%w: combined range %q %q", ErrInvalidQuery, date, tm)
		}
		conds, p.args = append(conds, "("+expr+") <= ?"), append(p.args, d+t)
	}
	p.where = append(p.where, strings.Join(conds, " AND "))
	return nil
}

// Find runs a C-FIND query and yields a data set per matching entity: the
// requested keys with the entity's values, Query/Retrieve Level, and
// Specific Character Set "ISO_IR 192" when any text is not ASCII. An invalid
// query yields ErrInvalidQuery, and a Limit exceeded ErrTooManyMatches,
// before any result: with a Limit the matches (at most Limit+1 rows) are
// read in one pass before the first is yielded; without one, rows are read
// lazily while the caller iterates. The order of results is unspecified.
// When ctx is done the iteration ends with
// the context's cause (C-CANCEL); stopping early releases the query.
func (ix *Index) Find(ctx context.Context, q Query) iter.Seq2[*dicom.Dataset, error] {
	return func(yield func(*dicom.Dataset, error) bool) {
		for m, err := range ix.find(ctx, q, false) {
			if !yield(m.Dataset, err) {
				return
			}
		}
	}
}

// Match is a result of FindMatches.
type Match struct {
	// Dataset is the result as Find yields it.
	Dataset *dicom.Dataset
	// CharacterSet is the Specific Character Set the matching entity's
	// data was received with (see CharacterSet), nil for the default
	// repertoire: what a response in the entity's own character set names.
	CharacterSet []string
}

// FindMatches is Find, each result with the character set its entity was
// received with, read in the same pass: a C-FIND SCP answering in the
// stored character set needs no look-up per match.
func (ix *Index) FindMatches(ctx context.Context, q Query) iter.Seq2[Match, error] {
	return ix.find(ctx, q, true)
}

func (ix *Index) find(ctx context.Context, q Query, charsets bool) iter.Seq2[Match, error] {
	return func(yield func(Match, error) bool) {
		if q.Keys == nil {
			q.Keys = dicom.NewDataset(0)
		}
		p, err := compile(&q)
		if err != nil {
			yield(Match{}, err)
			return
		}
		if charsets {
			p.selectCharset()
		}
		query, args := "SELECT "+strings.Join(p.sel, ", ")+p.from()+p.whereClause(), p.args
		if q.Limit > 0 && len(p.filters) == 0 {
			// One row more than the limit tells that there are too many,
			// in the same pass that reads the matches.
			query, args = query+" LIMIT ?", append(slices.Clip(args), q.Limit+1)
		}
		rows, err := ix.reads.query(ctx, query, args...)
		if err != nil {
			yield(Match{}, fmt.Errorf("index: find: %w", err))
			return
		}
		defer rows.Close()
		var buf []Match // with a limit: results held back until the count is known
		hold := q.Limit > 0
		vals := make([]sql.NullString, len(p.sel))
		dest := make([]any, len(vals))
		for i := range vals {
			dest[i] = &vals[i]
		}
		for rows.Next() {
			if err := ctx.Err(); err != nil {
				yield(Match{}, context.Cause(ctx))
				return
			}
			if err := rows.Scan(dest...); err != nil {
				yield(Match{}, fmt.Errorf("index: find: %w", err))
				return
			}
			ds, ok, err := p.result(vals)
			if err != nil {
				yield(Match{}, err)
				return
			}
			if !ok {
				continue
			}
			m := Match{Dataset: ds}
			if p.charset >= 0 {
				m.CharacterSet = splitCharset(vals[p.charset].String)
			}
			if hold {
				if buf = append(buf, m); len(buf) > q.Limit {
					yield(Match{}, fmt.Errorf("%w: more than %d", ErrTooManyMatches, q.Limit))
					return
				}
				continue
			}
			if !yield(m, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			if ctx.Err() != nil {
				err = context.Cause(ctx)
			} else {
				err = fmt.Errorf("index: find: %w", err)
			}
			yield(Match{}, err)
			return
		}
		for _, m := range buf {
			if !yield(m, nil) {
				return
			}
		}
	}
}

// result applies the Go filters to a row and builds its data set; false
// means the row does not match.
func (p *plan) result(vals []sql.NullString) (*dicom.Dataset, bool, error) {
	var stored [4]*dicom.Dataset
	for l, i := range p.json {
		if i < 0 {
			continue
		}
		ds, err := dicomjson.Unmarshal([]byte(vals[i].String))
		if err != nil {
			return nil, false, fmt.Errorf("index: stored attributes of entity %s: %w", vals[0].String, err)
		}
		stored[l] = ds
	}
	for _, f := range p.filters {
		if !matchElement(f.key, p.q.Keys.Codec, stored[f.level], p.q.CaseInsensitivePN, 0) {
			return nil, false, nil
		}
	}
	out := dicom.NewDataset(len(p.ret) + 2)
	if err := out.SetString(dicom.QueryRetrieveLevel, p.q.Level.String()); err != nil {
		return nil, false, err
	}
	for _, r := range p.ret {
		var e dicom.Element
		var err error
		switch r.src {
		case fromColumn:
			e, err = dicom.NewElement(r.key.Tag, r.vr, []string{vals[r.col].String}, nil)
		case fromList:
			var l []string
			if s := vals[r.col].String; s != "" {
				l = strings.Split(s, `\`)
			}
			e, err = dicom.NewElement(r.key.Tag, r.vr, l, nil)
		case fromJSON:
			e = returned(r, stored[r.level])
		default:
			e = dicom.Element{Tag: r.key.Tag, VR: r.vr}
		}
		if err != nil {
			return nil, false, fmt.Errorf("index: return %s: %w", r.key.Tag, err)
		}
		out.Put(e)
	}
	if !isASCII(out) {
		if err := out.SetString(dicom.SpecificCharacterSet, "ISO_IR 192"); err != nil {
			return nil, false, err
		}
	}
	return out, true, nil
}

// returned is the stored attribute of a return key, or an empty one. A
// sequence key with an item returns each stored item reduced to the item's
// keys.
func returned(r retKey, ds *dicom.Dataset) dicom.Element {
	e := ds.Get(r.key.Tag)
	if e == nil {
		if r.key.IsSequence() {
			return dicom.Element{Tag: r.key.Tag, VR: dicom.SQ, Items: []*dicom.Dataset{}}
		}
		return dicom.Element{Tag: r.key.Tag, VR: r.vr}
	}
	c := e.Clone()
	if r.key.IsSequence() && len(r.key.Items) > 0 && r.key.Items[0].Len() > 0 {
		want := r.key.Items[0]
		for _, it := range c.Items {
			it.DeleteFunc(func(x *dicom.Element) bool { return !want.Contains(x.Tag) })
		}
	}
	return c
}

// isASCII reports whether every text value of ds (and of its items) is ASCII.
func isASCII(ds *dicom.Dataset) bool {
	for e := range ds.All() {
		for _, it := range e.Items {
			if !isASCII(it) {
				return false
			}
		}
		if !e.VR.IsText() {
			continue
		}
		for _, b := range e.Value {
			if b >= 0x80 {
				return false
			}
		}
	}
	return true
}
