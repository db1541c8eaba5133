package ps

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nvr/nvr/media/hub"
	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/testsrc"
	"github.com/nvr/nvr/media/unit"
)

// reports records the states a source reports.
type reports struct {
	mu     sync.Mutex
	states []stream.State
	errs   []error
}

func (r *reports) report(s stream.State, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states = append(r.states, s)
	r.errs = append(r.errs, err)
}

func (r *reports) has(s stream.State, target error) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, st := range r.states {
		if st == s && (target == nil || errors.Is(r.errs[i], target)) {
			return true
		}
	}
	return false
}

// runSource runs src on a new stream in the background.
func runSource(t *testing.T, src *Source) (*stream.Stream, *reports, *runResult, context.CancelFunc) {
	t.Helper()
	st := stream.New(t.Name(), 0, testLogger(t))
	rep := &reports{}
	ctx, cancel := context.WithCancel(context.Background())
	res := &runResult{done: make(chan struct{})}
	go func() {
		defer close(res.done)
		res.err = src.Run(ctx, st, rep.report)
		st.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-res.done:
		case <-time.After(5 * time.Second):
			t.Error("Source.Run did not return after its context ended")
		}
	})
	return st, rep, res, cancel
}

func clipGroups(t *testing.T, cfg senderConfig) [][][]byte {
	return packetize(cfg, buildEvents(t, cfg))
}

// TestSourceTransports: a live source over each transport reaches the
// stream, reports online, and on stop closes the call and frees the port.
func TestSourceTransports(t *testing.T) {
	for _, tr := range []Transport{TransportUDP, TransportTCPPassive, TransportTCPActive} {
		for _, f := range []framing{frameRFC4571, frameDollar} {
			if tr == TransportUDP && f == frameDollar {
				continue
			}
			name := string(tr)
			if f == frameDollar {
				name += "/dollar"
			}
			t.Run(name, func(t *testing.T) {
				checkGoroutines(t)
				r := newTestReceiver(t, false)
				dev := newFakeDevice(t, clipGroups(t, senderConfig{video: testsrc.ClipH264, audio: testsrc.ClipAAC, loops: 3, extension: true}))
				dev.framing = f
				src := &Source{Receiver: r, Inviter: dev, Transport: tr, MediaIP: "127.0.0.1", CheckSSRC: true, Retry: true, Logger: testLogger(t)}
				st, rep, res, cancel := runSource(t, src)
				col := collect(t, st)
				units := col.waitFor(t, 5*time.Second, "media", func(u []*unit.Unit) bool { n := count(u); return n.keys >= 2 && n.audio > 100 })
				checkUnits(t, units, unit.CodecH264, unit.CodecAAC)
				if !rep.has(stream.StateOnline, nil) {
					t.Error("online not reported")
				}
				offers := dev.invites()
				if len(offers) != 1 || offers[0].Transport != tr || offers[0].IP != "127.0.0.1" || offers[0].Port == 0 || offers[0].SSRC != 101 {
					t.Errorf("offers %+v", offers)
				}
				if s := src.Stats(); s.Packets == 0 || s.Transport != tr || s.SSRC != 101 {
					t.Errorf("stats %+v", s)
				}
				cancel()
				if err := res.wait(t, 5*time.Second); err != nil {
					t.Fatalf("Run: %v", err)
				}
				if c := dev.allCalls()[0]; c.closed.Load() != 1 {
					t.Errorf("call closed %d times", c.closed.Load())
				}
				if n := r.PortsInUse(); n != 0 {
					t.Errorf("%d ports still in use", n)
				}
			})
		}
	}
}

// TestSourcePlaybackEnds: a playback (no Retry) ends with nil at the
// device's end of stream, with every frame published.
func TestSourcePlaybackEnds(t *testing.T) {
	checkGoroutines(t)
	r := newTestReceiver(t, false)
	dev := newFakeDevice(t, clipGroups(t, senderConfig{video: testsrc.ClipH265, audio: testsrc.ClipPCMA}))
	dev.endAfter = true
	src := &Source{Receiver: r, Inviter: dev, Transport: TransportUDP, CheckSSRC: true, Logger: testLogger(t)}
	st, _, res, _ := runSource(t, src)
	col := collect(t, st)
	if err := res.wait(t, 10*time.Second); err != nil {
		t.Fatalf("Run: %v", err)
	}
	units := col.waitFor(t, 2*time.Second, "every frame and the end", func(u []*unit.Unit) bool {
		return count(u).video == 100 && col.ended()
	})
	checkUnits(t, units, unit.CodecH265, unit.CodecPCMA)
	if n := r.PortsInUse(); n != 0 {
		t.Errorf("%d ports still in use", n)
	}
	if c := dev.allCalls()[0]; c.closed.Load() != 1 {
		t.Errorf("call closed %d times", c.closed.Load())
	}
}

