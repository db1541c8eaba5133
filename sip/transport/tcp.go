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

// tcpPartialTimeout bounds how long a message that has begun to arrive
// may take to arrive whole. An idle connection has no deadline: a device
// sends a keepalive a minute, or less often over TCP.
var tcpPartialTimeout = 30 * time.Second // a variable for tests

// tcpConn is one TCP connection. Writes are serialized so that two
// messages never interleave on the stream.
type tcpConn struct {
	l      *Layer
	c      *net.TCPConn
	remote netip.AddrPort
	key    string // remote as a string, the key of Layer.conns
	id     uint64 // the poller's handle, where there is a poller

	wmu       sync.Mutex
	closeOnce sync.Once
}

func (t *tcpConn) write(b []byte) error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	_ = t.c.SetWriteDeadline(time.Now().Add(tcpWriteTimeout))
	if _, err := t.c.Write(b); err != nil {
		t.close() // a partial write leaves the stream unframed
		return fmt.Errorf("sip send tcp to %s: %w", t.remote, err)
	}
	return nil
}

// close closes the connection and forgets it. Every path that ends a
// connection goes through here, so that neither Layer.conns nor the poller
// keep it.
func (t *tcpConn) close() {
	t.closeOnce.Do(func() {
		t.l.unwatch(t)
		_ = t.c.Close()
		t.l.mu.Lock()
		if t.l.conns[t.key] == t {
			delete(t.l.conns, t.key)
		}
		t.l.mu.Unlock()
	})
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
	tc := &tcpConn{l: l, c: c, remote: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())}
	tc.key = tc.remote.String()
	l.mu.Lock()
	if l.isCanceled() {
		l.mu.Unlock()
		_ = c.Close()
		return nil
	}
	old := l.conns[tc.key]
	l.conns[tc.key] = tc
	l.mu.Unlock()
	if old != nil {
		old.close()
	}
	if err := l.watch(tc); err != nil {
		if !errors.Is(err, ErrClosed) {
			l.log.Warn("sip tcp connection not read", "remote", tc.key, "err", err)
		}
		tc.close()
		return nil
	}
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

// readBuffered reads and handles the messages of tc until r holds no more
// input, then gives r back. It waits without a deadline for the first
// byte (there is one when the caller was told of input), but a message
// that has begun must arrive whole within tcpPartialTimeout. It returns
// false when the connection has ended (and is closed).
func (l *Layer) readBuffered(tc *tcpConn, r *bufio.Reader) bool {
	for {
		_, err := r.Peek(1)
		var data []byte
		if err == nil {
			skipBlankLines(r) // RFC 5626 keep-alives
			if r.Buffered() == 0 {
				l.putReader(r)
				return true
			}
			_ = tc.c.SetReadDeadline(time.Now().Add(tcpPartialTimeout))
			data, err = ReadStreamMessage(r, l.MaxHeaderSize, l.MaxBodySize)
		}
		switch {
		case err == nil:
			last := r.Buffered() == 0
			if last { // data is a copy: the buffer can go back
				_ = tc.c.SetReadDeadline(time.Time{})
				l.putReader(r)
			}
			l.handle(data, "TCP", tc.remote, tc.write)
			if last {
				return true
			}
			continue
		case errors.Is(err, ErrBodyTooLarge):
			// Answer 413 from the header section, then close: skipping the
			// body would mean reading up to whatever the peer claimed.
			l.refuse(l.dec.reject(data, 413, "Request Entity Too Large", err), "TCP", tc.remote, tc.write)
		case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed), l.isCanceled():
		default:
			l.problems.report("closing sip tcp connection", "remote", tc.key, "err", err)
		}
		l.putReader(r)
		tc.close()
		return false
	}
}

// skipBlankLines drops the CR and LF bytes at the head of what r has
// buffered, without reading more.
func skipBlankLines(r *bufio.Reader) {
	for r.Buffered() > 0 {
		b, _ := r.Peek(1)
		if b[0] != '\r' && b[0] != '\n' {
			return
		}
		_, _ = r.Discard(1)
	}
}
