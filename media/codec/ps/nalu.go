package ps

import "github.com/nvr/nvr/media/unit"

// Telling H.264 from H.265 by NAL unit headers. The program stream map is
// missing or wrong often enough (H.265 declared as 0x1B) that the Demuxer
// trusts the data first. An H.264 header is one byte, forbidden_zero_bit,
// nal_ref_idc (2), nal_unit_type (5) (ISO/IEC 14496-10 7.3.1); an H.265
// header is two, forbidden_zero_bit, nal_unit_type (6), nuh_layer_id (6),
// nuh_temporal_id_plus1 (3) (ISO/IEC 23008-2 7.3.1.2).
//
// Cameras send a single layer, so in H.265 the first byte is even (the low
// bit is the top bit of nuh_layer_id) and the second is 1..7. The H.264
// types that mark a stream (slices 1 and 5, SPS 7, AUD 9) all make the first
// byte odd. The few even H.264 headers (SEI 6, PPS 8) are decided by the
// second byte, or left undecided when it could be either.

// nalEvidence returns the codec a NAL unit header proves, or CodecUnknown.
// b1 is the second header byte when has1.
func nalEvidence(b0, b1 byte, has1 bool) unit.Codec {
	if b0&0x80 != 0 {
		return unit.CodecUnknown // forbidden_zero_bit: not a NAL unit
	}
	if b0&1 == 1 {
		switch b0 & 0x1F {
		case 1, 5, 7, 9: // non-IDR slice, IDR slice, SPS, AUD
			return unit.CodecH264
		}
		return unit.CodecUnknown
	}
	if !has1 {
		return unit.CodecUnknown
	}
	if b1 >= 1 && b1 <= 7 {
		switch t := b0 >> 1; {
		case t <= 1, // TRAIL_N, TRAIL_R
			t >= 16 && t <= 21, // BLA, IDR, CRA
			t >= 32 && t <= 35, // VPS, SPS, PPS, AUD
			t == 39 || t == 40: // SEI
			return unit.CodecH265
		}
		return unit.CodecUnknown
	}
	if b0&0x1F == 8 && b0&0x60 != 0 {
		// A PPS: pic_parameter_set_id and seq_parameter_set_id open with
		// Exp-Golomb codes, so b1 is 1..7 only for ids of 31 and more.
		return unit.CodecH264
	}
	return unit.CodecUnknown
}

// nalKind classifies a NAL unit header of codec c: whether it is a coded
// slice (VCL) and whether it is a random access point.
func nalKind(c unit.Codec, b0 byte) (vcl, key bool) {
	switch c {
	case unit.CodecH264:
		t := b0 & 0x1F
		return t >= 1 && t <= 5, t == 5
	case unit.CodecH265:
		t := b0 >> 1 & 0x3F
		return t < 32, t >= 16 && t <= 23 // IRAP: BLA, IDR, CRA
	}
	return false, false
}

// startsAccessUnit reports whether b, the first bytes of a PES payload,
// opens with a start code and a NAL unit that begins a new access unit when
// it follows a coded slice (ISO/IEC 14496-10 7.4.1.2.3, ISO/IEC 23008-2
// 7.4.2.4.4): an AUD, a parameter set, a prefix SEI, or the first slice of a
// picture. A PES that continues a picture after a slice boundary opens with
// a slice whose first_mb_in_slice (first_slice_segment_in_pic_flag) is not 0.
func startsAccessUnit(c unit.Codec, b []byte) bool {
	var h int
	switch {
	case len(b) >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 1:
		h = 3
	case len(b) >= 5 && b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 1:
		h = 4
	default:
		return false
	}
	b0 := b[h]
	switch c {
	case unit.CodecH264:
		switch t := b0 & 0x1F; {
		case t >= 6 && t <= 9, t >= 14 && t <= 18:
			return true
		case t == 1 || t == 5:
			// first_mb_in_slice is ue(v): 0 is the single bit 1.
			return h+1 < len(b) && b[h+1]&0x80 != 0
		}
	case unit.CodecH265:
		switch t := b0 >> 1 & 0x3F; {
		case t >= 32 && t <= 35, t == 39, t >= 41 && t <= 44, t >= 48 && t <= 55:
			return true
		case t < 32:
			return h+2 < len(b) && b[h+2]&0x80 != 0
		}
	}
	return false
}

// videoCodec maps a stream type of the PSM to a video codec.
func videoCodec(t StreamType) unit.Codec {
	switch t {
	case StreamH264:
		return unit.CodecH264
	case StreamH265:
		return unit.CodecH265
	}
	return unit.CodecUnknown
}
