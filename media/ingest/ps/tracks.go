package ps

import (
	"bytes"
	"time"

	"github.com/nvr/nvr/media/codec/ps"
	"github.com/nvr/nvr/media/ingest/internal/au"
	"github.com/nvr/nvr/media/ingest/internal/problem"
	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/unit"
)

// Track indexes in the stream. Video is always track 0 and audio track 1,
// whichever comes first: a program stream declares no tracks up front.
const (
	videoTrack = 0
	audioTrack = 1
)

// tracks turns the frames of the program stream into units on a stream:
// it is the au.Sink of the session, on top of its stream.Publisher.
type tracks struct {
	st       *stream.Stream
	pub      *stream.Publisher
	problems *problem.Log
	cnt      *counters
	onUnit   func(*unit.Unit)
	demux    ps.Demuxer

	video *au.Video
	aac   *au.AAC
	g711  *au.G711
	nalus [][]byte // reused for splitting each video frame

	// Unit times: when the last packets given to the demuxer were taken,
	// by Write (taken[writes%len]), and the time of the frame being turned
	// into units (see frameTime).
	taken    [takenWrites]time.Time
	writes   uint64
	unitTime time.Time

	// Interleaving. The demuxer hands a video frame over when the next one
	// starts, or at its last packet once the device's RTP markers have
	// proven to end frames; either way the audio sent after a frame may
	// arrive before it. Audio is held until the video reaches its time, so
	// that outputs see one timeline in order; and its track is declared
	// only after the video's, so that the stream is not taken for
	// audio-only (a reader starting at once would get no video).
	hasVideo     bool          // the video track was declared
	audioOnly    bool          // no video came: audio flows alone
	pendingAudio *unit.Params  // audio parameters waiting for the video track
	held         []*unit.Unit  // audio ahead of the video
	lastVideo    time.Duration // DTS of the last video unit, source time
	firstAudio   time.Time     // when the first audio unit was held
}

// takenWrites is how many packet times are kept. A frame given out more
// packets than that after its last one (at Flush, after a pause) is
// stamped with the time it is given out.
const takenWrites = 16

// Interleaving limits: audio waits for the video at most this long (or
// this many units), and a stream whose video never shows becomes audio
// only after audioOnlyAfter.
const (
	maxHeldAudio   = 64
	maxAudioWait   = 500 * time.Millisecond
	audioOnlyAfter = 2 * time.Second
	// keyframeWaitAfter replaces audioOnlyAfter once video frames came but
	// no keyframe yet (lost on a lossy link, or a long GOP): the stream is
	// not audio-only, its video is late. The newest audio is held meanwhile.
	keyframeWaitAfter = 10 * time.Second
)

func newTracks(st *stream.Stream, problems *problem.Log, cnt *counters, onUnit func(*unit.Unit)) *tracks {
	t := &tracks{st: st, pub: st.NewPublisher(), problems: problems, cnt: cnt, onUnit: onUnit}
	t.demux.OnFrame = t.frame
	t.demux.OnProblem = problems.Add
	return t
}

// took says that the next packet given to the demuxer was taken at now.
func (t *tracks) took(now time.Time) {
	t.writes++
	t.taken[t.writes%takenWrites] = now
}

// frameTime returns when the frame f was complete: when the packet that
// brought its last byte was taken, or the zero time (the publisher then
// stamps now) when that is not known.
func (t *tracks) frameTime(f *ps.Frame) time.Time {
	if f.Lag < 0 || f.Lag >= takenWrites || uint64(f.Lag) >= t.writes {
		return time.Time{}
	}
	return t.taken[(t.writes-uint64(f.Lag))%takenWrites]
}

// frame handles a frame of the demuxer. Its data is only valid during the
// call: the tracks keep a copy.
func (t *tracks) frame(f ps.Frame) {
	t.cnt.frames.Add(1)
	t.unitTime = t.frameTime(&f)
	switch f.Codec {
	case unit.CodecH264, unit.CodecH265:
		if t.video == nil || t.video.Codec != f.Codec {
			t.video = &au.Video{Track: videoTrack, Codec: f.Codec, Sink: t}
		}
		t.nalus = au.SplitAnnexB(t.nalus[:0], bytes.Clone(f.Data))
		t.video.WriteAUWithDTS(t.nalus, f.PTS, f.DTS)
		clear(t.nalus) // do not pin the frame until the next one
	case unit.CodecAAC:
		if t.aac == nil {
			t.aac = &au.AAC{Track: audioTrack, ClockRate: au.VideoClockRate, Sink: t}
			t.g711 = nil
		}
		t.aac.WriteADTS(bytes.Clone(f.Data), f.PTS)
	case unit.CodecPCMA, unit.CodecPCMU:
		if t.g711 == nil || t.g711.Params().Codec != f.Codec {
			t.g711 = &au.G711{Track: audioTrack, ClockRate: au.VideoClockRate, Sink: t}
			t.g711.SetFormat(f.Codec, au.G711SampleRate, 1)
			t.aac = nil
		}
		t.g711.Write(bytes.Clone(f.Data), f.PTS)
	}
}

