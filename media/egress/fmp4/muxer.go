package fmp4

import (
	"errors"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"

	"github.com/nvr/nvr/media/codec/isobmff"
	"github.com/nvr/nvr/media/unit"
)

// Errors returned by Muxer.
var (
	// ErrParamsChanged is returned by Write, which did not take the unit,
	// when the unit's codec parameters differ from those of the init segment
	// (or it belongs to a track the muxer could now carry). The caller
	// calls Flush, then ResetWith(u), sends the new init segment, and writes
	// the unit again.
	ErrParamsChanged = errors.New("codec parameters changed")
	// ErrNoTracks is returned by Init when no track can be carried: the
	// stream holds only codecs fMP4 for browsers cannot take (G.711) or
	// parameters that are not complete yet.
	ErrNoTracks = errors.New("no track can be carried in fMP4")
)

// maxAudioAhead bounds how much audio waits for the next video frame. When
// video stalls (a camera that keeps sending audio), audio goes out alone
// instead of piling up.
const maxAudioAhead = 500 * time.Millisecond

// Default sample durations, used for the last sample of a track when Flush
// cannot know the real one and no earlier sample gave a hint.
const (
	defaultVideoDuration = videoTimescale / 25             // one frame at 25 fps
	defaultAudioDuration = mpeg4audio.SamplesPerAccessUnit // one AAC access unit
)

// Muxer turns the units of a stream into fragmented MP4: Init gives the
// initialization segment, Write a media fragment (moof+mdat) for each video
// frame with the audio that arrived since. It carries the first video track
// (H.264 or H.265) and the first AAC track; other tracks are ignored.
//
// A sample's duration is only known when the next sample of its track
// arrives, so samples leave the muxer one sample late; Flush emits what is
// left, guessing the last durations. Decode times are the units' stream DTS,
// so fragments of one stream line up across Reset.
//
// The fragment Write returns for a video keyframe ends right before that
// keyframe, with exact durations: a recorder cuts files there (write the
// fragment to the old file, then Init to the new one) without Flush.
//
// A Muxer is used by one goroutine.
type Muxer struct {
	tracks  []*muxerTrack // indexed by the stream's track index
	carried []*muxerTrack // carried tracks, in track ID order
	video   *muxerTrack
	err     error // why a track could not be set up, for Init
	seq     uint32
}

// muxerTrack is one track of the stream, carried or not.
type muxerTrack struct {
	params  *unit.Params
	id      int         // mp4 track ID; 0: not carried
	codec   *trackCodec // nil when not carried
	pending *sample     // the newest sample, waiting for its duration
	ready   []*fmp4.Sample
	base    uint64 // decode time of ready[0]
	readyD  uint64 // total duration of ready
	lastDur uint32
}

// sample is a sample whose duration is not known yet.
type sample struct {
	fmp4.Sample
	dts uint64
}

// NewMuxer returns a muxer for a stream whose tracks have these parameters,
// indexed like unit.Unit.Track. A nil entry is a track not declared yet.
func NewMuxer(tracks []*unit.Params) *Muxer {
	m := &Muxer{}
	m.Reset(tracks)
	return m
}

// Reset starts over with new track parameters: the next Init describes them.
// Samples still pending are dropped (call Flush first to keep them); the
// fragment sequence number keeps rising.
func (m *Muxer) Reset(tracks []*unit.Params) {
	m.tracks = make([]*muxerTrack, len(tracks))
	m.carried = nil
	m.video = nil
	m.err = nil
	var audio *muxerTrack
	for i, p := range tracks {
		t := &muxerTrack{params: p}
		m.tracks[i] = t
		if !Supported(p) || !p.Ready() {
			continue
		}
		isVideo := p.Codec.IsVideo()
		if isVideo && m.video != nil || !isVideo && audio != nil {
			continue
		}
		c, err := newTrackCodec(p)
		if err != nil {
			m.err = err
			continue
		}
		t.codec = c
		if isVideo {
			m.video = t
		} else {
			audio = t
		}
	}
	// Video first: players pick the first track, and some tools assume it.
	if m.video != nil {
		m.carried = append(m.carried, m.video)
	}
	if audio != nil {
		m.carried = append(m.carried, audio)
	}
	for i, t := range m.carried {
		t.id = i + 1
	}
}

// ResetWith is Reset with the current tracks, except that u's track takes
// u's parameters. It is the answer to ErrParamsChanged.
func (m *Muxer) ResetWith(u *unit.Unit) {
	tracks := m.Tracks()
	for len(tracks) <= u.Track {
		tracks = append(tracks, nil)
	}
	tracks[u.Track] = u.Params
	m.Reset(tracks)
}

// Tracks returns the parameters the muxer was set up with, indexed by track.
func (m *Muxer) Tracks() []*unit.Params {
	out := make([]*unit.Params, len(m.tracks))
	for i, t := range m.tracks {
		out[i] = t.params
	}
	return out
}

// Carried returns the parameters of the tracks in the init segment, in
// track ID order.
func (m *Muxer) Carried() []*unit.Params {
	out := make([]*unit.Params, len(m.carried))
	for i, t := range m.carried {
		out[i] = t.params
	}
	return out
}

