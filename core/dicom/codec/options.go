package codec

import "github.com/pacsforge/pacs/core/dicom"

// Default limits of DefaultLimits.
const (
	// DefaultMaxDepth is the default limit on nested sequences.
	DefaultMaxDepth = 64
)

// Limits bounds what a Reader accepts from untrusted input.
type Limits struct {
	// MaxDepth is the deepest nesting of sequences accepted (ErrTooDeep);
	// 0 means DefaultMaxDepth.
	MaxDepth int
	// MaxValueLength rejects any declared value length above it
	// (ErrValueTooLong); 0 means no policy limit. In every case a reader never
	// allocates more than the input can still provide.
	MaxValueLength int64
	// MaxElements is the largest number of elements (all levels) accepted
	// (ErrTooManyElements); 0 means unbounded.
	MaxElements int
}

// DefaultLimits are the limits used when WithLimits is not given.
var DefaultLimits = Limits{MaxDepth: DefaultMaxDepth}

type options struct {
	limits        Limits
	stopAt        dicom.Tag
	stop          bool
	bulkThreshold int64 // -1: off
	bulkBase      int64
	copyValues    bool
	charset       func(terms []string) (dicom.TextCodec, error)
}

// Option configures a Reader or ReadDataset.
type Option func(*options)

// WithLimits sets the limits; zero fields take their documented defaults.
func WithLimits(l Limits) Option {
	return func(o *options) {
		if l.MaxDepth <= 0 {
			l.MaxDepth = DefaultMaxDepth
		}
		o.limits = l
	}
}

// WithStopAt stops reading before the first top-level element whose tag is >=
// t (for example dicom.PixelData for a header-only parse). The data set read
// so far is returned without error; the stopping element is not consumed, and
// Reader.Remaining continues at its first byte.
func WithStopAt(t dicom.Tag) Option {
	return func(o *options) { o.stopAt, o.stop = t, true }
}

// WithBulkThreshold leaves in the source every value longer than n bytes (any
// VR but SQ, and encapsulated Pixel Data as a whole) and records it as
// Element.Bulk, whose Offset is base plus the value's offset in the stream
// (for encapsulated pixel data: the offset of its first item; Length then runs
// through the sequence delimiter). Skipping seeks when the source is an
// io.Seeker and discards otherwise. base is typically the offset of the data
// set within its file.
func WithBulkThreshold(n int64, base int64) Option {
	return func(o *options) { o.bulkThreshold, o.bulkBase = n, base }
}

// WithCopyValues makes ReadDataset over a []byte copy values out of the input
// instead of returning sub-slices of it. Readers over an io.Reader always copy.
func WithCopyValues(copy bool) Option {
	return func(o *options) { o.copyValues = copy }
}

// WithCharset sets the function (normally charset.New) called with the terms
// of Specific Character Set (0008,0005) whenever a data set or item carries
// one; its result becomes that Dataset's Codec. Items inherit their parent's
// Codec unless they carry their own. An error is recorded as a Problem and the
// Codec left unchanged.
func WithCharset(fn func(terms []string) (dicom.TextCodec, error)) Option {
	return func(o *options) { o.charset = fn }
}

func newOptions(opts []Option) options {
	o := options{limits: DefaultLimits, bulkThreshold: -1}
	for _, f := range opts {
		f(&o)
	}
	return o
}
