package ps

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/nvr/nvr/media/unit"
)

// markerPattern says which RTP packets of a frame carry the marker bit.
type markerPattern int

const (
	markLast   markerPattern = iota // the last packet of each frame, as most devices do
	markFirst                       // the first packet (quirk)
	markEvery                       // every packet (quirk)
	markNever                       // none (quirk)
	markRandom                      // a coin toss per packet: garbage
	markMostly                      // the last packet, and now and then another one
)

func (p markerPattern) String() string {
	return [...]string{"last", "first", "every", "never", "random", "mostly"}[p]
}

// cutMode says where the PS of a frame is cut into RTP packets.
type cutMode int

const (
	cutFixed   cutMode = iota // every size bytes, as devices do
	cutRandom                 // pieces of 1 to size bytes
	cutPackets                // before every pack header and PES: packets end where PES end
)

// rtpPiece is the PS payload of one RTP packet.
type rtpPiece struct {
	data   []byte
	event  int // the event (frame) whose bytes it carries
	last   bool
	marker bool
}

// packetizeEvents cuts the PS of each event on its own, as a device
// packetizes each frame, and sets the marker bits as p says.
func packetizeEvents(stream []byte, starts []int, size int, cut cutMode, p markerPattern, rng *rand.Rand) []rtpPiece {
	var out []rtpPiece
	for i, from := range starts {
		to := len(stream)
		if i+1 < len(starts) {
			to = starts[i+1]
		}
		b := stream[from:to]
		first := len(out)
		for len(b) > 0 {
			n := min(size, len(b))
			switch cut {
			case cutRandom:
				n = min(1+rng.IntN(size), len(b))
			case cutPackets:
				n = len(b)
				if k := nextPacketStart(b[1:]); k >= 0 {
					n = k + 1
				}
			}
			out = append(out, rtpPiece{data: b[:n], event: i})
			b = b[n:]
		}
		out[len(out)-1].last = true
		for j := first; j < len(out); j++ {
			switch p {
			case markLast:
				out[j].marker = out[j].last
			case markFirst:
				out[j].marker = j == first
			case markEvery:
				out[j].marker = true
			case markRandom:
				out[j].marker = rng.IntN(3) == 0
			case markMostly:
				out[j].marker = out[j].last || rng.IntN(40) == 0
			}
		}
	}
	return out
}

// nextPacketStart returns the index of the next start code of a pack
// header, system header, map or PES in b, or -1. NAL unit start codes are
// followed by a byte below 0x80, so they are not taken.
func nextPacketStart(b []byte) int {
	i, _ := findStartCode(b, packetEnd)
	return i
}

// timedFrame is a frame and the packet that was being handled when it came
// out.
type timedFrame struct {
	Frame
	piece    int
	atMarker bool // given out from Marker
}

// feedPieces writes the pieces to d, calling Marker after those with the
// marker bit when markers is set, and Lost before those after a piece in
// lost. It returns the frames, copied, with when they came out.
func feedPieces(d *Demuxer, pieces []rtpPiece, markers bool, lost map[int]bool) []timedFrame {
	var out []timedFrame
	cur, inMarker := 0, false
	d.OnFrame = func(f Frame) {
		f.Data = bytes.Clone(f.Data)
		out = append(out, timedFrame{Frame: f, piece: cur, atMarker: inMarker})
	}
	gap := false
	for i, p := range pieces {
		cur = i
		if lost[i] {
			gap = true
			continue
		}
		if gap {
			d.Lost()
			gap = false
		}
		d.Write(p.data)
		if markers && p.marker {
			inMarker = true
			d.Marker()
			inMarker = false
		}
	}
	cur = len(pieces)
	d.Flush()
	return out
}

func framesOf(tf []timedFrame) []Frame {
	out := make([]Frame, len(tf))
	for i := range tf {
		out[i] = tf[i].Frame
	}
	return out
}

// earlyAllowed reports whether a frame given as its PS bytes may come out
// at its marker: its last video PES has no length or is shorter than
// fullPES (a full PES is taken for a piece that more PES follow).
func earlyAllowed(ps []byte) bool {
	i := bytes.LastIndex(ps, []byte{0, 0, 1, VideoStreamID})
	if i < 0 || i+9 > len(ps) {
		return false
	}
	length := int(binary.BigEndian.Uint16(ps[i+4:]))
	return length == 0 || length-3-int(ps[i+8]) < fullPES
}

