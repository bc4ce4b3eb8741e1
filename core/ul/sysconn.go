package ul

import "net"

// connIO is how an association reads and writes its connection: raw
// system calls on Linux TCP connections (see sysConn), else the
// connection's own methods.
type connIO interface {
	Read(p []byte) (int, error)
	// writeAll writes every byte of bufs, in order.
	writeAll(bufs [][]byte) error
}

// plainConn is a connection used through its own methods.
type plainConn struct{ net.Conn }

func (c plainConn) writeAll(bufs [][]byte) error {
	if len(bufs) == 1 {
		_, err := c.Write(bufs[0])
		return err
	}
	nb := net.Buffers(bufs)
	_, err := nb.WriteTo(c.Conn)
	return err
}

// newConnIO returns the connIO of conn.
func newConnIO(conn net.Conn) connIO {
	if r := newSysConn(conn); r != nil {
		return r
	}
	return plainConn{conn}
}
