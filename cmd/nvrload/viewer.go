package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/nvr/nvr/media/codec/flv"
)

// tagsPerSecondBound is far above the tag rate of any camera stream (25
// video + 50 audio tags a second), so that a viewer's read loop is bounded
// by count too without ever stopping a healthy one.
const tagsPerSecondBound = 500

// videoFrame tells whether a tag carries a coded picture (rather than a
// sequence header, end of sequence or command), and whether it is a
// keyframe a decoder can start from.
func videoFrame(t *flv.Tag) (frame, key bool) {
	v := t.Video
	if t.Type != flv.TagVideo || v == nil || v.FrameType == flv.FrameCommand {
		return false, false
	}
	switch {
	case v.Enhanced:
		frame = v.PacketType == flv.PacketTypeCodedFrames || v.PacketType == flv.PacketTypeCodedFramesX
	case v.CodecID == flv.VideoCodecAVC || v.CodecID == 12:
		frame = v.PacketType == flv.AVCNALU
	default:
		frame = true
	}
	return frame, frame && v.FrameType == flv.FrameKey
}

// openFLV requests an HTTP-FLV URL and checks the answer.
func openFLV(ctx context.Context, client *http.Client, url string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %s", resp.Status, b)
	}
	return resp.Body, nil
}

// viewer is one HTTP-FLV client that parses the stream with flv.Reader and
// checks the timestamps of its video frames.
type viewer struct {
	// frames counts video frames; read by the controller during the run.
	frames atomic.Uint64
	// started is set at the first video frame.
	started atomic.Bool
	// gaps and decodeErrs belong to run until it returns.
	gaps       *gapDetector
	decodeErrs uint64
}

func newViewer(fps float64) *viewer {
	return &viewer{gaps: newGapDetector(fps)}
}

// run reads url until ctx ends (returning nil), the stream ends or breaks
// (returning why), or maxTags tags were read.
func (v *viewer) run(ctx context.Context, client *http.Client, url string, maxTags int) error {
	body, err := openFLV(ctx, client, url)
	if err != nil {
		return err
	}
	defer body.Close()
	r := flv.NewReader(body)
	for range maxTags {
		t, err := r.ReadTag()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if t == nil {
				return err
			}
			// The framing is intact; only the body did not decode.
			v.decodeErrs++
			continue
		}
		if frame, _ := videoFrame(t); frame {
			v.gaps.add(t.Timestamp)
			v.frames.Add(1)
			v.started.Store(true)
		}
	}
	return fmt.Errorf("stopped after %d tags", maxTags)
}

// errNoKeyframe is returned by timeToKeyframe when the stream ends before
// its first keyframe.
var errNoKeyframe = errors.New("no keyframe")

// maxTagsBeforeKey bounds what timeToKeyframe reads: the header, metadata
// and sequence headers come first, then the keyframe; audio may be
// interleaved before it.
const maxTagsBeforeKey = 64

// timeToKeyframe opens a new viewer of url and returns the time from the
// request to the end of the first video keyframe tag, and how many bytes
// had been read by then.
func timeToKeyframe(ctx context.Context, client *http.Client, url string) (time.Duration, int64, error) {
	start := time.Now()
	body, err := openFLV(ctx, client, url)
	if err != nil {
		return 0, 0, err
	}
	defer body.Close()
	cr := &countingReader{r: body}
	r := flv.NewReader(cr)
	for range maxTagsBeforeKey {
		t, err := r.ReadTag()
		if err != nil && t == nil {
			return 0, cr.n, err
		}
		if _, key := videoFrame(t); key {
			return time.Since(start), cr.n, nil
		}
	}
	return 0, cr.n, fmt.Errorf("%w in the first %d tags", errNoKeyframe, maxTagsBeforeKey)
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
