package ps

import (
	"bytes"
	"fmt"

	"github.com/nvr/nvr/media/unit"
)

// Frame is one access unit taken out of the program stream.
type Frame struct {
	// Codec is CodecH264, CodecH265, CodecAAC, CodecPCMA or CodecPCMU.
	Codec unit.Codec
	// StreamID is the PES stream_id the frame came in (0xE0-0xEF video,
	// 0xC0-0xDF audio).
	StreamID uint8
	// PTS and DTS are in 90 kHz ticks on a continuous timeline: the 33-bit
	// wrap is undone. DTS is PTS when the PES has none. A frame whose PES
	// carries no PTS takes the previous frame's (video) or follows on from
	// the previous frame's duration (audio).
	PTS, DTS int64
	// Key is true for a video frame holding an IDR (H.264) or IRAP (H.265)
	// picture. It is false for audio.
	Key bool
	// Data is the payload. Video: the Annex-B byte stream of one access unit,
	// start codes kept. AAC: one or more ADTS frames, as sent. G.711: the
	// samples.
	//
	// Data is only valid until OnFrame returns: it points into the
	// Demuxer's buffers, or into the slice given to Write, and is reused.
	// Copy what must be kept.
	Data []byte
	// Lag is how many Writes came after the one that brought the frame's
	// last byte, up to the call that gives the frame out: 0 when that is
	// the same Write, or the Marker after it. From the PS alone a video
	// frame ends only when the next begins, usually one Write (RTP packet)
	// later; a caller that knows when each Write's bytes arrived can tell
	// when the frame was complete. Audio frames have 0.
	Lag int
}

// Stats counts what a Demuxer has seen.
type Stats struct {
	// Bytes is the number of bytes given to Write.
	Bytes uint64
	// Frames is the number of frames given to OnFrame.
	Frames uint64
	// Dropped is the number of frames lost: cut by a loss or a framing
	// error, truncated at Flush, or larger than MaxFrameSize.
	Dropped uint64
	// Resyncs is the number of times the packet framing was lost (Lost,
	// garbage, a malformed header) and the Demuxer searched for a packet
	// start.
	Resyncs uint64
	// Skipped is the number of PES packets and frames passed over: private
	// streams, padding, unknown stream ids, codecs the media core does not
	// carry.
	Skipped uint64
	// Markers is the number of RTP markers Marker was told of.
	Markers uint64
	// MarkerFrames is the number of video frames given out at a marker,
	// before the next frame began.
	MarkerFrames uint64
	// MarkerCuts is the number of frames given out at a marker that turned
	// out to continue (the rest was dropped). It is at most 1: markers are
	// ignored from then on.
	MarkerCuts uint64
	// MarkerState is what the Demuxer makes of the markers.
	MarkerState MarkerState
	// Streams describes the audio and video streams seen, in order of
	// appearance.
	Streams []StreamStats
}

// StreamStats describes one elementary stream.
type StreamStats struct {
	// ID is the PES stream_id.
	ID uint8
	// Type is the stream type the program stream map declares, 0 when no
	// map has listed the stream.
	Type StreamType
	// Codec is the codec of the last frame, as detected from the data.
	Codec unit.Codec
	// Frames is the number of frames given to OnFrame.
	Frames uint64
	// Bytes is the size of those frames.
	Bytes uint64
}

