//go:build darwin || freebsd

package transport

import (
	"net"
	"syscall"
)

// readableWaiter returns a function that blocks until c has input (or
// end of file, or an error) without reading it, so that the caller does
// not need a buffer while it waits. It peeks at one byte: the readiness
// the poller reports is an edge, and a previous read may have left data in
// the socket.
func readableWaiter(c net.Conn) func() error {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return func() error { return nil }
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return func() error { return nil }
	}
	var b [1]byte
	return func() error {
		return rc.Read(func(fd uintptr) bool {
			for {
				_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK)
				switch err {
				case syscall.EINTR:
					continue
				case syscall.EAGAIN:
					return false // wait for the poller
				default:
					return true // input, end of file or an error: the read tells
				}
			}
		})
	}
}
