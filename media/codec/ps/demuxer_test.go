package ps

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/nvr/nvr/media/unit"
)

// Builders of hand-made streams.

func pack(b []byte, scr int64) []byte { return appendPackHeader(b, scr, muxRate) }

func pes(b []byte, id byte, pts int64, payload []byte) []byte {
	b = appendPESHeader(b, id, len(payload), false, pts >= 0, false, pts, pts)
	return append(b, payload...)
}

func pesUnbounded(b []byte, id byte, pts int64, payload []byte) []byte {
	b = appendPESHeader(b, id, -1, false, pts >= 0, false, pts, pts)
	return append(b, payload...)
}

func psm(b []byte, entries ...psmEntry) []byte { return appendPSM(b, 1, entries) }

// Small Annex-B access units, valid as far as the Demuxer looks.
var (
	h264IDR = []byte{0, 0, 0, 1, 0x67, 0x4D, 0x00, 0x1E, 0, 0, 0, 1, 0x68, 0xEE, 0x3C, 0x80,
		0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0x01, 0x02, 0, 0, 3, 1, 0x10}
	h264P   = []byte{0, 0, 0, 1, 0x41, 0x9A, 0x02, 0x03, 0x04, 0, 0, 1, 0x0C, 0xFF, 0x80}
	h265IDR = []byte{0, 0, 0, 1, 0x40, 0x01, 0x0C, 0, 0, 0, 1, 0x42, 0x01, 0x01, 0, 0, 0, 1, 0x44, 0x01, 0xC1,
		0, 0, 0, 1, 0x28, 0x01, 0xAF, 0x1D, 0x20}
	h265P = []byte{0, 0, 0, 1, 0x02, 0x01, 0xD0, 0x09, 0x7E}
)

func demuxBytes(t *testing.T, b []byte) *collector {
	t.Helper()
	c := &collector{}
	d := c.demuxer()
	d.Write(b)
	d.Flush()
	return c
}

// TestZeroLengthPESSplits writes a PES without a length whose payload holds
// NAL start codes, followed by a pack, split at every position and at
// every pair of positions: only the pack's start code ends the PES.
func TestZeroLengthPESSplits(t *testing.T) {
	var s []byte
	s = pack(s, 0)
	s = pesUnbounded(s, VideoStreamID, 3600, h264IDR)
	s = pack(s, 3600)
	s = pesUnbounded(s, VideoStreamID, 7200, h264P)
	s = pack(s, 7200)
	s = pes(s, AudioStreamID, 7200, bytes.Repeat([]byte{0xD5}, 160))
	s = append(s, 0, 0, 1, idProgramEnd)

	check := func(t *testing.T, c *collector) {
		t.Helper()
		// The IDR comes out when the P frame starts, the audio when its PES
		// ends, the P frame at Flush.
		if len(c.frames) != 3 || len(c.problems) > 0 {
			t.Fatalf("%d frames, problems %q", len(c.frames), c.problems)
		}
		if v := c.frames[0]; !bytes.Equal(v.Data, h264IDR) || v.PTS != 3600 || !v.Key || v.Codec != unit.CodecH264 {
			t.Fatalf("IDR frame %+v", v)
		}
		if a := c.frames[1]; a.Codec != unit.CodecPCMA || len(a.Data) != 160 {
			t.Fatalf("audio frame %+v", a)
		}
		if v := c.frames[2]; !bytes.Equal(v.Data, h264P) || v.PTS != 7200 || v.Key {
			t.Fatalf("P frame %+v", v)
		}
	}
	for i := range len(s) + 1 {
		c := &collector{}
		d := c.demuxer()
		d.Write(s[:i])
		d.Write(s[i:])
		d.Flush()
		check(t, c)
	}
	for i := 0; i <= len(s); i += 3 {
		for j := i; j <= len(s); j++ {
			c := &collector{}
			d := c.demuxer()
			d.Write(s[:i])
			d.Write(s[i:j])
			d.Write(s[j:])
			d.Flush()
			check(t, c)
		}
	}
}

