// Package flv serves a live stream as FLV, over HTTP (HTTP-FLV) or over a
// WebSocket (WS-FLV), the formats flv.js and mpegts.js play in a browser.
//
// The tags of each unit are built once per stream (codec/flv.UnitTags) and
// shared by every viewer; a viewer only adds its own file header, metadata
// and sequence headers (and a private tag header where it raises a
// timestamp). The cost of a viewer is its writes, so it makes one per
// video frame: audio waits for the next frame (at most maxHold), and a
// batch is one writev of the shared tags on a taken-over HTTP/1.x
// connection, or one copy in one write (one WebSocket message) elsewhere.
// See docs/perf-flv.md for the figures.
package flv

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/nvr/nvr/media/stream"
)

// maxHold bounds how long Serve holds back a batch of audio only, waiting
// for the video frame that normally follows within a frame interval, so
// that a viewer gets one write per video frame instead of one per unit
// (25 instead of 68 a second for 25 fps video and 44.1 kHz AAC). Audio
// still flows when the video stalls.
const maxHold = 100 * time.Millisecond

// Options tune Serve.
type Options struct {
	// Flush is called after each write, e.g. to flush an http.ResponseWriter.
	Flush func()
	// Logger receives the viewer's start and end and per-unit problems.
	// Nil discards.
	Logger *slog.Logger
}

// Serve writes s as an FLV byte stream to w until ctx ends (it returns
// ctx's error), the stream closes (it returns nil) or a write fails.
//
// The output is the FLV header, onMetaData, the video and audio sequence
// headers, then the stream from its newest keyframe on, with timestamps
// that never go backwards. The first Write holds the header, metadata and
// sequence headers; every later Write holds one batch of tags: a video
// frame with the audio that arrived before it (more frames when the viewer
// is behind), or, when the stream has no video or its video stalls, the
// audio of up to maxHold.
func Serve(ctx context.Context, w io.Writer, s *stream.Stream, opts Options) error {
	flush := opts.Flush
	if flush == nil {
		flush = func() {}
	}
	return serve(ctx, &copyWriter{w: w, flush: flush}, s, opts.Logger)
}

// serve is Serve on a batchWriter.
func serve(ctx context.Context, w batchWriter, s *stream.Stream, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := s.NewReader()
	defer r.Close()

	m := newMuxer(s, log)
	var b batch
	began := time.Now()
	var written int64
	write := func() error {
		n, err := w.writeBatch(&b)
		written += n
		b.reset()
		return err
	}
	err := func() error {
		for {
			units, err := r.Read(ctx)
			if err != nil {
				if errors.Is(err, stream.ErrClosed) && !b.empty() {
					if err := write(); err != nil {
						return err
					}
				}
				return err
			}
			if !m.started {
				m.start(units, &b)
				if err := write(); err != nil {
					return err
				}
			}
			m.appendBatch(units, &b)
			if b.empty() || m.hold(&b) {
				continue
			}
			if err := write(); err != nil {
				return err
			}
		}
	}()
	if errors.Is(err, stream.ErrClosed) {
		err = nil
	}
	log.Info("FLV viewer ended",
		"duration", time.Since(began).Round(time.Millisecond), "bytes", written,
		"units", m.units, "dropped", r.Dropped(), "skipped", m.skipped, "clamped", m.clamped,
		"reason", errString(err))
	return err
}

// hold reports whether to keep b for the next video frame: b holds audio
// only, the viewer carries video, and b has been held for less than
// maxHold. The bound is checked when units arrive, so a stream that stops
// altogether delivers its last held audio when it resumes or closes.
func (m *muxer) hold(b *batch) bool {
	if b.video || m.track[kindVideo] < 0 {
		return false
	}
	now := time.Now()
	if b.since.IsZero() {
		b.since = now
	}
	return now.Sub(b.since) < maxHold
}

func errString(err error) string {
	if err == nil {
		return "stream ended"
	}
	return err.Error()
}