// TestSourceLiveReinvites: a live source invites again after the device's
// BYE, and the stream's timestamps keep rising across the calls.
func TestSourceLiveReinvites(t *testing.T) {
	checkGoroutines(t)
	r := newTestReceiver(t, false)
	dev := newFakeDevice(t, clipGroups(t, senderConfig{video: testsrc.ClipH264, audio: testsrc.ClipAAC}))
	dev.endAfter = true
	dev.endErr = errors.New("BYE from the device")
	src := &Source{Receiver: r, Inviter: dev, Transport: TransportTCPPassive, CheckSSRC: true, Retry: true,
		BackoffMin: 10 * time.Millisecond, BackoffMax: 20 * time.Millisecond, Logger: testLogger(t)}
	st, rep, res, cancel := runSource(t, src)
	col := collect(t, st)
	units := col.waitFor(t, 10*time.Second, "two calls", func(u []*unit.Unit) bool { return len(dev.invites()) >= 3 && count(u).video > 150 })
	checkUnits(t, units, unit.CodecH264, unit.CodecAAC)
	if !rep.has(stream.StateError, ErrCallEnded) {
		t.Error("the device's BYE was not reported")
	}
	offers := dev.invites()
	if offers[0].SSRC == offers[1].SSRC {
		t.Error("the same SSRC offered twice")
	}
	cancel()
	if err := res.wait(t, 5*time.Second); err != nil {
		t.Fatalf("Run: %v", err)
	}
	for i, c := range dev.allCalls() {
		if c.closed.Load() != 1 {
			t.Errorf("call %d closed %d times", i, c.closed.Load())
		}
	}
	if n := r.PortsInUse(); n != 0 {
		t.Errorf("%d ports still in use", n)
	}
}

// TestSourceNoMedia: a device that answers but sends nothing ends a
// playback with ErrNoMedia; the port and the call are released.
func TestSourceNoMedia(t *testing.T) {
	checkGoroutines(t)
	r := newTestReceiver(t, false)
	dev := newFakeDevice(t, nil)
	dev.script = func(c *fakeCall, send func([]byte) error) { <-c.stop }
	src := &Source{Receiver: r, Inviter: dev, NoMediaTimeout: 300 * time.Millisecond, Logger: testLogger(t)}
	st, _, res, _ := runSource(t, src)
	col := collect(t, st)
	if err := res.wait(t, 5*time.Second); !errors.Is(err, ErrNoMedia) {
		t.Fatalf("Run: %v", err)
	}
	col.waitFor(t, time.Second, "the end of the stream", func([]*unit.Unit) bool { return col.ended() })
	if n := r.PortsInUse(); n != 0 {
		t.Errorf("%d ports still in use", n)
	}
	if c := dev.allCalls()[0]; c.closed.Load() != 1 {
		t.Errorf("call closed %d times", c.closed.Load())
	}
}

func TestSourceInviteFails(t *testing.T) {
	checkGoroutines(t)
	r := newTestReceiver(t, false)
	dev := newFakeDevice(t, nil)
	dev.inviteErr = errors.New("486 Busy Here")
	src := &Source{Receiver: r, Inviter: dev, Logger: testLogger(t)}
	_, _, res, _ := runSource(t, src)
	if err := res.wait(t, 5*time.Second); err == nil || !errors.Is(err, dev.inviteErr) {
		t.Fatalf("Run: %v", err)
	}
	if n := r.PortsInUse(); n != 0 {
		t.Errorf("%d ports still in use", n)
	}
	if err := (&Source{}).Run(context.Background(), stream.New("x", 0, nil), nil); err == nil {
		t.Fatal("a source without Receiver ran")
	}
	bad := &Source{Receiver: r, Inviter: dev, Transport: "sctp"}
	if err := bad.Run(context.Background(), stream.New("x", 0, nil), nil); !errors.Is(err, ErrTransport) {
		t.Fatalf("unknown transport: %v", err)
	}
}

