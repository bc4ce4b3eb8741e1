// Package charset converts the values of the character-set-dependent VRs (SH LO
// ST LT PN UC UT) between the encoding named by Specific Character Set
// (0008,0005) and UTF-8.
//
// A Codec is built by New from the values of (0008,0005). It supports every
// character set of PS3.3 C.12.1.1.2: the single-byte sets without code
// extensions (ISO_IR 6, 100, 101, 109, 110, 126, 127, 138, 144, 148, 166, 203
// and 13), the stand-alone sets ISO_IR 192 (UTF-8), GB18030 and GBK, and the
// ISO 2022 code extension technique of PS3.5 §6.1.2.5 with the single-byte
// sets and the multi-byte sets ISO 2022 IR 87 and 159 (Japanese), 149
// (Korean) and 58 (Simplified Chinese), whose escape sequences switch the G0
// and G1 sets inside a value (PS3.5 Annexes H, I, J and K).
//
// Decoding is lenient: unknown defined terms fall back to the default
// repertoire, undecodable bytes become U+FFFD and are reported in the error,
// and any escape sequence this package knows is honoured even if its set is
// not listed. Encoding is strict: characters that no listed set can represent
// are rejected with ErrUnencodable.
//
// Codecs are immutable and safe for concurrent use; New caches them per
// distinct list of terms. The code tables of the multi-byte sets are built from
// golang.org/x/text on first use.
package charset
