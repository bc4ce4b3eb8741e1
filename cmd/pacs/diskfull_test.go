package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/internal/peertest"
)

// Sizes of the full-disk test: the data directory is a tmpfs of
// diskFullSize holding a ballast file of ballastSize.
const (
	diskFullSize = 8 << 20
	ballastSize  = 4 << 20
	// fillerMinSize is the least size of the object copied to fill it.
	fillerMinSize = 32 << 10
	// fullRuns is how many storescu runs in a row must store nothing
	// before the disk counts as full.
	fullRuns = 3
)

// privateTmpfs mounts a tmpfs of size bytes on dir in a private mount
// namespace held by a sleeping process, so that nothing shows in the host's
// mount table, and returns that process's id: run programs in it with
// nsenter -t PID -m, and reach its files under /proc/PID/root. Where the
// namespace or the mount is not allowed the test fails under CI=true, as
// for a missing peer, and is skipped loudly elsewhere.
func privateTmpfs(t *testing.T, dir string, size int) int {
	t.Helper()
	skip := func(why string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(why, args...)
		if peertest.UnderCI() {
			t.Fatalf("full-disk test cannot run under CI=true: %s (it needs root, unshare and nsenter)", msg)
		}
		t.Logf("WARNING: full-disk test not run: %s (it needs root, unshare and nsenter)", msg)
		t.Skip(msg)
	}
	if os.Geteuid() != 0 {
		skip("not running as root")
	}
	for _, tool := range []string{"unshare", "nsenter"} {
		if _, err := exec.LookPath(tool); err != nil {
			skip("%s not found", tool)
		}
	}
	holder := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c",
		`mount -t tmpfs -o size="$1" tmpfs "$0" && echo mounted && exec sleep 3600`, dir, strconv.Itoa(size))
	out, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr peertest.SyncBuffer
	holder.Stderr = &stderr
	if err := holder.Start(); err != nil {
		skip("unshare: %v", err)
	}
	t.Cleanup(func() {
		holder.Process.Kill()
		holder.Wait()
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- s
	}()
	select {
	case s := <-line:
		if strings.TrimSpace(s) != "mounted" {
			skip("cannot mount a tmpfs in a private mount namespace: %s", strings.TrimSpace(stderr.String()))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("unshare and mount did not finish in 30 s")
	}
	return holder.Process.Pid
}

// storeResponses returns, for each file storescu -v sent, the status text
// of its response ("Success", ...), in order; a file without a response is
// left out.
func storeResponses(out string) (files, statuses []string) {
	var current string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if _, f, ok := strings.Cut(line, "Sending file: "); ok {
			current = f
			continue
		}
		if _, st, ok := strings.Cut(line, "Received Store Response ("); ok && current != "" {
			files = append(files, current)
			statuses = append(statuses, strings.TrimSuffix(st, ")"))
			current = ""
		}
	}
	return files, statuses
}

