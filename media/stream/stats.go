package stream

import (
	"time"

	"github.com/nvr/nvr/media/unit"
)

// meterWindow is how long bitrate and frame rate are averaged over. Two
// seconds smooths the spike of a keyframe in a typical 1–2 s GOP.
const meterWindow = 2 * time.Second

// meter measures bitrate and video frame rate over fixed windows.
type meter struct {
	winStart      time.Time
	bytes, frames uint64
	bitrate       float64 // bits per second, last full window
	fps           float64 // video frames per second, last full window
	totalBytes    uint64
	totalUnits    uint64
}

func (m *meter) add(now time.Time, u *unit.Unit) {
	if m.winStart.IsZero() {
		m.winStart = now
	}
	if d := now.Sub(m.winStart); d >= meterWindow {
		m.bitrate = float64(m.bytes*8) / d.Seconds()
		m.fps = float64(m.frames) / d.Seconds()
		m.bytes, m.frames, m.winStart = 0, 0, now
	}
	n := uint64(u.Size())
	m.bytes += n
	m.totalBytes += n
	m.totalUnits++
	if u.IsVideo() {
		m.frames++
	}
}

// Stats is a snapshot of a stream's counters.
type Stats struct {
	Name       string
	Tracks     []*unit.Params
	Bitrate    float64 // bits per second
	FPS        float64 // video frames per second
	Readers    int
	Dropped    uint64 // units skipped by slow readers since the stream began
	Bytes      uint64 // payload bytes written
	Units      uint64 // units written
	Started    time.Time
	LastUnitAt time.Time
}

// Stats returns the stream's current counters. Rates fall to zero when no
// unit arrived for a whole window.
func (s *Stream) Stats() Stats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := Stats{
		Name:       s.name,
		Tracks:     append([]*unit.Params(nil), s.tracks...),
		Bitrate:    s.meter.bitrate,
		FPS:        s.meter.fps,
		Readers:    len(s.readers),
		Dropped:    s.dropped.Load(),
		Bytes:      s.meter.totalBytes,
		Units:      s.meter.totalUnits,
		Started:    s.started,
		LastUnitAt: s.lastUnit,
	}
	if time.Since(s.lastUnit) > meterWindow {
		st.Bitrate, st.FPS = 0, 0
	}
	return st
}
