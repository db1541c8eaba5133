package testsrc

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/pion/rtp"
)

// Payload types of the published formats. 96/97 are dynamic (RFC 3551
// section 6); PCMA has the static type 8.
const (
	videoPayloadType = 96
	aacPayloadType   = 97
	pcmaPayloadType  = 8
)

// videoClockRate is the RTP clock of H.264 (RFC 6184 section 8.2.1) and H.265
// (RFC 7798 section 7.1).
const videoClockRate = 90000

// maxLag is how late the pacer may fall before it skips frames instead of
// bursting them out to catch up. Shorter stalls (a loaded CI machine running
// -race) are caught up, so readers see no gap in the timestamps; longer ones
// (a debugger, a suspended laptop) are skipped, as a camera would.
const maxLag = 10 * time.Second

// errLogInterval limits how often per-packet write errors are logged.
const errLogInterval = 5 * time.Second

// feed is a pair of clips published at one or more paths. Its timeline starts
// at start and never restarts: frame i of a track is due at start+at(i), also
// across Server.Restart, so timestamps keep following the wall clock.
type feed struct {
	paths []string
	video *VideoClip
	audio *AudioClip
	start time.Time

	// RTP timestamps of frame 0. Random like a camera's (RFC 3550 section
	// 5.1), but below 2^31 so they do not wrap for hours, which keeps tests
	// that compare raw timestamps simple.
	videoTS0, audioTS0 uint32
}

func newFeed(paths []string, video *VideoClip, audio *AudioClip) (*feed, error) {
	if video != nil && (len(video.Frames) == 0 || video.FPS <= 0) {
		return nil, fmt.Errorf("video clip: %w", ErrNoFrames)
	}
	if audio != nil && (len(audio.Frames) == 0 || audio.SampleRate <= 0 || audio.SamplesPerFrame <= 0) {
		return nil, fmt.Errorf("audio clip: %w", ErrNoFrames)
	}
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, err
	}
	return &feed{
		paths:    paths,
		video:    video,
		audio:    audio,
		start:    time.Now(),
		videoTS0: binary.BigEndian.Uint32(rnd[0:4]) >> 1,
		audioTS0: binary.BigEndian.Uint32(rnd[4:8]) >> 1,
	}, nil
}

// pathStream is one path's ServerStream and its medias.
type pathStream struct {
	path         string
	stream       *gortsplib.ServerStream
	video, audio *description.Media
}

// newStreams creates one ServerStream per path on srv. Each gets its own
// description, since ServerStream indexes medias by pointer.
func (f *feed) newStreams(srv *gortsplib.Server) ([]pathStream, error) {
	out := make([]pathStream, 0, len(f.paths))
	for _, p := range f.paths {
		ps := pathStream{path: p}
		desc := &description.Session{}
		if f.video != nil {
			ps.video = &description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{videoFormat(f.video)}}
			desc.Medias = append(desc.Medias, ps.video)
		}
		if f.audio != nil {
			forma, err := audioFormat(f.audio)
			if err != nil {
				closeStreams(out)
				return nil, err
			}
			ps.audio = &description.Media{Type: description.MediaTypeAudio, Formats: []format.Format{forma}}
			desc.Medias = append(desc.Medias, ps.audio)
		}
		ps.stream = &gortsplib.ServerStream{Server: srv, Desc: desc}
		if err := ps.stream.Initialize(); err != nil {
			closeStreams(out)
			return nil, err
		}
		out = append(out, ps)
	}
	return out, nil
}

func closeStreams(streams []pathStream) {
	for _, ps := range streams {
		ps.stream.Close()
	}
}

func videoFormat(c *VideoClip) format.Format {
	if c.Codec == CodecH265 {
		return &format.H265{PayloadTyp: videoPayloadType, VPS: c.VPS, SPS: c.SPS, PPS: c.PPS}
	}
	return &format.H264{PayloadTyp: videoPayloadType, SPS: c.SPS, PPS: c.PPS, PacketizationMode: 1}
}

func audioFormat(c *AudioClip) (format.Format, error) {
	switch c.Codec {
	case CodecAAC:
		// RFC 3640 section 3.3.6 (AAC-hbr) sizes.
		return &format.MPEG4Audio{
			PayloadTyp:       aacPayloadType,
			Config:           c.Config,
			SizeLength:       13,
			IndexLength:      3,
			IndexDeltaLength: 3,
		}, nil
	case CodecPCMA:
		return &format.G711{PayloadTyp: pcmaPayloadType, MULaw: false, SampleRate: c.SampleRate, ChannelCount: c.Channels}, nil
	}
	return nil, fmt.Errorf("unsupported audio codec %q", c.Codec)
}

// pacedTrack is one track of a running feed: what to send and when.
type pacedTrack struct {
	clockRate int64
	// frame i has PTS i*ptsNum/ptsDen in clock units.
	ptsNum, ptsDen int64
	ts0            uint32
	frames         int
	encode         func(j int) ([]*rtp.Packet, error)
	media          func(ps *pathStream) *description.Media
	next           int64 // global index of the next frame to send
}

func (t *pacedTrack) pts(i int64) int64 {
	return i * t.ptsNum / t.ptsDen
}

// at returns when frame i is due, relative to the feed start.
func (t *pacedTrack) at(i int64) time.Duration {
	p := t.pts(i)
	return time.Duration(p/t.clockRate)*time.Second + time.Duration(p%t.clockRate)*time.Second/time.Duration(t.clockRate)
}