// Demuxer reads an MPEG program stream as GB28181 devices send it: see the
// package documentation. The zero value is ready to use. A Demuxer is not
// safe for concurrent use; Stats must be called from the goroutine that
// writes, too.
//
// Frame boundaries: an audio PES is a frame, given to OnFrame as soon as it
// is complete. A video frame is the payload of consecutive PES packets of
// one stream; it ends when a PES of that stream brings a different PTS, or
// starts a new access unit with the same PTS or none (an AUD, a parameter
// set or the first slice of a picture after a slice). So a video frame is
// given to OnFrame when the next one begins, or at Flush; pack headers
// between the PES packets of one frame do not end it. Marker, told of the
// RTP marker bits, gives it out at the end of its last packet instead once
// the device's markers have proven to end frames.
type Demuxer struct {
	// OnFrame receives each frame. It must not keep Frame.Data.
	OnFrame func(Frame)
	// OnProblem, when set, is told about each problem the Demuxer recovered
	// from: what is a short stable label for rate-limited logging ("sync",
	// "pack header", "system header", "psm", "pes header", "frame too
	// large", "codec", "streams", "marker") and err wraps one of the Err
	// values of this package. It is not told about Lost, which the caller knows of.
	OnProblem func(what string, err error)
	// MaxFrameSize bounds a video frame; a larger one is dropped. 0 means
	// DefaultMaxFrameSize.
	MaxFrameSize int

	state parseState
	// synced is false while resynchronising (at the start, after Lost or a
	// framing error): then only a pack header, system header, map or PES
	// start whose header checks out (marker bits, a PTS) is taken.
	synced bool
	// hdr collects the bytes of the packet header being parsed, need of them.
	hdr        [hdrSize]byte
	nhdr, need int
	// pre counts the bytes of a start code prefix (00, 00 00, 00 00 01)
	// that ended the input while searching for a start code. They are held
	// back: they are payload only if no start code follows.
	pre int
	// left is what remains of the current PES payload; cur is its stream,
	// nil when the PES is skipped.
	left int
	cur  *stream
	// in is the slice given to Write; back holds bytes given back to be
	// parsed again (after a bad header), read before in. backBuf double
	// buffers it so that giving back while reading back never overlaps.
	in, back []byte
	backBuf  [2][hdrSize]byte
	backIdx  int

	psm      [0x30]StreamType // stream type by stream id 0xC0-0xEF
	streams  [maxStreams]stream
	nstreams int
	clock    unwrapper
	stats    Stats

	// RTP marker hints (marker.go). writes numbers the Write calls; last is
	// the stream of the last audio or video PES, which a marker is about.
	writes  uint64
	last    *stream
	markers MarkerState
	streak  int // frames of several packets in a row that ended at a marker
}

// hdrSize bounds a collected header: the largest program stream map
// (6 + maxPSMLength bytes) is the longest.
const hdrSize = 6 + maxPSMLength

type parseState uint8

const (
	stSync      parseState = iota // searching for a trusted packet start
	stHeader                      // collecting a packet header
	stPayload                     // PES payload (or skipped bytes) of a known length
	stUnbounded                   // PES payload up to the next start code
)

// stream is the assembly state of one elementary stream.
type stream struct {
	id      byte
	video   bool
	psmType StreamType
	// codec is the codec last detected, which decides for a frame that
	// does not show its own.
	codec unit.Codec
	// buf holds the frame (video) or the PES payload (audio) in progress.
	buf []byte
	// open is set while a frame is in progress.
	open bool
	// skip drops the rest of the current PES (frame too large, or a PES
	// that continues a frame that was dropped).
	skip bool

	// pts and dts are the frame's in progress, or the last frame's.
	pts, dts int64
	hasPTS   bool
	next     int64 // audio: expected PTS of the next frame

	// ptsSeen is set once the stream carried a PTS. resume is set at the
	// start and after a loss: the next frame must begin an access unit.
	// lostPTS says pts is that of the frame the loss cut.
	ptsSeen, resume, lostPTS bool

	// Video: the frame is scanned for NAL unit headers up to its first
	// slice, to detect the codec (fcodec) and a key frame.
	fcodec  unit.Codec
	scanPos int
	sawVCL  bool
	key     bool
	// pesOff is where the current PES's payload starts in buf. While
	// deciding, the first bytes of that payload are awaited to tell whether
	// they start a new access unit; tentative means no frame was open and
	// the PES is dropped unless they do.
	pesOff     int
	deciding   bool
	tentative  bool
	frames     uint64
	frameBytes uint64

	// RTP marker hints (marker.go). pesLen is the payload length of the
	// current PES (-1 without a length); firstWrite and lastWrite number
	// the first and last Write that brought bytes of the frame (0: none);
	// fmarks counts the markers on the frame; confirm is set while the
	// first bytes of the PES after a frame given out at a marker are
	// awaited.
	mark                  markState
	confirm               bool
	fmarks                uint8
	pesLen                int
	firstWrite, lastWrite uint64
}

