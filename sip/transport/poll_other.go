//go:build !linux

package transport

import (
	"errors"
	"net"
)

// Without epoll each TCP connection has a goroutine that waits for its
// input (poll_linux.go explains why Linux does not).

// poller is absent on this platform.
type poller struct{}

// watch starts tc's reader goroutine.
func (l *Layer) watch(tc *tcpConn) error {
	l.wg.Add(1)
	go l.readTCP(tc)
	return nil
}

// unwatch has nothing to do: the reader ends with the connection.
func (l *Layer) unwatch(*tcpConn) {}

// stop has nothing to do.
func (*poller) stop() {}

// readTCP waits for input without a buffer, borrows one to read what came,
// and gives it back once it has read all of it.
func (l *Layer) readTCP(tc *tcpConn) {
	defer l.wg.Done()
	wait := readableWaiter(tc.c)
	for {
		if err := wait(); err != nil {
			if !errors.Is(err, net.ErrClosed) && !l.isCanceled() {
				l.problems.report("closing sip tcp connection", "remote", tc.key, "err", err)
			}
			tc.close()
			return
		}
		if !l.readBuffered(tc, l.getReader(tc.c)) {
			return
		}
	}
}