// indexAt returns the first frame due at or after elapsed.
func (t *pacedTrack) indexAt(elapsed time.Duration) int64 {
	i := max(int64(math.Ceil(elapsed.Seconds()*float64(t.clockRate*t.ptsDen)/float64(t.ptsNum))), 0)
	for i > 0 && t.at(i-1) >= elapsed {
		i--
	}
	for t.at(i) < elapsed {
		i++
	}
	return i
}

// newTracks builds the encoders from the first stream's formats; every path
// of the feed has the same formats, so packets are built once for all.
func (f *feed) newTracks(first *pathStream) ([]*pacedTrack, error) {
	var tracks []*pacedTrack
	if f.video != nil {
		t := &pacedTrack{
			clockRate: videoClockRate,
			ptsNum:    videoClockRate,
			ptsDen:    int64(f.video.FPS),
			ts0:       f.videoTS0,
			frames:    len(f.video.Frames),
			media:     func(ps *pathStream) *description.Media { return ps.video },
		}
		switch forma := first.video.Formats[0].(type) {
		case *format.H264:
			enc, err := forma.CreateEncoder()
			if err != nil {
				return nil, err
			}
			t.encode = func(j int) ([]*rtp.Packet, error) { return enc.Encode(f.video.Frames[j].NALUs) }
		case *format.H265:
			enc, err := forma.CreateEncoder()
			if err != nil {
				return nil, err
			}
			t.encode = func(j int) ([]*rtp.Packet, error) { return enc.Encode(f.video.Frames[j].NALUs) }
		}
		tracks = append(tracks, t)
	}
	if f.audio != nil {
		t := &pacedTrack{
			clockRate: int64(f.audio.SampleRate),
			ptsNum:    int64(f.audio.SamplesPerFrame),
			ptsDen:    1,
			ts0:       f.audioTS0,
			frames:    len(f.audio.Frames),
			media:     func(ps *pathStream) *description.Media { return ps.audio },
		}
		switch forma := first.audio.Formats[0].(type) {
		case *format.MPEG4Audio:
			enc, err := forma.CreateEncoder()
			if err != nil {
				return nil, err
			}
			t.encode = func(j int) ([]*rtp.Packet, error) { return enc.Encode([][]byte{f.audio.Frames[j]}) }
		case *format.G711:
			enc, err := forma.CreateEncoder()
			if err != nil {
				return nil, err
			}
			t.encode = func(j int) ([]*rtp.Packet, error) { return enc.Encode(f.audio.Frames[j]) }
		}
		tracks = append(tracks, t)
	}
	return tracks, nil
}

// run paces the feed into streams until ctx is done.
func (f *feed) run(ctx context.Context, streams []pathStream, logger *slog.Logger) {
	log := logger.With("stream", strings.Join(f.paths, ","))
	tracks, err := f.newTracks(&streams[0])
	if err != nil {
		log.Error("cannot create RTP encoder", "error", err)
		return
	}

	elapsed := time.Since(f.start)
	for _, t := range tracks {
		t.next = t.indexAt(elapsed)
	}

	var errs errorLimiter
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()

	for {
		t := tracks[0]
		for _, o := range tracks[1:] {
			if o.at(o.next) < t.at(t.next) {
				t = o
			}
		}

		due := t.at(t.next)
		if wait := due - time.Since(f.start); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			return
		} else if -wait > maxLag {
			skipTo := t.indexAt(time.Since(f.start))
			log.Warn("pacer fell behind, skipping frames", "late", -wait, "frames", skipTo-t.next)
			t.next = skipTo
			continue
		}

		if err := f.send(t, streams, due); err != nil {
			errs.log(log, err)
		}
		t.next++
	}
}

// send writes frame t.next to every stream. Loop n of the clip has
// timestamps shifted by n clip durations, because the PTS comes from the
// global frame index.
func (f *feed) send(t *pacedTrack, streams []pathStream, due time.Duration) error {
	pkts, err := t.encode(int(t.next % int64(t.frames)))
	if err != nil {
		return err
	}
	ts := t.ts0 + uint32(t.pts(t.next))
	for _, pkt := range pkts {
		// Encoders number samples from 0 within the call.
		pkt.Timestamp += ts
	}
	ntp := f.start.Add(due)

	var firstErr error
	for i := range streams {
		ps := &streams[i]
		medi := t.media(ps)
		for _, pkt := range pkts {
			// WritePacketRTPWithNTP sets the SSRC of its stream on pkt and
			// serializes it before returning, so reusing pkt is safe.
			if err := ps.stream.WritePacketRTPWithNTP(medi, pkt, ntp); err != nil && firstErr == nil {
				firstErr = fmt.Errorf("%s: %w", ps.path, err)
			}
		}
	}
	return firstErr
}

// errorLimiter logs repeated per-packet errors at most once per
// errLogInterval, with the count of those it held back.
type errorLimiter struct {
	last       time.Time
	suppressed int
}

func (l *errorLimiter) log(logger *slog.Logger, err error) {
	if now := time.Now(); now.Sub(l.last) >= errLogInterval {
		logger.Warn("cannot write packet", "error", err, "suppressed", l.suppressed)
		l.last = now
		l.suppressed = 0
		return
	}
	l.suppressed++
}
