// Package dicomjson converts data sets to and from the DICOM JSON Model of
// PS3.18 Annex F.2, the representation used by QIDO-RS responses and WADO-RS
// metadata.
//
// Encoding (Marshal, Encode, MarshalArray, EncodeArray) writes one object per
// data set, keyed by the tag as eight upper-case hexadecimal digits, each
// attribute an object with "vr" and, unless the element is empty, one of
// "Value", "InlineBinary" or "BulkDataURI". Text is converted to UTF-8 through
// the data set's Codec (items inherit their parent's), trailing padding is
// removed and empty values within a multi-valued element become null. Person
// names are objects with "Alphabetic", "Ideographic" and "Phonetic" component
// groups. IS, DS, US, SS, UL, SL, FL and FD values are JSON numbers, with these
// exceptions that PS3.18 F.2.3.1 tolerates: a DS or IS value that is not a number
// stays a string, SV and UV values beyond ±2^53 are strings, and the
// floating-point values NaN, +Inf and -Inf are the strings "NaN", "Infinity" and
// "-Infinity". A DS value that is a number but not in JSON's number syntax
// ("+1.5", "1.", ".5", "007") is written as the shortest JSON number with the
// same float64 value.
//
// Encapsulated Pixel Data (Element.Fragments) goes out as a BulkDataURI when
// Options.BulkDataURI yields one; otherwise as InlineBinary holding the
// encapsulated stream of PS3.5 §A.4 (the Basic Offset Table item, one item per
// fragment, and the sequence delimiter), never the bare concatenation of the
// fragments, which would lose the fragment boundaries. The decoder recognises
// such a stream in an OB Pixel Data (7FE0,0010) value and restores the fragments.
// A deferred value (Element.Bulk) can only be written as a BulkDataURI.
//
// Decoding (Unmarshal, Decode, DecodeArray and their *With variants) accepts
// every form the encoder writes plus the tolerated alternatives (numbers as
// strings and strings as numbers where unambiguous, person names given as plain
// strings), ignores unknown keys in an attribute object, and reports malformed
// input as a *SyntaxError naming the attribute and the byte offset. The result
// holds text in UTF-8 (see DecodeOptions.WithCodec for other character sets).
package dicomjson
