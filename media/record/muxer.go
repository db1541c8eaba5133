package record

import (
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"

	"github.com/nvr/nvr/media/codec/isobmff"
	"github.com/nvr/nvr/media/unit"
)

// errNoTracks is returned by newMuxer when no track can be recorded.
var errNoTracks = errors.New("no track can be recorded")

// muxer turns the units of one segment into an init segment (ftyp+moov) and
// fragments (moof+mdat). It stores the first video track (H.264, H.265) and
// the first audio track (AAC, G.711 as PCM) of the stream, video first.
//
// A sample's duration is the distance to the next sample of its track, so a
// fragment is completed by the unit after it: flushBefore(u) ends the
// fragment right before u with exact durations.
type muxer struct {
	tracks  []*track // indexed by the stream's track index; nil: not stored
	carried []*track // in track ID order
	video   *track
	ref     *track // timeline reference: the video track, else the audio one
	seq     uint32

	refStart uint64 // decode time of the segment's first reference sample
	started  bool
	fragRef  uint64 // decode time of the fragment's first reference sample
	inFrag   bool   // the fragment has a reference sample (done or pending)
}

// newMuxer sets up a segment for a stream whose tracks have these
// parameters, indexed like unit.Unit.Track.
func newMuxer(params []*unit.Params) (*muxer, error) {
	m := &muxer{tracks: make([]*track, len(params))}
	var audio *track
	var firstErr error
	for i, p := range params {
		if !recordable(p) {
			continue
		}
		isVideo := p.Codec.IsVideo()
		if isVideo && m.video != nil || !isVideo && audio != nil {
			continue
		}
		t, err := newTrack(p)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		m.tracks[i] = t
		if isVideo {
			m.video = t
		} else {
			audio = t
		}
	}
	if m.video != nil {
		m.carried = append(m.carried, m.video)
	}
	if audio != nil {
		m.carried = append(m.carried, audio)
	}
	if len(m.carried) == 0 {
		if firstErr != nil {
			return nil, errors.Join(errNoTracks, firstErr)
		}
		return nil, errNoTracks
	}
	for i, t := range m.carried {
		t.id = i + 1
	}
	m.ref = m.carried[0]
	return m, nil
}

// track returns the stored track of stream track i, or nil.
func (m *muxer) track(i int) *track {
	if i < 0 || i >= len(m.tracks) {
		return nil
	}
	return m.tracks[i]
}

// wouldStore reports whether a track with parameters p, not stored now,
// would be stored if the segment started again: a track appeared.
func (m *muxer) wouldStore(p *unit.Params) bool {
	if !recordable(p) {
		return false
	}
	if p.Codec.IsVideo() {
		return m.video == nil
	}
	for _, t := range m.carried {
		if !t.video {
			return false
		}
	}
	return true
}

