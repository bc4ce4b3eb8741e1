package azurestorage

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"github.com/pacsforge/pacs/sdk"
)

// testHookBlockBuffers, when set by a test, is told how many block
// buffers each putBlocks allocated.
var testHookBlockBuffers func(allocated int)

// putBlocks stages the object as blocks, first being the first full block
// already read from r, and commits the block list. At most concurrency
// blocks are in memory at a time. Block IDs carry a random upload ID, so
// that concurrent or abandoned Puts of the same key never mix blocks;
// blocks staged by a Put that fails are never committed and Azure discards
// them (after a week, or at the next commit on the blob).
func (s *Storage) putBlocks(ctx context.Context, key string, bb *blockblob.Client, first []byte, r io.Reader, h hash.Hash, size int64) (sdk.ObjectInfo, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	var upload [12]byte
	if _, err := rand.Read(upload[:]); err != nil {
		return sdk.ObjectInfo{}, err
	}
	uploadID := hex.EncodeToString(upload[:])
	blockID := func(i int) string {
		return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "%s-%06d", uploadID, i))
	}

	free := make(chan []byte, s.cfg.concurrency)
	allocated := 1 // first
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		stageErr error
	)
	fail := func(err error) {
		mu.Lock()
		if stageErr == nil {
			stageErr = err
		}
		mu.Unlock()
		cancel(err)
	}
	stage := func(i int, buf []byte, n int) {
		defer wg.Done()
		_, err := bb.StageBlock(ctx, blockID(i), streaming.NopCloser(bytes.NewReader(buf[:n])), nil)
		free <- buf
		if err != nil {
			fail(s.mapError(fmt.Sprintf("put %s: stage block %d", key, i), err))
		}
	}

	var ids []string
	total := int64(len(first))
	wg.Add(1)
	ids = append(ids, blockID(0))
	go stage(0, first, len(first))

	readErr := func() error {
		for i := 1; ; i++ {
			var buf []byte
			select {
			case buf = <-free:
			default:
				if allocated < s.cfg.concurrency {
					buf = make([]byte, s.cfg.blockSize)
					allocated++
				} else {
					select {
					case buf = <-free:
					case <-ctx.Done():
						return context.Cause(ctx)
					}
				}
			}
			if err := context.Cause(ctx); err != nil {
				return err
			}
			n, err := io.ReadFull(r, buf)
			total += int64(n)
			if size >= 0 && total > size {
				return s.sizeError(key, total, size)
			}
			if n > 0 {
				if len(ids) >= MaxBlocks {
					return fmt.Errorf("azure %s: put %s: more than %d blocks of %d bytes (raise block_size)", s.instance, key, MaxBlocks, s.cfg.blockSize)
				}
				ids = append(ids, blockID(i))
				wg.Add(1)
				go stage(i, buf, n)
			}
			switch {
			case err == io.EOF || err == io.ErrUnexpectedEOF:
				if size >= 0 && total != size {
					return s.sizeError(key, total, size)
				}
				return nil
			case err != nil:
				return fmt.Errorf("azure %s: put %s: read: %w", s.instance, key, err)
			}
		}
	}()
	if readErr != nil {
		cancel(readErr)
	}
	wg.Wait()
	if testHookBlockBuffers != nil {
		testHookBlockBuffers(allocated)
	}
	switch {
	case stageErr != nil && (readErr == nil || errors.Is(readErr, stageErr)):
		return sdk.ObjectInfo{}, stageErr
	case readErr != nil:
		if errors.Is(readErr, context.Canceled) || errors.Is(readErr, context.DeadlineExceeded) {
			return sdk.ObjectInfo{}, fmt.Errorf("azure %s: put %s: %w", s.instance, key, readErr)
		}
		return sdk.ObjectInfo{}, readErr
	}
	sum := hex.EncodeToString(h.Sum(nil))
	_, err := bb.CommitBlockList(ctx, ids, &blockblob.CommitBlockListOptions{
		Metadata: map[string]*string{sha256Metadata: &sum},
		Tier:     s.accessTier(),
	})
	if err != nil {
		return sdk.ObjectInfo{}, s.mapError("put "+key+": commit", err)
	}
	return sdk.ObjectInfo{Key: key, Size: total, SHA256: sum, ModTime: time.Now()}, nil
}
