package testsrc

import (
	"fmt"
	"strings"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/nvr/nvr/media/unit"
)

// Audio codec names used in AudioClip.Codec.
const (
	CodecAAC  = "AAC"
	CodecPCMA = "PCMA"
)

// G.711 framing: 20 ms packets are what cameras and RFC 3551 section 4.5
// (default packetization interval) use.
const (
	pcmaSampleRate      = 8000
	pcmaSamplesPerFrame = pcmaSampleRate * 20 / 1000
)

// AudioClip is an elementary-stream audio clip loaded into memory, ready to be
// replayed in a loop.
type AudioClip struct {
	// Codec is CodecAAC or CodecPCMA.
	Codec string
	// Config is the AAC AudioSpecificConfig (nil for PCMA).
	Config *mpeg4audio.AudioSpecificConfig
	// SampleRate is in Hz; it is also the RTP clock rate of both codecs.
	SampleRate int
	// Channels is the channel count.
	Channels int
	// Frames are AAC access units without ADTS header, or 160-byte (20 ms)
	// chunks of A-law samples.
	Frames [][]byte
	// SamplesPerFrame is 1024 for AAC and 160 for PCMA.
	SamplesPerFrame int
}

// Duration returns how long one pass of the clip lasts.
func (c *AudioClip) Duration() time.Duration {
	return time.Duration(len(c.Frames)*c.SamplesPerFrame) * time.Second / time.Duration(c.SampleRate)
}

// LoadAudio loads an embedded audio clip (ClipAAC, ClipPCMA).
// The codec is taken from the file extension.
func LoadAudio(name string) (*AudioClip, error) {
	var load func([]byte) (*AudioClip, error)
	switch {
	case strings.HasSuffix(name, ".adts"):
		load = loadADTS
	case strings.HasSuffix(name, ".alaw"):
		load = loadALaw
	default:
		return nil, fmt.Errorf("%w: %q is not an audio clip", ErrUnknownClip, name)
	}

	buf, err := readClip(name)
	if err != nil {
		return nil, err
	}
	c, err := load(buf)
	if err != nil {
		return nil, fmt.Errorf("clip %q: %w", name, err)
	}
	return c, nil
}

func loadADTS(buf []byte) (*AudioClip, error) {
	var pkts mpeg4audio.ADTSPackets
	if err := pkts.Unmarshal(buf); err != nil {
		return nil, err
	}
	if len(pkts) == 0 {
		return nil, ErrNoFrames
	}

	first := pkts[0]
	c := &AudioClip{
		Codec: CodecAAC,
		Config: &mpeg4audio.AudioSpecificConfig{
			Type:          first.Type,
			SampleRate:    first.SampleRate,
			ChannelConfig: first.ChannelConfig,
			// gortsplib v4.16.2 still reads the deprecated field to build the
			// SDP (format.MPEG4Audio.RTPMap), so fill both.
			ChannelCount: first.ChannelCount, //nolint:staticcheck
		},
		SampleRate:      first.SampleRate,
		Channels:        first.ChannelCount, //nolint:staticcheck // see above
		SamplesPerFrame: mpeg4audio.SamplesPerAccessUnit,
		Frames:          make([][]byte, len(pkts)),
	}
	for i, p := range pkts {
		if p.SampleRate != first.SampleRate || p.ChannelConfig != first.ChannelConfig || p.Type != first.Type {
			return nil, fmt.Errorf("ADTS packet %d changes the stream configuration", i)
		}
		c.Frames[i] = p.AU
	}
	return c, nil
}

func loadALaw(buf []byte) (*AudioClip, error) {
	// Whole frames only: a short last chunk would break the steady 20 ms pace.
	n := len(buf) / pcmaSamplesPerFrame
	if n == 0 {
		return nil, ErrNoFrames
	}
	c := &AudioClip{
		Codec:           CodecPCMA,
		SampleRate:      pcmaSampleRate,
		Channels:        1,
		SamplesPerFrame: pcmaSamplesPerFrame,
		Frames:          make([][]byte, n),
	}
	for i := range c.Frames {
		c.Frames[i] = buf[i*pcmaSamplesPerFrame : (i+1)*pcmaSamplesPerFrame : (i+1)*pcmaSamplesPerFrame]
	}
	return c, nil
}

// Params returns the clip's codec parameters as an ingest declares them.
func (c *AudioClip) Params() *unit.Params {
	p := &unit.Params{Codec: unit.CodecPCMA, SampleRate: c.SampleRate, Channels: c.Channels}
	if c.Codec == CodecAAC {
		conf, err := c.Config.Marshal()
		if err != nil {
			// The config was read from the clip's own ADTS headers.
			panic("testsrc: AAC clip with a config that does not marshal: " + err.Error())
		}
		p.Codec, p.AudioConfig = unit.CodecAAC, conf
	}
	return p
}
