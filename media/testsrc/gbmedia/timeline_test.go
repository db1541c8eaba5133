package gbmedia

import (
	"testing"
	"time"
)

func TestTimelineSeek(t *testing.T) {
	cs, err := loadClipSet(ClipSetH264G711A, 0)
	if err != nil {
		t.Fatal(err)
	}
	// 100 frames at 25 fps, keyframes every 25: 0, 1, 2, 3 s of each 4 s loop.
	cases := []struct {
		pos   time.Duration
		video int64
	}{
		{0, 0},
		{time.Millisecond, 25},
		{500 * time.Millisecond, 25},
		{time.Second, 25},
		{3 * time.Second, 75},
		{3900 * time.Millisecond, 100}, // past the last keyframe: next loop
		{5 * time.Second, 125},
		{-time.Second, 0},
	}
	for _, c := range cases {
		t.Run(c.pos.String(), func(t *testing.T) {
			tl := timeline{cs: cs}
			tl.seek(ticks(c.pos))
			if tl.vNext != c.video {
				t.Fatalf("video frame %d, want %d", tl.vNext, c.video)
			}
			if !cs.video[tl.vNext%int64(len(cs.video))].key {
				t.Errorf("frame %d is not a keyframe", tl.vNext)
			}
			v := tl.vPos(tl.vNext)
			if tl.aPos(tl.aNext) < v || (tl.aNext > 0 && tl.aPos(tl.aNext-1) >= v) {
				t.Errorf("audio frame %d at %d is not the first at or after video %d", tl.aNext, tl.aPos(tl.aNext), v)
			}
			if video, pos := tl.next(); !video || pos != v {
				t.Errorf("next() = %v, %d; want the keyframe at %d first", video, pos, v)
			}
		})
	}
}

func TestTimelineOrderAndLoop(t *testing.T) {
	cs, err := loadClipSet(ClipSetH265AAC, 0)
	if err != nil {
		t.Fatal(err)
	}
	tl := timeline{cs: cs}
	last := int64(-1)
	var videos, audios int
	for range 2000 {
		video, pos := tl.next()
		if pos < last {
			t.Fatalf("position went back from %d to %d", last, pos)
		}
		last = pos
		if video {
			videos++
		} else {
			audios++
		}
		tl.advance(video)
	}
	// Across several loops of the 4 s video and 4.04 s audio the steps stay
	// even: frame 100 (loop 1) is at exactly 4 s.
	if got := tl.vPos(100); got != 4*clockRate {
		t.Errorf("video frame 100 at %d, want %d", got, 4*clockRate)
	}
	if got := tl.aPos(174) - tl.aPos(173); got < 2089 || got > 2090 {
		t.Errorf("AAC step across the loop = %d", got)
	}
	// 25 video frames/s against 44100/1024 = 43.07 audio frames/s.
	ratio := float64(audios) / float64(videos)
	if ratio < 1.68 || ratio > 1.77 {
		t.Errorf("audio/video frame ratio %.3f", ratio)
	}
}

func TestTicks(t *testing.T) {
	for _, c := range []struct {
		d time.Duration
		n int64
	}{
		{0, 0},
		{time.Second, 90000},
		{40 * time.Millisecond, 3600},
		{2*time.Hour + time.Millisecond, 2*3600*90000 + 90},
	} {
		if got := ticks(c.d); got != c.n {
			t.Errorf("ticks(%v) = %d, want %d", c.d, got, c.n)
		}
	}
	if got := ticksDuration(90000, 2); got != 500*time.Millisecond {
		t.Errorf("ticksDuration(1 s, 2x) = %v", got)
	}
}
