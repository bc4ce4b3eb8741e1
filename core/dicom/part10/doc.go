// Package part10 reads and writes DICOM files (PS3.10 §7): the 128-byte
// preamble, the "DICM" prefix, the File Meta Information (group 0002, always
// Explicit VR Little Endian, with a computed group length) and the data set in
// the transfer syntax the meta information names.
//
// Reading is lenient like dcmtk: files without a preamble, without File Meta
// Information, or with meta information lacking a Transfer Syntax UID are read
// by detecting the encoding from the first bytes of the data set. Large files
// can be read in bounded memory: stop before Pixel Data (WithStopAtPixelData)
// or leave large values in the file as references (WithBulkThreshold).
package part10
