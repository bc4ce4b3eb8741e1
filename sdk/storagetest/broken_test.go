package storagetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/pacsforge/pacs/sdk"
)

// brokenEnv makes TestBroken run: it is the child process of
// TestSuiteCatchesBrokenBackends.
const brokenEnv = "STORAGETEST_BROKEN"

// broken is Memory with one fault.
type broken struct {
	*Memory
	fault string
}

func (b *broken) Put(ctx context.Context, key string, r io.Reader, size int64) (sdk.ObjectInfo, error) {
	switch b.fault {
	case "ignores context":
		ctx = context.Background()
	case "ignores size":
		size = -1
	case "keeps partial objects":
		data, err := io.ReadAll(r)
		if err != nil {
			b.Memory.Put(context.Background(), key, bytes.NewReader(data), -1)
			return sdk.ObjectInfo{}, err
		}
		r = bytes.NewReader(data)
	case "wrong put digest":
		info, err := b.Memory.Put(ctx, key, r, size)
		info.SHA256 = strings.Repeat("0", 64)
		return info, err
	}
	return b.Memory.Put(ctx, key, r, size)
}

func (b *broken) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	switch b.fault {
	case "ignores length":
		length = -1
	case "ignores context":
		ctx = context.Background()
	case "fails past the end":
		if info, err := b.Memory.Stat(ctx, key); err == nil && offset >= info.Size && info.Size > 0 {
			return nil, errors.New("invalid range")
		}
	}
	return b.Memory.Get(ctx, key, offset, length)
}

func (b *broken) Stat(ctx context.Context, key string) (sdk.ObjectInfo, error) {
	info, err := b.Memory.Stat(ctx, key)
	if b.fault == "wrong stat digest" && err == nil {
		info.SHA256 = strings.Repeat("1", 64)
	}
	return info, err
}

func (b *broken) Delete(ctx context.Context, key string) error {
	err := b.Memory.Delete(ctx, key)
	if b.fault == "deletes missing keys quietly" && errors.Is(err, sdk.ErrNotFound) {
		return nil
	}
	return err
}

func (b *broken) List(ctx context.Context, prefix, token string, size int) (sdk.ListPage, error) {
	page, err := b.Memory.List(ctx, prefix, token, size)
	switch b.fault {
	case "lists in directory order":
		slices.SortFunc(page.Objects, func(x, y sdk.ObjectInfo) int {
			return strings.Compare(strings.ReplaceAll(x.Key, "/", "\x00"), strings.ReplaceAll(y.Key, "/", "\x00"))
		})
	case "repeats the last object of a page":
		if n := len(page.Objects); n > 1 && page.NextPageToken != "" {
			page.NextPageToken = page.Objects[n-2].Key
		}
	}
	return page, err
}

// faults lists each fault with the subtests that must catch it.
var faults = map[string][]string{
	"ignores context":                   {"PutCancelled", "PutCancelledBefore", "GetCancelled"},
	"ignores size":                      {"SizeMismatch"},
	"keeps partial objects":             {"ReaderFails"},
	"wrong put digest":                  {"RoundTrip"},
	"ignores length":                    {"Range"},
	"fails past the end":                {"Range"},
	"wrong stat digest":                 {"Stat"},
	"deletes missing keys quietly":      {"Delete", "NotFound"},
	"lists in directory order":          {"List", "ListPaging"},
	"repeats the last object of a page": {"ListPaging"},
}

// TestBroken runs the suite on each faulty backend; it runs only as the
// child of TestSuiteCatchesBrokenBackends, which expects it to fail.
func TestBroken(t *testing.T) {
	if os.Getenv(brokenEnv) == "" {
		t.Skip("run by TestSuiteCatchesBrokenBackends")
	}
	for fault := range faults {
		t.Run(strings.ReplaceAll(fault, " ", "_"), func(t *testing.T) {
			b := &broken{Memory: NewMemory(), fault: fault}
			Run(t, func(t *testing.T) sdk.Storage { return b })
		})
	}
}

// TestSuiteCatchesBrokenBackends checks that each fault of a backend fails
// the subtests meant to catch it.
func TestSuiteCatchesBrokenBackends(t *testing.T) {
	if os.Getenv(brokenEnv) != "" {
		return
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestBroken$", "-test.short", "-test.v")
	cmd.Env = append(os.Environ(), brokenEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the suite passed every faulty backend:\n%s", out)
	}
	for fault, subtests := range faults {
		for _, st := range subtests {
			want := "--- FAIL: TestBroken/" + strings.ReplaceAll(fault, " ", "_") + "/" + st + " "
			if !bytes.Contains(out, []byte(want)) {
				t.Errorf("a backend that %s passes %s", fault, st)
			}
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}
