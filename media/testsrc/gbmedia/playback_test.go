package gbmedia

import (
	"github.com/nvr/nvr/media/unit"
	"testing"
	"time"
)

// rangeStart is an arbitrary recording start; only End-Start matters.
var rangeStart = time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)

// TestDownloadEnds: a 2 s range at 4x lasts about 0.5 s, ends with Done and
// covers exactly Start..End.
func TestDownloadEnds(t *testing.T) {
	checkGoroutines(t)
	rx := newUDPReceiver(t)
	s := &Sender{BindIP: testHost}
	sess := startSession(t, s, Request{
		Mode: ModeDownload, Transport: TransportUDP, RemoteAddr: rx.addr,
		Start: rangeStart, End: rangeStart.Add(2 * time.Second), DownloadSpeed: 4,
	})
	begin := time.Now()
	sess.Begin()
	select {
	case <-sess.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("no end")
	}
	el := time.Since(begin)
	if el < 400*time.Millisecond || el > 1500*time.Millisecond {
		t.Errorf("2 s at 4x took %v, want about 500ms", el)
	}
	if err := sess.Err(); err != nil {
		t.Errorf("Err() = %v", err)
	}

	time.Sleep(100 * time.Millisecond) // in flight on loopback
	n := rx.count()
	time.Sleep(300 * time.Millisecond)
	if rx.count() != n {
		t.Error("packets after Done")
	}

	frames := checkStream(t, rx.packets(), videoH264, audioPCMA)
	vf, af := framesOf(frames, true), framesOf(frames, false)
	if len(vf) != 50 || len(af) != 100 {
		t.Errorf("%d video and %d audio frames, want 50 and 100 for 2 s", len(vf), len(af))
	}
	last := vf[len(vf)-1].pts
	if last != PTSOffset+2*clockRate-3600 {
		t.Errorf("last video PTS %d, want %d", last, PTSOffset+2*clockRate-3600)
	}
	st := sess.Stats()
	if st.Position != 2*time.Second-20*time.Millisecond || st.VideoFrames != 50 || st.KeyFrames != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestPlaybackLoops: a range longer than the clip loops it with rising
// timestamps, at 1x unless asked.
func TestPlaybackScale(t *testing.T) {
	checkGoroutines(t)
	rx := newUDPReceiver(t)
	s := &Sender{BindIP: testHost}
	sess := startSession(t, s, Request{
		Mode: ModePlayback, Transport: TransportUDP, RemoteAddr: rx.addr,
		Start: rangeStart, End: rangeStart.Add(time.Hour),
	})
	sess.Begin()
	waitStats(t, sess, 3*time.Second, "first frames", func(st Stats) bool { return st.VideoFrames >= 2 })
	sess.Play(4)
	st := waitStats(t, sess, 3*time.Second, "scale", func(st Stats) bool { return st.Scale == 4 })
	// 4 s of media take 1 s at 4x. Allow twice that for a starved machine
	// (the sender runs late then, it does not skip), but not real time.
	p0, t0 := st.Position, time.Now()
	waitStats(t, sess, 5*time.Second, "4 s of media", func(st Stats) bool { return st.Position >= p0+4*time.Second })
	if el := time.Since(t0); el > 2*time.Second || el < 650*time.Millisecond {
		t.Errorf("4 s of media took %v at scale 4", el)
	}

	// The 4 s clip loops 2 times and more: timestamps keep rising by one frame.
	rx.waitFor(3*time.Second, "a loop", func(p []rxPacket) bool {
		return len(p) > 0 && p[len(p)-1].hdr.Timestamp-p[0].hdr.Timestamp > 5*clockRate
	})
	frames := framesOf(demux(rx.packets()), true)
	keys := 0
	for i, f := range frames {
		if i > 0 && f.pts-frames[i-1].pts != 3600 {
			t.Fatalf("video frame %d: PTS step %d", i, f.pts-frames[i-1].pts)
		}
		if isKey(f) {
			keys++
		}
	}
	if keys < 5 {
		t.Errorf("%d keyframes in %d frames", keys, len(frames))
	}
}

func TestPauseResume(t *testing.T) {
	checkGoroutines(t)
	rx := newUDPReceiver(t)
	s := &Sender{BindIP: testHost}
	sess := startSession(t, s, Request{
		Mode: ModePlayback, Transport: TransportUDP, RemoteAddr: rx.addr,
		Start: rangeStart, End: rangeStart.Add(time.Hour),
	})
	sess.Begin()
	waitStats(t, sess, 3*time.Second, "frames", func(st Stats) bool { return st.VideoFrames >= 5 })
	sess.Pause()
	paused := waitStats(t, sess, time.Second, "pause", func(st Stats) bool { return st.Paused })
	time.Sleep(100 * time.Millisecond)
	n := rx.count()
	time.Sleep(400 * time.Millisecond)
	if got := rx.count(); got != n {
		t.Fatalf("%d packets while paused", got-n)
	}
	if st := sess.Stats(); st.Position-paused.Position > 50*time.Millisecond {
		t.Errorf("position moved from %v to %v while paused", paused.Position, st.Position)
	}

	sess.Play(0)
	waitStats(t, sess, time.Second, "resume", func(st Stats) bool { return !st.Paused && st.Scale == 1 })
	rx.waitFor(3*time.Second, "packets after resume", func(p []rxPacket) bool { return len(p) > n+20 })

	// Pausing loses nothing: PTS run on by one frame across the pause.
	frames := framesOf(demux(rx.packets()), true)
	for i := 1; i < len(frames); i++ {
		if d := frames[i].pts - frames[i-1].pts; d != 3600 {
			t.Fatalf("video frame %d: PTS step %d across the pause", i, d)
		}
	}
}

func TestSeek(t *testing.T) {
	checkGoroutines(t)
	cases := []struct {
		name string
		to   time.Duration
		want time.Duration // the first keyframe at or after to
	}{
		{"on a keyframe", 10 * time.Second, 10 * time.Second},
		{"between keyframes", 10500 * time.Millisecond, 11 * time.Second},
		{"back", 2 * time.Second, 2 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rx := newUDPReceiver(t)
			s := &Sender{BindIP: testHost}
			sess := startSession(t, s, Request{
				Mode: ModePlayback, Transport: TransportUDP, RemoteAddr: rx.addr,
				Start: rangeStart, End: rangeStart.Add(time.Hour),
			})
			sess.Begin()
			if c.to < 5*time.Second {
				// Seeking back: get past the target first.
				sess.Play(8)
				waitStats(t, sess, 5*time.Second, "position", func(st Stats) bool { return st.Position > c.to+time.Second })
				sess.Play(1)
			}
			waitStats(t, sess, 3*time.Second, "frames", func(st Stats) bool { return st.VideoFrames >= 3 })
			sess.Seek(c.to)
			st := waitStats(t, sess, 3*time.Second, "seek", func(st Stats) bool {
				return st.Seeks == 1 && st.Position >= c.want && st.Position < c.want+time.Second
			})
			if st.Position < c.want {
				t.Errorf("position %v after seek to %v", st.Position, c.to)
			}
			want := PTSOffset + ticks(c.want)
			rx.waitFor(3*time.Second, "frames after the seek", func(p []rxPacket) bool {
				f := framesOf(demux(p), true)
				return len(f) > 0 && f[len(f)-1].pts > want+3*3600
			})
			frames := framesOf(demux(rx.packets()), true)
			jumped := false
			for i := 1; i < len(frames); i++ {
				if d := frames[i].pts - frames[i-1].pts; d != 3600 {
					if jumped {
						t.Fatalf("second jump at frame %d: %d", i, d)
					}
					jumped = true
					if frames[i].pts != want {
						t.Errorf("PTS after the seek %d, want %d (%v)", frames[i].pts, want, c.want)
					}
					if !isKey(frames[i]) {
						t.Error("first frame after the seek is not a keyframe")
					}
				}
			}
			if !jumped {
				t.Error("PTS never jumped")
			}
		})
	}
}