// auPeek is how many bytes of a PES payload tell whether it starts an
// access unit: a 4-byte start code, an H.265 header and a slice's first
// byte.
const auPeek = 7

// Write feeds the next bytes of the program stream, e.g. one RTP payload.
// Packets and frames may be split anywhere across calls. OnFrame is called
// from within Write for the frames completed.
func (d *Demuxer) Write(p []byte) {
	d.stats.Bytes += uint64(len(p))
	d.writes++
	d.in = p
	for {
		src := &d.in
		if len(d.back) > 0 {
			src = &d.back
		}
		if len(*src) == 0 {
			break
		}
		switch d.state {
		case stSync:
			d.sync(src)
		case stHeader:
			d.header(src)
		case stPayload:
			d.payload(src)
		case stUnbounded:
			d.unbounded(src)
		}
	}
	d.in = nil
}

// Lost says bytes were lost before the next Write (an RTP sequence gap).
// Frames in progress are dropped, a video frame even if it looked complete
// (the lost bytes may have been more of it), and the Demuxer resynchronises
// on the next pack header or trusted PES start.
func (d *Demuxer) Lost() {
	d.dropAll()
	d.resetParse()
	d.stats.Resyncs++
}

// Flush ends the stream: the frame of a PES without a length ends here, and
// the video frames still open are given to OnFrame; a PES cut short is
// dropped. The next Write starts a new stream on the same timeline.
func (d *Demuxer) Flush() {
	if s := d.cur; s != nil {
		switch d.state {
		case stUnbounded:
			if s.mark == markFlushed {
				d.pre = 0 // the frame went out at its marker
			}
			d.releasePrefix()
			d.pesEnd(s)
		case stPayload:
			d.drop(s)
		}
	}
	for i := range d.streams[:d.nstreams] {
		s := &d.streams[i]
		if s.video && s.open {
			if s.deciding {
				d.decide(s)
			}
			if s.open {
				d.finishVideo(s, len(s.buf))
			}
			s.buf, s.open, s.resume, s.lostPTS = s.buf[:0], false, true, false
		}
		s.mark, s.confirm = markNone, false
	}
	d.resetParse()
}

// Stats returns the counters.
func (d *Demuxer) Stats() Stats {
	st := d.stats
	st.MarkerState = d.markers
	st.Streams = make([]StreamStats, d.nstreams)
	for i := range d.streams[:d.nstreams] {
		s := &d.streams[i]
		st.Streams[i] = StreamStats{ID: s.id, Type: s.psmType, Codec: s.codec, Frames: s.frames, Bytes: s.frameBytes}
	}
	return st
}

func (d *Demuxer) resetParse() {
	d.state, d.synced = stSync, false
	d.nhdr, d.need, d.pre, d.left = 0, 0, 0, 0
	d.cur, d.last = nil, nil
	d.back = nil
}

func (d *Demuxer) problem(what string, err error) {
	if d.OnProblem != nil {
		d.OnProblem(what, err)
	}
}

// expectPacket makes the next bytes the start of a packet.
func (d *Demuxer) expectPacket() {
	d.state, d.nhdr, d.need, d.cur = stHeader, 0, 4, nil
}

// giveBack makes b (parsed bytes that belong to what follows) the next bytes
// to parse, ahead of the unread rest of back.
func (d *Demuxer) giveBack(b []byte) {
	if len(b) == 0 {
		return
	}
	d.backIdx ^= 1
	nb := append(d.backBuf[d.backIdx][:0], b...)
	d.back = append(nb, d.back...)
}

