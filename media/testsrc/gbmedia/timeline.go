package gbmedia

import "time"

// clockRate is the RTP clock of PS (GB/T 28181-2016 C.2.4: a=rtpmap:96
// PS/90000) and the MPEG system clock of PTS and DTS.
const clockRate = 90000

// PTSOffset is the PTS and DTS of media position 0 (Request.Start in
// playback, the first frame in live). A frame at position p has PTS
// PTSOffset + p in 90 kHz units. It is not 0 so that an SCR a muxer puts
// slightly before the first DTS stays positive.
const PTSOffset = clockRate

// timeline walks the frames of a clip set in a loop. Frame i of a track is
// at a position that only depends on i, so loop n of the clip continues the
// timestamps of loop n-1 without a jump.
type timeline struct {
	cs *clipSet
	// vNext and aNext are the global indices of the next video and audio
	// frames (index modulo the clip length is the frame of the clip).
	vNext, aNext int64
	// end is the position where the session ends, 0 for none.
	end int64
}

// vPos returns the position of video frame i in 90 kHz units.
func (t *timeline) vPos(i int64) int64 {
	return i * clockRate / int64(t.cs.fps)
}

// aPos returns the position of audio frame j in 90 kHz units.
func (t *timeline) aPos(j int64) int64 {
	return j * int64(t.cs.samplesPerFrame) * clockRate / int64(t.cs.audioRate)
}

// next returns which track sends next and the position of its frame; video
// goes first on a tie so a reader joining there starts with the picture.
func (t *timeline) next() (video bool, pos int64) {
	v, a := t.vPos(t.vNext), t.aPos(t.aNext)
	if v <= a {
		return true, v
	}
	return false, a
}

// advance moves past the frame next returned.
func (t *timeline) advance(video bool) {
	if video {
		t.vNext++
	} else {
		t.aNext++
	}
}

// seek moves to the first keyframe at or after pos, and the audio to the
// first frame at or after that keyframe.
func (t *timeline) seek(pos int64) {
	pos = max(pos, 0)
	fps := int64(t.cs.fps)
	i := (pos*fps + clockRate - 1) / clockRate // ceil: first frame at or after pos
	for i > 0 && t.vPos(i-1) >= pos {
		i--
	}
	for t.vPos(i) < pos {
		i++
	}
	n := int64(len(t.cs.video))
	loop, k := i/n, i%n
	key := int64(-1)
	for _, idx := range t.cs.keys {
		if int64(idx) >= k {
			key = int64(idx)
			break
		}
	}
	if key < 0 { // past the last keyframe of the loop: first of the next loop
		loop++
		key = int64(t.cs.keys[0])
	}
	t.vNext = loop*n + key

	v := t.vPos(t.vNext)
	spf, rate := int64(t.cs.samplesPerFrame), int64(t.cs.audioRate)
	j := v * rate / (spf * clockRate)
	for j > 0 && t.aPos(j-1) >= v {
		j--
	}
	for t.aPos(j) < v {
		j++
	}
	t.aNext = j
}

// ticks converts a duration to 90 kHz units.
func ticks(d time.Duration) int64 {
	return int64(d/time.Second*clockRate) + int64(d%time.Second)*clockRate/int64(time.Second)
}

// ticksDuration converts 90 kHz units to wall time at the given rate (2 is
// twice as fast).
func ticksDuration(n int64, rate float64) time.Duration {
	return time.Duration(float64(n) * float64(time.Second) / clockRate / rate)
}
