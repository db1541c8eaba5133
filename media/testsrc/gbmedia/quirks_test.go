package gbmedia

import (
	"testing"
	"time"

	"github.com/nvr/nvr/media/unit"
)

// TestQuirksOnTheWire starts one session per quirk and checks that the quirk
// is visible in what arrives, and that the ps.Demuxer still rebuilds the
// frames from it.
func TestQuirksOnTheWire(t *testing.T) {
	cases := []struct {
		name    string
		quirks  Quirks
		clips   string
		bitrate int // more packets per frame where the quirk needs them
		check   func(t *testing.T, pkts []rxPacket, scan psScan, st Stats)
	}{
		{"none", Quirks{}, ClipSetH264G711A, 0, func(t *testing.T, pkts []rxPacket, scan psScan, st Stats) {
			if scan.psms == 0 || scan.zeroLen != 0 || scan.pes[0xbd] != 0 {
				t.Errorf("clean stream: %+v", scan)
			}
			for _, p := range pkts {
				if p.hdr.Extension {
					t.Fatal("header extension")
				}
			}
			if !hasType(scan.psmTypes, 0x1b, 0xe0) || !hasType(scan.psmTypes, 0x90, 0xc0) {
				t.Errorf("PSM %x, want H.264 on E0 and G.711A on C0", scan.psmTypes)
			}
		}},
		{"no PSM", Quirks{NoPSM: true}, ClipSetH265AAC, 0, func(t *testing.T, pkts []rxPacket, scan psScan, st Stats) {
			if scan.psms != 0 {
				t.Errorf("%d PSMs", scan.psms)
			}
		}},
		{"H.265 declared H.264", Quirks{H265AsH264: true}, ClipSetH265AAC, 0, func(t *testing.T, pkts []rxPacket, scan psScan, st Stats) {
			if !hasType(scan.psmTypes, 0x1b, 0xe0) || hasType(scan.psmTypes, 0x24, 0xe0) {
				t.Errorf("PSM %x, want H.264 declared", scan.psmTypes)
			}
			if nalTypes(scan.videoPayload, true)[32] == 0 {
				t.Error("no H.265 VPS in the video PES")
			}
		}},
		{"marker first", Quirks{MarkerFirst: true}, ClipSetH264G711A, 2_000_000, func(t *testing.T, pkts []rxPacket, scan psScan, st Stats) {
			multi := 0
			for i, p := range pkts {
				first := startsFrame(p)
				if p.hdr.Marker != first {
					t.Fatalf("packet %d: marker %v, first of its frame %v", i, p.hdr.Marker, first)
				}
				if !first {
					multi++
				}
			}
			if multi == 0 {
				t.Error("no frame of more than one packet")
			}
		}},
		{"header extension", Quirks{HeaderExtension: true}, ClipSetH264G711A, 0, func(t *testing.T, pkts []rxPacket, scan psScan, st Stats) {
			for i, p := range pkts {
				if !p.hdr.Extension || p.hdr.ExtensionProfile != 0xbede || len(p.hdr.GetExtension(1)) != 3 {
					t.Fatalf("packet %d: extension %v %x", i, p.hdr.Extension, p.hdr.ExtensionProfile)
				}
			}
		}},
		{"reorder", Quirks{Reorder: 0.3}, ClipSetH264G711A, 2_000_000, func(t *testing.T, pkts []rxPacket, scan psScan, st Stats) {
			back := 0
			for i := 1; i < len(pkts); i++ {
				if d := int16(pkts[i].hdr.SequenceNumber - pkts[i-1].hdr.SequenceNumber); d < 0 {
					back++
				} else if d < 1 || d > 3 { // swapped pairs side by side: 1 0 3 2
					t.Fatalf("packet %d: sequence step %d", i, d)
				}
			}
			if back == 0 {
				t.Error("no packet out of order")
			}
		}},
		{"loss", Quirks{Loss: 0.05}, ClipSetH264G711A, 2_000_000, func(t *testing.T, pkts []rxPacket, scan psScan, st Stats) {
			gaps := 0
			for i := 1; i < len(pkts); i++ {
				if pkts[i].hdr.SequenceNumber != pkts[i-1].hdr.SequenceNumber+1 {
					gaps++
				}
			}
			if gaps == 0 || st.Dropped == 0 {
				t.Errorf("%d gaps, %d dropped", gaps, st.Dropped)
			}
		}},
		{"zero-length PES", Quirks{ZeroLengthPES: true}, ClipSetH264G711A, 0, func(t *testing.T, pkts []rxPacket, scan psScan, st Stats) {
			if scan.zeroLen == 0 {
				t.Error("no video PES without a length")
			}
		}},
		{"private stream", Quirks{PrivateStream: true}, ClipSetH265AAC, 0, func(t *testing.T, pkts []rxPacket, scan psScan, st Stats) {
			if scan.pes[0xbd] == 0 {
				t.Error("no private_stream_1 PES")
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rx := newUDPReceiver(t)
			s := &Sender{BindIP: testHost, Quirks: c.quirks, Clips: c.clips, Bitrate: c.bitrate}
			sess := startSession(t, s, Request{Transport: TransportUDP, RemoteAddr: rx.addr})
			sess.Begin()
			waitStats(t, sess, 5*time.Second, "frames", func(st Stats) bool { return st.VideoFrames >= 15 })
			time.Sleep(50 * time.Millisecond)
			pkts := rx.packets()
			st := sess.Stats()
			ordered := reassemble(pkts)
			scan := scanPS(psPayload(ordered))
			if c.quirks.Loss == 0 && scan.errors != 0 {
				t.Errorf("PS lost sync %d times", scan.errors)
			}
			c.check(t, pkts, scan, st)

			// Whatever the quirk, the demuxer rebuilds the codecs and keyframes.
			frames := demux(pkts)
			vf, af := framesOf(frames, true), framesOf(frames, false)
			video := unit.CodecH264
			if c.clips == ClipSetH265AAC {
				video = unit.CodecH265
			}
			if len(vf) < 5 || len(af) < 5 {
				t.Fatalf("%d video, %d audio frames", len(vf), len(af))
			}
			if vf[0].codec != video {
				t.Errorf("video codec %v, want %v", vf[0].codec, video)
			}
			if c.quirks.Loss == 0 && !isKey(vf[0]) {
				t.Error("first frame is not a keyframe")
			}
		})
	}
}

func hasType(types [][2]byte, streamType, id byte) bool {
	for _, e := range types {
		if e[0] == streamType && e[1] == id {
			return true
		}
	}
	return false
}