// resync reports a framing error: the packet header in hdr was not one.
// The frames in progress are dropped (bytes of them may have gone with the
// garbage) and the bytes after the header's first are searched again for a
// trusted packet start.
func (d *Demuxer) resync(what string, err error) {
	d.problem(what, err)
	d.stats.Resyncs++
	d.dropAll()
	n := d.nhdr
	d.state, d.synced, d.nhdr, d.pre, d.cur = stSync, false, 0, 0, nil
	d.giveBack(d.hdr[1:n])
}

// sync searches for a trusted packet start: a start code whose stream id
// strictAccept takes. Its header is then checked strictly.
func (d *Demuxer) sync(src *[]byte) {
	b := *src
	if d.pre > 0 {
		n, found := d.prefixStep(b, strictAccept, nil)
		*src = b[n:]
		if found {
			d.enterHeader()
		}
		return
	}
	i, tail := findStartCode(b, strictAccept)
	if i < 0 {
		d.pre = tail
		*src = b[len(b):]
		return
	}
	*src = b[i:]
	d.state, d.nhdr, d.need = stHeader, 0, 4
}

// enterHeader starts collecting a header whose start code prefix 00 00 01
// was matched across inputs (and is not in the bytes left to read).
func (d *Demuxer) enterHeader() {
	d.pre = 0
	d.hdr[0], d.hdr[1], d.hdr[2] = 0, 0, 1
	d.state, d.nhdr, d.need = stHeader, 3, 4
}

// prefixStep continues a start code prefix of d.pre bytes held back at the
// end of the last input with the first bytes of b, one byte at a time,
// until it is a start code (found: the 00 00 01 is consumed, the stream id
// is not) or is not (d.pre is 0). Bytes that turn out not to start one are
// passed to emit, if any. It returns how many bytes of b it consumed.
func (d *Demuxer) prefixStep(b []byte, accept func(byte) bool, emit func([]byte)) (n int, found bool) {
	prefix := [3]byte{0, 0, 1}
	for n < len(b) && d.pre > 0 {
		c := b[n]
		switch d.pre {
		case 1, 2:
			switch {
			case c == 0 && d.pre == 2:
				if emit != nil {
					emit(prefix[:1]) // a third zero: the first is payload
				}
			case c == 0 || c == 1 && d.pre == 2:
				d.pre++
			default:
				if emit != nil {
					emit(prefix[:d.pre])
					emit(b[n : n+1])
				}
				d.pre = 0
			}
			n++
		case 3:
			if accept(c) {
				return n, true
			}
			if emit != nil {
				emit(prefix[:3])
			}
			d.pre = 0
			if c == 0 {
				d.pre = 1
			} else if emit != nil {
				emit(b[n : n+1])
			}
			n++
		}
	}
	return n, false
}

// findStartCode returns the index in b of the first start code 00 00 01 XX
// with accept(XX), or -1 and how many bytes at the end of b (1 to 3) may
// begin one. It looks for the 01 byte and then behind it: in coded video,
// zero bytes are common and 01 bytes rare, so this runs at the speed of
// IndexByte. A start code that begins before b is the caller's (prefixStep).
func findStartCode(b []byte, accept func(byte) bool) (i, tail int) {
	for off := 0; off < len(b); {
		k := bytes.IndexByte(b[off:], 1)
		if k < 0 {
			break
		}
		j := off + k
		if j >= 2 && b[j-1] == 0 && b[j-2] == 0 {
			if j+1 == len(b) {
				return -1, 3
			}
			if accept(b[j+1]) {
				return j - 2, 0
			}
		}
		off = j + 1
	}
	switch n := len(b); {
	case n >= 2 && b[n-1] == 0 && b[n-2] == 0:
		return -1, 2
	case n >= 1 && b[n-1] == 0:
		return -1, 1
	}
	return -1, 0
}

