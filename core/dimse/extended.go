package dimse

// extendedNegotiator is implemented by associations that keep the SOP
// class extended negotiation of their A-ASSOCIATE-AC (*ul.Association).
type extendedNegotiator interface {
	ExtendedNegotiation(sopClass string) []byte
}

// ExtendedNegotiation returns the service-class-application-information
// that the association of op granted for sopClass in its A-ASSOCIATE-AC
// (PS3.7 D.3.3.5; see ul.Association.ExtendedNegotiation), or nil when it
// granted none: the service then behaves as without extended negotiation.
func (op *Op) ExtendedNegotiation(sopClass string) []byte {
	if op == nil || op.e == nil {
		return nil
	}
	if x, ok := op.e.c.(extendedNegotiator); ok {
		return x.ExtendedNegotiation(sopClass)
	}
	return nil
}
