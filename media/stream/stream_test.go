package stream

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nvr/nvr/media/unit"
)

var (
	h264 = &unit.Params{Codec: unit.CodecH264, SPS: []byte{0x67, 1}, PPS: []byte{0x68, 1}}
	aac  = &unit.Params{Codec: unit.CodecAAC, AudioConfig: []byte{0x12, 0x10}, SampleRate: 44100, Channels: 1}
)

// feed writes n video units (a keyframe every gop) at 40 ms steps starting at
// dts0, each followed by one audio unit.
func feed(p *Publisher, n, gop int, dts0 time.Duration) {
	for i := 0; i < n; i++ {
		dts := dts0 + time.Duration(i)*40*time.Millisecond
		p.Write(&unit.Unit{Track: 0, DTS: dts, PTS: dts, Key: i%gop == 0, Data: [][]byte{{byte(i)}}})
		p.Write(&unit.Unit{Track: 1, DTS: dts, PTS: dts, Key: true, Data: [][]byte{{byte(i)}}})
	}
}

func newAV(t testing.TB, ring int) (*Stream, *Publisher) {
	s := New("test", ring, nil)
	p := s.NewPublisher()
	p.SetTrack(0, h264)
	p.SetTrack(1, aac)
	return s, p
}

func readN(t *testing.T, r *Reader, n int) []*unit.Unit {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var out []*unit.Unit
	for len(out) < n {
		b, err := r.Read(ctx)
		if err != nil {
			t.Fatalf("read after %d units: %v", len(out), err)
		}
		out = append(out, b...)
	}
	return out
}

func TestNewReaderStartsAtLastKeyframe(t *testing.T) {
	s, p := newAV(t, 256)
	feed(p, 37, 25, 0) // keyframes at video 0 and 25
	r := s.NewReader()
	defer r.Close()
	got := readN(t, r, 1)
	if !got[0].IsVideo() || !got[0].Key || got[0].DTS != 25*40*time.Millisecond {
		t.Fatalf("first unit = video %v key %v dts %v, want keyframe at 1s", got[0].IsVideo(), got[0].Key, got[0].DTS)
	}
	if got[0].Params != h264 {
		t.Fatal("params not attached")
	}
}

