package sip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nvr/nvr/sip/gbsim"
)

// catalogQuery is a MANSCDP query with a GB2312 name in it (摄像机): the
// bytes must arrive exactly as sent.
var catalogQuery = []byte("<?xml version=\"1.0\" encoding=\"GB2312\"?>\r\n<Query>\r\n<CmdType>Catalog</CmdType>\r\n" +
	"<SN>7</SN>\r\n<DeviceID>34020000001320000001</DeviceID>\r\n<Name>\xc9\xe3\xcf\xf1\xbb\xfa</Name>\r\n</Query>\r\n")

func TestSendMessage(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			s, _ := newTestServer(t, nil)
			d := newSim(t, s, ipcID, func(c *gbsim.Config) { c.Transport = tr })
			if _, err := d.Register(ctxTimeout(t, 5*time.Second)); err != nil {
				t.Fatal(err)
			}
			if err := s.SendMessage(ctxTimeout(t, 3*time.Second), ipcID, catalogQuery); err != nil {
				t.Fatal(err)
			}
			got, err := d.WaitReceived(ctxTimeout(t, time.Second), 1)
			if err != nil {
				t.Fatal(err)
			}
			in := got[0]
			if in.Method != "MESSAGE" || in.ContentType != ContentTypeMANSCDP || in.From != s.ID || !bytes.Equal(in.Body, catalogQuery) {
				t.Errorf("device received %+v", in)
			}
		})
	}
}

// A body over the UDP MTU still goes over UDP (gosip would switch to TCP).
func TestSendMessageLargeUDP(t *testing.T) {
	s, _ := newTestServer(t, nil)
	d := newSim(t, s, ipcID, nil)
	if _, err := d.Register(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("<Item>0123456789</Item>\r\n"), 200) // 5 KB
	if err := s.SendMessage(ctxTimeout(t, 3*time.Second), ipcID, body); err != nil {
		t.Fatal(err)
	}
	got, _ := d.WaitReceived(ctxTimeout(t, time.Second), 1)
	if len(got) != 1 || !bytes.Equal(got[0].Body, body) {
		t.Fatalf("received %d messages", len(got))
	}
}

func TestSendMessageTimeout(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			s, _ := newTestServer(t, nil)
			d := newSim(t, s, ipcID, func(c *gbsim.Config) { c.Transport = tr })
			if _, err := d.Register(ctxTimeout(t, 5*time.Second)); err != nil {
				t.Fatal(err)
			}
			d.SetSilent(true) // hung: reads but never answers
			start := time.Now()
			err := s.SendMessage(ctxTimeout(t, 400*time.Millisecond), ipcID, catalogQuery)
			el := time.Since(start)
			if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want ErrTimeout", err)
			}
			if el < 350*time.Millisecond || el > time.Second {
				t.Errorf("returned after %s with a 400 ms deadline", el)
			}
			// The device comes back: the next request works.
			d.SetSilent(false)
			if err := s.SendMessage(ctxTimeout(t, 3*time.Second), ipcID, catalogQuery); err != nil {
				t.Errorf("after recovery: %v", err)
			}
		})
	}
	t.Run("closed device", func(t *testing.T) {
		s, _ := newTestServer(t, nil)
		d := newSim(t, s, ipcID, nil)
		if _, err := d.Register(ctxTimeout(t, 5*time.Second)); err != nil {
			t.Fatal(err)
		}
		_ = d.Close()
		if err := s.SendMessage(ctxTimeout(t, 300*time.Millisecond), ipcID, catalogQuery); !errors.Is(err, ErrTimeout) {
			t.Fatalf("err = %v, want ErrTimeout", err)
		}
	})
	t.Run("unknown device", func(t *testing.T) {
		s, _ := newTestServer(t, nil)
		if err := s.SendMessage(ctxTimeout(t, time.Second), ipcID, catalogQuery); !errors.Is(err, ErrNotRegistered) {
			t.Fatalf("err = %v, want ErrNotRegistered", err)
		}
	})
}

// A device behind NAT writes its private address in Via and Contact. The
// platform must answer and send to the packet's source, never there.
func TestNAT(t *testing.T) {
	for _, c := range []struct {
		name    string
		noRport bool
	}{{"with rport", false}, {"without rport", true}} {
		t.Run(c.name, func(t *testing.T) {
			reg := newFakeRegistry()
			s, _ := newTestServer(t, func(s *Server) { s.Registry = reg })
			d := newSim(t, s, ipcID, func(cfg *gbsim.Config) {
				cfg.Quirks.ViaHost = "10.0.0.99:5060"
				cfg.Quirks.NoRport = c.noRport
			})
			if _, err := d.Register(ctxTimeout(t, 5*time.Second)); err != nil {
				t.Fatal(err) // the 401 and 200 reached the real port
			}
			ev := reg.next(t, 2*time.Second)
			if ev.info.RemoteAddr != d.LocalAddr() {
				t.Errorf("remote = %s, want %s", ev.info.RemoteAddr, d.LocalAddr())
			}
			if ev.info.Contact != "sip:"+ipcID+"@10.0.0.99:5060" {
				t.Errorf("contact = %s", ev.info.Contact)
			}
			if err := d.Keepalive(ctxTimeout(t, 3*time.Second)); err != nil {
				t.Errorf("keepalive: %v", err)
			}
			if err := s.SendMessage(ctxTimeout(t, 3*time.Second), ipcID, catalogQuery); err != nil {
				t.Fatal(err)
			}
			if got, _ := d.WaitReceived(ctxTimeout(t, time.Second), 1); len(got) != 1 {
				t.Fatalf("device received %d messages", len(got))
			}
		})
	}
}

