// Package flv serves a live stream as FLV, over HTTP (HTTP-FLV) or over a
// WebSocket (WS-FLV), the formats flv.js and mpegts.js play in a browser.
//
// The tags of each unit are built once per stream (codec/flv.UnitTags) and
// shared by every viewer; a viewer only adds its own file header, metadata
// and sequence headers, and copies each batch of shared tags into one
// buffer so that a batch costs one write.
package flv

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/nvr/nvr/media/stream"
)

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
// sequence headers; every later Write holds one batch of tags.
func Serve(ctx context.Context, w io.Writer, s *stream.Stream, opts Options) error {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	flush := opts.Flush
	if flush == nil {
		flush = func() {}
	}
	r := s.NewReader()
	defer r.Close()

	m := newMuxer(s, log)
	began := time.Now()
	var written int64
	err := func() error {
		for {
			batch, err := r.Read(ctx)
			if err != nil {
				return err
			}
			if !m.started {
				n, err := w.Write(m.start(batch))
				written += int64(n)
				if err != nil {
					return err
				}
				flush()
			}
			buf := m.appendBatch(batch)
			if len(buf) == 0 {
				continue
			}
			n, err := w.Write(buf)
			written += int64(n)
			if err != nil {
				return err
			}
			flush()
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

func errString(err error) string {
	if err == nil {
		return "stream ended"
	}
	return err.Error()
}
