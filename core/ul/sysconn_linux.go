package ul

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// sysConn reads and writes a TCP connection with read(2) and writev(2)
// issued as raw system calls. The socket is non-blocking, so they never
// block: when no data (or no room) is there, the goroutine parks in Go's
// network poller as net.Conn's methods do, with the connection's deadlines.
// What it saves is the scheduler's bookkeeping around each call, which in
// a process otherwise idle wakes the runtime's monitor thread at every
// read and write: one thread woken per PDU, on a core the peer sending the
// PDUs may be using.
type sysConn struct {
	rc syscall.RawConn
	// The current read's and write's arguments and results, and the
	// callbacks of rc.Read and rc.Write, bound once: a closure per call
	// would be allocated at every PDU. Reads are serialised by the
	// association, and so are writes.
	rp      []byte
	rn      uintptr
	rerrno  syscall.Errno
	readFn  func(fd uintptr) bool
	iov     []syscall.Iovec // the buffers of the current write, what is left of them
	werrno  syscall.Errno
	writeFn func(fd uintptr) bool
}

func newSysConn(conn net.Conn) *sysConn {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	c := &sysConn{rc: rc}
	c.readFn, c.writeFn = c.read, c.writev
	return c
}

// Read reads into p as net.Conn's Read does.
func (c *sysConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.rp = p
	err := c.rc.Read(c.readFn)
	c.rp = nil
	n, errno := c.rn, c.rerrno
	switch {
	case err != nil:
		return 0, err // the deadline passed, or the connection was closed
	case errno != 0:
		return 0, os.NewSyscallError("read", errno)
	case n == 0:
		return 0, io.EOF
	}
	return int(n), nil
}

// read is rc.Read's callback: false when the socket has no data yet.
func (c *sysConn) read(fd uintptr) bool {
	for {
		c.rn, _, c.rerrno = syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&c.rp[0])), uintptr(len(c.rp)))
		if c.rerrno != syscall.EINTR {
			return c.rerrno != syscall.EAGAIN
		}
	}
}

// maxIovecs bounds the buffers of one writev (IOV_MAX is 1024).
const maxIovecs = 1024

// writeAll writes bufs with writev, resuming after partial writes.
func (c *sysConn) writeAll(bufs [][]byte) error {
	c.iov = c.iov[:0]
	for _, b := range bufs {
		if len(b) > 0 {
			v := syscall.Iovec{Base: &b[0]}
			v.SetLen(len(b))
			c.iov = append(c.iov, v)
		}
	}
	all := c.iov
	c.werrno = 0
	err := c.rc.Write(c.writeFn)
	clear(all) // drop the references to the buffers
	c.iov = all[:0]
	switch {
	case err != nil:
		return err
	case c.werrno != 0:
		return os.NewSyscallError("writev", c.werrno)
	}
	return nil
}

// writev is rc.Write's callback: false when the socket has no room yet.
func (c *sysConn) writev(fd uintptr) bool {
	for len(c.iov) > 0 {
		k := min(len(c.iov), maxIovecs)
		n, _, errno := syscall.RawSyscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&c.iov[0])), uintptr(k))
		switch errno {
		case 0:
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false // wait for room
		default:
			c.werrno = errno
			return true
		}
		// Skip what was written.
		for n > 0 && len(c.iov) > 0 {
			if l := uintptr(c.iov[0].Len); n < l {
				c.iov[0].Base = (*byte)(unsafe.Add(unsafe.Pointer(c.iov[0].Base), n))
				c.iov[0].SetLen(int(l - n))
				n = 0
			} else {
				n -= l
				c.iov = c.iov[1:]
			}
		}
	}
	return true
}
