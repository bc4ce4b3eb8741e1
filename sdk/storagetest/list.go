package storagetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pacsforge/pacs/sdk"
)

// listTree stores a study/series/instance tree whose lexical order differs
// from a directory walk's ("1.2.3.4/" < "1.2.3.dcm" < "1.2.3/", and
// "1.2.3.1.10.dcm" < "1.2.3.1.2.dcm") and returns its keys, sorted, with
// their objects.
func listTree(t *testing.T, e *env) ([]string, map[string]object) {
	t.Helper()
	objs := map[string]object{}
	add := func(rel string) {
		objs[e.key(rel)] = newObject(uint64(500+len(objs)), 1+len(objs)*37)
	}
	for _, study := range []string{"1.2.3", "1.2.3.4", "1.2.30"} {
		for _, series := range []string{".1", ".2"} {
			for _, inst := range []string{".1", ".2", ".10"} {
				add(fmt.Sprintf("%s/%s%s/%s%s%s.dcm", study, study, series, study, series, inst))
			}
		}
	}
	add("1.2.3.dcm")
	add("1.2.3-x/1.dcm")
	keys := make([]string, 0, len(objs))
	for k, o := range objs {
		keys = append(keys, k)
		e.put(t, k, o, len(keys)%2 == 0)
	}
	slices.Sort(keys)
	return keys, objs
}

// wantList checks a listing against the sorted keys that start with prefix.
func (e *env) wantList(t *testing.T, what, prefix string, got []sdk.ObjectInfo, keys []string, objs map[string]object) {
	t.Helper()
	var want []string
	for _, k := range keys {
		if strings.HasPrefix(k, prefix) {
			want = append(want, k)
		}
	}
	gotKeys := make([]string, len(got))
	for i, o := range got {
		gotKeys[i] = o.Key
	}
	if !slices.Equal(gotKeys, want) {
		t.Errorf("%s(%q) keys =\n\t%s\nwant (lexical order)\n\t%s", what, prefix, strings.Join(gotKeys, "\n\t"), strings.Join(want, "\n\t"))
		return
	}
	for _, o := range got {
		e.checkInfo(t, what, o.Key, o, objs[o.Key])
	}
}

// testList lists the tree under prefixes at every level, whole and partial
// path elements.
func testList(t *testing.T, e *env) {
	keys, objs := listTree(t, e)
	for _, rel := range []string{
		"",
		"1",
		"1.2.3",
		"1.2.3/",
		"1.2.3.",
		"1.2.3/1.2.3.1/",
		"1.2.3/1.2.3.1/1.2.3.1.1",
		"1.2.3/1.2.3.1/1.2.3.1.10.dcm",
		"1.2.30/1.2.30.2",
		"1.2.3.dcm",
		"1.2.4",
		"2",
	} {
		prefix := e.key(rel)
		e.wantList(t, "List", prefix, e.list(t, prefix, 0), keys, objs)
	}
}

// testListPaging follows the tree's listing in pages of several sizes.
func testListPaging(t *testing.T, e *env) {
	keys, objs := listTree(t, e)
	for _, size := range []int{1, 2, 3, 5, 7, len(keys) - 1, len(keys), len(keys) + 1, 1000} {
		for _, rel := range []string{"", "1.2.3/", "1.2.3"} {
			prefix := e.key(rel)
			got, pages := e.listPages(t, prefix, size, len(keys)/size+3)
			e.wantList(t, fmt.Sprintf("List with pages of %d", size), prefix, got, keys, objs)
			if min := (len(got) + size - 1) / size; pages < min {
				t.Errorf("List(%q) with pages of %d took %d pages for %d objects", prefix, size, pages, len(got))
			}
		}
	}
}
