package gbmedia

import (
	"sync/atomic"
	"time"
)

// Stats is a snapshot of what a session sent and what it was asked to do.
type Stats struct {
	// Packets and Bytes count RTP packets sent (headers included, TCP
	// framing not).
	Packets, Bytes uint64
	// Frames counts frames sent, video and audio; VideoFrames, KeyFrames and
	// AudioFrames break it down.
	Frames, VideoFrames, KeyFrames, AudioFrames uint64
	// Dropped counts packets left out by Quirks.Loss.
	Dropped uint64
	// Errors counts UDP packets the socket refused.
	Errors uint64
	// Position is the media position of the last frame sent: from
	// Request.Start in Playback and Download, from the first frame in live.
	Position time.Duration
	// Connected is true once the transport is up (at once for UDP).
	Connected bool
	// Begun, Paused, Scale and Seeks reflect Begin, Pause, Play and Seek.
	Begun, Paused bool
	Scale         float64
	Seeks         int
}

// counters are written by the session goroutine and read by Stats.
type counters struct {
	packets, bytes, video, keys, audio, dropped, errors atomic.Uint64
	position                                            atomic.Int64 // 90 kHz
	connected                                           atomic.Bool
}

// Stats returns the session's counters and control state.
func (s *Session) Stats() Stats {
	s.mu.Lock()
	c := s.ctl
	s.mu.Unlock()
	pos := s.stats.position.Load()
	return Stats{
		Packets:     s.stats.packets.Load(),
		Bytes:       s.stats.bytes.Load(),
		Frames:      s.stats.video.Load() + s.stats.audio.Load(),
		VideoFrames: s.stats.video.Load(),
		KeyFrames:   s.stats.keys.Load(),
		AudioFrames: s.stats.audio.Load(),
		Dropped:     s.stats.dropped.Load(),
		Errors:      s.stats.errors.Load(),
		Position:    time.Duration(pos/clockRate)*time.Second + time.Duration(pos%clockRate)*time.Second/clockRate,
		Connected:   s.stats.connected.Load(),
		Begun:       c.begun,
		Paused:      c.paused,
		Scale:       c.scale,
		Seeks:       c.seeks,
	}
}
