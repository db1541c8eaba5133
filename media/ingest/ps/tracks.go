package ps

import (
	"bytes"

	"github.com/nvr/nvr/media/codec/ps"
	"github.com/nvr/nvr/media/ingest/internal/au"
	"github.com/nvr/nvr/media/ingest/internal/problem"
	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/unit"
)

// Track indexes in the stream. Video is always track 0 and audio track 1,
// whichever comes first: a program stream declares no tracks up front.
const (
	videoTrack = 0
	audioTrack = 1
)

// tracks turns the frames of the program stream into units on a stream:
// it is the au.Sink of the session, on top of its stream.Publisher.
type tracks struct {
	st       *stream.Stream
	pub      *stream.Publisher
	problems *problem.Log
	cnt      *counters
	onUnit   func(*unit.Unit)
	demux    ps.Demuxer

	video *au.Video
	aac   *au.AAC
	g711  *au.G711
	nalus [][]byte // reused for splitting each video frame
}

func newTracks(st *stream.Stream, problems *problem.Log, cnt *counters, onUnit func(*unit.Unit)) *tracks {
	t := &tracks{st: st, pub: st.NewPublisher(), problems: problems, cnt: cnt, onUnit: onUnit}
	t.demux.OnFrame = t.frame
	t.demux.OnProblem = problems.Add
	return t
}

// frame handles a frame of the demuxer. Its data is only valid during the
// call: the tracks keep a copy.
func (t *tracks) frame(f ps.Frame) {
	t.cnt.frames.Add(1)
	switch f.Codec {
	case unit.CodecH264, unit.CodecH265:
		if t.video == nil || t.video.Codec != f.Codec {
			t.video = &au.Video{Track: videoTrack, Codec: f.Codec, Sink: t}
		}
		t.nalus = au.SplitAnnexB(t.nalus[:0], bytes.Clone(f.Data))
		t.video.WriteAUWithDTS(t.nalus, f.PTS, f.DTS)
		clear(t.nalus) // do not pin the frame until the next one
	case unit.CodecAAC:
		if t.aac == nil {
			t.aac = &au.AAC{Track: audioTrack, ClockRate: au.VideoClockRate, Sink: t}
			t.g711 = nil
		}
		t.aac.WriteADTS(bytes.Clone(f.Data), f.PTS)
	case unit.CodecPCMA, unit.CodecPCMU:
		if t.g711 == nil || t.g711.Params().Codec != f.Codec {
			t.g711 = &au.G711{Track: audioTrack, ClockRate: au.VideoClockRate, Sink: t}
			t.g711.SetFormat(f.Codec, au.G711SampleRate, 1)
			t.aac = nil
		}
		t.g711.Write(bytes.Clone(f.Data), f.PTS)
	}
}

// SetTrack implements au.Sink. Parameters equal to those the stream
// already has (a new session of the same camera) keep the stream's
// pointer, so that readers, which compare pointers, see no change.
func (t *tracks) SetTrack(i int, p *unit.Params) {
	if cur := t.st.Tracks(); i < len(cur) && cur[i].Equal(p) {
		p = cur[i]
	}
	t.pub.SetTrack(i, p)
}

// WriteUnit implements au.Sink.
func (t *tracks) WriteUnit(u *unit.Unit) {
	t.pub.Write(u)
	if t.onUnit != nil {
		t.onUnit(u)
	}
}

// Problem implements au.Sink.
func (t *tracks) Problem(what string, err error) { t.problems.Add(what, err) }
