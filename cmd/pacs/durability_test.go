package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/codec"
	"github.com/pacsforge/pacs/core/dicom/part10"
	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/internal/peertest"
)

// explicitImage returns the smallest image of the corpus in Explicit VR
// Little Endian (which storescu sends unchanged) of at least minSize bytes,
// and its size.
func explicitImage(t *testing.T, minSize int64) (sendable, int64) {
	t.Helper()
	var best sendable
	var bestSize int64
	for _, f := range sendableCorpus(t) {
		fi, err := os.Stat(f.path)
		if err != nil || fi.Size() < minSize || f.ts != uid.ExplicitVRLittleEndian || f.ds.Get(dicom.PixelData) == nil {
			continue
		}
		if best.path == "" || fi.Size() < bestSize {
			best, bestSize = f, fi.Size()
		}
	}
	if best.path == "" {
		t.Skipf("no Explicit VR Little Endian image of %d bytes or more in the corpus", minSize)
	}
	return best, bestSize
}

// syntheticCopies writes n copies of src to dir, each with new Study,
// Series and SOP Instance UIDs (a study per copy), named prefix-i.dcm, and
// returns them.
func syntheticCopies(t *testing.T, src sendable, dir, prefix string, n int) []sendable {
	t.Helper()
	out := make([]sendable, 0, n)
	for i := range n {
		ds := src.ds.Clone()
		base := fmt.Sprintf("2.25.%d%09d%d", time.Now().UnixNano(), rand.Uint32N(1e9), i)
		for j, tag := range []dicom.Tag{dicom.StudyInstanceUID, dicom.SeriesInstanceUID, dicom.SOPInstanceUID} {
			if err := ds.SetString(tag, base+"."+strconv.Itoa(j+1)); err != nil {
				t.Fatal(err)
			}
		}
		inst := ds.String(dicom.SOPInstanceUID)
		f := sendable{path: filepath.Join(dir, fmt.Sprintf("%s-%d.dcm", prefix, i)), inst: inst, ts: src.ts, ds: ds}
		writeSendable(t, f)
		out = append(out, f)
	}
	return out
}