// TestMarkerEndsFrame: with the marker on the last packet of each frame,
// each video frame comes out from the Marker call of its own last packet
// once the markers are trusted, and the frames are exactly those of the PS
// alone: every device shape (H.264, H.265, no PES length, pictures over
// many PES, a pack per PES, private PES, B-frames, the PTS wrap), with
// audio interleaved (its packets marked too).
func TestMarkerEndsFrame(t *testing.T) {
	for _, c := range muxCases {
		for _, size := range []int{300, rtpPayload} {
			t.Run(fmt.Sprintf("%s/%d", c.name, size), func(t *testing.T) {
				spec := c.spec
				spec.n = 110
				events := buildProgram(t, spec)
				m := c.muxer
				stream, starts := muxWithOffsets(&m, events)
				testMarkerEndsFrame(t, stream, starts, events, size, c.video)
			})
		}
	}
}

// TestMarkerEndsFrameHD: the same with the 720p clip and G.711 at 2 Mbit/s,
// in packets of 1400 bytes, as a camera sends it.
func TestMarkerEndsFrameHD(t *testing.T) {
	events := hdEvents(t)
	stream, starts := muxWithOffsets(&Muxer{}, events)
	testMarkerEndsFrame(t, stream, starts, events, rtpPayload, unit.CodecH264)
}

// TestMarkerEndsFrameGomedia: the same with gomedia's muxer, which repeats
// the PTS in every PES of a picture split at 64 KiB.
func TestMarkerEndsFrameGomedia(t *testing.T) {
	for _, spec := range []programSpec{
		{video: unit.CodecH264, audio: unit.CodecPCMA, n: 110, start: 90 * 1000, big: true},
		{video: unit.CodecH265, audio: unit.CodecAAC, n: 110, start: 90 * 1000, big: true},
	} {
		t.Run(spec.video.String(), func(t *testing.T) {
			stream, want, starts := muxGomediaOffsets(t, spec, buildProgram(t, spec))
			testMarkerEndsFrame(t, stream, starts, want, 300, spec.video)
		})
	}
}

// hdEvents are the frames of benchStream: the 720p clip and G.711.
func hdEvents(tb testing.TB) []event {
	vc := loadVideo(tb, "h264_720p.h264", unit.CodecH264)
	alaw := loadALaw(tb)
	var events []event
	a := 0
	for i, f := range vc.frames {
		pts := int64(i) * 3600
		events = append(events, event{video: true, codec: unit.CodecH264, pts: pts, dts: pts, key: vc.keys[i], data: f})
		for ; int64(a)*1800 < pts+3600; a++ {
			events = append(events, event{codec: unit.CodecPCMA, pts: int64(a) * 1800, dts: int64(a) * 1800, data: alaw[a%len(alaw)]})
		}
	}
	return events
}

func testMarkerEndsFrame(t *testing.T, stream []byte, starts []int, events []event, size int, video unit.Codec) {
	t.Helper()
	pieces := packetizeEvents(stream, starts, size, cutFixed, markLast, nil)
	d := &Demuxer{}
	var problems []string
	d.OnProblem = func(what string, err error) { problems = append(problems, what+": "+err.Error()) }
	got := feedPieces(d, pieces, true, nil)
	if len(problems) > 0 {
		t.Fatalf("problems %q", problems)
	}
	expect(t, framesOf(got), events, video)

	// Markers are trusted once markerTrustAfter frames of several packets
	// ended at theirs; from the next video frame on, each comes out at
	// its marker, unless its last PES is full.
	npieces := map[int]int{}
	lastPiece := map[int]int{}
	for i, p := range pieces {
		npieces[p.event]++
		lastPiece[p.event] = i
	}
	multi, eligible, early := 0, 0, 0
	nv := 0
	for _, f := range got {
		if f.StreamID < 0xE0 {
			continue
		}
		ev := videoEvent(events, nv)
		nv++
		if f.piece < len(pieces) && f.Lag != f.piece-lastPiece[ev] {
			t.Fatalf("video frame %d: lag %d, its last packet was %d before", nv-1, f.Lag, f.piece-lastPiece[ev])
		}
		trusted := multi >= markerTrustAfter
		if npieces[ev] > 1 {
			multi++
		}
		if !trusted {
			continue
		}
		eligible++
		to := len(stream)
		if ev+1 < len(starts) {
			to = starts[ev+1]
		}
		if !earlyAllowed(stream[starts[ev]:to]) {
			continue
		}
		early++
		if !f.atMarker || f.piece != lastPiece[ev] {
			t.Fatalf("video frame %d (PTS %d) came out at packet %d (marker %v), its last packet is %d",
				nv-1, f.PTS, f.piece, f.atMarker, lastPiece[ev])
		}
	}
	st := d.Stats()
	if st.MarkerCuts != 0 || st.MarkerFrames != uint64(early) {
		t.Fatalf("%d frames out early, stats %+v", early, st)
	}
	if eligible > 0 && (st.MarkerState != MarkerTrusted || early < eligible*8/10) {
		t.Fatalf("%d of %d frames out early, stats %+v", early, eligible, st)
	}
	if testing.Verbose() {
		fmt.Printf("%d video frames, %d after %d frames of several packets, %d out at their marker\n", nv, eligible, markerTrustAfter, early)
	}
}

