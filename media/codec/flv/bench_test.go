package flv

import (
	"bytes"
	"io"
	"testing"

	"github.com/nvr/nvr/media/testsrc"
	"github.com/nvr/nvr/media/unit"
)

// benchmarkMux measures AppendUnit (the work UnitTags caches once per unit)
// over a whole clip; MB/s counts the payload bytes.
func benchmarkMux(b *testing.B, video, audio string) {
	_, _, units := clipUnits(b, video, audio)
	var size int64
	for _, u := range units {
		size += int64(u.Size())
	}
	buf := make([]byte, 0, 1<<20)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		for _, u := range units {
			var err error
			if buf, err = AppendUnit(buf[:0], u); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(units)), "ns/unit")
}

func BenchmarkMuxH264(b *testing.B)     { benchmarkMux(b, testsrc.ClipH264HD, "") }
func BenchmarkMuxH265(b *testing.B)     { benchmarkMux(b, testsrc.ClipH265, "") }
func BenchmarkMuxH264AAC(b *testing.B)  { benchmarkMux(b, testsrc.ClipH264, testsrc.ClipAAC) }
func BenchmarkMuxH265PCMA(b *testing.B) { benchmarkMux(b, testsrc.ClipH265, testsrc.ClipPCMA) }

// BenchmarkUnitTags measures the first (allocating) build of a unit's tags,
// what a stream pays once per unit.
func BenchmarkUnitTags(b *testing.B) {
	_, _, units := clipUnits(b, testsrc.ClipH264HD, "")
	var size int64
	for _, u := range units {
		size += int64(u.Size())
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		for _, u := range units {
			fresh := &unit.Unit{Params: u.Params, DTS: u.DTS, PTS: u.PTS, Key: u.Key, Data: u.Data}
			if UnitTags(fresh) == nil {
				b.Fatal("no tags")
			}
		}
	}
}

func BenchmarkSequenceHeaders(b *testing.B) {
	vp, ap, _ := clipUnits(b, testsrc.ClipH265, testsrc.ClipAAC)
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = Header{HasAudio: true, HasVideo: true}.Append(buf[:0])
		buf, _ = AppendMetadata(buf, vp, ap)
		buf, _ = AppendSequenceHeader(buf, vp, 0)
		buf, _ = AppendSequenceHeader(buf, ap, 0)
	}
}

func BenchmarkReader(b *testing.B) {
	vp, ap, units := clipUnits(b, testsrc.ClipH264, testsrc.ClipAAC)
	file := muxFile(b, vp, ap, units)
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(bytes.NewReader(file))
		for {
			_, err := r.ReadTag()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}