// SetTrack implements au.Sink. Parameters equal to those the stream
// already has (a new session of the same camera) keep the stream's
// pointer, so that readers, which compare pointers, see no change.
func (t *tracks) SetTrack(i int, p *unit.Params) {
	if i == audioTrack && !t.hasVideo && !t.audioOnly {
		t.pendingAudio = p
		return
	}
	t.setTrack(i, p)
	if i == videoTrack && !t.hasVideo {
		t.hasVideo = true
		if t.pendingAudio != nil {
			t.setTrack(audioTrack, t.pendingAudio)
			t.pendingAudio = nil
		}
	}
}

func (t *tracks) setTrack(i int, p *unit.Params) {
	if cur := t.st.Tracks(); i < len(cur) && cur[i].Equal(p) {
		p = cur[i]
	}
	t.pub.SetTrack(i, p)
}

// WriteUnit implements au.Sink.
func (t *tracks) WriteUnit(u *unit.Unit) {
	if u.Time.IsZero() {
		// When the frame was complete, also for audio held for the video.
		u.Time = t.unitTime
	}
	if u.Track == videoTrack {
		// The audio up to this frame's time goes first.
		n := 0
		for n < len(t.held) && t.held[n].DTS <= u.DTS {
			n++
		}
		t.release(n)
		t.lastVideo = u.DTS
		t.publish(u)
		return
	}
	switch {
	case t.audioOnly:
		t.publish(u)
		return
	case t.hasVideo && u.DTS <= t.lastVideo && len(t.held) == 0:
		t.publish(u)
		return
	}
	if len(t.held) == 0 {
		t.firstAudio = time.Now()
	}
	t.held = append(t.held, u)
	waited := time.Since(t.firstAudio)
	switch {
	case !t.hasVideo && waited > t.audioOnlyLimit():
		// No video after all: an audio-only source.
		t.audioOnly = true
		if t.pendingAudio != nil {
			t.setTrack(audioTrack, t.pendingAudio)
			t.pendingAudio = nil
		}
		t.release(len(t.held))
	case !t.hasVideo && len(t.held) > maxHeldAudio:
		t.held = append(t.held[:0], t.held[1:]...) // keep the newest while waiting
	case t.hasVideo && (len(t.held) > maxHeldAudio || waited > maxAudioWait):
		// The video stalled: let the audio through rather than lag.
		t.release(len(t.held))
	}
}

// audioOnlyLimit is how long audio waits for the video track before the
// stream is taken for audio-only: longer once video frames are coming.
func (t *tracks) audioOnlyLimit() time.Duration {
	if t.video != nil {
		return keyframeWaitAfter
	}
	return audioOnlyAfter
}

// deadline is when poll must run to let held audio through.
func (t *tracks) deadline() (time.Time, bool) {
	if len(t.held) == 0 {
		return time.Time{}, false
	}
	if !t.hasVideo {
		return t.firstAudio.Add(t.audioOnlyLimit()), true
	}
	return t.firstAudio.Add(maxAudioWait), true
}

// poll lets held audio through once it waited too long for the video (the
// video stalled or ended, or never came).
func (t *tracks) poll(now time.Time) {
	if d, ok := t.deadline(); !ok || now.Before(d) {
		return
	}
	if !t.hasVideo {
		t.audioOnly = true
		if t.pendingAudio != nil {
			t.setTrack(audioTrack, t.pendingAudio)
			t.pendingAudio = nil
		}
	}
	t.release(len(t.held))
}

// flush publishes everything held (the end of the stream).
func (t *tracks) flush() {
	if t.hasVideo || t.audioOnly {
		t.release(len(t.held))
	}
}

// release publishes the first n held audio units.
func (t *tracks) release(n int) {
	if n == 0 {
		return
	}
	for _, u := range t.held[:n] {
		t.publish(u)
	}
	rest := copy(t.held, t.held[n:])
	clear(t.held[rest:])
	t.held = t.held[:rest]
	if rest > 0 {
		t.firstAudio = time.Now()
	}
}

func (t *tracks) publish(u *unit.Unit) {
	t.pub.Write(u)
	if t.onUnit != nil {
		t.onUnit(u)
	}
}

// Problem implements au.Sink.
func (t *tracks) Problem(what string, err error) { t.problems.Add(what, err) }
