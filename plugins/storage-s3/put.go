package s3storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/go-hclog"

	"github.com/pacsforge/pacs/sdk"
)

// Limits of Put.
const (
	// abortTimeout bounds AbortMultipartUpload after a failure, which runs
	// even when the caller's context is cancelled.
	abortTimeout = 30 * time.Second
	// maxCopySize is the largest object CopyObject copies in one request;
	// a larger multipart object keeps no SHA-256 metadata.
	maxCopySize = 5 << 30
	// abortTries and abortRetryDelay bound the aborts of one upload.
	abortTries      = 5
	abortRetryDelay = 100 * time.Millisecond
	// cancelGrace is how long the part uploads in flight may go on after
	// the caller's context is cancelled (they are cancelled then): a part
	// still being received by S3 when the upload is aborted may survive
	// the abort.
	cancelGrace = 10 * time.Second
)

// Errors of Put for a body that does not match its declared size.
var (
	errBodyShort = errors.New("body shorter than its declared size")
	errBodyLong  = errors.New("body longer than its declared size")
)

// bodyReader hashes and counts the bytes of a Put's body, and fails when
// they do not match the declared size (size < 0: not checked).
type bodyReader struct {
	r    io.Reader
	size int64
	n    int64
	h    hash.Hash
	err  error // sticky
}

func (br *bodyReader) Read(p []byte) (int, error) {
	if br.err != nil {
		return 0, br.err
	}
	n, err := br.r.Read(p)
	br.n += int64(n)
	br.h.Write(p[:n])
	switch {
	case br.size >= 0 && br.n > br.size:
		err = errBodyLong
	case err == io.EOF && br.size >= 0 && br.n < br.size:
		err = errBodyShort
	case err != nil && err != io.EOF:
		err = fmt.Errorf("read body: %w", err)
	}
	br.err = err
	return n, err
}

// Put stores what r yields under key. A body of at most part_size bytes is
// one PutObject; a larger one a multipart upload streamed from r in
// part_size parts, at most concurrency of them buffered and in flight, then
// completed (atomic on S3) and given its SHA-256 metadata by an in-place
// CopyObject. On any error (the reader's, a size mismatch, S3's, ctx
// cancelled) the multipart upload is aborted and nothing is visible under
// key; an object already there stays as it was.
func (b *Storage) Put(ctx context.Context, key string, r io.Reader, size int64) (sdk.ObjectInfo, error) {
	k, err := b.objectKey(key)
	if err != nil {
		return sdk.ObjectInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return sdk.ObjectInfo{}, fmt.Errorf("put %s: %w", key, err)
	}
	partSize := b.s.partSize
	if size > partSize*MaxParts {
		partSize = (size + MaxParts - 1) / MaxParts
		if partSize > MaxPartSize {
			return sdk.ObjectInfo{}, fmt.Errorf("put %s: %d bytes is more than S3 can hold in one object", key, size)
		}
	}
	body := &bodyReader{r: r, size: size, h: sha256.New()}
	first := b.getBuf(partSize)
	defer func() { b.putBuf(first) }()
	n, err := io.ReadFull(body, *first)
	var more bool
	var peek [1]byte
	switch err {
	case io.EOF, io.ErrUnexpectedEOF:
	case nil:
		// A full part: the object is larger only if one more byte comes.
		switch m, err := io.ReadFull(body, peek[:]); {
		case m == 1:
			more = true
		case err != io.EOF:
			return sdk.ObjectInfo{}, fmt.Errorf("put %s: %w", key, err)
		}
	default:
		return sdk.ObjectInfo{}, fmt.Errorf("put %s: %w", key, err)
	}
	if body.err != nil && body.err != io.EOF { // the peeked byte was one too many
		return sdk.ObjectInfo{}, fmt.Errorf("put %s: %w", key, body.err)
	}
	if !more {
		return b.putSingle(ctx, key, k, (*first)[:n], body.h)
	}
	buf := first
	first = nil // owned by putMultipart now
	return b.putMultipart(ctx, key, k, body, partSize, buf, peek[0])
}

// putSingle stores data with one PutObject.
func (b *Storage) putSingle(ctx context.Context, key, k string, data []byte, h hash.Hash) (sdk.ObjectInfo, error) {
	sum := hex.EncodeToString(h.Sum(nil))
	in := &s3.PutObjectInput{
		Bucket:        aws.String(b.s.bucket),
		Key:           aws.String(k),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		Metadata:      map[string]string{metaSHA256: sum},
	}
	in.ServerSideEncryption, in.SSEKMSKeyId = b.sse()
	if _, err := b.client.PutObject(ctx, in); err != nil {
		return sdk.ObjectInfo{}, fmt.Errorf("put %s: %w", key, classify(err))
	}
	return sdk.ObjectInfo{Key: key, Size: int64(len(data)), SHA256: sum, ModTime: time.Now().UTC()}, nil
}

