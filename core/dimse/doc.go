// Package dimse implements the DICOM Message Service Element (PS3.7): command
// sets of every C- and N- service in Implicit VR Little Endian, the status
// codes of Annex C, message assembly over an association of package ul, the
// SCP dispatcher (Mux, Serve) with the asynchronous operations window and
// C-CANCEL, and the SCU (Client) with Echo, Store, Find, Get and Move.
//
// Data sets are streamed in both directions: a received data set reaches its
// handler as an io.Reader that reads the P-DATA fragments in place as they
// arrive, in the handler's goroutine (backpressure: nothing more is read from
// the peer while the handler does not read, beyond a few fragments queued
// while it is busy elsewhere), and a sent data set is read from an io.Reader
// and fragmented by ul. No data set is ever held whole in memory by this
// package.
//
// The data set of a message is encoded in the transfer syntax of the
// presentation context the message travels on; the command set always in
// Implicit VR Little Endian.
package dimse