// TestDiskFull: with the data directory on a small tmpfs, storescu fills it
// until stores fail with A700 (Out of Resources); the server still answers
// C-ECHO, leaves nothing half-written (pacs verify clean, spool empty), and
// stores again once space is freed.
func TestDiskFull(t *testing.T) {
	peertest.Need(t, "storescu", "echoscu")
	dataDir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	pid := privateTmpfs(t, dataDir, diskFullSize)
	inNS := filepath.Join("/proc", strconv.Itoa(pid), "root", dataDir) // the tmpfs, seen from here
	if err := os.WriteFile(filepath.Join(inNS, "ballast"), make([]byte, ballastSize), 0o644); err != nil {
		t.Fatalf("ballast: %v", err)
	}
	nsenter := []string{"nsenter", "-t", strconv.Itoa(pid), "-m", "--"}
	bin := buildPacs(t)
	cfg := writeServeConfig(t, dataDir, freePort(t), freePort(t))
	p := startPacs(t, bin, cfg, nsenter...)
	port := strconv.Itoa(p.dicomPort)

	src, size := explicitImage(t, fillerMinSize)
	files := syntheticCopies(t, src, t.TempDir(), "fill", 2*(diskFullSize-ballastSize)/int(size)+8)
	storescu := func(paths []string) (files, statuses []string) {
		t.Helper()
		cmd := exec.Command("storescu", append([]string{"-v", "-aec", "FORGE", "127.0.0.1", port}, paths...)...)
		peertest.SetNoDelay(cmd)
		out, _ := cmd.CombinedOutput() // exits non-zero when a store fails
		return storeResponses(string(out))
	}
	verify := func(when string) {
		t.Helper()
		out, err := exec.Command(nsenter[0], append(nsenter[1:], bin, "verify", "--config", cfg)...).CombinedOutput()
		if err != nil {
			t.Errorf("pacs verify %s: %v\n%s", when, err, out)
		}
		if ents, err := os.ReadDir(filepath.Join(inNS, spoolDirName)); err != nil || len(ents) != 0 {
			t.Errorf("spool %s: %d files (%v), want none", when, len(ents), err)
		}
	}

	// storescu stops at the first failed store: run it again on the files
	// not sent yet until the disk is so full that runs store nothing.
	var paths []string
	for _, f := range files {
		paths = append(paths, f.path)
	}
	counts := map[string]int{}
	var failed []string
	for idle := 0; idle < fullRuns && len(paths) > 0; {
		sent, statuses := storescu(paths)
		if len(sent) == 0 {
			t.Fatalf("storescu sent nothing\nserver log:\n%s", p.log.String())
		}
		stored := 0
		for i, st := range statuses {
			counts[st]++
			if st == "Success" {
				stored++
			} else {
				failed = append(failed, sent[i])
			}
		}
		if stored == 0 {
			idle++
		}
		paths = paths[len(sent):]
	}
	steps := map[string]int{}
	for _, line := range strings.Split(p.log.String(), "\n") {
		if !strings.Contains(line, "store failed") {
			continue
		}
		switch {
		case strings.Contains(line, "error=\"index "):
			steps["index commit"]++
		case strings.Contains(line, "error=\"put "):
			steps["storage put"]++
		case strings.Contains(line, "spool") || strings.Contains(line, "receive data set") || strings.Contains(line, "intent"):
			steps["spool"]++
		default:
			steps["other"]++
		}
	}
	t.Logf("%d files of %d bytes sent to a %d MiB tmpfs with %d MiB of ballast: %v; failed at %v",
		len(files)-len(paths), size, diskFullSize>>20, ballastSize>>20, counts, steps)
	if counts["Success"] == 0 || len(failed) == 0 {
		t.Fatalf("want some stores to succeed and then fail for lack of space; got %v\nserver log:\n%s", counts, p.log.String())
	}
	for st, n := range counts {
		if st != "Success" && !strings.Contains(st, "OutOfResources") {
			t.Errorf("%d stores failed with %q, want Refused: OutOfResources (A700)\nserver log:\n%s", n, st, p.log.String())
		}
	}
	if out, err := exec.Command("echoscu", "-aec", "FORGE", "127.0.0.1", port).CombinedOutput(); err != nil {
		t.Errorf("C-ECHO with the disk full: %v\n%s", err, out)
	}
	var ready struct{ Failing []string }
	code, err := p.get("/ready", &ready)
	t.Logf("/ready with the disk full: %d, failing %q (%v)", code, ready.Failing, err)
	verify("with the disk full")

	if err := os.Remove(filepath.Join(inNS, "ballast")); err != nil {
		t.Fatal(err)
	}
	sent, statuses := storescu(failed)
	if len(sent) != len(failed) {
		t.Errorf("after freeing space: %d responses for %d files", len(sent), len(failed))
	}
	for i, st := range statuses {
		if st != "Success" {
			t.Errorf("after freeing space: %s: %s, want Success", sent[i], st)
		}
	}
	verify("after freeing space")

	// An object larger than the space left fails while it is received
	// (written in place on the storage's file system); one that fits once
	// is stored, since it is written once, not spooled and then copied.
	var fs syscall.Statfs_t
	if err := syscall.Statfs(inNS, &fs); err != nil {
		t.Fatal(err)
	}
	free := int64(fs.Bavail) * fs.Bsize
	for _, tc := range []struct {
		name, want string
		size       int64
	}{
		{name: "larger than the free space", want: "OutOfResources", size: free + 256<<10},
		{name: "fits once", want: "Success", size: free * 6 / 10},
	} {
		big := syntheticCopies(t, src, t.TempDir(), "big", 1)[0]
		if _, err := big.ds.SetPrivate(0x0009, "FORGE TEST", 0x10, dicom.OB, make([]byte, tc.size)); err != nil {
			t.Fatal(err)
		}
		writeSendable(t, big)
		sent, statuses := storescu([]string{big.path})
		if len(statuses) != 1 || !strings.Contains(statuses[0], tc.want) {
			t.Errorf("object %s (%d bytes, %d free): responses %q for %q, want %s", tc.name, tc.size, free, statuses, sent, tc.want)
		}
	}
	logTail := p.log.String()
	for _, want := range []string{"create spool file", "receive data set", "write spool file", "put "} {
		if strings.Contains(logTail, want) {
			t.Logf("a store failed at %q", want)
		}
	}
	verify("after the large objects")
	small := syntheticCopies(t, src, t.TempDir(), "small", 1)[0]
	if sent, statuses := storescu([]string{small.path}); len(statuses) != 1 || statuses[0] != "Success" {
		t.Errorf("a small store after the large ones: %q for %q, want Success", statuses, sent)
	}
	p.stop(t)
}
