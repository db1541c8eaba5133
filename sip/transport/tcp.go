package transport

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Timeouts of TCP connections.
const (
	// tcpWriteTimeout bounds one write: a device that stopped reading must
	// not block the platform's sender.
	tcpWriteTimeout = 10 * time.Second
	// tcpDialTimeout bounds connecting to a device that has no connection
	// to us.
	tcpDialTimeout = 5 * time.Second
)

// tcpReadBuffer is the read buffer a TCP connection borrows while it has a
// message to read (readTCP). It was 64 KiB per connection, held for as long
// as the device stayed connected: 312 MiB for 5,000 devices. A SIP header
// line is far shorter; a longer one is joined from several reads
// (readLine), and a body is read into a slice of its own size, so big
// catalogs do not need a big buffer.
const tcpReadBuffer = 4 << 10

// tcpConn is one TCP connection. Writes are serialized so that two
// messages never interleave on the stream.
type tcpConn struct {
	c      net.Conn
	remote netip.AddrPort

	wmu sync.Mutex
}

func (t *tcpConn) write(b []byte) error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	_ = t.c.SetWriteDeadline(time.Now().Add(tcpWriteTimeout))
	if _, err := t.c.Write(b); err != nil {
		_ = t.c.Close() // a partial write leaves the stream unframed
		return fmt.Errorf("sip send tcp to %s: %w", t.remote, err)
	}
	return nil
}

// serveTCP starts accepting on ln.
func (l *Layer) serveTCP(ln *net.TCPListener) {
	l.mu.Lock()
	l.tcp = ln
	l.mu.Unlock()
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for {
			c, err := ln.AcceptTCP()
			if err != nil {
				if l.isCanceled() || errors.Is(err, net.ErrClosed) {
					return
				}
				l.log.Warn("sip tcp accept failed", "err", err)
				time.Sleep(50 * time.Millisecond) // e.g. out of file descriptors
				continue
			}
			l.track(c)
		}
	}()
}

// conn returns the connection to remote, if any.
func (l *Layer) conn(remote string) *tcpConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conns[remote]
}

// dial connects to a device that has no connection to us.
func (l *Layer) dial(remote netip.AddrPort) (*tcpConn, error) {
	c, err := net.DialTimeout("tcp", remote.String(), tcpDialTimeout)
	if err != nil {
		return nil, fmt.Errorf("sip dial tcp %s: %w", remote, err)
	}
	tc := l.track(c.(*net.TCPConn))
	if tc == nil {
		return nil, ErrClosed
	}
	return tc, nil
}

// track registers c and starts reading it. It returns nil after Cancel.
func (l *Layer) track(c *net.TCPConn) *tcpConn {
	ap := c.RemoteAddr().(*net.TCPAddr).AddrPort()
	tc := &tcpConn{c: c, remote: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())}
	key := tc.remote.String()
	l.mu.Lock()
	if l.isCanceled() {
		l.mu.Unlock()
		_ = c.Close()
		return nil
	}
	if old := l.conns[key]; old != nil {
		_ = old.c.Close()
	}
	l.conns[key] = tc
	l.wg.Add(1)
	l.mu.Unlock()
	go l.readTCP(tc, key)
	return tc
}

// getReader lends a read buffer for c.
func (l *Layer) getReader(c net.Conn) *bufio.Reader {
	l.readersLent.Add(1)
	if r, ok := l.readers.Get().(*bufio.Reader); ok {
		r.Reset(c)
		return r
	}
	return bufio.NewReaderSize(c, tcpReadBuffer)
}

// putReader takes a read buffer back.
func (l *Layer) putReader(r *bufio.Reader) {
	r.Reset(nil)
	l.readers.Put(r)
	l.readersLent.Add(-1)
}

func (l *Layer) readTCP(tc *tcpConn, key string) {
	defer l.wg.Done()
	defer func() {
		_ = tc.c.Close()
		l.mu.Lock()
		if l.conns[key] == tc {
			delete(l.conns, key)
		}
		l.mu.Unlock()
	}()
	// A device's connection is idle most of the time (a keepalive a
	// minute): it waits for input without a buffer, borrows one to read
	// what came, and gives it back once it has read all of it.
	wait := readableWaiter(tc.c)
	var r *bufio.Reader
	defer func() {
		if r != nil {
			l.putReader(r)
		}
	}()
	for {
		if r == nil {
			if err := wait(); err != nil {
				if !errors.Is(err, net.ErrClosed) && !l.isCanceled() {
					l.problems.report("closing sip tcp connection", "remote", key, "err", err)
				}
				return
			}
			r = l.getReader(tc.c)
		}
		data, err := ReadStreamMessage(r, l.MaxHeaderSize, l.MaxBodySize)
		switch {
		case err == nil:
			if r.Buffered() == 0 { // data is a copy: the buffer can go back
				l.putReader(r)
				r = nil
			}
			l.handle(data, "TCP", tc.remote, tc.write)
			continue
		case errors.Is(err, ErrBodyTooLarge):
			// Answer 413 from the header section, then close: skipping the
			// body would mean reading up to whatever the peer claimed.
			l.refuse(l.dec.reject(data, 413, "Request Entity Too Large", err), "TCP", tc.remote, tc.write)
		case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed), l.isCanceled():
		default:
			l.problems.report("closing sip tcp connection", "remote", key, "err", err)
		}
		return
	}
}