func TestReaderWaitsForFirstKeyframe(t *testing.T) {
	s := New("test", 64, nil)
	p := s.NewPublisher()
	p.SetTrack(0, h264)
	r := s.NewReader()
	defer r.Close()
	// Non-key video before any keyframe is dropped by the publisher.
	p.Write(&unit.Unit{Track: 0, DTS: 0, Data: [][]byte{{1}}})
	if s.Ready() {
		t.Fatal("ready without keyframe")
	}
	p.Write(&unit.Unit{Track: 0, DTS: 40 * time.Millisecond, Key: true, Data: [][]byte{{2}}})
	got := readN(t, r, 1)
	if !got[0].Key || got[0].DTS != 0 {
		t.Fatalf("got key=%v dts=%v; want the session's first keyframe at stream time 0", got[0].Key, got[0].DTS)
	}
	if err := s.WaitReady(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestSlowReaderSkipsToNewestKeyframe(t *testing.T) {
	s, p := newAV(t, 64)
	feed(p, 1, 25, 0)
	r := s.NewReader()
	defer r.Close()
	// Writer never blocks: write far more than the ring holds.
	feed(p, 200, 10, 40*time.Millisecond)
	got := readN(t, r, 1)
	if !got[0].IsVideo() || !got[0].Key {
		t.Fatalf("after falling behind, first unit must be a keyframe")
	}
	if r.Dropped() == 0 || s.Stats().Dropped != r.Dropped() {
		t.Fatalf("dropped reader=%d stream=%d", r.Dropped(), s.Stats().Dropped)
	}
}

func TestEveryReaderGetsEveryUnitInOrder(t *testing.T) {
	s, p := newAV(t, 4096)
	feed(p, 1, 25, 0)
	const readers, n = 50, 1000
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for i := 0; i < readers; i++ {
		r := s.NewReader()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer r.Close()
			var last time.Duration = -1
			count := 0
			for {
				b, err := r.Read(context.Background())
				if errors.Is(err, ErrClosed) {
					break
				}
				for _, u := range b {
					if u.Track == 0 {
						if u.DTS <= last {
							errs <- errors.New("video DTS not rising")
							return
						}
						last = u.DTS
					}
					count++
				}
			}
			if count != 2*(n+1) {
				errs <- errors.New("lost units")
			}
		}()
	}
	feed(p, n, 25, 40*time.Millisecond)
	s.Close()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestCloseEndsReaders(t *testing.T) {
	s, p := newAV(t, 64)
	feed(p, 3, 25, 0)
	r := s.NewReader()
	s.Close()
	readN(t, r, 6) // what was written before the close is still delivered
	if _, err := r.Read(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("err = %v, want ErrClosed", err)
	}
	select {
	case <-s.Done():
	default:
		t.Fatal("Done not closed")
	}
	if err := s.WaitReady(context.Background()); err != nil {
		t.Fatal("a stream with a keyframe stays ready after close:", err)
	}
}

func TestReadHonoursContext(t *testing.T) {
	s, _ := newAV(t, 64)
	r := s.NewReader()
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := r.Read(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

func TestPublisherRestartKeepsTimestampsRising(t *testing.T) {
	s, p := newAV(t, 1024)
	r := s.NewReader()
	defer r.Close()
	feed(p, 50, 25, 5*time.Second) // source clock starts anywhere
	// The source reconnects: its clock restarts at zero.
	p2 := s.NewPublisher()
	p2.SetTrack(0, h264)
	p2.SetTrack(1, aac)
	feed(p2, 50, 25, 0)
	got := readN(t, r, 200)
	var last time.Duration = -1
	for i, u := range got {
		if u.Track == 0 {
			if u.DTS <= last {
				t.Fatalf("unit %d: DTS %v after %v", i, u.DTS, last)
			}
			last = u.DTS
		}
	}
	if got[0].DTS != 0 {
		t.Fatalf("first DTS = %v, want 0", got[0].DTS)
	}
}

func TestDiscontinuityIsSmoothed(t *testing.T) {
	s, p := newAV(t, 64)
	r := s.NewReader()
	defer r.Close()
	p.Write(&unit.Unit{Track: 0, DTS: time.Second, Key: true})
	p.Write(&unit.Unit{Track: 0, DTS: time.Second + 40*time.Millisecond})
	p.Write(&unit.Unit{Track: 0, DTS: time.Hour}) // camera clock jumps
	p.Write(&unit.Unit{Track: 0, DTS: time.Hour + 40*time.Millisecond})
	got := readN(t, r, 4)
	for i, want := range []time.Duration{0, 40, 80, 120} {
		if got[i].DTS != want*time.Millisecond {
			t.Fatalf("unit %d DTS = %v, want %vms", i, got[i].DTS, want)
		}
	}
}

func TestParamsChangeVisibleAtUnit(t *testing.T) {
	s, p := newAV(t, 64)
	r := s.NewReader()
	defer r.Close()
	feed(p, 2, 25, 0)
	h264b := &unit.Params{Codec: unit.CodecH264, SPS: []byte{0x67, 2}, PPS: []byte{0x68, 2}}
	p.SetTrack(0, h264b)
	p.SetTrack(0, &unit.Params{Codec: unit.CodecH264, SPS: []byte{0x67, 2}, PPS: []byte{0x68, 2}}) // equal: no change
	p.Write(&unit.Unit{Track: 0, DTS: 80 * time.Millisecond, Key: true})
	got := readN(t, r, 5)
	if got[2].Params != h264 || got[4].Params != h264b {
		t.Fatal("params change not at the right unit")
	}
	if s.Tracks()[0] != h264b {
		t.Fatal("Tracks not updated")
	}
}

func TestIdleStreamHoldsOneGOP(t *testing.T) {
	s, p := newAV(t, 1024)
	feed(p, 100, 25, 0)
	held := 0
	for _, u := range s.buf {
		if u != nil {
			held++
		}
	}
	// Last keyframe at video 75: 25 video + 25 audio units from there on.
	if held != 50 {
		t.Fatalf("held %d units, want 50 (one GOP)", held)
	}
}

func TestAudioOnlyStream(t *testing.T) {
	s := New("a", 64, nil)
	p := s.NewPublisher()
	p.SetTrack(0, aac)
	r := s.NewReader()
	defer r.Close()
	p.Write(&unit.Unit{Track: 0, DTS: 0, Key: true})
	if !s.Ready() {
		t.Fatal("audio-only stream with a unit is ready")
	}
	readN(t, r, 1)
}

func TestStats(t *testing.T) {
	s, p := newAV(t, 64)
	r := s.NewReader()
	defer r.Close()
	feed(p, 10, 25, 0)
	st := s.Stats()
	if st.Readers != 1 || st.Units != 20 || st.Bytes != 20 || len(st.Tracks) != 2 {
		t.Fatalf("stats = %+v", st)
	}
}