// startCodePrefix is read only.
var startCodePrefix = []byte{0, 0, 1}

// strictAccept takes the stream ids a resynchronising Demuxer trusts: pack
// header, system header, program stream map, audio and video PES.
func strictAccept(id byte) bool {
	return id >= idPackHeader && id <= idPSM || id >= 0xC0 && id <= 0xEF
}

// packetEnd takes every stream id that may follow a PES without a length:
// the smallest is the program end code 0xB9. A NAL unit header after a start
// code is below 0x80 (forbidden_zero_bit), so the start codes inside the
// video payload never end the PES.
func packetEnd(id byte) bool { return id >= idProgramEnd }

// header collects and parses a packet header.
func (d *Demuxer) header(src *[]byte) {
	if d.nhdr < d.need {
		n := copy(d.hdr[d.nhdr:d.need], *src)
		d.nhdr += n
		*src = (*src)[n:]
	}
	for d.state == stHeader && d.nhdr >= d.need {
		d.parse()
	}
}

// parse parses hdr[:nhdr]: it asks for more bytes (raises need), finishes
// the header (done), or finds it is not one (resync).
func (d *Demuxer) parse() {
	h := d.hdr[:d.nhdr]
	if h[0] != 0 || h[1] != 0 || h[2] != 1 || h[3] < idProgramEnd {
		if h[0] == 0 && d.synced {
			// Zero bytes before a start code: stuffing some devices add.
			// (The start code is checked on the first 4 bytes: nhdr is 4.)
			d.nhdr = copy(d.hdr[:], h[1:])
			return
		}
		d.resync("sync", fmt.Errorf("%w: % x", ErrSync, h[:4]))
		return
	}
	id := h[3]
	switch {
	case id == idPackHeader:
		size, need, err := parsePackHeader(h, !d.synced)
		switch {
		case err != nil:
			d.resync("pack header", err)
		case need > 0:
			d.need = need
		default:
			d.done(size)
			d.expectPacket()
		}
	case id == idProgramEnd:
		d.done(4)
		d.expectPacket()
	case id == idPSM:
		d.parsePSMPacket(h)
	case id >= 0xC0 && id <= 0xEF:
		d.parsePES(h)
	case d.need < 6:
		d.need = 6
	case id == idSystemHeader:
		// Checked only while resynchronising, but a length no list of
		// streams needs is garbage in any case.
		n := 6 + (int(h[4])<<8 | int(h[5]))
		switch {
		case n > hdrSize:
			d.resync("system header", fmt.Errorf("%w: length %d", ErrSystemHeader, n-6))
		case d.synced:
			d.done(6)
			d.startPayload(nil, n-6, false)
		case d.nhdr < n:
			d.need = n
		case !checkSystemHeader(h[:n]):
			d.resync("system header", ErrSystemHeader)
		default:
			d.done(n)
			d.expectPacket()
		}
	default:
		// Private streams, padding and unknown ids: skipped by their length.
		length := int(h[4])<<8 | int(h[5])
		d.done(6)
		if id != idPadding {
			d.stats.Skipped++
		}
		d.startPayload(nil, length, length == 0)
	}
}

// done ends a header of size bytes; what hdr holds beyond belongs to the
// payload. A header that parsed ends resynchronisation.
func (d *Demuxer) done(size int) {
	d.synced = true
	n := d.nhdr
	d.nhdr = 0
	d.giveBack(d.hdr[size:n])
}

// startPayload makes the next n bytes (or, when unbounded, the bytes up to
// the next start code) the payload of stream s, or skips them when s is nil.
func (d *Demuxer) startPayload(s *stream, n int, unbounded bool) {
	d.cur = s
	switch {
	case unbounded:
		d.state, d.pre = stUnbounded, 0
	case n > 0:
		d.state, d.left = stPayload, n
	default:
		if s != nil {
			d.pesEnd(s)
		}
		d.expectPacket()
	}
}