// When a registered device's NAT binding changes, requests follow the
// address its latest message came from.
func TestAddressFollowsDevice(t *testing.T) {
	s, logs := newTestServer(t, nil)
	d1 := newSim(t, s, ipcID, nil)
	if _, err := d1.Register(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	// Same device ID, new socket: like a NAT rebinding.
	d2 := newSim(t, s, ipcID, nil)
	if err := d2.Keepalive(ctxTimeout(t, 3*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.SendMessage(ctxTimeout(t, 3*time.Second), ipcID, catalogQuery); err != nil {
		t.Fatal(err)
	}
	if got, _ := d2.WaitReceived(ctxTimeout(t, time.Second), 1); len(got) != 1 {
		t.Fatal("the moved device did not receive the message")
	}
	if len(d1.Received()) != 0 {
		t.Error("the old address received the message")
	}
	if logs.count("device address changed") != 1 {
		t.Error("no log line about the move")
	}
}

func TestMessageHandler(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			h := &fakeHandler{msgs: make(chan Message, 10)}
			s, _ := newTestServer(t, func(s *Server) { s.Handler = h })
			d := newSim(t, s, ipcID, func(c *gbsim.Config) { c.Transport = tr })

			// Before registering: answered and handed over, marked unregistered.
			if err := d.Keepalive(ctxTimeout(t, 3*time.Second)); err != nil {
				t.Fatal(err)
			}
			m := <-h.msgs
			if m.Registered {
				t.Error("unregistered device reported as registered")
			}
			if _, err := d.Register(ctxTimeout(t, 5*time.Second)); err != nil {
				t.Fatal(err)
			}
			if err := d.Keepalive(ctxTimeout(t, 3*time.Second)); err != nil {
				t.Fatal(err)
			}
			m = <-h.msgs
			want := Message{
				Method: "MESSAGE", DeviceID: ipcID, RemoteAddr: d.LocalAddr(), Transport: map[string]string{"udp": "UDP", "tcp": "TCP"}[tr],
				ContentType: ContentTypeMANSCDP, Body: gbsim.KeepaliveBody(ipcID, 2), Registered: true,
				CallID: m.CallID,
			}
			if m.CallID == "" {
				t.Error("handler got no Call-ID")
			}
			if fmt.Sprint(m) != fmt.Sprint(want) {
				t.Errorf("handler got\n%+v\nwant\n%+v", m, want)
			}
			// GB2312 (摄像机) and bytes valid in no charset arrive untouched.
			notify := []byte("<Notify><Name>\xc9\xe3\xcf\xf1\xbb\xfa\xff\xfe</Name></Notify>")
			code, err := d.Send(ctxTimeout(t, 3*time.Second), "NOTIFY", ContentTypeMANSCDP, notify)
			if err != nil || code != 200 {
				t.Fatalf("NOTIFY: %d %v", code, err)
			}
			if m := <-h.msgs; m.Method != "NOTIFY" || !bytes.Equal(m.Body, notify) {
				t.Errorf("NOTIFY handed over as %+v", m)
			}
			if code, err := d.Send(ctxTimeout(t, 3*time.Second), "OPTIONS", "", nil); err != nil || code != 200 {
				t.Errorf("OPTIONS: %d %v", code, err)
			}
			if code, err := d.Send(ctxTimeout(t, 3*time.Second), "SUBSCRIBE", "", nil); err != nil || code != 405 {
				t.Errorf("SUBSCRIBE: %d %v, want 405", code, err)
			}
		})
	}
}

func TestSendMessageAbortedByClose(t *testing.T) {
	s, _ := newTestServer(t, nil)
	d := newSim(t, s, ipcID, nil)
	if _, err := d.Register(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	d.SetSilent(true)
	errc := make(chan error, 1)
	go func() { errc <- s.SendMessage(context.Background(), ipcID, catalogQuery) }()
	time.Sleep(100 * time.Millisecond)
	_ = s.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("err = %v, want ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("SendMessage still waiting after Close")
	}
	if err := s.SendMessage(context.Background(), ipcID, catalogQuery); !errors.Is(err, ErrClosed) && !errors.Is(err, ErrNotRegistered) {
		t.Errorf("after Close: %v", err)
	}
}

func TestSendMessageRefused(t *testing.T) {
	s, _ := newTestServer(t, nil)
	d := newSim(t, s, ipcID, func(c *gbsim.Config) { c.Quirks.MessageStatus = 488 })
	if _, err := d.Register(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	err := s.SendMessage(ctxTimeout(t, 3*time.Second), ipcID, catalogQuery)
	var re *ResponseError
	if !errors.As(err, &re) || re.Code != 488 {
		t.Fatalf("err = %v, want a 488 ResponseError", err)
	}
}