// MIME returns the MIME type of the output with its RFC 6381 codecs
// parameter, e.g. `video/mp4; codecs="avc1.4d401e,mp4a.40.2"`, as
// MediaSource.addSourceBuffer wants it.
func (m *Muxer) MIME() string {
	codecs := make([]string, 0, len(m.carried))
	for _, t := range m.carried {
		codecs = append(codecs, t.codec.str)
	}
	return mimeType(m.video != nil, codecs)
}

// Init returns the initialization segment (ftyp+moov). It returns
// ErrNoTracks, wrapping the reason when a track's parameters could not be
// parsed, when there is nothing to carry.
func (m *Muxer) Init() ([]byte, error) {
	if len(m.carried) == 0 {
		if m.err != nil {
			return nil, errors.Join(ErrNoTracks, m.err)
		}
		return nil, ErrNoTracks
	}
	init := fmp4.Init{}
	for _, t := range m.carried {
		init.Tracks = append(init.Tracks, &fmp4.InitTrack{
			ID:        t.id,
			TimeScale: t.codec.timescale,
			Codec:     t.codec.codec,
		})
	}
	var buf seekablebuffer.Buffer
	if err := init.Marshal(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Write adds a unit and returns a fragment when one is complete, else nil.
// Units of tracks that are not carried are ignored. It returns
// ErrParamsChanged, without taking the unit, when the unit needs a new init
// segment.
func (m *Muxer) Write(u *unit.Unit) ([]byte, error) {
	if u.Track < 0 {
		return nil, nil
	}
	if u.Track >= len(m.tracks) {
		// A track declared after the muxer was made.
		if m.wouldCarry(u.Params) {
			return nil, ErrParamsChanged
		}
		return nil, nil
	}
	t := m.tracks[u.Track]
	if t.params != u.Params {
		switch {
		case t.params.Equal(u.Params):
			// A publisher restart with the same codec: nothing to announce.
			t.params = u.Params
		case t.codec != nil || m.wouldCarry(u.Params):
			return nil, ErrParamsChanged
		default:
			t.params = u.Params
		}
	}
	if t.codec == nil || len(u.Data) == 0 {
		return nil, nil
	}

	if t == m.video {
		s := &sample{dts: isobmff.Ticks(u.DTS, t.codec.timescale)}
		s.PTSOffset = int32(isobmff.Ticks(u.PTS, t.codec.timescale) - s.dts)
		s.IsNonSyncSample = !u.Key
		s.Payload = isobmff.AVCC(u.Data)
		t.push(s)
		return m.emit()
	}

	// AAC: each entry of Data is one access unit of 1024 samples.
	dts := isobmff.Ticks(u.DTS, t.codec.timescale)
	for i, au := range u.Data {
		s := &sample{dts: dts + uint64(i)*mpeg4audio.SamplesPerAccessUnit}
		s.Payload = au
		t.push(s)
	}
	if m.video == nil || t.readyD >= isobmff.Ticks(maxAudioAhead, t.codec.timescale) {
		return m.emit()
	}
	return nil, nil
}

// Flush completes the pending samples, guessing each last duration from the
// one before, and returns the fragment holding them (nil if none). Use it
// before Reset and at the end of a recording segment.
func (m *Muxer) Flush() ([]byte, error) {
	for _, t := range m.carried {
		if t.pending == nil {
			continue
		}
		d := t.lastDur
		if d == 0 {
			d = defaultAudioDuration
			if t == m.video {
				d = defaultVideoDuration
			}
		}
		t.complete(d)
	}
	return m.emit()
}

// wouldCarry reports whether a track with parameters p would be in the init
// segment if the muxer were set up again.
func (m *Muxer) wouldCarry(p *unit.Params) bool {
	if !Supported(p) || !p.Ready() {
		return false
	}
	if p.Codec.IsVideo() {
		return m.video == nil
	}
	for _, t := range m.carried {
		if t != m.video {
			return false
		}
	}
	return true
}

// emit marshals the ready samples of every track into one fragment.
func (m *Muxer) emit() ([]byte, error) {
	part := fmp4.Part{}
	for _, t := range m.carried {
		if len(t.ready) == 0 {
			continue
		}
		part.Tracks = append(part.Tracks, &fmp4.PartTrack{
			ID:       t.id,
			BaseTime: t.base,
			Samples:  t.ready,
		})
	}
	if len(part.Tracks) == 0 {
		return nil, nil
	}
	m.seq++
	part.SequenceNumber = m.seq
	var buf seekablebuffer.Buffer
	err := part.Marshal(&buf)
	for _, t := range m.carried {
		t.ready, t.readyD = nil, 0
	}
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// push makes s the pending sample, completing the previous one with the
// distance between the two.
func (t *muxerTrack) push(s *sample) {
	if t.pending != nil {
		if s.dts < t.pending.dts {
			// Decode times never go back in fMP4; the stream already
			// smooths jumps, so this is at most rounding.
			s.dts = t.pending.dts
		}
		t.complete(uint32(min(s.dts-t.pending.dts, 1<<32-1)))
	}
	t.pending = s
}

// complete moves the pending sample to the ready list with duration d.
func (t *muxerTrack) complete(d uint32) {
	p := t.pending
	t.pending = nil
	p.Duration = d
	if d > 0 {
		t.lastDur = d
	}
	if len(t.ready) == 0 {
		t.base = p.dts
	}
	t.ready = append(t.ready, &p.Sample)
	t.readyD += uint64(d)
}
