package au

import (
	"github.com/nvr/nvr/media/unit"
)

// G711SampleRate is the G.711 rate when nothing says otherwise (RFC 3551
// §4.5.14; GB/T 28181 devices always use it).
const G711SampleRate = 8000

// G711 turns runs of G.711 samples into units, one unit per run. A G711 is
// used by one goroutine.
type G711 struct {
	// Track is the index of the track in the stream.
	Track int
	// ClockRate is the clock of the pts given to Write: the sample rate
	// for RTP, 90000 for MPEG system streams.
	ClockRate int
	// Sink receives the units.
	Sink Sink

	params *unit.Params
}

// SetFormat declares the track: codec is unit.CodecPCMA or unit.CodecPCMU;
// a sample rate or channel count of 0 means 8000 Hz mono.
func (t *G711) SetFormat(codec unit.Codec, sampleRate, channels int) {
	if sampleRate <= 0 {
		sampleRate = G711SampleRate
	}
	if channels <= 0 {
		channels = 1
	}
	p := &unit.Params{Codec: codec, SampleRate: sampleRate, Channels: channels}
	if t.params.Equal(p) {
		return
	}
	t.params = p
	t.Sink.SetTrack(t.Track, p)
}

// Params returns the declared parameters, or nil.
func (t *G711) Params() *unit.Params { return t.params }

// Write publishes samples presented at pts (ticks of ClockRate). The slice
// is kept.
func (t *G711) Write(samples []byte, pts int64) {
	if t.params == nil || len(samples) == 0 {
		return
	}
	at := Ticks(pts, t.ClockRate)
	t.Sink.WriteUnit(&unit.Unit{Track: t.Track, PTS: at, DTS: at, Key: true, Data: [][]byte{samples}})
}