// TestMarkerQuirks: with the marker on the first packet, on every packet
// or on none, however the frames are cut into packets (even where PES end),
// the frames are exactly those without markers, never cut, and given out at
// the same packets. (Where the first packet of a frame holds only headers,
// a marker on it says nothing wrong: the frame before ended there. The
// frames may then come out one packet earlier.)
func TestMarkerQuirks(t *testing.T) {
	for _, c := range muxCases {
		for _, p := range []markerPattern{markFirst, markEvery, markNever} {
			for _, cut := range []cutMode{cutFixed, cutRandom, cutPackets} {
				t.Run(fmt.Sprintf("%s/%v/%d", c.name, p, cut), func(t *testing.T) {
					spec := c.spec
					spec.n = 110
					events := buildProgram(t, spec)
					m := c.muxer
					stream, starts := muxWithOffsets(&m, events)
					pieces := packetizeEvents(stream, starts, 1400, cut, p, rand.New(rand.NewPCG(uint64(cut), 7)))

					d := &Demuxer{}
					got := feedPieces(d, pieces, true, nil)
					want := feedPieces(&Demuxer{}, pieces, false, nil)
					exact := cut != cutPackets
					sameTimedFrames(t, got, want, exact)
					expect(t, framesOf(got), events, c.video)
					st := d.Stats()
					if st.MarkerCuts != 0 || exact && (st.MarkerFrames != 0 || st.MarkerState == MarkerTrusted) {
						t.Fatalf("stats %+v", st)
					}
					if p != markNever && cut == cutFixed && st.MarkerState != MarkerIgnored {
						t.Fatalf("markers %v not found out: stats %+v", p, st)
					}
				})
			}
		}
	}
}

// sameTimedFrames checks that the frames are the same and given out at the
// same packets (exact), or that each stream's frames are the same and none
// is given out later.
func sameTimedFrames(t *testing.T, got, want []timedFrame, exact bool) {
	t.Helper()
	if !exact {
		for _, id := range []uint8{VideoStreamID, AudioStreamID} {
			sameTimedStream(t, streamFrames(got, id), streamFrames(want, id), false)
		}
		return
	}
	sameTimedStream(t, got, want, true)
}

func streamFrames(tf []timedFrame, id uint8) []timedFrame {
	var out []timedFrame
	for _, f := range tf {
		if f.StreamID == id {
			out = append(out, f)
		}
	}
	return out
}

func sameTimedStream(t *testing.T, got, want []timedFrame, exact bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d frames, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		late := g.piece > w.piece || exact && (g.piece != w.piece || g.atMarker)
		if g.StreamID != w.StreamID || g.PTS != w.PTS || g.DTS != w.DTS || g.Key != w.Key || g.Codec != w.Codec ||
			!bytes.Equal(g.Data, w.Data) || late {
			t.Fatalf("frame %d: stream %#x PTS %d %d bytes at packet %d (marker %v), want stream %#x PTS %d %d bytes at packet %d",
				i, g.StreamID, g.PTS, len(g.Data), g.piece, g.atMarker, w.StreamID, w.PTS, len(w.Data), w.piece)
		}
	}
}

