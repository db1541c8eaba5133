package ps

import "github.com/nvr/nvr/media/unit"

// Muxer writes a program stream as GB28181 devices send it: a pack header
// per frame, a system header and a program stream map at key frames, and
// the frame in PES packets. Each exported field switches on one device
// quirk, so that the Demuxer can be tested against it. The zero value
// writes a well-formed stream; fields must not change between frames.
//
// A Muxer appends to the caller's slice and allocates nothing per frame.
// It is not safe for concurrent use.
type Muxer struct {
	// NoPSM never writes a program stream map (quirk).
	NoPSM bool
	// VideoStreamType is the stream type the map declares for video; 0
	// derives it from the codec. StreamH264 with H.265 data is the "H.265
	// declared as H.264" quirk.
	VideoStreamType StreamType
	// AudioCodec, when set, is declared in the system header and map from
	// the first key frame; otherwise audio is declared from the first key
	// frame after the first WriteAudio.
	AudioCodec unit.Codec
	// MaxPESPayload bounds the payload of one PES; 0 means
	// DefaultMaxPESPayload. A larger frame is split over several PES, the
	// later ones without PTS.
	MaxPESPayload int
	// ZeroLengthVideoPES writes each video frame as a single PES with
	// PES_packet_length 0 (quirk; ISO/IEC 13818-1 allows it in transport
	// streams only).
	ZeroLengthVideoPES bool
	// PrivateStream adds a private_stream_1 (0xBD) PES to every pack, as
	// Hikvision devices do (quirk).
	PrivateStream bool
	// PackPerPES writes a pack header before every PES of a frame split
	// over several, not only before the first (quirk).
	PackPerPES bool

	video, audio unit.Codec  // to declare in the map
	declared     [2]psmEntry // the map last written, to version it
	psmVersion   byte
}

// DefaultMaxPESPayload is the PES payload size a Muxer splits frames at
// when MaxPESPayload is 0: what fits a PES_packet_length with a PTS and
// DTS, rounded down, as devices do.
const DefaultMaxPESPayload = 65400

// muxRate is the program_mux_rate and rate_bound written, in units of 50
// bytes/s: 20 Mbit/s, above any camera stream, since the true rate is not
// known in advance and no GB28181 receiver uses it.
const muxRate = 50000

// privatePayload is the body of the private PES the PrivateStream quirk
// adds: opaque bytes that include zeros, as vendors' private data does.
var privatePayload = [...]byte{
	0x48, 0x4B, 0x01, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x10, 0x20,
	0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x7E, 0x81,
}

// StreamTypeOf returns the stream type of the map for codec c, 0 for a
// codec a program stream here does not carry.
func StreamTypeOf(c unit.Codec) StreamType {
	switch c {
	case unit.CodecH264:
		return StreamH264
	case unit.CodecH265:
		return StreamH265
	case unit.CodecAAC:
		return StreamAAC
	case unit.CodecPCMA:
		return StreamG711A
	case unit.CodecPCMU:
		return StreamG711U
	}
	return 0
}

// WriteVideo appends to dst a pack header, at key frames a system header and
// a program stream map (unless NoPSM), and the PES packets of one access
// unit in Annex-B form. pts and dts are 90 kHz; the 33-bit fields wrap.
func (m *Muxer) WriteVideo(dst []byte, codec unit.Codec, pts, dts int64, key bool, annexB []byte) []byte {
	dst = appendPackHeader(dst, dts, muxRate)
	if key {
		m.video = codec
		if m.audio == unit.CodecUnknown {
			m.audio = m.AudioCodec
		}
		dst = m.appendHeaders(dst)
	}
	if m.PrivateStream {
		dst = appendPrivate(dst)
	}
	if m.ZeroLengthVideoPES {
		dst = appendPESHeader(dst, VideoStreamID, -1, true, true, pts != dts, pts, dts)
		return append(dst, annexB...)
	}
	first := true
	for first || len(annexB) > 0 {
		n := min(len(annexB), m.maxPayload(first && pts != dts))
		if !first && m.PackPerPES {
			dst = appendPackHeader(dst, dts, muxRate)
		}
		dst = appendPESHeader(dst, VideoStreamID, n, first, first, first && pts != dts, pts, dts)
		dst = append(dst, annexB[:n]...)
		annexB = annexB[n:]
		first = false
	}
	return dst
}

// WriteAudio appends a pack header and one audio PES: AAC as ADTS, G.711
// samples raw. Data longer than one PES is split, and a Demuxer gives the
// parts out as separate frames.
func (m *Muxer) WriteAudio(dst []byte, codec unit.Codec, pts int64, data []byte) []byte {
	if m.audio == unit.CodecUnknown {
		m.audio = codec // declared at the next key frame
	}
	dst = appendPackHeader(dst, pts, muxRate)
	if m.PrivateStream {
		dst = appendPrivate(dst)
	}
	first := true
	for first || len(data) > 0 {
		n := min(len(data), m.maxPayload(false))
		dst = appendPESHeader(dst, AudioStreamID, n, true, first, false, pts, pts)
		dst = append(dst, data[:n]...)
		data = data[n:]
		first = false
	}
	return dst
}

func (m *Muxer) maxPayload(withDTS bool) int {
	limit := maxPESLength - 3 - 10 // flags, header_data_length, PTS and DTS
	if !withDTS {
		limit += 5
	}
	if m.MaxPESPayload > 0 {
		return min(m.MaxPESPayload, limit)
	}
	return min(DefaultMaxPESPayload, limit)
}

// appendHeaders appends the system header and the map of the streams known.
func (m *Muxer) appendHeaders(dst []byte) []byte {
	var sys [2]systemStream
	var psm [2]psmEntry
	n := 0
	if m.video != unit.CodecUnknown {
		vt := m.VideoStreamType
		if vt == 0 {
			vt = StreamTypeOf(m.video)
		}
		// P-STD buffers: 400 KiB for video, 4 KiB for audio.
		sys[n] = systemStream{id: VideoStreamID, scale: 1, size: 400}
		psm[n] = psmEntry{typ: vt, id: VideoStreamID}
		n++
	}
	if t := StreamTypeOf(m.audio); t != 0 {
		sys[n] = systemStream{id: AudioStreamID, scale: 0, size: 32}
		psm[n] = psmEntry{typ: t, id: AudioStreamID}
		n++
	}
	dst = appendSystemHeader(dst, muxRate, sys[:n])
	if psm != m.declared {
		// program_stream_map_version changes with the content (2.5.4.2).
		m.declared = psm
		m.psmVersion = (m.psmVersion + 1) & 0x1F
	}
	if !m.NoPSM {
		dst = appendPSM(dst, m.psmVersion, psm[:n])
	}
	return dst
}

// appendPrivate appends a private_stream_1 PES with an MPEG-2 header and no
// timestamp.
func appendPrivate(dst []byte) []byte {
	dst = appendPESHeader(dst, PrivateStream1ID, len(privatePayload), false, false, false, 0, 0)
	return append(dst, privatePayload[:]...)
}