// sse returns the configured server-side encryption request fields.
func (b *Storage) sse() (types.ServerSideEncryption, *string) {
	var kms *string
	if b.s.kmsKeyID != "" {
		kms = aws.String(b.s.kmsKeyID)
	}
	return types.ServerSideEncryption(b.s.sse), kms
}

// putMultipart uploads the object whose first part is in buf (full) and
// whose next byte is next, then the rest of body, in a multipart upload.
// It owns buf. After a failure the parts in flight finish (after ctx is
// cancelled, within cancelGrace) before the upload is aborted, so that no
// part outlives the abort.
func (b *Storage) putMultipart(ctx context.Context, key, k string, body *bodyReader, partSize int64, buf *[]byte, next byte) (_ sdk.ObjectInfo, err error) {
	create := &s3.CreateMultipartUploadInput{Bucket: aws.String(b.s.bucket), Key: aws.String(k)}
	create.ServerSideEncryption, create.SSEKMSKeyId = b.sse()
	cu, err := b.client.CreateMultipartUpload(ctx, create)
	if err != nil {
		b.putBuf(buf)
		return sdk.ObjectInfo{}, fmt.Errorf("put %s: start multipart upload: %w", key, classify(err))
	}
	uploadID := cu.UploadId
	defer func() {
		if err != nil {
			b.abort(ctx, k, uploadID)
		}
	}()

	// Parts in flight get cancelGrace to finish after ctx is cancelled, so
	// that the abort usually finds no part still being received.
	partCtx, cancelParts := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancelParts(nil)
	returned := make(chan struct{})
	defer close(returned)
	go func() {
		select {
		case <-ctx.Done():
			select {
			case <-time.After(cancelGrace):
				cancelParts(context.Cause(ctx))
			case <-returned:
			}
		case <-returned:
		}
	}()

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		parts    []types.CompletedPart
		firstErr error
		failed   = make(chan struct{}) // closed by the first failure
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
			close(failed)
		}
	}
	// free holds the buffers neither being filled nor uploaded; at most
	// concurrency exist, buf being the first.
	free := make(chan *[]byte, b.s.concurrency)
	allocated := 1
	upload := func(num int32, buf *[]byte, n int) {
		defer wg.Done()
		defer func() { free <- buf }()
		out, err := b.client.UploadPart(partCtx, &s3.UploadPartInput{
			Bucket:        aws.String(b.s.bucket),
			Key:           aws.String(k),
			UploadId:      uploadID,
			PartNumber:    aws.Int32(num),
			Body:          bytes.NewReader((*buf)[:n]),
			ContentLength: aws.Int64(int64(n)),
		})
		if err != nil {
			fail(fmt.Errorf("upload part %d: %w", num, classify(err)))
			return
		}
		mu.Lock()
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)})
		mu.Unlock()
	}

	n, last := len(*buf), false
	for num := int32(1); ; num++ {
		wg.Add(1)
		go upload(num, buf, n)
		if last {
			break
		}
		if num == MaxParts {
			fail(fmt.Errorf("more than %d parts of %d bytes", MaxParts, partSize))
			break
		}
		// Take a free buffer, or make one while fewer than concurrency exist.
		buf = nil
		if allocated < b.s.concurrency {
			buf, allocated = b.getBuf(partSize), allocated+1
		} else {
			select {
			case buf = <-free:
			case <-failed:
			case <-ctx.Done():
			}
		}
		if buf == nil {
			break
		}
		var rerr error
		n, next, last, rerr = readPart(body, *buf, next)
		if rerr == nil {
			rerr = ctx.Err()
		}
		if rerr == nil {
			select {
			case <-failed:
				rerr = errStopped
			default:
			}
		}
		if rerr != nil {
			fail(rerr)
			free <- buf
			break
		}
	}
	if ctx.Err() != nil {
		fail(context.Cause(ctx))
	}
	wg.Wait()
	close(free)
	for buf := range free {
		b.putBuf(buf)
	}
	mu.Lock()
	err = firstErr
	mu.Unlock()
	if err != nil {
		return sdk.ObjectInfo{}, fmt.Errorf("put %s: %w", key, err)
	}

	sort.Slice(parts, func(i, j int) bool { return *parts[i].PartNumber < *parts[j].PartNumber })
	done, err := b.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(b.s.bucket),
		Key:             aws.String(k),
		UploadId:        uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return sdk.ObjectInfo{}, fmt.Errorf("put %s: complete multipart upload: %w", key, classify(err))
	}
	info := sdk.ObjectInfo{Key: key, Size: body.n, SHA256: hex.EncodeToString(body.h.Sum(nil)), ModTime: time.Now().UTC()}
	if body.n <= maxCopySize {
		b.setSHA256(ctx, k, aws.ToString(done.ETag), info.SHA256)
	}
	return info, nil
}

