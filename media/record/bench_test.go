package record

import (
	"bytes"
	"testing"
	"time"

	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/testsrc"
	"github.com/nvr/nvr/media/unit"
)

// BenchmarkRecorder records the 2 Mbit/s 720p clip with AAC through a stream
// into real files: one op is one second of media, published and read by the
// recorder (the writer works behind its queue; all is written and fsynced
// before the benchmark ends). cpu-ms/op is the process's CPU time per second
// of media, writer included (so cpu-ms/op ÷ 10 is the percentage of a core
// one stream costs), which means more than ns/op on a shared machine.
func BenchmarkRecorder(b *testing.B) {
	video := loadVideo(b, testsrc.ClipH264HD)
	audio := loadAudio(b, testsrc.ClipAAC)
	s := stream.New("cam1", 1<<16, nil)
	r := &Recorder{Stream: s, Dir: b.TempDir(), SegmentDuration: 10 * time.Second, Location: time.UTC}
	if err := r.Initialize(); err != nil {
		b.Fatal(err)
	}
	f := newFeeder(b, s, video, audio, base)
	cpu0 := processCPU(b)
	sec := 0
	for b.Loop() {
		sec++
		f.feed(time.Duration(sec) * time.Second)
		// Wait for the recorder, so that b.N stays what it can sustain.
		for r.Stats().Units < uint64(f.vi+f.ai) {
			time.Sleep(100 * time.Microsecond)
		}
	}
	s.Close()
	<-r.Done()
	cpu := processCPU(b) - cpu0
	st := r.Stats()
	if st.DroppedFragments != 0 || st.Skipped != 0 || st.WriteErrors != 0 {
		b.Fatalf("stats %+v", st)
	}
	if cpu > 0 {
		b.ReportMetric(float64(cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	}
	b.ReportMetric(float64(st.Bytes)*8/float64(b.N)/1e6, "Mbit/op")
}

// syntheticSegments records n one-minute segments of a 25 fps stream with a
// keyframe a second and AAC, with tiny payloads: the sample tables of an hour
// are real, the disk used is small.
func syntheticSegments(b *testing.B, dir string, n int) []Segment {
	b.Helper()
	clip := loadVideo(b, testsrc.ClipH264)
	aac := loadAudio(b, testsrc.ClipAAC)
	s := stream.New("cam1", 1<<18, nil)
	c := &collector{}
	r := &Recorder{Stream: s, Dir: dir, SegmentDuration: time.Minute, Location: time.UTC, OnSegment: c.add}
	if err := r.Initialize(); err != nil {
		b.Fatal(err)
	}
	pub := s.NewPublisher()
	pub.SetTrack(0, clip.Params())
	pub.SetTrack(1, aac.Params())
	frame := bytes.Repeat([]byte{0x41, 0x9a}, 60)
	key := bytes.Repeat([]byte{0x65, 0x88}, 200)
	end := time.Duration(n)*time.Minute + 2*time.Second
	vi, ai := 0, 0
	for {
		vd := time.Duration(vi) * 40 * time.Millisecond
		ad := time.Duration(ai) * 1024 * time.Second / 44100
		if min(vd, ad) >= end {
			break
		}
		if vd <= ad {
			data := frame
			if vi%25 == 0 {
				data = key
			}
			pub.Write(&unit.Unit{Track: 0, DTS: vd, PTS: vd, Time: base.Add(vd), Key: vi%25 == 0, Data: [][]byte{data}})
			vi++
		} else {
			pub.Write(&unit.Unit{Track: 1, DTS: ad, PTS: ad, Time: base.Add(ad), Key: true, Data: [][]byte{frame[:20]}})
			ai++
		}
	}
	s.Close()
	select {
	case <-r.Done():
	case <-time.After(5 * time.Minute):
		b.Fatal("recorder did not finish")
	}
	segs := c.list()
	if len(segs) < n {
		b.Fatalf("%d segments, want %d", len(segs), n)
	}
	return segs
}

// BenchmarkExportOpen opens a one-hour export over 60 one-minute segments and
// reads its first 64 KiB: the time until an HTTP response can start.
func BenchmarkExportOpen(b *testing.B) {
	segs := syntheticSegments(b, b.TempDir(), 61)
	start := segs[0].Start.Add(1500 * time.Millisecond)
	end := start.Add(time.Hour)
	buf := make([]byte, 64<<10)
	var size int64
	for b.Loop() {
		e, err := OpenExport(segs, start, end)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.ReadAt(buf, 0); err != nil {
			b.Fatal(err)
		}
		size = e.Size()
		e.Close()
	}
	b.ReportMetric(float64(size)/1e6, "MB")
}

// BenchmarkPlaylist writes the per-fragment VOD playlist of an hour.
func BenchmarkPlaylist(b *testing.B) {
	segs := syntheticSegments(b, b.TempDir(), 60)
	opts := PlaylistOptions{URL: func(s Segment) string { return s.Path }, PerFragment: true}
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := WritePlaylist(&buf, segs, opts); err != nil {
			b.Fatal(err)
		}
	}
}