// TestMarkerRandom: markers that are mostly right, or set at random, may
// look right long enough to be trusted; the next wrong one cuts at most one
// frame short (reported), and every other frame is the one the PS alone
// gives.
func TestMarkerRandom(t *testing.T) {
	cuts, runs := 0, 0
	for _, c := range muxCases {
		for seed := range uint64(16) {
			spec := c.spec
			spec.n = 60
			events := buildProgram(t, spec)
			m := c.muxer
			stream, starts := muxWithOffsets(&m, events)
			rng := rand.New(rand.NewPCG(seed, 11))
			pattern, cut := markRandom, cutRandom
			if seed%2 == 1 {
				pattern = markMostly
			}
			if seed%4 >= 2 {
				cut = cutPackets
			}
			pieces := packetizeEvents(stream, starts, 300, cut, pattern, rng)
			runs++
			d := &Demuxer{}
			var problems []error
			d.OnProblem = func(_ string, err error) { problems = append(problems, err) }
			got := feedPieces(d, pieces, true, nil)
			want := feedPieces(&Demuxer{}, pieces, false, nil)
			st := d.Stats()
			if st.MarkerCuts > 1 || len(problems) != int(st.MarkerCuts) {
				t.Fatalf("%s seed %d: stats %+v, problems %v", c.name, seed, st, problems)
			}
			if st.MarkerCuts == 1 && !errors.Is(problems[0], ErrMarker) {
				t.Fatalf("%s seed %d: problem %v", c.name, seed, problems[0])
			}
			short := 0
			for _, id := range []uint8{VideoStreamID, AudioStreamID} {
				got, want := streamFrames(got, id), streamFrames(want, id)
				if len(got) != len(want) {
					t.Fatalf("%s seed %d: stream %#x: %d frames, want %d", c.name, seed, id, len(got), len(want))
				}
				for i := range got {
					g, w := got[i], want[i]
					if g.PTS != w.PTS || g.Key != w.Key || g.piece > w.piece {
						t.Fatalf("%s seed %d: stream %#x: frame %d differs", c.name, seed, id, i)
					}
					if !bytes.Equal(g.Data, w.Data) {
						if len(g.Data) >= len(w.Data) || !bytes.HasPrefix(w.Data, g.Data) {
							t.Fatalf("%s seed %d: frame %d is not a cut of the frame", c.name, seed, i)
						}
						short++
					}
				}
			}
			if short != int(st.MarkerCuts) {
				t.Fatalf("%s seed %d: %d frames short, %d cuts", c.name, seed, short, st.MarkerCuts)
			}
			cuts += short
		}
	}
	t.Logf("%d frames cut in %d runs", cuts, runs)
	if cuts == 0 {
		t.Fatal("no marker was trusted and then wrong: the test tests nothing")
	}
}

// TestMarkerLoss: with good markers and packets lost (Lost before the next
// one), every frame given out is intact and every frame the losses did not
// touch is given out, as without markers.
func TestMarkerLoss(t *testing.T) {
	for _, c := range muxCases {
		t.Run(c.name, func(t *testing.T) {
			spec := c.spec
			spec.n = 300
			spec.bframes = true // unique PTS for every frame
			events := buildProgram(t, spec)
			m := c.muxer
			stream, starts := muxWithOffsets(&m, events)
			pieces := packetizeEvents(stream, starts, 700, cutFixed, markLast, nil)
			offsets := make([]int, len(pieces)) // where each piece starts in stream
			off := 0
			for i, p := range pieces {
				offsets[i] = off
				off += len(p.data)
			}
			for seed := range uint64(3) {
				rng := rand.New(rand.NewPCG(seed, 5))
				lost := map[int]bool{}
				var ranges [][2]int
				for i := 50; i < len(pieces); i++ { // trusted by then
					if rng.IntN(100) < 3 || lost[i-1] && rng.IntN(3) == 0 {
						lost[i] = true
						ranges = append(ranges, [2]int{offsets[i], offsets[i] + len(pieces[i].data)})
					}
				}
				d := &Demuxer{}
				got := feedPieces(d, pieces, true, lost)
				st := d.Stats()
				if st.MarkerFrames == 0 || st.MarkerCuts != 0 || st.Dropped == 0 {
					t.Fatalf("seed %d: stats %+v", seed, st)
				}
				checkAfterLoss(t, c, events, starts, len(stream), framesOf(got), ranges)
			}
		})
	}
}