// errStopped stops reading after an upload failed; that failure is reported.
var errStopped = errors.New("stopped")

// readPart fills buf with next and then the following bytes of body. It
// returns the bytes in buf, the byte after them and whether the body ended
// (then next is meaningless).
func readPart(body io.Reader, buf []byte, next byte) (n int, after byte, last bool, err error) {
	buf[0] = next
	m, err := io.ReadFull(body, buf[1:])
	switch err {
	case io.EOF, io.ErrUnexpectedEOF:
		return 1 + m, 0, true, nil
	case nil:
	default:
		return 0, 0, false, err
	}
	var peek [1]byte
	switch p, err := io.ReadFull(body, peek[:]); {
	case p == 1:
		return len(buf), peek[0], false, nil
	case err == io.EOF:
		return len(buf), 0, true, nil
	default:
		return 0, 0, false, err
	}
}

// setSHA256 stores sum as the metadata of the object k, completed with
// ETag etag, by copying it onto itself. A failure leaves the object as it
// is, without the metadata (Stat then returns no SHA-256); it is logged.
// If another Put replaced the object meanwhile, nothing is changed.
func (b *Storage) setSHA256(ctx context.Context, k, etag, sum string) {
	in := &s3.CopyObjectInput{
		Bucket:            aws.String(b.s.bucket),
		Key:               aws.String(k),
		CopySource:        aws.String(copySource(b.s.bucket, k)),
		MetadataDirective: types.MetadataDirectiveReplace,
		Metadata:          map[string]string{metaSHA256: sum},
	}
	if etag != "" {
		in.CopySourceIfMatch = aws.String(etag)
	}
	in.ServerSideEncryption, in.SSEKMSKeyId = b.sse()
	if _, err := b.client.CopyObject(ctx, in); err != nil && httpStatus(err) != 412 {
		hclog.FromContext(ctx).Warn("object stored without its SHA-256 metadata", "storage", b.instance, "error", classify(err))
	}
}

// abort aborts the multipart upload, even when ctx is cancelled. S3 may
// keep a part whose upload was still being received during the abort, so
// abort checks with ListParts that the upload is gone and aborts again if
// not, up to abortTries times. A failure is logged (a lifecycle rule for
// incomplete uploads, if the bucket has one, removes the parts later).
func (b *Storage) abort(ctx context.Context, k string, uploadID *string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	var err error
	for try := 1; try <= abortTries; try++ {
		_, err = b.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
			Bucket: aws.String(b.s.bucket), Key: aws.String(k), UploadId: uploadID,
		})
		if err != nil && errorCode(err) != "NoSuchUpload" {
			break
		}
		_, err = b.client.ListParts(ctx, &s3.ListPartsInput{
			Bucket: aws.String(b.s.bucket), Key: aws.String(k), UploadId: uploadID, MaxParts: aws.Int32(1),
		})
		if errorCode(err) == "NoSuchUpload" || httpStatus(err) == http.StatusNotFound {
			return
		}
		select {
		case <-time.After(time.Duration(try) * abortRetryDelay):
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if err == nil {
		err = errors.New("the upload still exists")
	}
	hclog.FromContext(ctx).Warn("abort multipart upload failed", "storage", b.instance, "error", classify(err))
}

// getBuf returns a buffer of n bytes, from the pool when n is part_size.
func (b *Storage) getBuf(n int64) *[]byte {
	if n == b.s.partSize {
		return b.bufs.Get().(*[]byte)
	}
	buf := make([]byte, n)
	return &buf
}

// putBuf returns buf to the pool when it is a part_size buffer.
func (b *Storage) putBuf(buf *[]byte) {
	if buf != nil && int64(len(*buf)) == b.s.partSize {
		b.bufs.Put(buf)
	}
}

// copySource returns the x-amz-copy-source of key k in bucket: the path
// with each segment percent-encoded.
func copySource(bucket, k string) string {
	segs := strings.Split(k, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return bucket + "/" + strings.Join(segs, "/")
}
