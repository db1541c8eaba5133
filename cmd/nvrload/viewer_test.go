package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nvr/nvr/media/codec/flv"
)

func avcTag(ts uint32, ft flv.FrameType, pt uint8) *flv.Tag {
	return &flv.Tag{Type: flv.TagVideo, Timestamp: ts, Video: &flv.VideoTag{
		FrameType: ft, CodecID: flv.VideoCodecAVC, PacketType: pt, Payload: []byte{0, 0, 0, 1, 0x65},
	}}
}

func TestVideoFrame(t *testing.T) {
	hevc := func(ft flv.FrameType, pt uint8) *flv.Tag {
		return &flv.Tag{Type: flv.TagVideo, Video: &flv.VideoTag{Enhanced: true, FourCC: flv.FourCCHEVC, FrameType: ft, PacketType: pt}}
	}
	for _, tc := range []struct {
		name       string
		tag        *flv.Tag
		frame, key bool
	}{
		{"AVC sequence header", avcTag(0, flv.FrameKey, flv.AVCSequenceHeader), false, false},
		{"AVC keyframe", avcTag(0, flv.FrameKey, flv.AVCNALU), true, true},
		{"AVC inter frame", avcTag(0, flv.FrameInter, flv.AVCNALU), true, false},
		{"AVC end of sequence", avcTag(0, flv.FrameKey, flv.AVCEndOfSequence), false, false},
		{"HEVC sequence start", hevc(flv.FrameKey, flv.PacketTypeSequenceStart), false, false},
		{"HEVC keyframe", hevc(flv.FrameKey, flv.PacketTypeCodedFrames), true, true},
		{"HEVC inter frame X", hevc(flv.FrameInter, flv.PacketTypeCodedFramesX), true, false},
		{"audio", &flv.Tag{Type: flv.TagAudio, Audio: &flv.AudioTag{}}, false, false},
		{"undecodable video", &flv.Tag{Type: flv.TagVideo, Body: []byte{}}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frame, key := videoFrame(tc.tag)
			if frame != tc.frame || key != tc.key {
				t.Errorf("frame %v key %v, want %v %v", frame, key, tc.frame, tc.key)
			}
		})
	}
}

// flvFile builds an FLV stream: a sequence header, then frames at the given
// timestamps, the first a keyframe.
func flvFile(t *testing.T, ts ...uint32) []byte {
	t.Helper()
	b := flv.Header{HasVideo: true}.Append(nil)
	tags := []*flv.Tag{avcTag(0, flv.FrameKey, flv.AVCSequenceHeader)}
	for i, x := range ts {
		ft := flv.FrameInter
		if i == 0 {
			ft = flv.FrameKey
		}
		tags = append(tags, avcTag(x, ft, flv.AVCNALU))
	}
	for _, tag := range tags {
		var err error
		if b, err = tag.Append(b); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func serveBytes(t *testing.T, b []byte) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "video/x-flv")
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/live/ch1.flv"
}

func TestViewerCountsFramesAndGaps(t *testing.T) {
	url := serveBytes(t, flvFile(t, 1000, 1040, 1080, 1200, 1240))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	client := &http.Client{}
	defer client.CloseIdleConnections()

	v := newViewer(25)
	err := v.run(ctx, client, url, 100)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("run: %v, want EOF at the end of the stream", err)
	}
	if v.frames.Load() != 5 || !v.started.Load() {
		t.Errorf("frames %d started %v, want 5 true", v.frames.Load(), v.started.Load())
	}
	if v.gaps.Missing() != 2 || v.gaps.Gaps != 1 {
		t.Errorf("missing %d, %d gaps; want 2 and 1", v.gaps.Missing(), v.gaps.Gaps)
	}

	// The count bound stops a reader that would go on.
	v = newViewer(25)
	if err := v.run(ctx, client, url, 3); err == nil || v.frames.Load() != 2 {
		t.Errorf("with maxTags 3: err %v, frames %d; want an error after 2 frames", err, v.frames.Load())
	}
}

func TestTimeToKeyframe(t *testing.T) {
	file := flvFile(t, 0, 40)
	url := serveBytes(t, file)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	client := &http.Client{}
	defer client.CloseIdleConnections()

	d, n, err := timeToKeyframe(ctx, client, url)
	if err != nil {
		t.Fatal(err)
	}
	if d <= 0 || n <= 0 || n >= int64(len(file)) {
		t.Errorf("took %s and %d bytes of %d; want the keyframe before the end", d, n, len(file))
	}

	noKey := serveBytes(t, flv.Header{HasVideo: true}.Append(nil))
	if _, _, err := timeToKeyframe(ctx, client, noKey); !errors.Is(err, io.EOF) {
		t.Errorf("stream without frames: %v, want EOF", err)
	}
}

func TestViewerGroup(t *testing.T) {
	url := serveBytes(t, flvFile(t, 0, 40, 80, 200))
	client := &http.Client{}
	defer client.CloseIdleConnections()

	g := startViewers(context.Background(), client, url, 3, 25, 5*time.Second)
	defer g.stop()
	// The served stream is short: the viewers start, then end at its EOF,
	// which waitStarted may see first.
	_ = g.waitStarted(context.Background(), 5*time.Second)
	before := make([]uint64, 3)
	g.stop()
	r := g.result(before, g.frames())
	if r.failed != 3 || !strings.Contains(r.firstErr, "EOF") {
		t.Errorf("failed %d (%s), want 3 viewers ended by EOF", r.failed, r.firstErr)
	}
	if len(r.window) != 3 || percentile(r.window, 0) != 4 || r.missing != 3*2 || r.gaps != 3 {
		t.Errorf("window %v missing %d gaps %d; want 4 frames each, 2 missing and 1 gap each", r.window, r.missing, r.gaps)
	}
}
