package flv

import (
	"io"
	"time"
)

// maxKeptBuffer is the largest copy buffer a viewer keeps between batches
// on a writer that takes one buffer per write: enough for a batch of a few
// ordinary frames. The first batch (a whole GOP) can be megabytes; keeping
// that for each of a thousand viewers would pin gigabytes, so a bigger
// buffer is dropped after use.
const maxKeptBuffer = 256 << 10

// batchWriter writes one batch to a viewer and reports the bytes written.
type batchWriter interface {
	writeBatch(b *batch) (int64, error)
}

// copyWriter writes each batch to an io.Writer as one Write (one WebSocket
// message, one HTTP chunk), then calls flush.
type copyWriter struct {
	w     io.Writer
	flush func()
	buf   []byte
}

func (c *copyWriter) writeBatch(b *batch) (int64, error) {
	if cap(c.buf) > maxKeptBuffer {
		c.buf = nil
	}
	c.buf = b.appendTo(c.buf[:0])
	n, err := c.w.Write(c.buf)
	if err != nil {
		return int64(n), err
	}
	c.flush()
	return int64(n), nil
}

// deadlineSetter is a net.Conn, an http.ResponseController or a
// websocket.Conn.
type deadlineSetter interface {
	SetWriteDeadline(t time.Time) error
}

// writeDeadline keeps a connection's write deadline at least timeout ahead
// of every write while setting it at most once per slack: the deadline is
// set timeout+slack ahead and renewed once less than timeout is left. A
// viewer that stalls is cut off after between timeout and timeout+slack,
// and the deadline costs one timer update per second instead of one per
// write (SetWriteDeadline before every write was 6 % of the CPU with 500
// HTTP-FLV viewers).
type writeDeadline struct {
	timeout, slack time.Duration
	at             time.Time
}

// newWriteDeadline returns a writeDeadline for timeout with a slack of a
// tenth of it (1 s for writeTimeout).
func newWriteDeadline(timeout time.Duration) writeDeadline {
	return writeDeadline{timeout: timeout, slack: timeout / 10}
}

// extend renews c's deadline when less than timeout is left.
func (d *writeDeadline) extend(c deadlineSetter) error {
	now := time.Now()
	if d.at.Sub(now) >= d.timeout {
		return nil
	}
	d.at = now.Add(d.timeout + d.slack)
	return c.SetWriteDeadline(d.at)
}
