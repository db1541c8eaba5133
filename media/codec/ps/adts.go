package ps

import "github.com/nvr/nvr/media/unit"

// adtsSampleRates are the sampling frequencies by sampling_frequency_index
// (ISO/IEC 14496-3 1.6.3.4); 0 marks the reserved and escape values.
var adtsSampleRates = [16]int{
	96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050,
	16000, 12000, 11025, 8000, 7350, 0, 0, 0,
}

// adtsDuration reports whether b is a whole number of ADTS frames (ISO/IEC
// 14496-3 1.A.2) and, if so, how long they last in 90 kHz ticks. Checking
// every frame's length against the data, not only the sync word, is what
// keeps G.711 samples that happen to start with 0xFFF from passing for AAC.
func adtsDuration(b []byte) (ticks int64, ok bool) {
	if len(b) < 7 {
		return 0, false
	}
	for len(b) > 0 {
		if len(b) < 7 || b[0] != 0xFF || b[1]&0xF6 != 0xF0 { // syncword, layer 00
			return 0, false
		}
		rate := adtsSampleRates[b[2]>>2&0x0F]
		size := int(b[3]&0x03)<<11 | int(b[4])<<3 | int(b[5]>>5)
		hdr := 7
		if b[1]&1 == 0 { // protection_absent 0: a CRC follows
			hdr = 9
		}
		if rate == 0 || size < hdr || size > len(b) {
			return 0, false
		}
		blocks := int64(b[6]&0x03) + 1
		ticks += blocks * 1024 * 90000 / int64(rate)
		b = b[size:]
	}
	return ticks, true
}

// audioCodec decides the codec of one audio PES payload: ADTS is AAC
// whatever the map says; otherwise the map's type, where a map that is
// missing or declares something unexpected means G.711 A-law, the codec
// most GB28181 devices send. ok is false for codecs the media core does not
// carry.
func audioCodec(t StreamType, data []byte) (c unit.Codec, ticks int64, ok bool) {
	if d, isADTS := adtsDuration(data); isADTS {
		return unit.CodecAAC, d, true
	}
	g711 := int64(len(data)) * 90000 / 8000 // one byte per sample at 8 kHz
	switch t {
	case StreamAAC:
		return unit.CodecAAC, 0, true // not ADTS: passed on as sent
	case StreamG711U:
		return unit.CodecPCMU, g711, true
	case StreamG7221, StreamG7231, StreamG729, StreamSVACAu, 0x03, 0x04:
		return unit.CodecUnknown, 0, false // MPEG audio and other GB codecs
	}
	return unit.CodecPCMA, g711, true
}
