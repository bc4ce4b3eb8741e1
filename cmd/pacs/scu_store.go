package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/part10"
	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/ul"
)

// Limits of pacs store.
const (
	// storeWindow is the asynchronous operations window proposed on each
	// association: as many C-STOREs in flight as the peer grants, up to this.
	storeWindow = 8
	// maxStoreJobs bounds -j.
	maxStoreJobs = 64
	// progressInterval is how often the progress line is redrawn.
	progressInterval = 250 * time.Millisecond
)

// storeOptions are the settings of pacs store.
type storeOptions struct {
	scuFlags
	addr     string
	jobs     int
	progress bool // draw a progress line on stderr
}

func runStore(args []string) int {
	fs := flag.NewFlagSet("store", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o storeOptions
	o.register(fs)
	fs.IntVar(&o.jobs, "j", 1, "number of parallel associations, each sending a share of the files")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `usage: pacs store [options] HOST PORT FILE|DIR...

Sends DICOM files with C-STORE (like storescu). Directories are walked
recursively; files that are not DICOM are skipped with a note. Each file is
sent in its own transfer syntax; uncompressed ones may also go in Explicit or
Implicit VR Little Endian when the peer prefers. Prints a summary (and a
progress bar with rates when stderr is a terminal); exits 1 when any file
failed.

options:
`)
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) < 3 || o.jobs < 1 || o.jobs > maxStoreJobs {
		fs.Usage()
		return 2
	}
	if o.addr, err = hostPort(pos[0], pos[1]); err != nil {
		fmt.Fprintf(stderr, "pacs store: %v\n", err)
		return 2
	}
	o.progress = stderrIsTerminal()
	files, skipped, err := scanStoreFiles(pos[2:], stderr)
	if err != nil {
		fmt.Fprintf(stderr, "pacs store: %v\n", err)
		return 1
	}
	if len(files) == 0 {
		fmt.Fprintf(stderr, "pacs store: no DICOM file to send (%d skipped)\n", skipped)
		return 1
	}
	sum := store(context.Background(), o, files, stderr)
	sum.skipped = skipped
	fmt.Fprintln(stdout, sum)
	if sum.failed > 0 {
		return 1
	}
	return 0
}

// storeFile is a DICOM file to send, as its meta information describes it.
type storeFile struct {
	path        string
	class, inst string
	ts          string
	native      bool // uncompressed: may be transcoded to another native syntax
	size        int64
}

// scanStoreFiles lists the files under paths (directories recursively) and
// reads each one's meta information. Files that are not DICOM, or name no SOP
// class or instance, are skipped with a note on notes.
func scanStoreFiles(paths []string, notes io.Writer) (files []storeFile, skipped int, err error) {
	var all []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, 0, err
		}
		if !fi.IsDir() {
			all = append(all, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				all = append(all, path)
			}
			return nil
		})
		if err != nil {
			return nil, 0, err
		}
	}
	for _, path := range all {
		f, err := readStoreFile(path)
		if err != nil {
			fmt.Fprintf(notes, "pacs store: skipping %s: %v\n", path, err)
			skipped++
			continue
		}
		files = append(files, f)
	}
	return files, skipped, nil
}

// errNotSendable marks a DICOM file that cannot be sent with C-STORE.
var errNotSendable = errors.New("not a storable instance")

func readStoreFile(path string) (storeFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return storeFile{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return storeFile{}, err
	}
	r, err := part10.NewReader(f, part10.WithStopAtPixelData(), part10.WithoutCharset())
	if err != nil {
		if errors.Is(err, part10.ErrNotDICOM) {
			return storeFile{}, part10.ErrNotDICOM
		}
		return storeFile{}, err
	}
	meta, syn := r.Meta(), r.Syntax()
	sf := storeFile{path: path, ts: syn.UID, native: !syn.Encapsulated, size: fi.Size()}
	if meta != nil {
		sf.class, sf.inst = meta.String(dicom.MediaStorageSOPClassUID), meta.String(dicom.MediaStorageSOPInstanceUID)
	}
	if sf.class == "" || sf.inst == "" {
		ds, err := r.ReadDataset()
		if err != nil {
			return storeFile{}, err
		}
		sf.class, sf.inst = ds.String(dicom.SOPClassUID), ds.String(dicom.SOPInstanceUID)
	}
	switch {
	case sf.class == "" || sf.inst == "":
		return storeFile{}, fmt.Errorf("%w: no SOP class or instance UID", errNotSendable)
	case sf.class == uid.MediaStorageDirectoryStorage:
		return storeFile{}, fmt.Errorf("%w: a DICOMDIR", errNotSendable)
	}
	return sf, nil
}

// contextKey identifies the presentation context a file needs: its SOP class
// and, for an encapsulated file, its transfer syntax ("" for every native one).
type contextKey struct{ class, ts string }

func (f storeFile) key() contextKey {
	if f.native {
		return contextKey{class: f.class}
	}
	return contextKey{class: f.class, ts: f.ts}
}

// storeBatches splits files into groups that each need at most maxContexts
// presentation contexts, and returns each group with its contexts: per SOP
// class one context for the uncompressed files (their own syntaxes first,
// then Explicit and Implicit VR Little Endian) and one per compressed syntax.
func storeBatches(files []storeFile) (batches [][]storeFile, contexts [][]ul.ProposedContext) {
	var keys []contextKey
	byKey := map[contextKey][]storeFile{}
	for _, f := range files {
		k := f.key()
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], f)
	}
	for len(keys) > 0 {
		n := min(len(keys), maxContexts)
		var batch []storeFile
		var pcs []ul.ProposedContext
		for _, k := range keys[:n] {
			group := byKey[k]
			batch = append(batch, group...)
			ts := []string{k.ts}
			if k.ts == "" {
				ts = nil
				for _, f := range group {
					if !slices.Contains(ts, f.ts) {
						ts = append(ts, f.ts)
					}
				}
				for _, s := range []string{uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian} {
					if !slices.Contains(ts, s) {
						ts = append(ts, s)
					}
				}
			}
			pcs = append(pcs, ul.ProposedContext{AbstractSyntax: k.class, TransferSyntaxes: ts})
		}
		batches = append(batches, batch)
		contexts = append(contexts, pcs)
		keys = keys[n:]
	}
	return batches, contexts
}

