package au

import (
	"errors"
	"fmt"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/nvr/nvr/media/unit"
)

// Errors reported by AAC.WriteADTS. The rest of the data is skipped, the
// track carries on with the next call.
var (
	// ErrADTSSync is reported when the data does not start with an ADTS
	// syncword where a frame should begin.
	ErrADTSSync = errors.New("ADTS: no syncword")
	// ErrADTSLength is reported for a frame length shorter than its header
	// or longer than the data.
	ErrADTSLength = errors.New("ADTS: bad frame length")
	// ErrADTSConfig is reported for a sample rate index or channel
	// configuration an AudioSpecificConfig cannot express without a
	// program config element.
	ErrADTSConfig = errors.New("ADTS: unsupported configuration")
	// ErrADTSBlocks is reported for an ADTS frame with several raw data
	// blocks, which cameras do not send and which cannot be split without
	// decoding.
	ErrADTSBlocks = errors.New("ADTS: several raw data blocks in a frame")
)

// adtsSampleRates is the sampling_frequency_index table (ISO/IEC 14496-3
// §1.6.3.4).
var adtsSampleRates = [...]int{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}

// adtsKey identifies the configuration an ADTS header describes.
type adtsKey struct {
	profile, rateIndex, channelConfig uint8
}

// AAC turns AAC access units into units, one unit per access unit. A track
// fed with ADTS (WriteADTS) declares its parameters from the ADTS header;
// one fed by RTP gets them from the SDP (SetConfig). An AAC is used by one
// goroutine.
type AAC struct {
	// Track is the index of the track in the stream.
	Track int
	// ClockRate is the clock of the pts given to WriteAUs and WriteADTS:
	// the sample rate for RTP (RFC 3640), 90000 for MPEG system streams.
	ClockRate int
	// Sink receives the units.
	Sink Sink

	params     *unit.Params
	sampleRate int
	auSamples  int // samples per access unit
	adts       adtsKey
	hasADTS    bool
}

// SetConfig declares the track from an AudioSpecificConfig (the SDP).
func (t *AAC) SetConfig(conf *mpeg4audio.AudioSpecificConfig) error {
	if conf.SampleRate <= 0 {
		return fmt.Errorf("AAC with sample rate %d", conf.SampleRate)
	}
	b, err := conf.Marshal()
	if err != nil {
		return fmt.Errorf("AAC config: %w", err)
	}
	ch := conf.ChannelCount //nolint:staticcheck // set by Unmarshal alongside ChannelConfig
	if ch == 0 {
		ch = channelsOf(conf.ChannelConfig)
	}
	t.auSamples = mpeg4audio.SamplesPerAccessUnit
	// ISO/IEC 14496-3 §4.5.1.1: frameLengthFlag selects 960-sample frames.
	if conf.FrameLengthFlag {
		t.auSamples = 960
	}
	t.declare(&unit.Params{Codec: unit.CodecAAC, AudioConfig: b, SampleRate: conf.SampleRate, Channels: ch})
	return nil
}

// Params returns the declared parameters, or nil.
func (t *AAC) Params() *unit.Params { return t.params }

func (t *AAC) declare(p *unit.Params) {
	t.params, t.sampleRate = p, p.SampleRate
	t.Sink.SetTrack(t.Track, p)
}

// WriteAUs publishes consecutive access units, the first presented at pts
// (ticks of ClockRate), each following one frame after the other (RFC 3640
// §3.2.3.1). The slices are kept.
func (t *AAC) WriteAUs(aus [][]byte, pts int64) {
	if t.params == nil {
		return
	}
	for i, au := range aus {
		at := t.at(pts, i)
		t.Sink.WriteUnit(&unit.Unit{Track: t.Track, PTS: at, DTS: at, Key: true, Data: [][]byte{au}})
	}
}

