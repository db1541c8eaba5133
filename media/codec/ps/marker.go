package ps

import "fmt"

// RTP marker hints.
//
// PS has no end-of-frame code: from the PS alone a video frame is complete
// only when the next one begins, one frame interval late (40 ms at 25 fps),
// and the last frame before a pause waits for the pause to end. Most
// GB28181 devices set the RTP marker bit on the last packet of each frame
// (RFC 3550 5.1 leaves the bit to the profile, "such as frame boundaries";
// for MPEG system streams RFC 2250 2 even gives it another meaning). Others
// set it on the first packet, on every packet or never (GB28181.md). A
// marker believed in the middle of a frame would cut it: the frame would go
// out short and the rest be lost. So the Demuxer believes markers only once
// the stream has shown that they end its frames, and never again once one
// did not.
//
//   - Attribution. A marker belongs to the video frame in progress when the
//     last audio or video PES written was that frame's (a marker after an
//     audio PES ends that audio frame, which its PES length ends anyway).
//     It is a candidate end when the frame holds a slice and the parser is
//     between packets, or in a PES without a length, which only a marker
//     can end early.
//   - Evidence. When the PS rules then end the frame (videoPESStart, decide)
//     with no byte of it after the candidate, the frame came in at least two
//     Writes (RTP packets) and got no other marker, the marker is
//     confirmed. A frame of one packet proves nothing: a marker on the first
//     packet, or on every packet, is on its last one too. A frame of several
//     packets that ends any other way resets the count.
//   - Trust. After markerTrustAfter confirmations in a row (MarkerTrusted), a
//     candidate end gives the frame out at once, unless the frame got another
//     marker before or its last PES is fullPES long or more (a piece of a big
//     picture split at the largest PES_packet_length, which more PES follow
//     whatever the device marks).
//   - Distrust. A marker inside a PES of a frame that holds a slice, or bytes
//     of a frame after its candidate end, prove that the device's markers are
//     not frame ends: MarkerIgnored, for the rest of the Demuxer's life. With
//     a marker on the first packet of each frame or on every packet, no frame
//     of several packets can be confirmed (one of its earlier packets carries
//     a marker, or its last one none), so such a device is never trusted and
//     its frames come out exactly as without markers.
//   - Check. After a frame went out at a marker, the next PES of its stream
//     must begin a frame by the PS rules: a new PTS, or first bytes that
//     start an access unit (as decide would have told with the frame still
//     open). Anything else is the rest of the frame: it is dropped like the
//     tail of a frame cut by a loss, ErrMarker is reported and markers are
//     ignored from then on. In a PES without a length, bytes other than
//     zeros after the marker are that rest.
//
// Losses need nothing more: Lost drops the frame in progress, whether a
// marker was seen or not, and forgets what was pending.

// MarkerState is what a Demuxer makes of the RTP markers it is told of.
type MarkerState uint8

// Marker states, in the order a Demuxer goes through them.
const (
	// MarkerLearning: markers are checked against the frames the PS
	// delimits, not acted on. Frames end as without markers.
	MarkerLearning MarkerState = iota
	// MarkerTrusted: a marker at the end of a video frame gives it out.
	MarkerTrusted
	// MarkerIgnored: a marker came where no frame ended; markers are
	// ignored for good.
	MarkerIgnored
)

func (m MarkerState) String() string {
	switch m {
	case MarkerLearning:
		return "learning"
	case MarkerTrusted:
		return "trusted"
	case MarkerIgnored:
		return "ignored"
	}
	return fmt.Sprintf("MarkerState(%d)", uint8(m))
}

const (
	// markerTrustAfter is how many frames of several packets in a row must
	// end exactly at a marker before markers are believed: about 120 ms of
	// a 25 fps stream, during which frames come out as without markers.
	// Wrong markers of the kinds devices have never get there, so a few
	// are enough.
	markerTrustAfter = 3
	// fullPES is the PES payload length from which a PES is taken for a
	// piece of a picture split at the largest PES_packet_length (devices
	// split at 64 KiB less a header, 65400 to 65535 bytes): a marker right
	// after it does not end the frame early.
	fullPES = 0xF000
)

// markState is what the markers said about the frame of a video stream.
type markState uint8

const (
	markNone markState = iota
	// markSeen: a marker came after the frame's last byte so far; it is a
	// candidate end until the next bytes of the stream tell.
	markSeen
	// markFlushed: the frame was given out at a marker (and is closed);
	// the next PES of the stream must begin a new frame.
	markFlushed
)

