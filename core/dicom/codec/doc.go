// Package codec reads and writes DICOM data sets in every transfer syntax
// (PS3.5 §7, §8 and Annex A): Implicit VR Little Endian, Explicit VR Little
// and Big Endian, Deflated Explicit VR Little Endian, and the encapsulated
// (compressed) syntaxes, whose data sets are Explicit VR Little Endian with
// Pixel Data in fragments.
//
// Reading is the hot path of the archive. ReadDataset over a []byte returns
// values that are sub-slices of the input (no copy) unless WithCopyValues is
// given; a Reader over an io.Reader reads through its own buffer and carves
// small values from shared slabs, so a parse allocates little more than the
// element slices. Values are kept as encoded, in little endian: big-endian
// input is swapped by VR on read and swapped back by the Writer.
//
// Reading is lenient where dcmtk is: odd lengths, duplicate and out-of-order
// tags, VR oddities and sequences or items whose defined length runs past the
// end of the input are kept and reported by Reader.Problems (NewBytesReader
// gives the Reader behind ReadDataset, for its Problems). A slice, a sized
// stream and a plain stream read the same elements. In Implicit VR, elements
// with several possible VRs ("OB or OW", "US or SS", ...) get the VR dcmtk
// gives them. Structural errors (truncation, nesting deeper than
// Limits.MaxDepth, lengths past Limits) are returned as *SyntaxError with the
// byte offset and tag.
//
// Reader and Writer are not safe for concurrent use.
package codec
