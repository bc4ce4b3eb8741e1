package ul

import "bytes"

// ExtendedNegotiation returns the service-class-application-information
// of the SOP class extended negotiation sub-item (PS3.7 D.3.3.5) that the
// A-ASSOCIATE-AC carried for sopClass: on the acceptor side the reply
// Policy.ExtendedNegotiation gave, on the requestor side the peer's reply.
// It returns nil when the A-ASSOCIATE-AC had none for sopClass (the
// service's defaults apply), and a copy the caller may keep.
func (a *Association) ExtendedNegotiation(sopClass string) []byte {
	for _, e := range a.extended {
		if e.SOPClass == sopClass {
			return bytes.Clone(e.Info)
		}
	}
	return nil
}