// Marker tells the Demuxer that the RTP packet whose payload the last Write
// carried had its marker bit set. Once the stream has shown that its
// markers end frames (MarkerState returns MarkerTrusted), the video frame the
// marker ends is given to OnFrame from within Marker, instead of when the
// next frame begins; until then, and for good once a marker came before the
// end of a frame, frames end as without markers. See the package README.
func (d *Demuxer) Marker() {
	d.stats.Markers++
	s := d.last
	if d.markers == MarkerIgnored || s == nil || !s.video || !s.open {
		return
	}
	if s.fmarks < 255 {
		s.fmarks++
	}
	unbounded := false
	switch {
	case d.state == stHeader && d.nhdr == 0:
		// Between packets: the frame's last PES is complete.
	case d.state == stUnbounded && d.cur == s && d.pre == 0:
		// In a PES without a length, which otherwise ends at the next
		// start code. (With zeros held back, the packet may end in the
		// middle of that start code: not taken.)
		unbounded = true
	case d.state == stPayload && d.cur == s:
		// Inside a PES of the frame: no end of a frame, whatever the
		// device means by it.
		if d.hasSlice(s) {
			d.ignoreMarkers(s)
		}
		return
	default:
		return // in a header, or in the payload of a stream not followed
	}
	if s.deciding || s.skip || !d.hasSlice(s) {
		// Parameter sets or SEI ahead of their picture, or a PES whose
		// first bytes have yet to tell whether it begins a new access unit.
		return
	}
	s.mark = markSeen
	if d.markers != MarkerTrusted || s.fmarks > 1 || !unbounded && s.pesLen >= fullPES {
		return
	}
	d.finishVideo(s, len(s.buf))
	d.stats.MarkerFrames++
	s.buf, s.open, s.mark = s.buf[:0], false, markFlushed
}

// MarkerState returns what the Demuxer makes of the RTP markers so far.
func (d *Demuxer) MarkerState() MarkerState { return d.markers }

// hasSlice reports whether the frame of s holds a coded slice, reading the
// NAL unit headers that arrived since the last look. (While deciding, the
// bytes of the current PES may belong to the next frame: not read.)
func (d *Demuxer) hasSlice(s *stream) bool {
	if !s.sawVCL && !s.deciding {
		d.scan(s, len(s.buf), false)
	}
	return s.sawVCL
}

// frameEnds weighs the markers of the frame of s when the PS rules end it
// (the next frame began): see Evidence above.
func (d *Demuxer) frameEnds(s *stream) {
	if d.markers == MarkerIgnored || s.firstWrite == s.lastWrite {
		return // a frame of one packet proves nothing
	}
	if s.mark == markSeen && s.fmarks == 1 {
		if d.streak < markerTrustAfter {
			d.streak++
		}
		if d.streak >= markerTrustAfter {
			d.markers = MarkerTrusted
		}
		return
	}
	d.streak, d.markers = 0, MarkerLearning
}

// ignoreMarkers is told that a marker on the frame of s was not its end.
func (d *Demuxer) ignoreMarkers(s *stream) {
	d.markers = MarkerIgnored
	s.mark = markNone
}

// afterMarker starts the first PES of s after its frame was given out at a
// marker: see Check above.
func (d *Demuxer) afterMarker(s *stream, hasPTS bool, pts, dts int64) {
	s.mark = markNone
	if hasPTS && (!s.hasPTS || pts != s.pts) {
		s.newFrame(pts, dts, true) // the next frame: the marker was right
		return
	}
	// The frame's PTS again, or none: the next access unit of a stream
	// whose PTS is stuck or missing, or the rest of the frame. Its first
	// bytes tell (decide), as they would have with the frame still open.
	s.newFrame(s.pts, s.dts, s.hasPTS)
	s.deciding, s.confirm = true, true
}

// markerCut is told that the frame of s, given out at a marker, continues:
// the rest is dropped as after a loss (the next frame is taken only if it
// begins an access unit) and markers are ignored from now on.
func (d *Demuxer) markerCut(s *stream) {
	d.stats.MarkerCuts++
	d.markers = MarkerIgnored
	d.problem("marker", fmt.Errorf("%w: stream %#x, PTS %d", ErrMarker, s.id, s.pts))
	s.buf, s.open, s.skip = s.buf[:0], false, true
	s.deciding, s.tentative, s.confirm, s.mark = false, false, false, markNone
	s.resume, s.lostPTS = true, s.hasPTS
}

// nonZero reports whether b holds a byte other than 0 (zeros after the end
// of a frame are trailing_zero_8bits, or stuffing before a start code).
func nonZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return true
		}
	}
	return false
}
