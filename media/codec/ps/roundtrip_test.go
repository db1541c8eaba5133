package ps

import (
	"testing"

	"github.com/nvr/nvr/media/unit"
)

// muxCase is a device shape: a program and the Muxer quirks it is written
// with. The table drives the round-trip and loss tests, the fuzz seeds and
// the sample captures in testdata.
type muxCase struct {
	name  string
	spec  programSpec
	muxer Muxer
	// video is the codec the Demuxer must report (the data's, whatever the
	// map says).
	video unit.Codec
}

var muxCases = []muxCase{
	{name: "h264_pcma", spec: programSpec{video: unit.CodecH264, audio: unit.CodecPCMA}, video: unit.CodecH264},
	{name: "h265_aac", spec: programSpec{video: unit.CodecH265, audio: unit.CodecAAC}, video: unit.CodecH265},
	{name: "h264_pcmu_declared", spec: programSpec{video: unit.CodecH264, audio: unit.CodecPCMU},
		muxer: Muxer{AudioCodec: unit.CodecPCMU}, video: unit.CodecH264},
	{name: "h264_aac_bframes", spec: programSpec{video: unit.CodecH264, audio: unit.CodecAAC, bframes: true}, video: unit.CodecH264},
	{name: "nopsm_h264_pcma", spec: programSpec{video: unit.CodecH264, audio: unit.CodecPCMA},
		muxer: Muxer{NoPSM: true}, video: unit.CodecH264},
	{name: "nopsm_h265_aac", spec: programSpec{video: unit.CodecH265, audio: unit.CodecAAC},
		muxer: Muxer{NoPSM: true}, video: unit.CodecH265},
	{name: "h265_declared_h264", spec: programSpec{video: unit.CodecH265, audio: unit.CodecPCMA},
		muxer: Muxer{VideoStreamType: StreamH264}, video: unit.CodecH265},
	{name: "zero_length_pes_h264", spec: programSpec{video: unit.CodecH264, audio: unit.CodecPCMA},
		muxer: Muxer{ZeroLengthVideoPES: true}, video: unit.CodecH264},
	{name: "zero_length_pes_h265_big", spec: programSpec{video: unit.CodecH265, audio: unit.CodecAAC, big: true},
		muxer: Muxer{ZeroLengthVideoPES: true}, video: unit.CodecH265},
	{name: "private_h264_pcma", spec: programSpec{video: unit.CodecH264, audio: unit.CodecPCMA},
		muxer: Muxer{PrivateStream: true}, video: unit.CodecH264},
	{name: "big_frames_h264", spec: programSpec{video: unit.CodecH264, audio: unit.CodecPCMA, big: true}, video: unit.CodecH264},
	{name: "small_pes_h265_aac", spec: programSpec{video: unit.CodecH265, audio: unit.CodecAAC, bframes: true},
		muxer: Muxer{MaxPESPayload: 1000}, video: unit.CodecH265},
	{name: "pack_per_pes_h264", spec: programSpec{video: unit.CodecH264, audio: unit.CodecPCMA, big: true},
		muxer: Muxer{MaxPESPayload: 1400, PackPerPES: true}, video: unit.CodecH264},
	{name: "all_quirks_h265", spec: programSpec{video: unit.CodecH265, audio: unit.CodecAAC, big: true, bframes: true},
		muxer: Muxer{NoPSM: true, VideoStreamType: StreamH264, PrivateStream: true, MaxPESPayload: 3000, PackPerPES: true},
		video: unit.CodecH265},
	{name: "all_quirks_zero_length_h265", spec: programSpec{video: unit.CodecH265, audio: unit.CodecPCMA, bframes: true},
		muxer: Muxer{VideoStreamType: StreamH264, PrivateStream: true, ZeroLengthVideoPES: true},
		video: unit.CodecH265},
	{name: "pts_wrap_h264_aac", spec: programSpec{video: unit.CodecH264, audio: unit.CodecAAC, start: 1<<33 - 90000},
		video: unit.CodecH264},
}

func TestRoundTrip(t *testing.T) {
	for _, c := range muxCases {
		t.Run(c.name, func(t *testing.T) {
			spec := c.spec
			spec.n = 110 // more than the clip: it loops, and past a key frame
			events := buildProgram(t, spec)
			m := c.muxer
			stream := mux(&m, events)
			for seed := range uint64(4) {
				col := demuxAll(t, stream, seed)
				if len(col.problems) > 0 {
					t.Errorf("problems: %q", col.problems)
				}
				expect(t, col.frames, events, c.video)
			}
		})
	}
}

// TestRoundTripWhole feeds each stream in one Write and byte by byte: the
// frames must not depend on how the stream is cut.
func TestRoundTripWhole(t *testing.T) {
	for _, c := range muxCases {
		t.Run(c.name, func(t *testing.T) {
			spec := c.spec
			spec.n = 30
			events := buildProgram(t, spec)
			m := c.muxer
			stream := mux(&m, events)

			whole := &collector{}
			d := whole.demuxer()
			d.Write(stream)
			d.Flush()
			expect(t, whole.frames, events, c.video)

			bytewise := &collector{}
			d = bytewise.demuxer()
			for i := range stream {
				d.Write(stream[i : i+1])
			}
			d.Flush()
			expect(t, bytewise.frames, events, c.video)
		})
	}
}

// TestPTSWrap checks the 33-bit wrap is undone into a rising timeline.
func TestPTSWrap(t *testing.T) {
	start := int64(1<<33 - 10*3600)
	events := buildProgram(t, programSpec{video: unit.CodecH264, audio: unit.CodecAAC, n: 40, start: start})
	stream := mux(&Muxer{}, events)
	col := demuxAll(t, stream, 7)
	expect(t, col.frames, events, unit.CodecH264)
	last := map[uint8]int64{}
	for _, f := range col.frames {
		if p, ok := last[f.StreamID]; ok && f.PTS <= p {
			t.Fatalf("stream %#x: PTS %d after %d", f.StreamID, f.PTS, p)
		}
		last[f.StreamID] = f.PTS
	}
	if last[VideoStreamID] < 1<<33 {
		t.Fatalf("video ends at PTS %d, before the wrap", last[VideoStreamID])
	}
}
