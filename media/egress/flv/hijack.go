package flv

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/nvr/nvr/media/stream"
)

// lingerTimeout bounds how long a connection whose body ended waits for the
// client to close its side before it is closed: closing a socket that holds
// unread input resets it, and a reset can destroy the end of the body the
// client has not read yet (net/http waits the same way, rstAvoidanceDelay).
const lingerTimeout = 500 * time.Millisecond

// serveConn serves s on a hijacked HTTP/1.x connection: the response header
// built from h, then the FLV bytes until the stream ends (the connection is
// closed to end the body), the client leaves or a write fails.
func (hs httpServer) serveConn(r *http.Request, h http.Header, conn net.Conn, br *bufio.Reader, s *stream.Stream, log *slog.Logger) {
	// net/http stops reading a hijacked connection, so the request's
	// context no longer ends when the client leaves: watch for that here.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		defer cancel()
		drain(conn, br)
	})

	cw := newConnWriter(conn, responseHead(r, h), hs.writeTimeout)
	err := serve(ctx, cw, s, log)
	switch {
	case err == nil:
		// The stream ended: end the body cleanly (FIN) and give the client
		// a moment to read it and close.
		if c, ok := conn.(interface{ CloseWrite() error }); ok && c.CloseWrite() == nil {
			_ = conn.SetReadDeadline(time.Now().Add(lingerTimeout))
			select {
			case <-ctx.Done():
			case <-time.After(lingerTimeout):
			}
		}
	case ctx.Err() == nil:
		log.Debug("FLV write failed", "error", err)
	}
	conn.Close()
}

// drain reads and drops what the client sends (an FLV player sends nothing
// after its request) until the connection fails or closes.
func drain(conn net.Conn, br *bufio.Reader) {
	_, _ = br.Discard(br.Buffered())
	buf := make([]byte, 256)
	for {
		if _, err := conn.Read(buf); err != nil {
			return
		}
	}
}

// responseHead returns the status line and header of the response: h (the
// headers the handler chain set, CORS included) without the framing
// headers, which "Connection: close" replaces.
func responseHead(r *http.Request, h http.Header) []byte {
	h = h.Clone()
	h.Del("Content-Length")
	h.Del("Transfer-Encoding")
	h.Set("Connection", "close")
	if _, ok := h["Date"]; !ok {
		h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	var b bytes.Buffer
	// Like net/http, answer an HTTP/1.0 request as HTTP/1.0.
	if r.ProtoAtLeast(1, 1) {
		b.WriteString("HTTP/1.1 200 OK\r\n")
	} else {
		b.WriteString("HTTP/1.0 200 OK\r\n")
	}
	_ = h.Write(&b)
	b.WriteString("\r\n")
	return b.Bytes()
}

// connWriter writes batches straight to a connection: one writev of the
// batch's pieces on TCP, one write of a copy on other connections (TLS,
// where every write is a record). The response header goes out with the
// first batch.
type connWriter struct {
	conn     net.Conn
	vectored bool
	head     []byte
	iov      net.Buffers // the pieces of a write, kept for their backing array
	left     net.Buffers // what WriteTo has not written yet: it consumes
	buf      []byte
	dl       writeDeadline
}

func newConnWriter(conn net.Conn, head []byte, timeout time.Duration) *connWriter {
	w := &connWriter{conn: conn, head: head, dl: newWriteDeadline(timeout)}
	switch conn.(type) {
	case *net.TCPConn, *net.UnixConn:
		w.vectored = true // net.Buffers.WriteTo is writev(2) on these
	}
	return w
}

func (w *connWriter) writeBatch(b *batch) (int64, error) {
	if err := w.dl.extend(w.conn); err != nil {
		return 0, err
	}
	var n int64
	var err error
	if w.vectored {
		iov := w.iov[:0]
		if w.head != nil {
			iov = append(iov, w.head)
		}
		w.iov = b.buffers(iov)
		// WriteTo on a field: on a local, the slice header would escape
		// to the heap at every write.
		w.left = w.iov
		n, err = w.left.WriteTo(w.conn)
		w.left = nil
		clear(w.iov) // drop the references to shared tags
		if cap(w.iov) > maxKeptPieces+1 {
			w.iov = nil
		}
	} else {
		if cap(w.buf) > maxKeptBuffer {
			w.buf = nil
		}
		w.buf = b.appendTo(append(w.buf[:0], w.head...))
		var nn int
		nn, err = w.conn.Write(w.buf)
		n = int64(nn)
	}
	if w.head != nil {
		n = max(n-int64(len(w.head)), 0)
		w.head = nil
	}
	return n, err
}
