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
	rc  syscall.RawConn
	iov []syscall.Iovec
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
	return &sysConn{rc: rc}
}

// Read reads into p as net.Conn's Read does.
func (c *sysConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n uintptr
	var errno syscall.Errno
	err := c.rc.Read(func(fd uintptr) bool {
		for {
			n, _, errno = syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
			if errno != syscall.EINTR {
				return errno != syscall.EAGAIN
			}
		}
	})
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
	iov := c.iov
	var errno syscall.Errno
	err := c.rc.Write(func(fd uintptr) bool {
		for len(iov) > 0 {
			k := min(len(iov), maxIovecs)
			var n uintptr
			n, _, errno = syscall.RawSyscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(k))
			switch errno {
			case 0:
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // wait for room
			default:
				return true
			}
			// Skip what was written.
			for n > 0 && len(iov) > 0 {
				if l := uintptr(iov[0].Len); n < l {
					iov[0].Base = (*byte)(unsafe.Add(unsafe.Pointer(iov[0].Base), n))
					iov[0].SetLen(int(l - n))
					n = 0
				} else {
					n -= l
					iov = iov[1:]
				}
			}
		}
		return true
	})
	clear(c.iov) // drop the references to the buffers
	switch {
	case err != nil:
		return err
	case errno != 0:
		return os.NewSyscallError("writev", errno)
	}
	return nil
}