// storeSummary counts the outcome of pacs store.
type storeSummary struct {
	total, sent, failed, skipped int
	bytes                        int64
	elapsed                      time.Duration
}

func (s storeSummary) String() string {
	mb := float64(s.bytes) / 1e6
	secs := max(s.elapsed.Seconds(), 1e-6)
	return fmt.Sprintf("sent %d of %d files (%.1f MB) in %.2fs: %.1f instances/s, %.1f MB/s; %d failed, %d skipped",
		s.sent, s.total, mb, s.elapsed.Seconds(), float64(s.sent)/secs, mb/secs, s.failed, s.skipped)
}

// storeProgress is shared by the senders of one pacs store.
type storeProgress struct {
	done, sent, failed atomic.Int64
	bytes              atomic.Int64
	mu                 sync.Mutex // serialises lines on notes
	notes              io.Writer
	tty                bool // notes is a terminal with a progress line to clear
}

// note writes a line to notes, clearing the progress line first on a terminal.
func (p *storeProgress) note(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprint(p.notes, "\r\x1b[K")
	}
	fmt.Fprintf(p.notes, "pacs store: "+format+"\n", args...)
}

func (p *storeProgress) fail(path string, err error) {
	p.failed.Add(1)
	p.done.Add(1)
	p.note("%s: %v", path, err)
}

// progressBarWidth is the number of cells of the progress bar.
const progressBarWidth = 24

// storeProgressLine is the progress of a store: a bar of the bytes sent (of the
// files done when the files are empty), the files done, the megabytes sent,
// and the rates since the start.
func storeProgressLine(done, files int, bytes, total, sent int64, elapsed time.Duration) string {
	frac := 1.0
	switch {
	case total > 0:
		frac = float64(bytes) / float64(total)
	case files > 0:
		frac = float64(done) / float64(files)
	}
	frac = min(max(frac, 0), 1)
	filled := int(frac * progressBarWidth)
	el := max(elapsed.Seconds(), 1e-6)
	mb := float64(bytes) / 1e6
	return fmt.Sprintf("[%s%s] %3.0f%% %d/%d files, %.1f/%.1f MB, %.1f instances/s, %.1f MB/s",
		strings.Repeat("#", filled), strings.Repeat(".", progressBarWidth-filled), 100*frac,
		done, files, mb, float64(total)/1e6, float64(sent)/el, mb/el)
}

// store sends files to o.addr over o.jobs parallel associations and returns
// the summary. Per-file failures (and the progress line) go to notes.
func store(ctx context.Context, o storeOptions, files []storeFile, notes io.Writer) storeSummary {
	start := time.Now()
	p := &storeProgress{notes: notes, tty: o.progress}
	var total int64
	for _, f := range files {
		total += f.size
	}
	stopProgress := func() {}
	if o.progress {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(progressInterval)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
				}
				line := storeProgressLine(int(p.done.Load()), len(files), p.bytes.Load(), total, p.sent.Load(), time.Since(start))
				p.mu.Lock()
				fmt.Fprintf(notes, "\r%s\x1b[K", line)
				p.mu.Unlock()
			}
		}()
		stopProgress = func() {
			close(stop)
			wg.Wait()
			fmt.Fprint(notes, "\r\x1b[K")
		}
	}
	jobs := min(o.jobs, len(files))
	var wg sync.WaitGroup
	for j := range jobs {
		var share []storeFile
		for i := j; i < len(files); i += jobs {
			share = append(share, files[i])
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			batches, contexts := storeBatches(share)
			for i := range batches {
				storeBatch(ctx, o, batches[i], contexts[i], p)
			}
		}()
	}
	wg.Wait()
	stopProgress()
	return storeSummary{total: len(files), sent: int(p.sent.Load()), failed: int(p.failed.Load()),
		bytes: p.bytes.Load(), elapsed: time.Since(start)}
}

// storeBatch sends files on one association proposing contexts, with up to
// storeWindow C-STOREs in flight when the peer grants that window.
func storeBatch(ctx context.Context, o storeOptions, files []storeFile, contexts []ul.ProposedContext, p *storeProgress) {
	c, err := o.dial(ctx, o.addr, contexts, &ul.AsyncOps{Invoked: storeWindow, Performed: 1}, nil)
	if err != nil {
		for _, f := range files {
			p.fail(f.path, err)
		}
		return
	}
	next := make(chan storeFile)
	var wg sync.WaitGroup
	for range storeWindow {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range next {
				st, err := c.StoreFile(ctx, f.path, dimse.StoreOptions{})
				if err != nil {
					p.fail(f.path, err)
					continue
				}
				if st.Category() == dimse.CategoryWarning {
					p.note("%s: warning %v", f.path, st)
				}
				p.sent.Add(1)
				p.done.Add(1)
				p.bytes.Add(f.size)
			}
		}()
	}
	for _, f := range files {
		next <- f
	}
	close(next)
	wg.Wait()
	if err := c.Close(); err != nil {
		p.note("release: %v", err)
	}
}
