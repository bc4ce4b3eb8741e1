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

	"github.com/pacsforge/pacs/core/config"
	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/core/storage"
)

// runVerify is pacs verify: it checks that the index and the stored objects
// agree. Exit code 0: nothing found; 1: problems found (or an error); 2: usage.
func runVerify(args []string) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "configuration file (HCL); without it, the built-in defaults")
	dataDir := fs.String("data-dir", "", "data directory (overrides data_dir; default "+config.DefaultDataDir+")")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `usage: pacs verify [--data-dir D | --config FILE]

Checks the archive: every indexed instance has its object in storage with
the recorded size and SHA-256, and every object in storage is indexed.
Prints one line per problem ("missing", "size", "checksum", "orphan") and
exits with 1 when it found any. Do not run it on an archive that is
receiving objects: a store in progress may show up as an orphan.

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
	cfg := config.Default()
	if *configPath != "" {
		p := config.NewParser()
		c, diags := p.Load(*configPath)
		if len(diags) != 0 {
			config.WriteDiagnostics(stderr, diags, p.Files())
		}
		if diags.HasErrors() {
			return 1
		}
		cfg = c
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
	st, _, err := openStorage(cfg)
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
	rep, err := verifyArchive(ctx, ix, st, stdout)
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

// verifyReport counts what verifyArchive checked and found.
type verifyReport struct {
	instances, objects               int
	missing, size, checksum, orphans int
}

func (r verifyReport) problems() int { return r.missing + r.size + r.checksum + r.orphans }

// verifyArchive compares the index with the objects of st, writing a line to
// w for each problem.
func verifyArchive(ctx context.Context, ix *index.Index, st *storage.FS, w io.Writer) (verifyReport, error) {
	var rep verifyReport
	indexed := map[string]bool{}
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
		size, sum, err := hashObject(ctx, st, loc.Key)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			rep.missing++
			fmt.Fprintf(w, "missing %s (SOP instance %s)\n", loc.Key, loc.SOPInstanceUID)
		case err != nil:
			return rep, err
		case size != loc.Size:
			rep.size++
			fmt.Fprintf(w, "size %s: %d bytes, indexed %d\n", loc.Key, size, loc.Size)
		case sum != loc.SHA256:
			rep.checksum++
			fmt.Fprintf(w, "checksum %s: SHA-256 %s, indexed %s\n", loc.Key, sum, loc.SHA256)
		}
	}
	for oi, err := range st.List(ctx, "") {
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
