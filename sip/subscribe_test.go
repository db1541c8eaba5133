package sip

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nvr/nvr/sip/gbsim"
)

func TestSubscribe(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			s, _ := newTestServer(t, nil)
			d := newSim(t, s, ipcID, func(c *gbsim.Config) { c.Transport = tr })
			if _, err := d.Register(ctxTimeout(t, 5*time.Second)); err != nil {
				t.Fatal(err)
			}
			sub := &Subscription{DeviceID: ipcID, Event: "Catalog;id=1"}
			body := []byte("<Query><CmdType>Catalog</CmdType><SN>1</SN><DeviceID>" + ipcID + "</DeviceID></Query>")
			// 1.2 s is sent as 2 s: Expires is in whole seconds and must
			// not round down.
			granted, err := s.Subscribe(ctxTimeout(t, 3*time.Second), sub, 1200*time.Millisecond, body)
			if err != nil {
				t.Fatal(err)
			}
			if granted != 2*time.Second || !sub.Active() || !d.Subscribed("Catalog") {
				t.Fatalf("granted %s, active %v, device subscribed %v", granted, sub.Active(), d.Subscribed("catalog"))
			}
			if _, err := s.Subscribe(ctxTimeout(t, 3*time.Second), sub, time.Hour, body); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Subscribe(ctxTimeout(t, 3*time.Second), sub, 0, body); err != nil {
				t.Fatal(err)
			}
			if sub.Active() || d.Subscribed("Catalog") {
				t.Error("still subscribed after Expires 0")
			}
			var got []gbsim.Incoming
			for _, in := range d.Received() {
				if in.Method == "SUBSCRIBE" {
					got = append(got, in)
				}
			}
			if len(got) != 3 {
				t.Fatalf("%d SUBSCRIBEs", len(got))
			}
			for i, want := range []string{"2", "3600", "0"} {
				in := got[i]
				if in.Expires != want || in.Event != "Catalog;id=1" || in.CallID != got[0].CallID ||
					in.ContentType != ContentTypeMANSCDP || string(in.Body) != string(body) {
					t.Errorf("SUBSCRIBE %d: %+v", i, in)
				}
			}
		})
	}
}

// A device that lost the dialog answers the refresh 481: Subscribe starts
// a new dialog by itself.
func TestSubscribeDialogLost(t *testing.T) {
	s, _ := newTestServer(t, nil)
	d := newSim(t, s, ipcID, nil)
	if _, err := d.Register(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	sub := &Subscription{DeviceID: ipcID, Event: "Catalog"}
	if _, err := s.Subscribe(ctxTimeout(t, 3*time.Second), sub, time.Minute, nil); err != nil {
		t.Fatal(err)
	}
	_ = d.Close()
	d2 := newSim(t, s, ipcID, nil)
	if _, err := d2.Register(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Subscribe(ctxTimeout(t, 3*time.Second), sub, time.Minute, nil); err != nil {
		t.Fatal(err)
	}
	got := d2.Received()
	if len(got) != 2 || got[0].CallID == got[1].CallID || !d2.Subscribed("Catalog") {
		t.Errorf("received %+v", got)
	}

	unknown := &Subscription{DeviceID: gbsim.MakeID(132, 42), Event: "Catalog"}
	if _, err := s.Subscribe(ctxTimeout(t, 3*time.Second), unknown, time.Minute, nil); !errors.Is(err, ErrNotRegistered) {
		t.Errorf("unknown device: %v", err)
	}
	bad := &Subscription{DeviceID: ipcID, Event: ""} // the device refuses: 489 Bad Event
	_, err := s.Subscribe(ctxTimeout(t, 3*time.Second), bad, time.Minute, nil)
	var re *ResponseError
	if !errors.As(err, &re) || re.Code != 489 || bad.Active() {
		t.Errorf("bad event: %v, active %v", err, bad.Active())
	}
}

// countingHandler fails the test when called after Close returned.
type countingHandler struct {
	t      *testing.T
	closed atomic.Bool
	n      atomic.Int64
}

func (h *countingHandler) HandleMessage(_ context.Context, m Message) {
	if h.closed.Load() {
		h.t.Errorf("handler called after Close: %s from %s", m.Method, m.DeviceID)
	}
	h.n.Add(1)
}

// Requests arriving while the server closes: no race (go test -race), no
// handler call after Close returns, and Close returns promptly.
func TestCloseDuringRequests(t *testing.T) {
	h := &countingHandler{t: t}
	s, _ := newTestServer(t, func(s *Server) { s.Handler = h })
	var devs []*gbsim.Device
	for i := range 5 {
		for j, tr := range transports {
			d := newSim(t, s, gbsim.MakeID(132, 100+2*i+j), func(c *gbsim.Config) {
				c.Transport = tr
				c.Timeout = 300 * time.Millisecond
			})
			if _, err := d.Register(ctxTimeout(t, 5*time.Second)); err != nil {
				t.Fatal(err)
			}
			devs = append(devs, d)
		}
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	for _, d := range devs {
		go func() {
			defer func() { done <- struct{}{} }()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_ = d.Keepalive(ctxTimeout(t, time.Second))
			}
		}()
	}
	deadline := time.Now().Add(3 * time.Second)
	for h.n.Load() < 50 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	_ = s.Close()
	h.closed.Store(true)
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("Close took %s", el)
	}
	time.Sleep(100 * time.Millisecond) // requests still arriving find the server closed
	close(stop)
	for range devs {
		<-done
	}
	if h.n.Load() < 50 {
		t.Errorf("only %d messages handled", h.n.Load())
	}
}