// TestZeroLengthPESTrailingZeros: zeros before the next start code stay in
// the frame (trailing_zero_8bits), whatever the split.
func TestZeroLengthPESTrailingZeros(t *testing.T) {
	frame := append(append([]byte{}, h264P...), 0, 0, 0, 0)
	var s []byte
	s = pack(s, 0)
	s = pesUnbounded(s, VideoStreamID, 0, frame)
	s = pack(s, 3600) // 00 00 01 BA: the zeros before it are the frame's
	s = pesUnbounded(s, VideoStreamID, 3600, h264P)
	for i := range len(s) + 1 {
		c := &collector{}
		d := c.demuxer()
		d.Write(s[:i])
		d.Write(s[i:])
		d.Flush()
		if len(c.frames) != 2 || !bytes.Equal(c.frames[0].Data, frame) || !bytes.Equal(c.frames[1].Data, h264P) {
			t.Fatalf("split %d: %d frames %+v", i, len(c.frames), c.frames)
		}
	}
}

// TestRepeatedPTS: devices (and gomedia) put the frame's PTS in every PES
// of it; the same PTS continues the frame.
func TestRepeatedPTS(t *testing.T) {
	big := withFiller(h264IDR, unit.CodecH264, 5000)
	var s []byte
	for i, f := range [][]byte{big, h264P, big, h264P} {
		pts := int64(i) * 3600
		for off := 0; off < len(f); off += 1000 {
			s = pack(s, pts)
			s = pes(s, VideoStreamID, pts, f[off:min(off+1000, len(f))])
		}
	}
	c := demuxBytes(t, s)
	if len(c.frames) != 4 {
		t.Fatalf("%d frames", len(c.frames))
	}
	for i, f := range c.frames {
		want := h264P
		if i%2 == 0 {
			want = big
		}
		if !bytes.Equal(f.Data, want) || f.PTS != int64(i)*3600 {
			t.Fatalf("frame %d: PTS %d, %d bytes", i, f.PTS, len(f.Data))
		}
	}
}

// TestAccessUnitStarts: without a new PTS (none at all, or the same one
// repeated), frames are told apart by the NAL units that start an access
// unit, never inside one (a PES that starts with a second slice, or with a
// filler NAL unit).
func TestAccessUnitStarts(t *testing.T) {
	// An H.264 picture in two slices, the second with first_mb_in_slice 1
	// (ue(v) "010"), sent in two PES.
	slice1 := []byte{0, 0, 0, 1, 0x41, 0x9A, 0x11, 0x22}
	slice2 := []byte{0, 0, 0, 1, 0x41, 0x40, 0x33, 0x44}
	twoSlices := append(append([]byte{}, slice1...), slice2...)
	for _, tc := range []struct {
		name   string
		codec  unit.Codec
		frames [][]byte // each frame's PES payloads
	}{
		{"h264", unit.CodecH264, [][]byte{h264IDR, h264P, slice1, slice2, h264P, h264IDR}},
		{"h265", unit.CodecH265, [][]byte{h265IDR, h265P, h265P, h265IDR, h265P}},
	} {
		for _, mode := range []string{"no PTS", "constant PTS"} {
			t.Run(tc.name+" "+mode, func(t *testing.T) {
				var s []byte
				for _, p := range tc.frames {
					pts := int64(-1)
					if mode == "constant PTS" {
						pts = 9000
					}
					s = pack(s, 0)
					s = pes(s, VideoStreamID, pts, p)
				}
				c := demuxBytes(t, s)
				var want [][]byte
				for i := 0; i < len(tc.frames); i++ {
					if tc.codec == unit.CodecH264 && i == 2 {
						want = append(want, twoSlices)
						i++
						continue
					}
					want = append(want, tc.frames[i])
				}
				if len(c.frames) != len(want) {
					t.Fatalf("%d frames, want %d; problems %q", len(c.frames), len(want), c.problems)
				}
				for i, f := range c.frames {
					if !bytes.Equal(f.Data, want[i]) || f.Codec != tc.codec {
						t.Fatalf("frame %d: %v % x", i, f.Codec, f.Data)
					}
				}
			})
		}
	}
}

// TestParameterSetsAhead: parameter sets sent in a PES of their own, with
// a PTS of their own, are given out with the picture that follows.
func TestParameterSetsAhead(t *testing.T) {
	params, idr := h264IDR[:16], h264IDR[16:]
	var s []byte
	s = pack(s, 0)
	s = pes(s, VideoStreamID, 1000, params)
	s = pes(s, VideoStreamID, 1001, idr)
	s = pes(s, VideoStreamID, 4600, h264P)
	c := demuxBytes(t, s)
	if len(c.frames) != 2 || !bytes.Equal(c.frames[0].Data, h264IDR) || c.frames[0].PTS != 1001 || !c.frames[0].Key {
		t.Fatalf("frames %+v", c.frames)
	}
}

