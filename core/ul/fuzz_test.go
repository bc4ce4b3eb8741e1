package ul

import (
	"context"
	"io"
	"net"
	"testing"
	"time"
)

// FuzzStateMachine feeds PDU sequences to an acceptor over net.Pipe: after
// an optional valid A-ASSOCIATE-RQ, the input is sent as is. The acceptor
// must not panic or hang (timeouts bound it), and its goroutine must end.
func FuzzStateMachine(f *testing.F) {
	rq, _ := AppendPDU(nil, testRQ())
	f.Add(true, cat(pdataBytes(1, 3, 1), pdataBytes(1, 2, 2), releaseRQBytes))
	f.Add(true, cat(pdataBytes(5, 3, 1)))
	f.Add(true, cat(releaseRQBytes, releaseRQBytes, releaseRPBytes))
	f.Add(true, cat(abortBytes(2, 1)))
	f.Add(true, cat(rq))
	f.Add(false, cat(rq, releaseRQBytes))
	f.Add(false, []byte{4, 0, 0, 0, 0, 1})
	f.Add(true, []byte{0xff})
	f.Fuzz(func(t *testing.T, associate bool, in []byte) {
		s := NewServer(ServerOptions{Policy: testPolicy(), Handler: echoHandler,
			AssociateTimeout: 50 * time.Millisecond, IdleTimeout: 50 * time.Millisecond})
		server, client := net.Pipe()
		s.wg.Add(1)
		done := make(chan struct{})
		go func() {
			s.serveConn(context.Background(), server)
			close(done)
		}()
		go io.Copy(io.Discard, client)
		go func() {
			if associate {
				client.Write(rq)
			}
			client.Write(in)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("acceptor did not end")
		}
		client.Close()
	})
}