// at returns the time of the access unit i frames after one presented at
// pts (ticks of ClockRate).
func (t *AAC) at(pts int64, i int) time.Duration {
	if t.ClockRate == t.sampleRate {
		// The clock counts samples (RTP): add the frames in ticks and
		// round once, as the timestamp of the next packet will be.
		return Ticks(pts+int64(i*t.auSamples), t.ClockRate)
	}
	return Ticks(pts, t.ClockRate) + time.Duration(i*t.auSamples)*time.Second/time.Duration(t.sampleRate)
}

// WriteADTS publishes the ADTS frames in b, the first presented at pts
// (ticks of ClockRate), the others one frame apart. A change of the
// configuration in the headers declares new parameters. Sub-slices of b
// are kept.
func (t *AAC) WriteADTS(b []byte, pts int64) {
	for i := 0; len(b) > 0; i++ {
		key, hdr, size, err := parseADTS(b)
		if err != nil {
			t.Sink.Problem("AAC ADTS", err)
			return
		}
		if !t.hasADTS || key != t.adts {
			if err := t.declareADTS(key); err != nil {
				t.Sink.Problem("AAC ADTS", err)
				return
			}
		}
		at := t.at(pts, i)
		t.Sink.WriteUnit(&unit.Unit{Track: t.Track, PTS: at, DTS: at, Key: true, Data: [][]byte{b[hdr:size:size]}})
		b = b[size:]
	}
}

// declareADTS declares the parameters an ADTS header describes.
func (t *AAC) declareADTS(k adtsKey) error {
	if int(k.rateIndex) >= len(adtsSampleRates) || k.channelConfig == 0 {
		return fmt.Errorf("%w: sampling frequency index %d, channel configuration %d", ErrADTSConfig, k.rateIndex, k.channelConfig)
	}
	aot := k.profile + 1 // ISO/IEC 14496-3 §1.6.3.5: profile is the object type minus one
	// AudioSpecificConfig (§1.6.2.1) with a GASpecificConfig of zeros:
	// 5 bits object type, 4 bits frequency index, 4 bits channels, then
	// frameLengthFlag, dependsOnCoreCoder and extensionFlag.
	conf := []byte{aot<<3 | k.rateIndex>>1, k.rateIndex<<7 | k.channelConfig<<3}
	t.adts, t.hasADTS = k, true
	t.auSamples = mpeg4audio.SamplesPerAccessUnit
	t.declare(&unit.Params{
		Codec:       unit.CodecAAC,
		AudioConfig: conf,
		SampleRate:  adtsSampleRates[k.rateIndex],
		Channels:    channelsOf(k.channelConfig),
	})
	return nil
}

// channelsOf returns the channel count of a channel configuration
// (ISO/IEC 14496-3 table 1.19).
func channelsOf(config uint8) int {
	if config == 7 {
		return 8
	}
	return int(config)
}

// parseADTS reads the ADTS header at the start of b (ISO/IEC 14496-3
// §1.A.2.2): the configuration, the header size and the frame size.
func parseADTS(b []byte) (k adtsKey, hdr, size int, err error) {
	if len(b) < 7 || b[0] != 0xff || b[1]&0xf6 != 0xf0 { // syncword, layer 0
		return k, 0, 0, ErrADTSSync
	}
	hdr = 7
	if b[1]&0x01 == 0 { // protection_absent = 0: a CRC follows
		hdr = 9
	}
	k = adtsKey{
		profile:       b[2] >> 6,
		rateIndex:     (b[2] >> 2) & 0x0f,
		channelConfig: (b[2]&0x01)<<2 | b[3]>>6,
	}
	size = int(b[3]&0x03)<<11 | int(b[4])<<3 | int(b[5])>>5
	if size <= hdr || size > len(b) {
		return k, 0, 0, fmt.Errorf("%w: %d of %d bytes", ErrADTSLength, size, len(b))
	}
	if b[6]&0x03 != 0 {
		return k, 0, 0, ErrADTSBlocks
	}
	return k, hdr, size, nil
}