// TestCodecDetection: the data decides over a missing, late or wrong map.
func TestCodecDetection(t *testing.T) {
	for _, tc := range []struct {
		name   string
		psm    StreamType // 0: no map
		frames [][]byte
		want   unit.Codec
	}{
		{"h264 no map", 0, [][]byte{h264IDR, h264P}, unit.CodecH264},
		{"h265 no map", 0, [][]byte{h265IDR, h265P}, unit.CodecH265},
		{"h265 declared h264", StreamH264, [][]byte{h265IDR, h265P}, unit.CodecH265},
		{"h264 declared h265", StreamH265, [][]byte{h264IDR, h264P}, unit.CodecH264},
		{"h265 declared mpeg4", StreamMPEG4, [][]byte{h265IDR, h265P}, unit.CodecH265},
		{"h265 P frames only, declared h264", StreamH264, [][]byte{h265P, h265P}, unit.CodecH265},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s []byte
			for i, f := range tc.frames {
				s = pack(s, int64(i)*3600)
				if tc.psm != 0 && i == 0 {
					s = psm(s, psmEntry{tc.psm, VideoStreamID})
				}
				s = pes(s, VideoStreamID, int64(i)*3600, f)
			}
			c := demuxBytes(t, s)
			if len(c.frames) != len(tc.frames) {
				t.Fatalf("%d frames; problems %q", len(c.frames), c.problems)
			}
			for _, f := range c.frames {
				if f.Codec != tc.want {
					t.Fatalf("codec %v", f.Codec)
				}
			}
		})
	}
}

func TestAudioCodecDetection(t *testing.T) {
	adts := loadADTS(t)[:3]
	pcm := bytes.Repeat([]byte{0xFF, 0xF1, 0x55, 0xD5}, 80) // A-law that opens like ADTS
	for _, tc := range []struct {
		name string
		psm  StreamType
		data []byte
		want unit.Codec
	}{
		{"adts no map", 0, adts[0], unit.CodecAAC},
		{"two adts", 0, append(append([]byte{}, adts[1]...), adts[2]...), unit.CodecAAC},
		{"adts declared g711", StreamG711A, adts[0], unit.CodecAAC},
		{"alaw no map", 0, pcm, unit.CodecPCMA},
		{"ulaw", StreamG711U, pcm, unit.CodecPCMU},
		{"alaw declared oddly", 0x06, pcm, unit.CodecPCMA},
		{"g729 skipped", StreamG729, pcm, unit.CodecUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s []byte
			s = pack(s, 0)
			if tc.psm != 0 {
				s = psm(s, psmEntry{tc.psm, AudioStreamID})
			}
			s = pes(s, AudioStreamID, 0, tc.data)
			s = pes(s, AudioStreamID, -1, tc.data) // no PTS: follows on
			c := demuxBytes(t, s)
			if tc.want == unit.CodecUnknown {
				if len(c.frames) != 0 {
					t.Fatalf("%d frames", len(c.frames))
				}
				return
			}
			if len(c.frames) != 2 || c.frames[0].Codec != tc.want || !bytes.Equal(c.frames[0].Data, tc.data) {
				t.Fatalf("frames %+v", c.frames)
			}
			wantNext := int64(len(tc.data)) * 90000 / 8000
			if tc.want == unit.CodecAAC {
				wantNext, _ = adtsDuration(tc.data)
			}
			if c.frames[1].PTS != wantNext {
				t.Fatalf("PTS of the frame without one: %d, want %d", c.frames[1].PTS, wantNext)
			}
		})
	}
}

// TestMPEG1 reads MPEG-1 pack headers and MPEG-1 PES headers (stuffing,
// STD buffer, PTS and DTS).
func TestMPEG1(t *testing.T) {
	mpeg1Pack := []byte{0, 0, 1, idPackHeader, 0x21, 0x00, 0x01, 0x00, 0x01, 0x80, 0x00, 0x01}
	var s []byte
	for i, f := range [][]byte{h264IDR, h264P} {
		pts := int64(i+1) * 3600
		s = append(s, mpeg1Pack...)
		hdr := []byte{0xFF, 0xFF, 0x40, 0x20}
		hdr = appendTimestamp(hdr, 3, pts)
		hdr = appendTimestamp(hdr, 1, pts-1800)
		n := len(hdr) + len(f)
		s = append(s, 0, 0, 1, VideoStreamID, byte(n>>8), byte(n))
		s = append(append(s, hdr...), f...)
	}
	s = append(s, mpeg1Pack...)
	s = append(s, 0, 0, 1, AudioStreamID, 0, 5, 0x0F, 0xD5, 0xD5, 0xD5, 0xD5) // no timestamp
	c := demuxBytes(t, s)
	if len(c.problems) > 0 || len(c.frames) != 3 {
		t.Fatalf("%d frames, problems %q", len(c.frames), c.problems)
	}
	if f := c.frames[0]; f.PTS != 3600 || f.DTS != 1800 || !bytes.Equal(f.Data, h264IDR) {
		t.Fatalf("frame %+v", f)
	}
}

