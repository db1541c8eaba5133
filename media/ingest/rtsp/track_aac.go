package rtsp

import (
	"errors"
	"fmt"

	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtpmpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/pion/rtp"

	"github.com/nvr/nvr/media/unit"
)

// aacTrack decodes MPEG-4 audio RTP (RFC 3640, AAC-hbr) into one unit per
// access unit.
type aacTrack struct {
	index     int
	out       sink
	dec       *rtpmpeg4audio.Decoder
	clockRate int
	auTicks   int64 // samples per access unit, in clock ticks
}

func newAACTrack(index int, f *format.MPEG4Audio, out sink) (*aacTrack, error) {
	if f.Config == nil {
		return nil, errors.New("AAC without AudioSpecificConfig")
	}
	conf, err := f.Config.Marshal()
	if err != nil {
		return nil, fmt.Errorf("AAC config: %w", err)
	}
	if f.ClockRate() <= 0 {
		return nil, fmt.Errorf("AAC with sample rate %d", f.ClockRate())
	}
	dec, err := f.CreateDecoder()
	if err != nil {
		return nil, err
	}
	t := &aacTrack{
		index:     index,
		out:       out,
		dec:       dec,
		clockRate: f.ClockRate(),
		auTicks:   mpeg4audio.SamplesPerAccessUnit,
	}
	// ISO/IEC 14496-3 §4.5.1.1: frameLengthFlag selects 960-sample frames.
	if f.Config.FrameLengthFlag {
		t.auTicks = 960
	}
	out.setTrack(index, &unit.Params{
		Codec:       unit.CodecAAC,
		AudioConfig: conf,
		SampleRate:  f.Config.SampleRate,
		Channels:    f.Config.ChannelCount,
	})
	return t, nil
}

func (t *aacTrack) handle(pkt *rtp.Packet, pts int64) {
	aus, err := t.dec.Decode(pkt)
	if err != nil {
		if !errors.Is(err, rtpmpeg4audio.ErrMorePacketsNeeded) {
			t.out.problem("AAC RTP decode", err)
		}
		return
	}
	// The RTP timestamp is the one of the first AU of the packet; the
	// following ones are one frame apart (RFC 3640 §3.2.3.1).
	for i, au := range aus {
		at := ticks(pts+int64(i)*t.auTicks, t.clockRate)
		t.out.write(&unit.Unit{
			Track: t.index,
			PTS:   at,
			DTS:   at,
			Key:   true,
			Data:  [][]byte{au},
		})
	}
}
