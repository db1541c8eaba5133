package rtsp

import (
	"bytes"
	"testing"

	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/pion/rtp"

	"github.com/nvr/nvr/media/testsrc"
)

// joinPayloads and splitPayloads pack RTP payloads into one fuzz input: each
// payload is preceded by a two-byte big-endian length.
func joinPayloads(payloads ...[]byte) []byte {
	var b bytes.Buffer
	for _, p := range payloads {
		b.WriteByte(byte(len(p) >> 8))
		b.WriteByte(byte(len(p)))
		b.Write(p)
	}
	return b.Bytes()
}

func splitPayloads(buf []byte) [][]byte {
	var payloads [][]byte
	for len(buf) >= 2 {
		n := int(buf[0])<<8 | int(buf[1])
		buf = buf[2:]
		n = min(n, len(buf))
		payloads = append(payloads, buf[:n])
		buf = buf[n:]
	}
	return payloads
}

// fuzzVideoTrack feeds a video track, after the clip's first frames, RTP
// packets with arbitrary payloads, as a camera could send them, the last
// one with the marker bit; then the keyframe at frame 25. The track must
// neither panic nor publish a keyframe without its parameter sets. The
// seeds are the packets of the clip's frames and the extra ones given.
func fuzzVideoTrack(f *testing.F, clip *testsrc.VideoClip, forma format.Format, enc nalEncoder, isParam func([]byte) bool, extra ...[]byte) {
	for _, fr := range clip.Frames[:30] {
		pkts, err := enc.Encode(fr.NALUs)
		if err != nil {
			f.Fatal(err)
		}
		payloads := make([][]byte, len(pkts))
		for i, pkt := range pkts {
			payloads[i] = pkt.Payload
		}
		f.Add(joinPayloads(payloads...))
	}
	for _, b := range extra {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, buf []byte) {
		var rec recorder
		tr := newTestTrack(t, 0, forma, &rec)
		pts := int64(0)
		for _, fr := range clip.Frames[:5] {
			sendAU(t, tr, enc, fr.NALUs, pts)
			pts += frameTicks
		}
		payloads := splitPayloads(buf)
		for i, p := range payloads {
			tr.handle(&rtp.Packet{Header: rtp.Header{Marker: i == len(payloads)-1}, Payload: p}, pts)
		}
		sendAU(t, tr, enc, clip.Frames[25].NALUs, pts+frameTicks)
		for _, u := range rec.units {
			if u.Key && !isParam(u.Data[0]) {
				t.Fatal("keyframe without parameter sets")
			}
		}
	})
}

func FuzzH264Track(f *testing.F) {
	clip := loadVideo(f, testsrc.ClipH264)
	fuzzVideoTrack(f, clip, &format.H264{PayloadTyp: 96, SPS: clip.SPS, PPS: clip.PPS, PacketizationMode: 1},
		h264Encoder(f), h264IsParam,
		joinPayloads([]byte{0x65}),                // a one-byte IDR
		joinPayloads([]byte{0x67, 0}, []byte{}),   // a broken SPS and an empty payload
		joinPayloads([]byte{0x7c, 0x85, 0x88}),    // the start of a fragmented IDR, no end
		joinPayloads([]byte{0x78, 0, 1, 0x65, 0}), // an aggregate with an IDR cut short
	)
}

func FuzzH265Track(f *testing.F) {
	clip := loadVideo(f, testsrc.ClipH265)
	fuzzVideoTrack(f, clip, &format.H265{PayloadTyp: 96, VPS: clip.VPS, SPS: clip.SPS, PPS: clip.PPS},
		h265Encoder(f), h265IsParam,
		joinPayloads([]byte{0x26, 1}),           // an IDR_W_RADL header alone
		joinPayloads([]byte{0x42, 1}, []byte{}), // a broken SPS and an empty payload
		joinPayloads([]byte{0x62, 1, 0x93, 0}),  // the start of a fragmented IDR, no end
	)
}
