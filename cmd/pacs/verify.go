package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/pacsforge/pacs/core/config"
	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/core/plugin"
	"github.com/pacsforge/pacs/core/storage"
)

// verifyBatch is how many indexed instances verify checks at once: their
// objects are read (or stated) concurrently, which hides the latency of a
// remote backend, and their problems printed in index order.
const verifyBatch = 8

// runVerify is pacs verify: it checks that the index and the stored objects
// of the first storage tier agree, whatever its backend (the filesystem in
// process, or a plugin such as s3 or azure, started as pacs serve starts
// it). Exit code 0: nothing found; 1: problems found (or an error); 2:
// usage.
func runVerify(args []string) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "configuration file (HCL); without it, the built-in defaults")
	dataDir := fs.String("data-dir", "", "data directory (overrides data_dir; default "+config.DefaultDataDir+")")
	quick := fs.Bool("quick", false, "check each object's size only (Stat), without reading it to check its SHA-256")
	fs.BoolVar(quick, "no-checksum", false, "same as --quick")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `usage: pacs verify [--quick] [--data-dir D | --config FILE]

Checks the archive's first storage tier, whatever its backend: every
indexed instance has its object in storage with the recorded size and
SHA-256 (read back and hashed; --quick only asks the backend for the
size), and every object in storage is indexed. Plugin backends (s3,
azure, out-of-process fs, plugin blocks) are started as pacs serve
starts them. Prints one line per problem ("missing", "size",
"checksum", "orphan") and exits with 1 when it found any. Do not run it
on an archive that is receiving objects: a store in progress may show
up as an orphan.

options:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	p := config.NewParser()
	cfg, ok := loadConfig(p, *configPath)
	if !ok {
		return 1
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	dbPath := filepath.Join(cfg.DataDir, indexFileName)
	if _, err := os.Stat(dbPath); err != nil {
		fmt.Fprintf(stderr, "pacs verify: no index: %v\n", err)
		return 1
	}
	ctx := context.Background()
	st, plugins, err := openVerifyBackend(ctx, cfg, p)
	if plugins != nil {
		defer plugins.Close()
	}
	if err != nil {
		fmt.Fprintf(stderr, "pacs verify: %v\n", err)
		return 1
	}
	ix, err := index.Open(ctx, dbPath, index.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "pacs verify: %v\n", err)
		return 1
	}
	defer ix.Close()
	rep, err := verifyArchive(ctx, ix, st, verifyOptions{quick: *quick}, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "pacs verify: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%d instances, %d objects checked: %d missing, %d size mismatches, %d checksum mismatches, %d orphans\n",
		rep.instances, rep.objects, rep.missing, rep.size, rep.checksum, rep.orphans)
	if rep.problems() != 0 {
		return 1
	}
	return 0
}

// openVerifyBackend opens the first storage tier of cfg. For a plugin
// backend it starts the one plugin serving it (not the others, such as SOP
// handlers), returned for the caller to close even with an error, and fails
// unless it came up: verifying through a plugin that is down would report
// nothing useful.
func openVerifyBackend(ctx context.Context, cfg *config.Config, p *config.Parser) (storage.Backend, *plugin.Manager, error) {
	tier := cfg.Storage[0]
	specs, err := plugin.Specs(cfg, firstParty())
	if err != nil {
		return nil, nil, err
	}
	specs = slices.DeleteFunc(specs, func(s *plugin.Spec) bool {
		return !slices.ContainsFunc(s.Instances, func(in *plugin.Instance) bool {
			return in.Kind == plugin.KindStorage && in.Name == tier.Name
		})
	})
	if len(specs) == 0 {
		st, _, err := openBackend(cfg, nil)
		return st, nil, err
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "pacs", Output: stderr, Level: hclog.Warn})
	m := plugin.New(specs, plugin.Options{Logger: log, EvalContext: p.EvalContext()})
	if err := m.Start(ctx); err != nil {
		printPluginError(err, p.Files())
		return nil, m, fmt.Errorf("storage %q: its plugin did not start", tier.Name)
	}
	for _, s := range m.Status() {
		if s.State != plugin.StateUp {
			return nil, m, fmt.Errorf("storage %q: plugin %s is %s: %s", tier.Name, s.Name, s.State, s.LastError)
		}
	}
	st, _, err := openBackend(cfg, m)
	return st, m, err
}

// verifyOptions choose what verifyArchive checks.
type verifyOptions struct {
	// quick checks sizes with Stat instead of reading every object.
	quick bool
}

// verifyReport counts what verifyArchive checked and found.
type verifyReport struct {
	instances, objects               int
	missing, size, checksum, orphans int
}

func (r verifyReport) problems() int { return r.missing + r.size + r.checksum + r.orphans }

// verifyArchive compares the index with the objects of st, writing a line to
// w for each problem. Objects are listed for orphans when st is a
// storage.Lister; otherwise a line says they were not.
func verifyArchive(ctx context.Context, ix *index.Index, st storage.Backend, opt verifyOptions, w io.Writer) (verifyReport, error) {
	var rep verifyReport
	indexed := map[string]bool{}
	batch := make([]index.Location, 0, verifyBatch)
	flush := func() error {
		results := make([]objectCheck, len(batch))
		var wg sync.WaitGroup
		for i, loc := range batch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = checkObject(ctx, st, loc, opt.quick)
			}()
		}
		wg.Wait()
		for i, loc := range batch {
			r := results[i]
			switch {
			case errors.Is(r.err, storage.ErrNotFound):
				rep.missing++
				fmt.Fprintf(w, "missing %s (SOP instance %s)\n", loc.Key, loc.SOPInstanceUID)
			case r.err != nil:
				return r.err
			case r.size != loc.Size:
				rep.size++
				fmt.Fprintf(w, "size %s: %d bytes, indexed %d\n", loc.Key, r.size, loc.Size)
			case !opt.quick && r.sum != loc.SHA256:
				rep.checksum++
				fmt.Fprintf(w, "checksum %s: SHA-256 %s, indexed %s\n", loc.Key, r.sum, loc.SHA256)
			}
		}
		batch = batch[:0]
		return nil
	}
	for loc, err := range ix.AllInstances(ctx) {
		if err != nil {
			return rep, err
		}
		rep.instances++
		if loc.Backend != st.ID() {
			fmt.Fprintf(w, "skipped %s: on backend %q\n", loc.Key, loc.Backend)
			continue
		}
		indexed[loc.Key] = true
		if batch = append(batch, loc); len(batch) == verifyBatch {
			if err := flush(); err != nil {
				return rep, err
			}
		}
	}
	if err := flush(); err != nil {
		return rep, err
	}
	l, ok := st.(storage.Lister)
	if !ok {
		fmt.Fprintf(w, "orphans not checked: backend %q cannot list its objects\n", st.ID())
		return rep, nil
	}
	for oi, err := range l.List(ctx, "") {
		if err != nil {
			return rep, err
		}
		rep.objects++
		if !indexed[oi.Key] {
			rep.orphans++
			fmt.Fprintf(w, "orphan %s (%d bytes)\n", oi.Key, oi.Size)
		}
	}
	return rep, nil
}

// objectCheck is what checkObject found of one object.
type objectCheck struct {
	size int64
	sum  string // "" when only stated
	err  error
}

// checkObject stats the object of loc (quick), or reads and hashes it.
func checkObject(ctx context.Context, st storage.Backend, loc index.Location, quick bool) objectCheck {
	if quick {
		info, err := st.Stat(ctx, loc.Key)
		return objectCheck{size: info.Size, err: err}
	}
	size, sum, err := hashObject(ctx, st, loc.Key)
	return objectCheck{size: size, sum: sum, err: err}
}

// hashObject returns the size and SHA-256 of the object under key.
func hashObject(ctx context.Context, st storage.Backend, key string) (int64, string, error) {
	rc, err := st.Get(ctx, key)
	if err != nil {
		return 0, "", err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return 0, "", fmt.Errorf("read %s: %w", key, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
