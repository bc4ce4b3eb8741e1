package fsstorage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pacsforge/pacs/core/storage"
	"github.com/pacsforge/pacs/sdk"
)

// DefaultPageSize is the page size of List when it is given 0.
const DefaultPageSize = 1000

// MaxPageSize bounds a page of List; a larger pageSize is cut to it.
const MaxPageSize = 10000

// errPageFull stops the walk once a page and one more object are found.
var errPageFull = errors.New("page full")

// errPastPrefix stops the walk once every key left sorts after prefix.
var errPastPrefix = errors.New("past prefix")

// List returns the objects whose keys start with prefix, after the key
// pageToken, in lexical key order (see sdk.Storage.List). NextPageToken is
// the last key of a page that is not the last one. It walks only the
// directories that can hold such keys, each in the order of its entries'
// keys, so a page costs the directories it visits, not the whole tree.
// Temporary files of Puts are left out; SHA256 is empty.
func (s *Storage) List(ctx context.Context, prefix, pageToken string, pageSize int) (sdk.ListPage, error) {
	if pageSize <= 0 {
		pageSize = DefaultPageSize
	}
	pageSize = min(pageSize, MaxPageSize)
	// Every key under prefix lies in the directory of prefix's last '/'.
	start := prefix[:strings.LastIndexByte(prefix, '/')+1]
	if start != "" && storage.ValidKey(strings.TrimSuffix(start, "/")) != nil {
		return sdk.ListPage{}, nil // no valid key starts with prefix
	}
	w := &walker{ctx: ctx, root: s.fs.Root(), prefix: prefix, after: pageToken, limit: pageSize + 1}
	if err := w.walk(start); err != nil && err != errPageFull && err != errPastPrefix {
		return sdk.ListPage{}, fmt.Errorf("list %q under %s: %w", prefix, s.fs.Root(), err)
	}
	var page sdk.ListPage
	if len(w.found) > pageSize {
		w.found = w.found[:pageSize]
		page.NextPageToken = w.found[pageSize-1].Key
	}
	page.Objects = w.found
	return page, nil
}

// walker is one List's walk.
type walker struct {
	ctx    context.Context
	root   string
	prefix string // keys must start with it
	after  string // keys must sort after it
	limit  int
	found  []sdk.ObjectInfo
}

// entry is a directory entry with the string its keys start with: its
// name, with a '/' for a directory. Sorting a directory's entries by it
// sorts their keys: no entry's string is a prefix of another's keys.
type entry struct {
	os.DirEntry
	sortKey string
}

// walk visits the directory dir ("" or a key prefix ending in '/').
func (w *walker) walk(dir string) error {
	if err := w.ctx.Err(); err != nil {
		return context.Cause(w.ctx)
	}
	des, err := os.ReadDir(filepath.Join(w.root, filepath.FromSlash(dir)))
	if isNotExist(err) {
		return nil // removed meanwhile, or never made
	}
	if err != nil {
		return err
	}
	ents := make([]entry, 0, len(des))
	for _, de := range des {
		switch {
		case de.IsDir():
			ents = append(ents, entry{de, dir + de.Name() + "/"})
		case de.Type().IsRegular() && !storage.IsTempName(de.Name()):
			ents = append(ents, entry{de, dir + de.Name()})
		}
	}
	slices.SortFunc(ents, func(a, b entry) int { return cmp.Compare(a.sortKey, b.sortKey) })
	for _, e := range ents {
		k := e.sortKey
		if !strings.HasPrefix(k, w.prefix) && !strings.HasPrefix(w.prefix, k) {
			if k > w.prefix {
				return errPastPrefix // and so is every later key
			}
			continue
		}
		if !e.IsDir() {
			if k <= w.after || !strings.HasPrefix(k, w.prefix) {
				continue
			}
			fi, err := e.Info()
			if isNotExist(err) {
				continue // deleted meanwhile
			}
			if err != nil {
				return err
			}
			w.found = append(w.found, sdk.ObjectInfo{Key: k, Size: fi.Size(), ModTime: fi.ModTime()})
			if len(w.found) >= w.limit {
				return errPageFull
			}
			continue
		}
		if k < w.after && !strings.HasPrefix(w.after, k) {
			continue // every key below sorts before the token
		}
		if err := w.walk(k); err != nil {
			return err
		}
	}
	return nil
}
