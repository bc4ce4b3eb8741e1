package ul

import (
	"bytes"
	"context"
	"testing"
)

// TestExtendedNegotiationKept: both sides of an association see the SOP
// class extended negotiation reply of the A-ASSOCIATE-AC, per SOP class.
func TestExtendedNegotiationKept(t *testing.T) {
	pol := testPolicy()
	pol.ExtendedNegotiation = func(sopClass string, info []byte) []byte {
		if sopClass != ctImage {
			return nil
		}
		return []byte{info[0], 0}
	}
	got := make(chan []byte, 2)
	_, addr := startServer(t, ServerOptions{Policy: pol, Handler: func(ctx context.Context, a *Association) {
		got <- a.ExtendedNegotiation(ctImage)
		got <- a.ExtendedNegotiation(verification)
		echoHandler(ctx, a)
	}})
	opt := dialOpts(ProposedContext{AbstractSyntax: ctImage, TransferSyntaxes: []string{implicitLE}})
	opt.ExtendedNegotiation = []ExtendedNegotiation{{SOPClass: ctImage, Info: []byte{1, 1}}, {SOPClass: verification, Info: []byte{1}}}
	a := mustDial(t, addr, opt)
	defer a.Release(context.Background())
	if b := a.ExtendedNegotiation(ctImage); !bytes.Equal(b, []byte{1, 0}) {
		t.Errorf("requestor ExtendedNegotiation(ct) = %v, want [1 0]", b)
	}
	if b := a.ExtendedNegotiation(verification); b != nil {
		t.Errorf("requestor ExtendedNegotiation(verification) = %v, want nil", b)
	}
	if b := <-got; !bytes.Equal(b, []byte{1, 0}) {
		t.Errorf("acceptor ExtendedNegotiation(ct) = %v, want [1 0]", b)
	}
	if b := <-got; b != nil {
		t.Errorf("acceptor ExtendedNegotiation(verification) = %v, want nil", b)
	}
}
