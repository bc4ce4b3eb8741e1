package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/dicomjson"
	"github.com/pacsforge/pacs/core/ul"
)

// maxFindMatches bounds the matches pacs find keeps in memory; the query is
// cancelled beyond it.
const maxFindMatches = 1_000_000

// findOptions are the settings of pacs find.
type findOptions struct {
	queryOptions
	asJSON bool
}

func runFind(args []string) int {
	var o findOptions
	fs := o.flagSet("find")
	fs.BoolVar(&o.asJSON, "json", false, "print the matches as a DICOM JSON array (PS3.18 F.2) instead of a table")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `usage: pacs find [options] HOST PORT

Queries a DICOM peer with C-FIND (like findscu) and prints the matches: a
table whose columns are the -k keys, or DICOM JSON with --json. Text is
decoded from the matches' character sets. Example:

  pacs find -aec ORTHANC -L SERIES -k StudyInstanceUID=1.2.3 -k Modality -k SeriesDescription pacs.example 4242

options:
`)
		fs.PrintDefaults()
	}
	model, ident, keys, ok := o.parse(fs, args)
	if !ok {
		return 2
	}
	matches, err := find(context.Background(), o, model, ident)
	if err != nil {
		fmt.Fprintf(stderr, "pacs find: %v\n", err)
	}
	if o.asJSON {
		if werr := writeFindJSON(stdout, matches); werr != nil && err == nil {
			fmt.Fprintf(stderr, "pacs find: %v\n", werr)
			return 1
		}
	} else {
		writeFindTable(stdout, keys, matches)
	}
	if err != nil {
		return 1
	}
	return 0
}

// find runs one C-FIND of ident in model and returns the matches (also those
// received before an error).
func find(ctx context.Context, o findOptions, model string, ident *dicom.Dataset) ([]*dicom.Dataset, error) {
	c, err := o.dial(ctx, o.addr, []ul.ProposedContext{nativeContext(model)}, nil, nil)
	if err != nil {
		return nil, err
	}
	var matches []*dicom.Dataset
	_, err = c.Find(ctx, model, ident, func(m *dicom.Dataset) error {
		if len(matches) >= maxFindMatches {
			return fmt.Errorf("more than %d matches", maxFindMatches)
		}
		matches = append(matches, m)
		return nil
	})
	return matches, endAssociation(c, err)
}

func writeFindJSON(w io.Writer, matches []*dicom.Dataset) error {
	b, err := dicomjson.MarshalArray(matches, dicomjson.Options{Indent: true})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// writeFindTable prints one row per match and one column per key.
func writeFindTable(w io.Writer, keys []queryKey, matches []*dicom.Dataset) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	if len(keys) == 0 {
		keys = []queryKey{{expr: "QueryRetrieveLevel", path: dicom.Path{{Tag: dicom.QueryRetrieveLevel, Index: -1}}}}
	}
	head := make([]string, len(keys))
	for i, k := range keys {
		head[i] = k.expr
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, m := range matches {
		row := make([]string, len(keys))
		for i, k := range keys {
			row[i] = pathText(m, k.path)
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
}

// pathText returns the value at path in ds as text: values of text VRs
// decoded and joined with '\', numbers in decimal, the item count of a
// sequence; "" when absent.
func pathText(ds *dicom.Dataset, path dicom.Path) string {
	item := ds
	for _, step := range path[:len(path)-1] {
		items := item.Items(step.Tag)
		i := max(step.Index, 0)
		if i >= len(items) {
			return ""
		}
		item = items[i]
	}
	t := path[len(path)-1].Tag
	e := item.Get(t)
	if e == nil {
		return ""
	}
	if e.VR == dicom.SQ {
		return fmt.Sprintf("(%d items)", len(e.Items))
	}
	if s := item.Strings(t); s != nil {
		return strings.Join(s, `\`)
	}
	if v, err := item.Ints(t); err == nil && v != nil {
		out := make([]string, len(v))
		for i, n := range v {
			out[i] = strconv.FormatInt(n, 10)
		}
		return strings.Join(out, `\`)
	}
	if v, err := item.Floats(t); err == nil && v != nil {
		out := make([]string, len(v))
		for i, f := range v {
			out[i] = strconv.FormatFloat(f, 'g', -1, 64)
		}
		return strings.Join(out, `\`)
	}
	if len(e.Value) > 0 {
		return fmt.Sprintf("(%d bytes)", len(e.Value))
	}
	return ""
}
