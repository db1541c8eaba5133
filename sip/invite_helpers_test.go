package sip

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nvr/nvr/sip/gbsim"
)

// fakeMedia is the simulator's Media in these tests: the seam between SIP
// (real, on the wire) and media (not needed here). It records the requests
// and the control calls its sessions get.
type fakeMedia struct {
	mu       sync.Mutex
	next     int
	sessions []*fakeSession
}

func (m *fakeMedia) Start(_ context.Context, req gbsim.MediaRequest) (gbsim.MediaSession, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	s := &fakeSession{req: req, port: 40000 + m.next, done: make(chan struct{})}
	m.sessions = append(m.sessions, s)
	return s, nil
}

// session returns the i-th session started, waiting for it.
func (m *fakeMedia) session(t testing.TB, i int) *fakeSession {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		m.mu.Lock()
		if len(m.sessions) > i {
			s := m.sessions[i]
			m.mu.Unlock()
			return s
		}
		m.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("media session %d not started", i)
	return nil
}

type fakeSession struct {
	req  gbsim.MediaRequest
	port int

	mu     sync.Mutex
	begun  bool
	closed bool
	ops    []string
	done   chan struct{}
	once   sync.Once
}

func (s *fakeSession) LocalPort() int { return s.port }
func (s *fakeSession) Begin()         { s.op("begin") }
func (s *fakeSession) Play(scale float64) {
	s.op(fmt.Sprintf("play %g", scale))
}
func (s *fakeSession) Pause()                 { s.op("pause") }
func (s *fakeSession) Seek(pos time.Duration) { s.op("seek " + pos.String()) }
func (s *fakeSession) Done() <-chan struct{}  { return s.done }

// Close ends the session; Done is closed as a real one's is.
func (s *fakeSession) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.finish()
}

// finish makes the session end by itself (a playback reached its end).
func (s *fakeSession) finish() { s.once.Do(func() { close(s.done) }) }

func (s *fakeSession) op(o string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o == "begin" {
		s.begun = true
	}
	s.ops = append(s.ops, o)
}

// waitOps waits until the session recorded want (in order, among others)
// and returns what it recorded.
func (s *fakeSession) waitOps(t testing.TB, want ...string) []string {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		s.mu.Lock()
		ops := slices.Clone(s.ops)
		s.mu.Unlock()
		if containsInOrder(ops, want) {
			return ops
		}
		if time.Now().After(deadline) {
			t.Fatalf("media session did %q, want %q", ops, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (s *fakeSession) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// waitClosed waits until the session is closed (the simulator closes it
// off its reader goroutine).
func waitClosed(t testing.TB, s *fakeSession) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !s.isClosed() {
		if time.Now().After(deadline) {
			t.Fatal("media session not closed")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func containsInOrder(have, want []string) bool {
	i := 0
	for _, h := range have {
		if i < len(want) && h == want[i] {
			i++
		}
	}
	return i == len(want)
}

// inviteEnv is a server and a registered simulated device with fake media.
type inviteEnv struct {
	srv   *Server
	logs  *logBuffer
	sim   *gbsim.Device
	media *fakeMedia
	msgs  chan Message
}

func newInviteEnv(t *testing.T, transport string, q gbsim.Quirks, mutate func(*Server)) *inviteEnv {
	t.Helper()
	e := &inviteEnv{media: &fakeMedia{}, msgs: make(chan Message, 100)}
	e.srv, e.logs = newTestServer(t, func(s *Server) {
		s.Handler = &fakeHandler{msgs: e.msgs}
		if mutate != nil {
			mutate(s)
		}
	})
	e.sim = newSim(t, e.srv, gbsim.MakeID(118, 1), func(c *gbsim.Config) {
		c.Transport = transport
		c.Channels = 2
		c.Media = e.media
		c.Quirks = q
	})
	if _, err := e.sim.Register(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	return e
}

// request returns an InviteRequest for channel 1 of the device.
func (e *inviteEnv) request(mode string) InviteRequest {
	r := InviteRequest{DeviceID: e.sim.ID(), ChannelID: e.sim.ChannelID(1), Mode: mode, IP: "127.0.0.1", Port: 30000}
	if mode != ModePlay {
		r.Start = time.Unix(1700000000, 0)
		r.End = r.Start.Add(10 * time.Minute)
	}
	return r
}

// call waits for the simulator's call with this Call-ID to satisfy ok.
func (e *inviteEnv) call(t testing.TB, callID string, what string, ok func(gbsim.Call) bool) gbsim.Call {
	t.Helper()
	c, err := e.sim.WaitCall(ctxTimeout(t, 5*time.Second), func(c gbsim.Call) bool {
		return c.CallID == callID && ok(c)
	})
	if err != nil {
		t.Fatalf("%s: call %s: %+v", what, callID, e.sim.Calls())
	}
	return c
}

// mediaStatus waits for a MediaStatus MESSAGE.
func (e *inviteEnv) mediaStatus(t testing.TB) Message {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case m := <-e.msgs:
			if strings.Contains(string(m.Body), "<CmdType>MediaStatus</CmdType>") {
				return m
			}
		case <-deadline:
			t.Fatal("no MediaStatus received")
			return Message{}
		}
	}
}

func waitDone(t testing.TB, d *Dialog, timeout time.Duration) {
	t.Helper()
	select {
	case <-d.Done():
	case <-time.After(timeout):
		t.Fatalf("dialog %s not ended", d.CallID())
	}
}