func (d *Demuxer) parsePSMPacket(h []byte) {
	if d.need < 6 {
		d.need = 6
		return
	}
	n := 6 + (int(h[4])<<8 | int(h[5]))
	if n > hdrSize {
		// Longer than the standard allows (2.5.4.2): garbage, not a map to
		// skip 64 KiB for.
		d.resync("psm", fmt.Errorf("%w: length %d", ErrPSM, n-6))
		return
	}
	if d.nhdr < n {
		d.need = n
		return
	}
	err := parsePSM(h[:n], func(e psmEntry) {
		if e.id >= 0xC0 && e.id <= 0xEF {
			d.psm[e.id-0xC0] = e.typ
			for i := range d.streams[:d.nstreams] {
				if s := &d.streams[i]; s.id == e.id {
					s.psmType = e.typ
				}
			}
		}
	})
	if err != nil {
		if !d.synced {
			d.resync("psm", err)
			return
		}
		d.problem("psm", err)
	}
	d.done(n)
	d.expectPacket()
}

func (d *Demuxer) parsePES(h []byte) {
	ph, need, err := parsePESHeader(h, !d.synced)
	switch {
	case err != nil:
		d.resync("pes header", err)
		return
	case need > 0:
		d.need = need
		return
	}
	d.done(ph.size)
	s := d.stream(h[3])
	if s == nil {
		d.stats.Skipped++
		d.startPayload(nil, ph.payload, ph.payload < 0)
		return
	}
	d.last, s.pesLen = s, ph.payload
	var pts, dts int64
	if ph.hasPTS {
		pts = d.clock.unwrap(ph.pts)
		dts = pts
		if ph.hasDTS {
			dts = pts - signed33(int64(ph.pts)-int64(ph.dts))
		}
	}
	if s.video {
		d.videoPESStart(s, ph.hasPTS, pts, dts)
	} else {
		d.audioPESStart(s, ph.hasPTS, pts)
	}
	d.startPayload(s, ph.payload, ph.payload < 0)
}

// stream returns the assembly state of stream id, or nil when all slots
// are taken by streams that produced frames.
func (d *Demuxer) stream(id byte) *stream {
	for i := range d.streams[:d.nstreams] {
		if d.streams[i].id == id {
			return &d.streams[i]
		}
	}
	var s *stream
	if d.nstreams < maxStreams {
		s = &d.streams[d.nstreams]
		d.nstreams++
	} else {
		// Reuse a slot that never produced a frame: likely garbage that
		// passed for a PES start.
		for i := range d.streams {
			if d.streams[i].frames == 0 {
				s = &d.streams[i]
				break
			}
		}
		if s == nil {
			d.problem("streams", fmt.Errorf("%w: stream id %#x", ErrTooManyStreams, id))
			return nil
		}
	}
	*s = stream{id: id, video: id >= 0xE0, psmType: d.psm[id-0xC0], buf: s.buf[:0], resume: true}
	return s
}

// payload passes the bytes of a PES payload of known length on.
func (d *Demuxer) payload(src *[]byte) {
	n := min(d.left, len(*src))
	chunk := (*src)[:n]
	*src = (*src)[n:]
	d.left -= n
	if s := d.cur; s != nil {
		if !s.video && d.left == 0 && len(s.buf) == 0 && !s.skip {
			// The whole audio PES is in this input: no copy.
			d.emitAudio(s, chunk)
			s.open = false
		} else {
			d.deliver(s, chunk)
			if d.left == 0 {
				d.pesEnd(s)
			}
		}
	}
	if d.left == 0 {
		d.expectPacket()
	}
}

// unbounded passes the bytes of a PES without a length on, up to the next
// start code that packetEnd takes.
func (d *Demuxer) unbounded(src *[]byte) {
	b := *src
	emit := d.emitPayload
	if d.pre > 0 {
		n, found := d.prefixStep(b, packetEnd, emit)
		*src = b[n:]
		if found {
			d.endUnbounded()
			d.enterHeader()
		}
		return
	}
	i, tail := findStartCode(b, packetEnd)
	if i < 0 {
		emit(b[:len(b)-tail])
		d.pre = tail
		*src = b[len(b):]
		return
	}
	emit(b[:i])
	*src = b[i:]
	d.endUnbounded()
	d.state, d.nhdr, d.need = stHeader, 0, 4
}