// checkAfterLoss checks the frames given out after the byte ranges lost:
// each is intact and given once; each frame whose bytes, or the bytes up to
// the next video PES header for video, were not lost is given out.
func checkAfterLoss(t *testing.T, c muxCase, events []event, starts []int, end int, got []Frame, lost [][2]int) {
	t.Helper()
	want := map[frameKey]event{}
	atRisk := map[frameKey]bool{}
	for i, e := range events {
		k := frameKey{e.video, e.pts}
		want[k] = e
		from, to := starts[i], end
		if i+1 < len(events) {
			to = starts[i+1]
		}
		if e.video {
			for j := i + 1; j < len(events); j++ {
				if events[j].video {
					to = starts[j] + 200
					break
				}
			}
		}
		for _, l := range lost {
			if l[0] < to && l[1] > from {
				atRisk[k] = true
			}
		}
	}
	seen := map[frameKey]bool{}
	for _, f := range got {
		k := frameKey{f.StreamID >= 0xE0, f.PTS}
		w, ok := want[k]
		if !ok {
			t.Fatalf("frame of stream %#x with unknown PTS %d", f.StreamID, f.PTS)
		}
		codec := w.codec
		if w.video {
			codec = c.video
		}
		if err := sameFrame(f, w, codec); err != nil {
			t.Fatalf("frame PTS %d: %v", f.PTS, err)
		}
		if seen[k] {
			t.Fatalf("frame PTS %d given twice", f.PTS)
		}
		seen[k] = true
	}
	for k := range want {
		if !atRisk[k] && !seen[k] {
			t.Fatalf("untouched frame %+v not given out", k)
		}
	}
}

// TestMarkerFullPES: a marker right after a PES of fullPES bytes or more
// does not end the frame early (devices split big pictures there, and a
// device that marks every PES would cut them); the frame comes out when
// the next begins.
func TestMarkerFullPES(t *testing.T) {
	for _, n := range []int{fullPES - 100, fullPES + 100} {
		d := &Demuxer{}
		var out []timedFrame
		inMarker := false
		d.OnFrame = func(f Frame) { out = append(out, timedFrame{Frame: f, atMarker: inMarker}) }
		marker := func() { inMarker = true; d.Marker(); inMarker = false }
		write := func(b []byte) {
			for len(b) > 0 { // two packets at least, so that the frame counts
				k := min(len(b), 1000)
				d.Write(b[:k])
				b = b[k:]
			}
		}
		pts := int64(0)
		frame := func(data []byte) {
			var s []byte
			s = pack(s, pts)
			s = pes(s, VideoStreamID, pts, data)
			write(s)
			marker()
			pts += 3600
		}
		p := withFiller(h264P, unit.CodecH264, 3000)
		for range markerTrustAfter + 1 {
			frame(p)
		}
		if d.MarkerState() != MarkerTrusted {
			t.Fatalf("markers %v", d.MarkerState())
		}
		big := withFiller(h264P, unit.CodecH264, n)
		frame(big)
		frame(p)
		i := len(out) - 2
		if len(out[i].Data) != len(big) || len(out[i+1].Data) != len(p) {
			t.Fatalf("frames of %d and %d bytes, want %d and %d", len(out[i].Data), len(out[i+1].Data), len(big), len(p))
		}
		if out[i].atMarker != (n < fullPES) || !out[i+1].atMarker || d.MarkerState() != MarkerTrusted {
			t.Fatalf("PES of %d bytes: given out at the marker %v", n, out[i].atMarker)
		}
	}
}

// TestMarkerCut: a device whose markers were right long enough to be
// trusted marks the end of a PES inside a picture: the picture goes out
// short, the problem is reported, the rest of it is dropped (with or
// without its PTS repeated), the next frames are whole, and markers are
// ignored from then on.
func TestMarkerCut(t *testing.T) {
	for _, repeat := range []bool{false, true} {
		d := &Demuxer{}
		var frames []Frame
		var problems []error
		d.OnFrame = func(f Frame) { f.Data = bytes.Clone(f.Data); frames = append(frames, f) }
		d.OnProblem = func(_ string, err error) { problems = append(problems, err) }
		pts := int64(0)
		send := func(data []byte, pesSize int, markEach bool) {
			for off := 0; off < len(data); off += pesSize {
				p := pts
				if off > 0 && !repeat {
					p = -1
				}
				var s []byte
				s = pack(s, pts)
				s = pes(s, VideoStreamID, p, data[off:min(off+pesSize, len(data))])
				d.Write(s[:len(s)/2])
				d.Write(s[len(s)/2:])
				if markEach || off+pesSize >= len(data) {
					d.Marker()
				}
			}
			pts += 3600
		}
		p := withFiller(h264P, unit.CodecH264, 3000)
		for range markerTrustAfter + 1 {
			send(p, 1000, false)
		}
		big := withFiller(h264IDR, unit.CodecH264, 5000)
		send(big, 1000, true) // a marker after each PES
		send(p, 1000, true)
		send(p, 1000, true)
		d.Flush()
		n := len(frames)
		if n != markerTrustAfter+4 || len(problems) != 1 || !errors.Is(problems[0], ErrMarker) {
			t.Fatalf("repeat %v: %d frames, problems %v", repeat, n, problems)
		}
		cut := frames[n-3]
		if !bytes.Equal(cut.Data, big[:1000]) || !cut.Key {
			t.Fatalf("repeat %v: cut frame of %d bytes", repeat, len(cut.Data))
		}
		for _, f := range frames[n-2:] {
			if !bytes.Equal(f.Data, p) {
				t.Fatalf("repeat %v: frame PTS %d of %d bytes after the cut", repeat, f.PTS, len(f.Data))
			}
		}
		if st := d.Stats(); st.MarkerState != MarkerIgnored || st.MarkerCuts != 1 {
			t.Fatalf("repeat %v: stats %+v", repeat, st)
		}
	}
}

