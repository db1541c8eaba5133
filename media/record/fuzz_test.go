package record

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/nvr/nvr/media/testsrc"
)

// FuzzSegmentFile feeds damaged segment files to the parsers Recover and
// exports run on what a crash (or a bad disk) left: they must refuse or cut
// short, never panic or allocate without bound. The seeds are a real
// segment, whole, without its index and cut in its last fragment.
func FuzzSegmentFile(f *testing.F) {
	dir := f.TempDir()
	s := newTestStream("cam1")
	r, c := startRecorder(f, s, dir, func(r *Recorder) { r.SegmentDuration = time.Hour })
	fd := newFeeder(f, s, loadVideo(f, testsrc.ClipH264), loadAudio(f, testsrc.ClipAAC), base)
	fd.feed(2 * time.Second)
	finish(f, s, r)
	whole, err := os.ReadFile(c.list()[0].Path)
	if err != nil {
		f.Fatal(err)
	}
	x, err := openIndex(c.list()[0].Path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(whole)
	f.Add(whole[:x.mediaEnd])
	f.Add(whole[:x.mediaEnd-100])
	f.Fuzz(func(t *testing.T, data []byte) {
		x := &segIndex{size: int64(len(data))}
		rd := bytes.NewReader(data)
		if err := x.readHead(rd); err != nil {
			return
		}
		if err := x.readTail(rd); err == nil {
			for _, fr := range x.frags {
				for _, r := range fr.runs {
					if r.dataOff < 0 || r.dataOff+r.bytes() > x.size {
						t.Fatalf("run outside the file: %+v", r)
					}
				}
			}
		}
		end, err := x.scan(rd, x.size)
		if err == nil && (end < int64(len(x.init)) || end > x.size) {
			t.Fatalf("scan ended at %d of %d", end, x.size)
		}
		encodeIndex(x.ref, x.frags)
	})
}
