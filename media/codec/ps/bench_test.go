package ps

import (
	"testing"

	"github.com/nvr/nvr/media/unit"
)

// benchStream is about 2 s of a 2 Mbit/s camera: the 720p H.264 clip
// (frames of 10-30 KiB) with G.711 A-law, muxed with m.
func benchStream(b *testing.B, m Muxer) []byte {
	b.Helper()
	vc := loadVideo(b, "h264_720p.h264", unit.CodecH264)
	alaw := loadALaw(b)
	var s []byte
	a := 0
	for i, f := range vc.frames {
		pts := int64(i) * 3600
		s = m.WriteVideo(s, unit.CodecH264, pts, pts, vc.keys[i], f)
		for ; int64(a)*1800 < pts+3600; a++ {
			s = m.WriteAudio(s, unit.CodecPCMA, int64(a)*1800, alaw[a%len(alaw)])
		}
	}
	return s
}

// benchmarkDemux feeds the stream in RTP-payload-sized pieces, as the
// ingest does; MB/s counts the PS bytes.
func benchmarkDemux(b *testing.B, m Muxer) {
	s := benchStream(b, m)
	frames := 0
	d := &Demuxer{OnFrame: func(Frame) { frames++ }}
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		for off := 0; off < len(s); off += rtpPayload {
			d.Write(s[off:min(off+rtpPayload, len(s))])
		}
	}
	if frames == 0 {
		b.Fatal("no frames")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(frames), "ns/frame")
}

func BenchmarkDemux(b *testing.B) { benchmarkDemux(b, Muxer{}) }

// BenchmarkDemuxMarkers feeds the same frames packetized one by one, with
// the marker on the last packet of each: the video frames come out from
// Marker (after the first few, while the markers are learnt).
func BenchmarkDemuxMarkers(b *testing.B) {
	stream, starts := muxWithOffsets(&Muxer{}, hdEvents(b))
	pieces := packetizeEvents(stream, starts, rtpPayload, cutFixed, markLast, nil)
	frames := 0
	d := &Demuxer{OnFrame: func(Frame) { frames++ }}
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range pieces {
			d.Write(p.data)
			if p.marker {
				d.Marker()
			}
		}
	}
	if st := d.Stats(); st.MarkerFrames == 0 || st.MarkerCuts != 0 {
		b.Fatalf("stats %+v", st)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(frames), "ns/frame")
}

// BenchmarkDemuxZeroLength scans every video byte for the end of the PES.
func BenchmarkDemuxZeroLength(b *testing.B) { benchmarkDemux(b, Muxer{ZeroLengthVideoPES: true}) }

// BenchmarkDemuxHikvision has a pack and a private PES before every PES.
func BenchmarkDemuxHikvision(b *testing.B) {
	benchmarkDemux(b, Muxer{PrivateStream: true, PackPerPES: true, MaxPESPayload: 4096})
}

// BenchmarkMux writes the same stream, as the device simulator does.
func BenchmarkMux(b *testing.B) {
	vc := loadVideo(b, "h264_720p.h264", unit.CodecH264)
	alaw := loadALaw(b)
	var m Muxer
	size := len(benchStream(b, Muxer{}))
	buf := make([]byte, 0, size+size/8)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		buf = buf[:0]
		a := 0
		for i, f := range vc.frames {
			pts := int64(i) * 3600
			buf = m.WriteVideo(buf, unit.CodecH264, pts, pts, vc.keys[i], f)
			for ; int64(a)*1800 < pts+3600; a++ {
				buf = m.WriteAudio(buf, unit.CodecPCMA, int64(a)*1800, alaw[a%len(alaw)])
			}
		}
	}
}
