//go:build unix

package ps

import (
	"net"
	"runtime"
	"syscall"
)

// readBuffer returns the receive buffer the kernel granted c, in the units
// SetReadBuffer takes: Linux reports twice what it grants, for its own
// bookkeeping (socket(7)), and caps the request at net.core.rmem_max.
func readBuffer(c *net.UDPConn) (int, bool) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, false
	}
	size, ok := 0, false
	_ = rc.Control(func(fd uintptr) {
		v, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
		size, ok = v, err == nil
	})
	if runtime.GOOS == "linux" {
		size /= 2
	}
	return size, ok
}