// emitPayload passes payload bytes of the unbounded PES on.
func (d *Demuxer) emitPayload(b []byte) {
	if d.cur != nil && len(b) > 0 {
		d.deliver(d.cur, b)
	}
}

// releasePrefix passes the start code prefix bytes held back at the end of
// an unbounded PES on as payload: no start code came.
func (d *Demuxer) releasePrefix() {
	prefix := [3]byte{0, 0, 1}
	d.emitPayload(prefix[:d.pre])
	d.pre = 0
}

func (d *Demuxer) endUnbounded() {
	if d.cur != nil {
		d.pesEnd(d.cur)
	}
	d.cur = nil
}

// deliver appends PES payload bytes to the frame of s.
func (d *Demuxer) deliver(s *stream, b []byte) {
	if s.mark == markFlushed {
		// More of a PES without a length whose frame went out at a
		// marker (a PES with a length starts anew in videoPESStart).
		if nonZero(b) {
			d.markerCut(s)
		}
		return
	}
	if s.skip || !s.open {
		return
	}
	limit := maxAudioFrame
	if s.video {
		limit = d.maxFrameSize()
	}
	if len(s.buf)+len(b) > limit {
		d.problem("frame too large", fmt.Errorf("%w: stream %#x over %d bytes", ErrFrameTooLarge, s.id, limit))
		d.drop(s)
		s.skip = true
		return
	}
	s.buf = appendBounded(s.buf, b, limit)
	if !s.video {
		return
	}
	if s.deciding && len(s.buf)-s.pesOff >= auPeek {
		d.decide(s)
	}
	if !s.deciding && s.open {
		d.scan(s, len(s.buf), false)
		if s.mark == markSeen && nonZero(b) {
			d.ignoreMarkers(s) // the frame goes on after its marker
		}
		// Bytes known to be the frame's (while deciding, they may be the
		// next frame's): which Writes brought them.
		if s.firstWrite == 0 {
			s.firstWrite = d.writes
		}
		s.lastWrite = d.writes
	}
}

// appendBounded appends b to buf, growing it at most to limit bytes.
func appendBounded(buf, b []byte, limit int) []byte {
	n := len(buf) + len(b)
	if n > cap(buf) {
		c := min(max(2*cap(buf), n, 4096), limit)
		nb := make([]byte, len(buf), c)
		copy(nb, buf)
		buf = nb
	}
	return append(buf, b...)
}

func (d *Demuxer) maxFrameSize() int {
	if d.MaxFrameSize > 0 {
		return d.MaxFrameSize
	}
	return DefaultMaxFrameSize
}

// pesEnd ends the current PES of s.
func (d *Demuxer) pesEnd(s *stream) {
	if s.video {
		if s.deciding {
			d.decide(s)
		}
		s.skip = false
		return
	}
	if !s.skip && s.open {
		d.emitAudio(s, s.buf)
	}
	s.buf, s.open, s.skip = s.buf[:0], false, false
}

// drop drops the frame in progress of s.
func (d *Demuxer) drop(s *stream) {
	if s.open && (s.video || len(s.buf) > 0) {
		d.stats.Dropped++
	}
	if s.video {
		s.resume = true
		s.lostPTS = s.open && s.hasPTS
	}
	s.buf, s.open, s.deciding, s.tentative = s.buf[:0], false, false, false
	s.mark, s.confirm = markNone, false
}

// dropAll drops the frames in progress of every stream.
func (d *Demuxer) dropAll() {
	for i := range d.streams[:d.nstreams] {
		d.drop(&d.streams[i])
		d.streams[i].skip = false
	}
}
