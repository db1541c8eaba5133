package ps

import "fmt"

// audioPESStart opens the frame of an audio PES. Without a PTS it follows
// on from the previous frame.
func (d *Demuxer) audioPESStart(s *stream, hasPTS bool, pts int64) {
	s.buf, s.open, s.skip = s.buf[:0], true, false
	if !hasPTS {
		pts = s.next
	}
	s.pts, s.dts, s.hasPTS = pts, pts, hasPTS
}

// emitAudio gives data out as the frame of audio stream s.
func (d *Demuxer) emitAudio(s *stream, data []byte) {
	if len(data) == 0 {
		return
	}
	c, ticks, ok := audioCodec(s.psmType, data)
	if !ok {
		d.stats.Skipped++
		d.problem("codec", fmt.Errorf("%w: audio stream %#x, stream type %#x", ErrUnknownCodec, s.id, s.psmType))
		return
	}
	s.next = s.pts + ticks
	s.codec = c
	s.frames++
	s.frameBytes += uint64(len(data))
	d.stats.Frames++
	if d.OnFrame != nil {
		d.OnFrame(Frame{Codec: c, StreamID: s.id, PTS: s.pts, DTS: s.pts, Data: data})
	}
}
