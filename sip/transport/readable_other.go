//go:build !(linux || darwin || freebsd)

package transport

import "net"

// readableWaiter returns a function that returns at once: without a way to
// wait for input, a connection keeps its read buffer while it waits.
func readableWaiter(net.Conn) func() error {
	return func() error { return nil }
}