// TestSourceAnswerSSRC: devices that answer with their own SSRC, or 0, on
// a port of their own and on the shared port.
func TestSourceAnswerSSRC(t *testing.T) {
	for _, single := range []bool{false, true} {
		for _, answer := range []uint32{0, 0x7777} {
			name := "own"
			if answer == 0 {
				name = "zero"
			}
			if single {
				name = "single/" + name
			}
			t.Run(name, func(t *testing.T) {
				checkGoroutines(t)
				r := newTestReceiver(t, single)
				dev := newFakeDevice(t, clipGroups(t, senderConfig{video: testsrc.ClipH264}))
				dev.answer = func(uint32) uint32 { return answer }
				src := &Source{Receiver: r, Inviter: dev, MediaIP: "127.0.0.1", CheckSSRC: true, Retry: true, Logger: testLogger(t)}
				st, _, _, _ := runSource(t, src)
				col := collect(t, st)
				col.waitFor(t, 5*time.Second, "media", func(u []*unit.Unit) bool { return count(u).video >= 50 })
				want := answer
				if want == 0 {
					want = 0x5eed
				}
				if s := src.Stats(); s.SSRC != want || s.Dropped != 0 {
					t.Errorf("stats %+v, want SSRC %#x", s, want)
				}
			})
		}
	}
}

// TestSourceKeyframeRequest: without a keyframe within KeyframeTimeout the
// source asks for one, once, and the stream starts with it.
func TestSourceKeyframeRequest(t *testing.T) {
	checkGoroutines(t)
	r := newTestReceiver(t, false)
	cfg := senderConfig{video: testsrc.ClipH264}
	evs := buildEvents(t, cfg)
	var pFrames []event
	for _, ev := range evs[1:25] {
		if ev.key {
			t.Fatal("a keyframe inside the first GOP")
		}
		pFrames = append(pFrames, ev)
	}
	var requested atomic.Int32
	reqAt := make(chan time.Time, 1)
	dev := newFakeDevice(t, nil)
	start := time.Now()
	dev.script = func(c *fakeCall, send func([]byte) error) {
		// P-frames only (the camera's GOP is long) until asked.
		seqCfg := cfg
		for requested.Load() == 0 {
			groups := packetize(seqCfg, pFrames)
			seqCfg.seq += uint16(len(flat(groups)))
			for _, g := range groups {
				for _, p := range g {
					if send(p) != nil {
						return
					}
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		seqCfg.loops = 1
		pace(context.Background(), packetize(seqCfg, evs), time.Millisecond, send)
		<-c.stop
	}
	src := &Source{Receiver: r, Inviter: dev, Retry: true, Logger: testLogger(t),
		RequestKeyframe: func(ctx context.Context) error {
			if requested.Add(1) == 1 {
				reqAt <- time.Now()
			}
			return nil
		}}
	st, _, _, _ := runSource(t, src)
	wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := st.WaitReady(wctx); err != nil {
		t.Fatalf("no keyframe: %v", err)
	}
	at := <-reqAt
	if d := at.Sub(start); d < 900*time.Millisecond || d > 3*time.Second {
		t.Errorf("keyframe requested after %v, want about 1 s", d)
	}
	time.Sleep(1200 * time.Millisecond)
	if n := requested.Load(); n != 1 {
		t.Errorf("keyframe requested %d times", n)
	}
}

// TestSourceInHub: the hub starts the source for a viewer, and stopping the
// hub ends the call.
func TestSourceInHub(t *testing.T) {
	checkGoroutines(t)
	r := newTestReceiver(t, true)
	dev := newFakeDevice(t, clipGroups(t, senderConfig{video: testsrc.ClipH264, audio: testsrc.ClipAAC, loops: 10}))
	src := &Source{Receiver: r, Inviter: dev, CheckSSRC: true, Retry: true, Logger: testLogger(t)}
	h := &hub.Hub{StartTimeout: 5 * time.Second, Logger: testLogger(t)}
	h.Initialize()
	h.Set("ch1", src, false)
	st, release, err := h.Acquire(context.Background(), "ch1")
	if err != nil {
		t.Fatal(err)
	}
	rd := st.NewReader()
	units, err := rd.Read(context.Background())
	if err != nil || len(units) == 0 || !units[0].Key {
		t.Fatalf("first read: %d units, %v", len(units), err)
	}
	rd.Close()
	release()
	if s := h.Status("ch1"); s.State != stream.StateOnline {
		t.Errorf("status %+v", s)
	}
	h.Close()
	if c := dev.allCalls()[0]; c.closed.Load() != 1 {
		t.Errorf("call closed %d times", c.closed.Load())
	}
}