// TestSkipped: system headers, private streams, padding, unknown ids and
// zero stuffing between packets are passed over without complaint.
func TestSkipped(t *testing.T) {
	var s []byte
	s = pack(s, 0)
	s = appendSystemHeader(s, muxRate, []systemStream{{id: 0xE0, scale: 1, size: 400}})
	s = psm(s, psmEntry{StreamH264, VideoStreamID})
	s = appendPrivate(s)
	s = pes(s, VideoStreamID, 0, h264IDR)
	s = append(s, 0, 0, 0, 0) // zero stuffing
	s = append(s, 0, 0, 1, idPadding, 0, 4, 0xFF, 0xFF, 0xFF, 0xFF)
	s = append(s, 0, 0, 1, 0xF0, 0, 3, 0, 0, 1) // ECM: skipped by length, start code inside
	s = pack(s, 3600)
	s = pes(s, VideoStreamID, 3600, h264P)
	c := demuxBytes(t, s)
	if len(c.problems) > 0 || len(c.frames) != 2 {
		t.Fatalf("%d frames, problems %q", len(c.frames), c.problems)
	}
}

// TestMaxFrameSize: a frame over the limit is dropped, the next is not.
func TestMaxFrameSize(t *testing.T) {
	big := withFiller(h264IDR, unit.CodecH264, 50_000)
	var s []byte
	for i, f := range [][]byte{h264IDR, big, h264P, h264P} {
		pts := int64(i) * 3600
		for off := 0; off < len(f); off += 4000 {
			s = pack(s, pts)
			s = pes(s, VideoStreamID, pts, f[off:min(off+4000, len(f))])
		}
	}
	c := &collector{}
	d := c.demuxer()
	d.MaxFrameSize = 20_000
	var sawErr bool
	d.OnProblem = func(what string, err error) { sawErr = sawErr || errors.Is(err, ErrFrameTooLarge) }
	d.Write(s)
	d.Flush()
	if len(c.frames) != 3 || !sawErr || d.Stats().Dropped != 1 {
		t.Fatalf("%d frames, ErrFrameTooLarge %v, stats %+v", len(c.frames), sawErr, d.Stats())
	}
	for i, pts := range []int64{0, 7200, 10800} {
		if c.frames[i].PTS != pts {
			t.Fatalf("frame %d PTS %d", i, c.frames[i].PTS)
		}
	}
}

// TestHostileHeaders: absurd lengths and truncated headers never panic and
// never get the Demuxer stuck: the frames after them come out.
func TestHostileHeaders(t *testing.T) {
	var good []byte
	good = pack(good, 0)
	good = pes(good, VideoStreamID, 0, h264IDR)
	good = pack(good, 3600)
	good = pes(good, VideoStreamID, 3600, h264P)
	good = pack(good, 7200)
	good = pes(good, VideoStreamID, 7200, h264P)
	for _, tc := range []struct {
		name string
		bad  []byte
	}{
		{"psm too long", []byte{0, 0, 1, idPSM, 0xFF, 0xFF, 0x80, 0xFF}},
		{"psm lengths past its end", []byte{0, 0, 1, idPSM, 0, 14, 0xE0, 0xFF, 0, 0, 0xFF, 0xF0, 0x1B, 0xE0, 0, 0, 0, 0, 0, 0}},
		{"pes header past its length", []byte{0, 0, 1, 0xE0, 0, 4, 0x80, 0x80, 0xFF, 0x21}},
		{"pes header cut", []byte{0, 0, 1, 0xE0, 0, 0}},
		{"pack header of no version", []byte{0, 0, 1, idPackHeader, 0x00, 0x01, 0x02}},
		{"low start code", []byte{0, 0, 1, 0x05, 0x88}},
		{"bytes", []byte{0x12, 0x34, 0x56, 0x78, 0x9A}},
		{"system header huge", []byte{0, 0, 1, idSystemHeader, 0xFF, 0xFF, 1, 2, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := append(append(append([]byte{}, good...), tc.bad...), good...)
			for _, seed := range []uint64{1, 2, 3} {
				c := demuxAll(t, s, seed)
				// The frame in progress before the bad bytes may be
				// dropped; the second copy's frames come out.
				if n := len(c.frames); n < 4 {
					t.Fatalf("%d frames; problems %q", n, c.problems)
				}
				for _, f := range c.frames {
					if !bytes.Equal(f.Data, h264IDR) && !bytes.Equal(f.Data, h264P) {
						t.Fatalf("frame corrupted: % x", f.Data)
					}
				}
			}
		})
	}
}

