package hub

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/unit"
)

// fakeCamera is a source that publishes a keyframe every 40 ms and counts
// how many sessions are running, as a camera would see connections.
type fakeCamera struct {
	running atomic.Int32
	starts  atomic.Int32
	fail    error // returned by every start attempt when set
	endAt   int   // units after which Run returns errEnded (0 = never)
}

var errEnded = errors.New("device sent BYE")

func (f *fakeCamera) Run(ctx context.Context, s *stream.Stream, report func(stream.State, error)) error {
	f.starts.Add(1)
	f.running.Add(1)
	defer f.running.Add(-1)
	if f.fail != nil {
		report(stream.StateError, f.fail)
		<-ctx.Done()
		return nil
	}
	p := s.NewPublisher()
	p.SetTrack(0, &unit.Params{Codec: unit.CodecH264, SPS: []byte{0x67}, PPS: []byte{0x68}})
	report(stream.StateOnline, nil)
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for i := 0; ; i++ {
		if f.endAt > 0 && i == f.endAt {
			return errEnded
		}
		p.Write(&unit.Unit{DTS: time.Duration(i) * 40 * time.Millisecond, Key: true, Data: [][]byte{{1}}})
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func newHub(t *testing.T) *Hub {
	h := &Hub{IdleTimeout: 100 * time.Millisecond, StartTimeout: time.Second}
	h.Initialize()
	t.Cleanup(h.Close)
	return h
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestOnDemandStartAndIdleStop(t *testing.T) {
	h := newHub(t)
	cam := &fakeCamera{}
	h.Set("cam", cam, false)
	time.Sleep(50 * time.Millisecond)
	if cam.starts.Load() != 0 {
		t.Fatal("on-demand source started without a reader")
	}
	s1, rel1, err := h.Acquire(context.Background(), "cam")
	if err != nil {
		t.Fatal(err)
	}
	s2, rel2, err := h.Acquire(context.Background(), "cam")
	if err != nil {
		t.Fatal(err)
	}
	if s1 != s2 || cam.starts.Load() != 1 {
		t.Fatal("two readers must share one stream and one source session")
	}
	if st := h.Status("cam"); st.State != stream.StateOnline {
		t.Fatalf("status = %v", st)
	}
	rel1()
	rel1() // idempotent
	time.Sleep(200 * time.Millisecond)
	if cam.running.Load() != 1 {
		t.Fatal("stopped while a reader remains")
	}
	rel2()
	eventually(t, "idle stop", func() bool { return cam.running.Load() == 0 })
	if h.Running("cam") != nil || h.Status("cam").State != stream.StateIdle {
		t.Fatal("stream still registered as running")
	}
	select {
	case <-s1.Done():
	default:
		t.Fatal("stopped stream not closed")
	}
}

func TestReacquireWithinIdleDelayKeepsSession(t *testing.T) {
	h := newHub(t)
	cam := &fakeCamera{}
	h.Set("cam", cam, false)
	_, rel, err := h.Acquire(context.Background(), "cam")
	if err != nil {
		t.Fatal(err)
	}
	rel()
	_, rel, err = h.Acquire(context.Background(), "cam")
	if err != nil {
		t.Fatal(err)
	}
	defer rel()
	time.Sleep(200 * time.Millisecond)
	if cam.starts.Load() != 1 || cam.running.Load() != 1 {
		t.Fatalf("starts=%d running=%d", cam.starts.Load(), cam.running.Load())
	}
}

func TestAlwaysOn(t *testing.T) {
	h := newHub(t)
	cam := &fakeCamera{}
	h.Set("cam", cam, true)
	eventually(t, "always-on start", func() bool { return cam.running.Load() == 1 })
	_, rel, err := h.Acquire(context.Background(), "cam")
	if err != nil {
		t.Fatal(err)
	}
	rel()
	time.Sleep(250 * time.Millisecond)
	if cam.running.Load() != 1 {
		t.Fatal("always-on stream stopped when idle")
	}
	h.Set("cam", cam, false) // switched to on demand with no readers: stops
	time.Sleep(50 * time.Millisecond)
	if cam.running.Load() != 0 {
		t.Fatal("on-demand stream without readers kept running")
	}
}

func TestStartTimeoutCarriesSourceError(t *testing.T) {
	h := newHub(t)
	h.StartTimeout = 5 * time.Second // the failure must end the wait long before this
	h.Set("bad", &fakeCamera{fail: errors.New("dial tcp 127.0.0.1:1: connection refused")}, false)
	_, _, err := h.Acquire(context.Background(), "bad")
	if !errors.Is(err, ErrStartTimeout) || !contains(err.Error(), "connection refused") {
		t.Fatalf("err = %v", err)
	}
	eventually(t, "idle with error", func() bool {
		st := h.Status("bad")
		return st.State == stream.StateIdle && contains(st.Err, "refused")
	})
	if _, _, err := h.Acquire(context.Background(), "nope"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("err = %v", err)
	}
}

func TestSourceEndClosesReaders(t *testing.T) {
	h := newHub(t)
	h.Set("pb", &fakeCamera{endAt: 5}, false)
	s, rel, err := h.Acquire(context.Background(), "pb")
	if err != nil {
		t.Fatal(err)
	}
	defer rel()
	r := s.NewReader()
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for {
		if _, err := r.Read(ctx); err != nil {
			if !errors.Is(err, stream.ErrClosed) {
				t.Fatalf("err = %v, want ErrClosed", err)
			}
			break
		}
	}
	// The readers see the end as soon as the stream closes; the worker
	// records why just after.
	eventually(t, "idle with the source's error", func() bool {
		st := h.Status("pb")
		return st.State == stream.StateIdle && contains(st.Err, "BYE")
	})
}

func TestAlwaysOnRestartsAfterEnd(t *testing.T) {
	h := newHub(t)
	cam := &fakeCamera{endAt: 2}
	h.Set("rec", cam, true)
	eventually(t, "restart", func() bool { return cam.starts.Load() >= 2 })
}

func TestRemoveAndClose(t *testing.T) {
	h := newHub(t)
	cam := &fakeCamera{}
	h.Set("cam", cam, true)
	eventually(t, "start", func() bool { return cam.running.Load() == 1 })
	if len(h.Streams()) != 1 {
		t.Fatal("Streams() should list the running stream")
	}
	h.Remove("cam")
	eventually(t, "stop", func() bool { return cam.running.Load() == 0 })
	h.Set("cam2", cam, true)
	h.Close()
	if cam.running.Load() != 0 {
		t.Fatal("Close left a source running")
	}
	if _, _, err := h.Acquire(context.Background(), "cam2"); !errors.Is(err, ErrHubClosed) {
		t.Fatal(err)
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || len(s) >= len(sub) && (s[:len(sub)] == sub || contains(s[1:], sub))
}

func TestResolveRegistersOnFirstUse(t *testing.T) {
	h := &Hub{IdleTimeout: 100 * time.Millisecond, StartTimeout: time.Second}
	var asked atomic.Int32
	cam := &fakeCamera{}
	h.Resolve = func(_ context.Context, name string) (stream.Source, bool, error) {
		asked.Add(1)
		if name != "ch7" {
			return nil, false, fmt.Errorf("%w: %q", ErrUnknown, name)
		}
		return cam, false, nil
	}
	h.Initialize()
	t.Cleanup(h.Close)

	if _, _, err := h.Acquire(context.Background(), "ch8"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("unknown name: err = %v", err)
	}
	if h.Has("ch8") {
		t.Fatal("Has(ch8) = true")
	}
	s, release, err := h.Acquire(context.Background(), "ch7")
	if err != nil {
		t.Fatal(err)
	}
	if s == nil || cam.starts.Load() != 1 {
		t.Fatal("resolved source not started")
	}
	release()
	eventually(t, "idle stop", func() bool { return cam.running.Load() == 0 })
	n := asked.Load()
	if !h.Has("ch7") || asked.Load() != n {
		t.Fatal("a resolved name must stay registered without asking again")
	}
}
