// Package dicom is the DICOM data model of Forge PACS: tags, the 34 value
// representations of PS3.5 (2024), elements, sequences and data sets, the data
// dictionary and the UID registry (both generated from the standard's tables by
// gendict), private creator blocks, path expressions and per-VR validation.
//
// Values are kept as they are encoded, little endian, in the data set's
// Specific Character Set: a parsed element costs no conversion until it is read.
// Typed accessors decode on demand; text goes through the data set's TextCodec
// (see package charset) when one is set. Encoding and decoding of whole data
// sets lives in package codec, Part 10 files in package part10.
//
// A Dataset is not safe for concurrent mutation; concurrent reads are safe.
package dicom