// TestLostDropsFrameInProgress: Lost drops the open video frame, and the
// rest of the frame after the gap (with or without its PTS repeated).
func TestLostDropsFrameInProgress(t *testing.T) {
	big := withFiller(h264IDR, unit.CodecH264, 3000)
	for _, repeat := range []bool{false, true} {
		var parts [][]byte
		for i, f := range [][]byte{h264IDR, big, h264P} {
			pts := int64(i) * 3600
			for off := 0; off < len(f); off += 1000 {
				var b []byte
				b = pack(b, pts)
				p := pts
				if off > 0 && !repeat {
					p = -1
				}
				b = pes(b, VideoStreamID, p, f[off:min(off+1000, len(f))])
				parts = append(parts, b)
			}
		}
		c := &collector{}
		d := c.demuxer()
		for i, p := range parts {
			if i == 2 { // the second PES of the big frame
				d.Lost()
				continue
			}
			d.Write(p)
		}
		d.Flush()
		if len(c.frames) != 2 || c.frames[0].PTS != 0 || c.frames[1].PTS != 7200 {
			t.Fatalf("repeat %v: frames %+v", repeat, c.frames)
		}
	}
}

// TestTrustedStartAfterLoss: after a loss, start codes in audio payload
// that do not carry a well-formed header are not taken.
func TestTrustedStartAfterLoss(t *testing.T) {
	fake := []byte{0xD5, 0, 0, 1, 0xE0, 0x00, 0x10, 0x12, 0x34, 0, 0, 1, 0xBA, 0x99, 0x98}
	var s []byte
	s = pack(s, 0)
	s = pes(s, AudioStreamID, 0, append(bytes.Repeat([]byte{0xD5}, 100), fake...))
	s = pack(s, 0)
	s = pes(s, VideoStreamID, 0, h264IDR)
	s = pack(s, 3600)
	s = pes(s, VideoStreamID, 3600, h264P)
	c := &collector{}
	d := c.demuxer()
	d.Write(s[:30])
	d.Lost()
	d.Write(s[60:])
	d.Flush()
	if len(c.frames) != 2 || !bytes.Equal(c.frames[0].Data, h264IDR) {
		t.Fatalf("frames %+v problems %q", c.frames, c.problems)
	}
}

func TestStats(t *testing.T) {
	events := buildProgram(t, programSpec{video: unit.CodecH265, audio: unit.CodecAAC, n: 30})
	stream := mux(&Muxer{PrivateStream: true}, events)
	c := &collector{}
	d := c.demuxer()
	feedRandom(d, stream, rand.New(rand.NewPCG(1, 1)))
	d.Flush()
	st := d.Stats()
	if st.Bytes != uint64(len(stream)) || st.Frames != uint64(len(events)) || st.Dropped != 0 || st.Resyncs != 0 {
		t.Fatalf("stats %+v", st)
	}
	if st.Skipped == 0 || len(st.Streams) != 2 {
		t.Fatalf("stats %+v", st)
	}
	v, a := st.Streams[0], st.Streams[1]
	if v.ID != VideoStreamID || v.Type != StreamH265 || v.Codec != unit.CodecH265 || v.Frames != 30 {
		t.Fatalf("video %+v", v)
	}
	if a.ID != AudioStreamID || a.Type != StreamAAC || a.Codec != unit.CodecAAC {
		t.Fatalf("audio %+v", a)
	}
}

// TestSteadyStateAllocs: demuxing allocates nothing once the buffers have
// grown.
func TestSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	events := buildProgram(t, programSpec{video: unit.CodecH264, audio: unit.CodecAAC, n: 50})
	stream := mux(&Muxer{}, events)
	d := &Demuxer{OnFrame: func(Frame) {}}
	feed := func() {
		for off := 0; off < len(stream); off += rtpPayload {
			d.Write(stream[off:min(off+rtpPayload, len(stream))])
		}
	}
	feed()
	if n := testing.AllocsPerRun(5, feed); n != 0 {
		t.Fatalf("%v allocations per pass", n)
	}
}