// writeSendable writes f.ds to f.path as a Part 10 file in f.ts.
func writeSendable(t *testing.T, f sendable) {
	t.Helper()
	syntax, _ := codec.LookupSyntax(f.ts)
	meta := part10.NewMeta(f.ds.String(dicom.SOPClassUID), f.inst, f.ts)
	var buf bytes.Buffer
	if err := part10.Write(&buf, &part10.File{Meta: meta, Syntax: syntax, Dataset: f.ds}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ackedFiles returns the files that storescu -v reports as stored with
// status Success: the "Sending file:" line before each "Received Store
// Response (Success)" line.
func ackedFiles(out string) []string {
	var acked []string
	var current string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if _, f, ok := strings.Cut(line, "Sending file: "); ok {
			current = f
			continue
		}
		if strings.Contains(line, "Received Store Response (Success)") && current != "" {
			acked = append(acked, current)
			current = ""
		}
	}
	return acked
}

// storescuRun is the result of one storescu process of runStorescus.
type storescuRun struct {
	out string
	err error
	// hung is set when the process was killed at its timeout.
	hung bool
}

// runStorescus runs one storescu -v with the options opts per group of
// files concurrently against port, each killed after timeout unless it is
// 0, sends on acks (without blocking) each time one reports a successful
// store, and returns their results once they have all exited. It reports
// its own problems with t.Error, so that it may run in a goroutine.
func runStorescus(t *testing.T, port int, opts []string, timeout time.Duration, groups [][]sendable, acks chan<- struct{}) []storescuRun {
	runs := make([]storescuRun, len(groups))
	var wg sync.WaitGroup
	for i, g := range groups {
		args := append(append([]string{"-v"}, opts...), "-aec", "FORGE", "127.0.0.1", strconv.Itoa(port))
		for _, f := range g {
			args = append(args, f.path)
		}
		ctx, cancel := context.WithCancel(context.Background())
		if timeout > 0 {
			ctx, cancel = context.WithTimeout(context.Background(), timeout)
		}
		cmd := exec.CommandContext(ctx, "storescu", args...)
		peertest.SetNoDelay(cmd)
		r, w, err := os.Pipe()
		if err != nil {
			cancel()
			t.Error(err)
			continue
		}
		cmd.Stdout, cmd.Stderr = w, w
		err = cmd.Start()
		w.Close()
		if err != nil {
			cancel()
			r.Close()
			t.Error(err)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cancel()
			defer r.Close()
			var out strings.Builder
			sc := bufio.NewScanner(r)
			for sc.Scan() {
				out.WriteString(sc.Text() + "\n")
				if strings.Contains(sc.Text(), "Received Store Response (Success)") {
					select {
					case acks <- struct{}{}:
					default:
					}
				}
			}
			err := cmd.Wait() // fails when the server is killed
			runs[i] = storescuRun{out: out.String(), err: err, hung: ctx.Err() != nil}
		}()
	}
	wg.Wait()
	return runs
}

// recoveredRE matches the log line of the archive's crash recovery.
var recoveredRE = regexp.MustCompile(`removed what interrupted stores left: spool_files=(\d+) objects=(\d+)`)

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// TestDurabilityKill: four storescu processes store new instances while
// pacs serve is killed with SIGKILL at a random moment, again and again.
// Every instance a client saw acknowledged is indexed after the restart,
// its object holds the data set sent and matches the indexed size and
// SHA-256, and pacs verify finds nothing (no orphan object, no row
// without its object) after each restart.
func TestDurabilityKill(t *testing.T) {
	peertest.Need(t, "storescu")
	cycles := 20
	if testing.Short() {
		cycles = 3
	}
	const (
		clients   = 4
		perClient = 15
		// maxKillJitter is the longest wait between the chosen
		// acknowledgement and the kill: a few stores' time.
		maxKillJitter = 20 * time.Millisecond
	)
	src, _ := explicitImage(t, 0)
	bin := buildPacs(t)
	dataDir, corpus := t.TempDir(), t.TempDir()
	cfg := writeServeConfig(t, dataDir, freePort(t), freePort(t))
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("seed %d; %s (%s), %d cycles of %d clients x %d instances", seed, filepath.Base(src.path), src.ts, cycles, clients, perClient)

	sent := map[string]sendable{} // by path
	acked := map[string]int{}     // SOP Instance UID → cycle
	interrupted, spoolFiles, objects := 0, 0, 0
	p := startPacs(t, bin, cfg)
	for cycle := range cycles {
		files := syntheticCopies(t, src, corpus, fmt.Sprintf("c%d", cycle), clients*perClient)
		var groups [][]sendable
		for i := range clients {
			groups = append(groups, files[i*perClient:(i+1)*perClient])
		}
		for _, f := range files {
			sent[f.path] = f
		}
		// Kill after a random number of acknowledgements, then a random
		// part of a store: before the first store up to after the last.
		target := rng.IntN(len(files) + 1)
		delay := time.Duration(rng.Int64N(int64(maxKillJitter)))
		acks := make(chan struct{}, len(files))
		done := make(chan []storescuRun, 1)
		go func() { done <- runStorescus(t, p.dicomPort, nil, 0, groups, acks) }()
		var runs []storescuRun
	wait:
		for seen := 0; seen < target; {
			select {
			case <-acks:
				seen++
			case runs = <-done:
				break wait
			}
		}
		time.Sleep(delay)
		p.kill()
		if runs == nil {
			runs = <-done
		}
		n := 0
		for _, r := range runs {
			for _, path := range ackedFiles(r.out) {
				f, ok := sent[path]
				if !ok {
					t.Fatalf("storescu acknowledged a file not sent: %q", path)
				}
				acked[f.inst] = cycle
				n++
			}
		}
		if n < len(files) {
			interrupted++
		}
		t.Logf("cycle %d: killed %v after acknowledgement %d: %d of %d acknowledged", cycle, delay.Round(100*time.Microsecond), target, n, len(files))

		p = startPacs(t, bin, cfg) // recovers what the kill left
		if m := recoveredRE.FindStringSubmatch(p.log.String()); m != nil {
			spoolFiles += atoi(m[1])
			objects += atoi(m[2])
		}
		if out, err := exec.Command(bin, "verify", "--config", cfg).CombinedOutput(); err != nil {
			t.Fatalf("cycle %d: pacs verify after the restart: %v\n%s\nserver log:\n%s", cycle, err, out, p.log.String())
		}
	}
	p.stop(t)
	t.Logf("%d instances acknowledged of %d sent; %d of %d kills interrupted the stores; restarts removed %d spool files and %d unreferenced objects",
		len(acked), len(sent), interrupted, cycles, spoolFiles, objects)

	ctx := context.Background()
	ix, err := index.Open(ctx, filepath.Join(dataDir, indexFileName), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	byInst := map[string]sendable{}
	for _, f := range sent {
		byInst[f.inst] = f
	}
	for inst, cycle := range acked {
		info, err := ix.Instance(ctx, inst)
		if err != nil {
			t.Errorf("cycle %d: acknowledged instance %s not indexed: %v", cycle, inst, err)
			continue
		}
		b, err := os.ReadFile(filepath.Join(dataDir, "objects", filepath.FromSlash(info.Key)))
		if err != nil {
			t.Errorf("cycle %d: acknowledged instance %s: object: %v", cycle, inst, err)
			continue
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != info.SHA256 || int64(len(b)) != info.Size {
			t.Errorf("cycle %d: %s: object of %d bytes with SHA-256 %s, indexed %d bytes %s", cycle, inst, len(b), got, info.Size, info.SHA256)
			continue
		}
		f, err := part10.ReadBytes(b)
		if err != nil {
			t.Errorf("cycle %d: %s: stored object unreadable: %v", cycle, inst, err)
			continue
		}
		if d := diffDatasets(f.Dataset, byInst[inst].ds, ""); d != "" {
			t.Errorf("cycle %d: %s: stored data set differs from the one sent: %s", cycle, inst, d)
		}
	}
}
