//go:build !linux

package ul

import "net"

type sysConn struct{ plainConn }

// newSysConn returns nil: raw system calls are used on Linux only.
func newSysConn(net.Conn) *sysConn { return nil }
