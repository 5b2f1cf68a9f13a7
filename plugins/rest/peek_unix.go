//go:build unix

package rest

import (
	"crypto/tls"
	"errors"
	"net"
	"syscall"
)

// closedOrBusy tells, without waiting and without reading anything,
// whether the back end closed an idle connection or sent something it was
// not asked for: either way the connection is not fit for a request.
func closedOrBusy(nc net.Conn) bool {
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	var (
		n    int
		rerr error
		b    [1]byte
	)
	if err := rc.Read(func(fd uintptr) bool {
		n, _, rerr = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true
	}); err != nil {
		return true
	}
	// EAGAIN: open and quiet. n == 0 without error: closed.
	return !errors.Is(rerr, syscall.EAGAIN) && !errors.Is(rerr, syscall.EWOULDBLOCK) || n > 0
}