// TestLiveIgnoresSeekAndScale: live has no range, so Seek and Scale are
// no-ops (Pause still works, like a device that honours it).
func TestLiveIgnoresSeekAndScale(t *testing.T) {
	checkGoroutines(t)
	rx := newUDPReceiver(t)
	s := &Sender{BindIP: testHost}
	sess := startSession(t, s, Request{Transport: TransportUDP, RemoteAddr: rx.addr})
	sess.Begin()
	waitStats(t, sess, 3*time.Second, "frames", func(st Stats) bool { return st.VideoFrames >= 2 })
	sess.Seek(time.Minute)
	sess.Play(8)
	st0, t0 := sess.Stats(), time.Now()
	time.Sleep(500 * time.Millisecond)
	st1, t1 := sess.Stats(), time.Now()
	if st1.Seeks != 0 || st1.Position > time.Minute/2 {
		t.Errorf("live seeked: %+v", st1)
	}
	if speed := float64(st1.Position-st0.Position) / float64(t1.Sub(t0)); speed > 1.5 {
		t.Errorf("live ran at %.2fx", speed)
	}
}

// TestBitrateOnTheWire: Bitrate 2 Mbit/s pads the 320x240 clip to about
// 2 Mbit/s of RTP per second of media. A download of one whole loop of the
// clip (4 s at 4x) gives the exact average, whatever the machine's load;
// TCP keeps a starved receiver from losing any of it.
func TestBitrateOnTheWire(t *testing.T) {
	checkGoroutines(t)
	rx := newTCPListenReceiver(t, false) // lossless however late the reader runs
	s := &Sender{BindIP: testHost, Bitrate: 2_000_000}
	sess := startSession(t, s, Request{
		Mode: ModeDownload, Transport: TransportTCPPassive, RemoteAddr: rx.addr,
		Start: rangeStart, End: rangeStart.Add(4 * time.Second), DownloadSpeed: 4,
	})
	sess.Begin()
	select {
	case <-sess.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("no end")
	}
	st := sess.Stats()
	rate := float64(st.Bytes) * 8 / 4
	if rate < 1.9e6 || rate > 2.1e6 {
		t.Errorf("%.2f Mbit/s of RTP per media second, want about 2", rate/1e6)
	}
	time.Sleep(100 * time.Millisecond)
	frames := checkStream(t, rx.packets(), videoH264, audioPCMA)
	if n := len(framesOf(frames, true)); n != 100 {
		t.Errorf("%d video frames, want 100", n)
	}
	t.Logf("%.3f Mbit/s, %d packets", rate/1e6, st.Packets)
}

const (
	videoH264 = unit.CodecH264
	audioPCMA = unit.CodecPCMA
)
