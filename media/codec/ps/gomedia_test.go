package ps

import (
	"testing"

	mpeg2 "github.com/yapingcat/gomedia/go-mpeg2"

	"github.com/nvr/nvr/media/unit"
)

// gomediaAUD is what gomedia's muxer puts before an access unit that has no
// AUD (go-mpeg2 pes-proto.go).
var gomediaAUD = map[unit.Codec][]byte{
	unit.CodecH264: {0, 0, 0, 1, 0x09, 0xF0},
	unit.CodecH265: {0, 0, 0, 1, 0x46, 0x01, 0x50},
}

// muxGomedia writes the events with gomedia's PS muxer, an independent
// implementation, and returns the stream and the frames a Demuxer must
// return: gomedia counts time in milliseconds, adds an AUD to each picture
// and repeats the PTS in every PES of a picture split at 64 KiB.
func muxGomedia(t testing.TB, spec programSpec, events []event) (stream []byte, want []event) {
	t.Helper()
	stream, want, _ = muxGomediaOffsets(t, spec, events)
	return stream, want
}

// muxGomediaOffsets is muxGomedia that also returns where each event's
// bytes start.
func muxGomediaOffsets(t testing.TB, spec programSpec, events []event) (stream []byte, want []event, starts []int) {
	t.Helper()
	m := mpeg2.NewPsMuxer()
	m.OnPacket = func(p []byte) { stream = append(stream, p...) }
	vt := map[unit.Codec]mpeg2.PS_STREAM_TYPE{unit.CodecH264: mpeg2.PS_STREAM_H264, unit.CodecH265: mpeg2.PS_STREAM_H265}
	at := map[unit.Codec]mpeg2.PS_STREAM_TYPE{unit.CodecAAC: mpeg2.PS_STREAM_AAC, unit.CodecPCMA: mpeg2.PS_STREAM_G711A, unit.CodecPCMU: mpeg2.PS_STREAM_G711U}
	vid := m.AddStream(vt[spec.video])
	aid := m.AddStream(at[spec.audio])
	for _, e := range events {
		// buildProgram times are in 90 kHz ticks; spec.start and the frame
		// durations are chosen as whole milliseconds.
		ms := uint64(e.pts / 90)
		e.pts, e.dts = int64(ms)*90, int64(ms)*90
		sid := aid
		if e.video {
			sid = vid
		}
		starts = append(starts, len(stream))
		if err := m.Write(sid, e.data, ms, ms); err != nil {
			t.Fatal(err)
		}
		if e.video {
			e.data = append(append([]byte{}, gomediaAUD[spec.video]...), e.data...)
		}
		want = append(want, e)
	}
	return stream, want, starts
}

// TestGomediaCrossCheck demuxes what gomedia's muxer writes.
func TestGomediaCrossCheck(t *testing.T) {
	for _, spec := range []programSpec{
		{video: unit.CodecH264, audio: unit.CodecPCMA, n: 110, start: 90 * 1000},
		{video: unit.CodecH265, audio: unit.CodecAAC, n: 110, start: 90 * 1000, big: true},
		{video: unit.CodecH264, audio: unit.CodecAAC, n: 60, start: 90 * 1000, big: true},
	} {
		t.Run(spec.video.String()+"_"+spec.audio.String(), func(t *testing.T) {
			stream, want := muxGomedia(t, spec, buildProgram(t, spec))
			for seed := range uint64(3) {
				col := demuxAll(t, stream, seed)
				if len(col.problems) > 0 {
					t.Errorf("problems: %q", col.problems)
				}
				expect(t, col.frames, want, spec.video)
			}
		})
	}
}
