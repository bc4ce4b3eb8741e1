// Package ul implements the DICOM upper layer protocol (PS3.8): the seven
// protocol data units and their items (§9.3), the association state machine
// with its ARTIM timer (§9.2), negotiation of presentation contexts, roles,
// maximum lengths, asynchronous operations and user identity on the acceptor
// side (PS3.7 Annex D), a server that accepts associations and Dial for the
// requestor.
//
// Events are processed synchronously in the caller's goroutine: the receive
// loop of an association is the caller's repeated ReadPDV, which reacts to
// A-RELEASE, A-ABORT and invalid PDUs and reports them as errors. Outgoing
// PDUs are serialised by a writer lock, so SendMessage is safe for concurrent
// use while one goroutine reads.
//
// Nothing fed by network bytes panics; every limit is a named constant.
package ul
