package testsrc

import (
	"fmt"
	"testing"
	"time"
)

func TestPacedTrackTiming(t *testing.T) {
	video := &pacedTrack{clockRate: 90000, ptsNum: 90000, ptsDen: 25, frames: 100}
	aac := &pacedTrack{clockRate: 44100, ptsNum: 1024, ptsDen: 1, frames: 174}

	cases := []struct {
		name    string
		track   *pacedTrack
		elapsed time.Duration
		index   int64
	}{
		{"video start", video, 0, 0},
		{"video just after start", video, time.Millisecond, 1},
		{"video on a frame", video, 40 * time.Millisecond, 1},
		{"video between frames", video, 41 * time.Millisecond, 2},
		{"video second loop", video, 4 * time.Second, 100},
		{"aac start", aac, 0, 0},
		{"aac 1 s", aac, time.Second, 44}, // 44100/1024 = 43.07
		{"aac second loop", aac, 174 * 1024 * time.Second / 44100, 174},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			i := c.track.indexAt(c.elapsed)
			if i != c.index {
				t.Fatalf("indexAt(%v) = %d, want %d", c.elapsed, i, c.index)
			}
			if c.track.at(i) < c.elapsed || (i > 0 && c.track.at(i-1) >= c.elapsed) {
				t.Errorf("frame %d at %v is not the first due at or after %v", i, c.track.at(i), c.elapsed)
			}
		})
	}

	// Loop n starts n clip durations later: no jump at the loop point.
	if got, want := video.pts(100), int64(4*90000); got != want {
		t.Errorf("video PTS of loop 1 frame 0 = %d, want %d", got, want)
	}
	if got, want := aac.pts(174)-aac.pts(173), int64(1024); got != want {
		t.Errorf("AAC PTS step across the loop = %d, want %d", got, want)
	}
	if got := video.at(25); got != time.Second {
		t.Errorf("video frame 25 due at %v, want 1s", got)
	}
}

// BenchmarkFeedSend measures one 720p frame written to 10 streams without
// readers, the per-frame cost of AddStreams in the load tool.
func BenchmarkFeedSend(b *testing.B) {
	s, err := NewServer(ServerConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	video, err := LoadVideo(ClipH264HD)
	if err != nil {
		b.Fatal(err)
	}
	paths := make([]string, 10)
	for i := range paths {
		paths[i] = fmt.Sprintf("bench%d", i)
	}
	f, err := newFeed(paths, video, nil)
	if err != nil {
		b.Fatal(err)
	}
	streams, err := f.newStreams(s.inst.rtsp)
	if err != nil {
		b.Fatal(err)
	}
	defer closeStreams(streams)
	tracks, err := f.newTracks(&streams[0])
	if err != nil {
		b.Fatal(err)
	}

	for b.Loop() {
		if err := f.send(tracks[0], streams, 0); err != nil {
			b.Fatal(err)
		}
		tracks[0].next++
	}
}