// init returns the initialization segment.
func (m *muxer) init() ([]byte, error) {
	init := fmp4.Init{}
	for _, t := range m.carried {
		init.Tracks = append(init.Tracks, &fmp4.InitTrack{ID: t.id, TimeScale: t.timescale, Codec: t.codec})
	}
	var buf seekablebuffer.Buffer
	if err := init.Marshal(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// codecs returns the codec strings of the stored tracks, joined by commas.
func (m *muxer) codecs() string {
	s := make([]string, len(m.carried))
	for i, t := range m.carried {
		s[i] = t.str
	}
	return strings.Join(s, ",")
}

// add stores a unit of a stored track.
func (m *muxer) add(t *track, u *unit.Unit) {
	if t == m.ref {
		dts := isobmff.Ticks(u.DTS, t.timescale)
		if !m.started {
			m.refStart, m.started = dts, true
		}
		if !m.inFrag {
			m.fragRef, m.inFrag = dts, true
		}
	}
	t.add(u)
}

// mediaTime returns how far u is from the segment's first reference sample.
func (m *muxer) mediaTime(u *unit.Unit) time.Duration {
	if !m.started {
		return 0
	}
	return ticksToDuration(int64(isobmff.Ticks(u.DTS, m.ref.timescale))-int64(m.refStart), m.ref.timescale)
}

// fragmentAge returns how much reference media the fragment would hold if it
// ended before u.
func (m *muxer) fragmentAge(u *unit.Unit) time.Duration {
	if !m.inFrag {
		return 0
	}
	return ticksToDuration(int64(isobmff.Ticks(u.DTS, m.ref.timescale))-int64(m.fragRef), m.ref.timescale)
}

// fragmentBytes returns the payload bytes of the fragment so far.
func (m *muxer) fragmentBytes() int {
	n := 0
	for _, t := range m.carried {
		n += t.size
		if t.pending != nil {
			n += len(t.pending.Payload)
		}
	}
	return n
}

// flushBefore ends the fragment right before u, a unit of track t: t's
// pending sample lasts until u, the other tracks' last samples their own
// (audio) or their previous duration. It returns nil when the fragment is
// empty.
func (m *muxer) flushBefore(t *track, u *unit.Unit) (*fragment, error) {
	if t.pending != nil {
		dts := isobmff.Ticks(u.DTS, t.timescale)
		d := uint64(0)
		if dts > t.pending.dts {
			d = dts - t.pending.dts
		}
		t.complete(uint32(min(d, 1<<32-1)))
	}
	return m.flush()
}

// flush ends the fragment with every pending sample, guessing durations.
func (m *muxer) flush() (*fragment, error) {
	for _, t := range m.carried {
		t.finish()
	}
	return m.emit()
}

// emit marshals the completed samples of every track into a fragment.
func (m *muxer) emit() (*fragment, error) {
	part := fmp4.Part{}
	f := &fragment{}
	for i, t := range m.carried {
		if len(t.samples) == 0 {
			continue
		}
		part.Tracks = append(part.Tracks, &fmp4.PartTrack{ID: t.id, BaseTime: t.base, Samples: t.samples})
		r := run{track: i, base: t.base, samples: make([]sampleInfo, len(t.samples))}
		for j, s := range t.samples {
			r.samples[j] = sampleInfo{dur: s.Duration, size: uint32(len(s.Payload)), cts: s.PTSOffset, nonSync: s.IsNonSyncSample}
		}
		f.runs = append(f.runs, r)
		if t == m.ref {
			f.refBase, f.refEnd, f.hasRef = t.base, t.base+t.dur, true
			f.key = !t.samples[0].IsNonSyncSample
		}
	}
	m.inFrag = false
	if len(part.Tracks) == 0 {
		return nil, nil
	}
	m.seq++
	part.SequenceNumber = m.seq
	var buf seekablebuffer.Buffer
	err := part.Marshal(&buf)
	for _, t := range m.carried {
		t.reset()
	}
	if err != nil {
		return nil, err
	}
	f.data = buf.Bytes()
	// The runs' data follow each other in the mdat in track order, after the
	// moof and the mdat's 8-byte header.
	moofSize := int64(binary.BigEndian.Uint32(f.data))
	off := moofSize + 8
	f.moofSize = moofSize
	for i := range f.runs {
		f.runs[i].dataOff = off
		for _, s := range f.runs[i].samples {
			off += int64(s.size)
		}
	}
	if m.ref.pending != nil {
		// The next fragment starts with the reference sample still pending.
		m.fragRef, m.inFrag = m.ref.pending.dts, true
	}
	return f, nil
}

// fragment is one moof+mdat with what the index needs to know of it.
type fragment struct {
	data     []byte
	moofSize int64
	runs     []run // dataOff relative to the start of the fragment
	// refBase and refEnd bound the reference track's samples, in its ticks.
	refBase, refEnd uint64
	hasRef          bool
	key             bool // the reference track starts with a sync sample
}