// TestMarkerZeroLengthPES: in a PES without a length a trusted marker is
// the end of the frame; bytes after it are the rest of the frame, which a
// wrong marker cut.
func TestMarkerZeroLengthPES(t *testing.T) {
	d := &Demuxer{}
	var frames []timedFrame
	var problems []error
	inMarker := false
	d.OnFrame = func(f Frame) {
		f.Data = bytes.Clone(f.Data)
		frames = append(frames, timedFrame{Frame: f, atMarker: inMarker})
	}
	d.OnProblem = func(_ string, err error) { problems = append(problems, err) }
	marker := func() { inMarker = true; d.Marker(); inMarker = false }
	p := withFiller(h264P, unit.CodecH264, 3000)
	pts := int64(0)
	for range markerTrustAfter + 2 {
		var s []byte
		s = pack(s, pts)
		s = pesUnbounded(s, VideoStreamID, pts, p)
		d.Write(s[:1500])
		d.Write(s[1500:])
		marker()
		pts += 3600
	}
	if n := len(frames); n != markerTrustAfter+2 || !frames[n-1].atMarker || !bytes.Equal(frames[n-1].Data, p) {
		t.Fatalf("%d frames, problems %v", n, problems)
	}
	// A marker in the middle of the next frame.
	var s []byte
	s = pack(s, pts)
	s = pesUnbounded(s, VideoStreamID, pts, p)
	d.Write(s[:1500])
	marker()
	d.Write(s[1500:])
	d.Write(pack(nil, pts+3600))
	d.Flush()
	n := len(frames)
	if len(problems) != 1 || !errors.Is(problems[0], ErrMarker) || d.MarkerState() != MarkerIgnored {
		t.Fatalf("problems %v, markers %v", problems, d.MarkerState())
	}
	if !bytes.HasPrefix(p, frames[n-1].Data) || len(frames[n-1].Data) == len(p) {
		t.Fatalf("the cut frame has %d bytes", len(frames[n-1].Data))
	}
}

// TestMarkerAfterAudio: a marker after an audio PES says nothing of the
// video frame in progress, even when that frame continues after the audio.
func TestMarkerAfterAudio(t *testing.T) {
	d := &Demuxer{}
	var frames []Frame
	d.OnFrame = func(f Frame) { f.Data = bytes.Clone(f.Data); frames = append(frames, f) }
	p := withFiller(h264P, unit.CodecH264, 3000)
	alaw := bytes.Repeat([]byte{0xD5}, 160)
	pts := int64(0)
	for range markerTrustAfter + 2 {
		var s []byte
		s = pack(s, pts)
		s = pes(s, VideoStreamID, pts, p[:2000])
		d.Write(s)
		d.Write(pes(pack(nil, pts), AudioStreamID, pts, alaw))
		d.Marker() // an audio frame's packet
		d.Write(pes(nil, VideoStreamID, -1, p[2000:]))
		d.Marker()
		pts += 3600
	}
	d.Flush()
	for _, f := range frames {
		if f.StreamID == VideoStreamID && !bytes.Equal(f.Data, p) {
			t.Fatalf("video frame PTS %d of %d bytes", f.PTS, len(f.Data))
		}
	}
	if st := d.Stats(); st.MarkerState != MarkerTrusted || st.MarkerCuts != 0 || st.MarkerFrames == 0 {
		t.Fatalf("stats %+v", st)
	}
}

// videoEvent returns the index of the n-th video event.
func videoEvent(events []event, n int) int {
	for i, e := range events {
		if e.video {
			if n == 0 {
				return i
			}
			n--
		}
	}
	return -1
}
