package flv

import "fmt"

// SoundFormat is the audio codec of an audio tag (E.4.2.1).
type SoundFormat uint8

// Sound formats the muxer writes.
const (
	SoundPCMA SoundFormat = 7  // G.711 A-law
	SoundPCMU SoundFormat = 8  // G.711 µ-law
	SoundAAC  SoundFormat = 10 // AAC
)

// SoundRate values (E.4.2.1). G.711 at 8 kHz has no code of its own: the
// format implies it and writers put 0 (FFmpeg's FLV_SAMPLERATE_SPECIAL).
const (
	SoundRate5k5 uint8 = 0
	SoundRate11k uint8 = 1
	SoundRate22k uint8 = 2
	SoundRate44k uint8 = 3
)

// AACPacketType values (E.4.2.2).
const (
	AACSequenceHeader uint8 = 0 // AudioSpecificConfig
	AACRaw            uint8 = 1 // one raw AAC frame
)

// AudioTag is the body of an audio tag, AUDIODATA (E.4.2.1).
type AudioTag struct {
	Format SoundFormat
	// Rate is the SoundRate code (2 bits).
	Rate uint8
	// Size16 is SoundSize: 16-bit samples when set, 8-bit otherwise.
	Size16 bool
	// Stereo is SoundType: stereo when set, mono otherwise.
	Stereo bool
	// PacketType is the AACPacketType (AAC only).
	PacketType uint8
	// Payload is the AudioSpecificConfig, the raw AAC frame or the samples.
	Payload []byte
}

// Append appends the tag body to b.
func (a *AudioTag) Append(b []byte) []byte {
	b0 := byte(a.Format&0x0f)<<4 | (a.Rate&0x03)<<2
	if a.Size16 {
		b0 |= 0x02
	}
	if a.Stereo {
		b0 |= 0x01
	}
	b = append(b, b0)
	if a.Format == SoundAAC {
		b = append(b, a.PacketType)
	}
	return append(b, a.Payload...)
}

// Unmarshal decodes an audio tag body. Payload aliases body.
func (a *AudioTag) Unmarshal(body []byte) error {
	*a = AudioTag{}
	if len(body) < 1 {
		return fmt.Errorf("audio: %w", ErrShortBody)
	}
	a.Format = SoundFormat(body[0] >> 4)
	a.Rate = body[0] >> 2 & 0x03
	a.Size16 = body[0]&0x02 != 0
	a.Stereo = body[0]&0x01 != 0
	pos := 1
	if a.Format == SoundAAC {
		if len(body) < 2 {
			return fmt.Errorf("AAC packet type: %w", ErrShortBody)
		}
		a.PacketType = body[1]
		pos++
	}
	a.Payload = body[pos:]
	return nil
}
