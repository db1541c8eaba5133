//go:build !unix

package ps

import "net"

// readBuffer cannot tell the receive buffer on this system.
func readBuffer(*net.UDPConn) (int, bool) { return 0, false }
