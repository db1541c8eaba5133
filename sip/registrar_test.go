package sip

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nvr/nvr/sip/gbsim"
)

const (
	ipcID = "34020000001320000001"
	nvrID = "34020000001180000002"
)

var transports = []string{"udp", "tcp"}

func TestRegisterDigest(t *testing.T) {
	for _, tr := range transports {
		for _, qop := range []bool{false, true} {
			for _, noQop := range []bool{false, true} {
				if noQop && !qop {
					continue
				}
				name := tr
				if qop {
					name += "/qop-offered"
				}
				if noQop {
					name += "/device-ignores-qop"
				}
				t.Run(name, func(t *testing.T) {
					reg := newFakeRegistry()
					s, _ := newTestServer(t, func(s *Server) { s.Registry = reg; s.OfferQop = qop })
					d := newSim(t, s, ipcID, func(c *gbsim.Config) {
						c.Transport = tr
						c.Expires = 600 * time.Second
						c.Quirks.NoQop = noQop
					})
					before := time.Now()
					res, err := d.Register(ctxTimeout(t, 5*time.Second))
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(res.Statuses, []int{401, 200}) {
						t.Errorf("statuses = %v, want [401 200]", res.Statuses)
					}
					if res.Expires != 600*time.Second {
						t.Errorf("granted expires = %s", res.Expires)
					}
					date, err := time.ParseInLocation(DateLayout, res.Date, time.Local)
					if err != nil {
						t.Errorf("Date %q: %v", res.Date, err)
					} else if date.Before(before.Add(-time.Second)) || date.After(time.Now().Add(time.Second)) {
						t.Errorf("Date %s is not now", res.Date)
					}
					ev := reg.next(t, 2*time.Second)
					if !ev.registered || ev.info.DeviceID != ipcID {
						t.Fatalf("event = %+v", ev)
					}
					if ev.info.RemoteAddr != d.LocalAddr() {
						t.Errorf("registry remote = %s, want the real source %s", ev.info.RemoteAddr, d.LocalAddr())
					}
					if ev.info.Transport != strings.ToUpper(tr) || !ev.info.Authenticated || ev.info.Refresh ||
						ev.info.Expires != 600*time.Second || ev.info.UserAgent != "gbsim" {
						t.Errorf("info = %+v", ev.info)
					}
					if _, ok := s.Registration(ipcID); !ok {
						t.Error("not in the registration table")
					}

					// A refresh is reported as such.
					if _, err := d.Register(ctxTimeout(t, 5*time.Second)); err != nil {
						t.Fatal(err)
					}
					if ev := reg.next(t, 2*time.Second); !ev.info.Refresh {
						t.Errorf("second REGISTER not reported as a refresh: %+v", ev.info)
					}
				})
			}
		}
	}
}

func TestRegisterWrongPassword(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			reg := newFakeRegistry()
			s, logs := newTestServer(t, func(s *Server) { s.Registry = reg })
			d := newSim(t, s, ipcID, func(c *gbsim.Config) { c.Transport = tr; c.Password = "wrong" })
			res, err := d.Register(ctxTimeout(t, 5*time.Second))
			var se *gbsim.StatusError
			if !errors.As(err, &se) || se.Code != 403 {
				t.Fatalf("err = %v, want 403", err)
			}
			if !reflect.DeepEqual(res.Statuses, []int{401, 403}) {
				t.Errorf("statuses = %v, want [401 403]", res.Statuses)
			}
			reg.none(t, 200*time.Millisecond)
			if _, ok := s.Registration(ipcID); ok {
				t.Error("registered with a wrong password")
			}
			if logs.count("wrong password") == 0 {
				t.Error("no log line about the wrong password")
			}
		})
	}
}

func TestRegisterNoAuth(t *testing.T) {
	for _, c := range []struct {
		name   string
		mutate func(*Server)
	}{
		{"NoAuth", func(s *Server) { s.NoAuth = true }},
		{"empty password", func(s *Server) { s.Password = "" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			reg := newFakeRegistry()
			s, _ := newTestServer(t, func(s *Server) { s.Registry = reg; c.mutate(s) })
			d := newSim(t, s, ipcID, func(c *gbsim.Config) { c.Password = "anything" })
			res, err := d.Register(ctxTimeout(t, 5*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Statuses, []int{200}) {
				t.Errorf("statuses = %v, want [200]", res.Statuses)
			}
			if ev := reg.next(t, 2*time.Second); ev.info.Authenticated {
				t.Errorf("reported as authenticated: %+v", ev.info)
			}
		})
	}
}

func TestRegisterPerDevicePassword(t *testing.T) {
	s, _ := newTestServer(t, func(s *Server) {
		s.Credentials = passwords{ipcID: "own-secret", nvrID: ""}
	})
	for _, c := range []struct {
		id, password string
		want         int
	}{
		{ipcID, "12345678", 403},   // the global password no longer works for it
		{ipcID, "own-secret", 200}, // its own does
		{nvrID, "12345678", 200},   // known with no own password: global
		{"34020000001320000003", "12345678", 200},
		{"34020000001320000003", "own-secret", 403},
	} {
		d := newSim(t, s, c.id, func(cfg *gbsim.Config) { cfg.Password = c.password })
		res, _ := d.Register(ctxTimeout(t, 5*time.Second))
		if got := res.Statuses[len(res.Statuses)-1]; got != c.want {
			t.Errorf("%s with %q: %v, want %d", c.id, c.password, res.Statuses, c.want)
		}
	}
}

func TestUnregister(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			reg := newFakeRegistry()
			s, _ := newTestServer(t, func(s *Server) { s.Registry = reg })
			d := newSim(t, s, ipcID, func(c *gbsim.Config) { c.Transport = tr })
			if _, err := d.Register(ctxTimeout(t, 5*time.Second)); err != nil {
				t.Fatal(err)
			}
			reg.next(t, 2*time.Second)
			res, err := d.Unregister(ctxTimeout(t, 5*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if res.Expires != 0 {
				t.Errorf("granted %s to an unregister", res.Expires)
			}
			ev := reg.next(t, 2*time.Second)
			if ev.registered || ev.deviceID != ipcID || ev.reason != UnregisterRequested {
				t.Errorf("event = %+v", ev)
			}
			if _, ok := s.Registration(ipcID); ok {
				t.Error("still in the table")
			}
			if err := s.SendMessage(ctxTimeout(t, time.Second), ipcID, []byte("x")); !errors.Is(err, ErrNotRegistered) {
				t.Errorf("SendMessage after unregister: %v", err)
			}
		})
	}
}

func TestDenyUnknown(t *testing.T) {
	reg := newFakeRegistry()
	s, logs := newTestServer(t, func(s *Server) {
		s.Registry = reg
		s.DenyUnknown = true
		s.AllowList = []string{ipcID}
		s.Credentials = passwords{nvrID: ""}
	})
	for _, c := range []struct {
		id   string
		want []int
	}{
		{ipcID, []int{401, 200}},
		{nvrID, []int{401, 200}},
		{"34020000001320000009", []int{403}}, // refused before any challenge
	} {
		d := newSim(t, s, c.id, nil)
		res, _ := d.Register(ctxTimeout(t, 5*time.Second))
		if !reflect.DeepEqual(res.Statuses, c.want) {
			t.Errorf("%s: %v, want %v", c.id, res.Statuses, c.want)
		}
	}
	if logs.count("unknown device") != 1 {
		t.Errorf("want one log line about the unknown device:\n%s", logs)
	}
}

func TestRegisterDeviceIDs(t *testing.T) {
	s, logs := newTestServer(t, nil)
	// A 19-digit ID is refused; an ID with odd type digits (216, a virtual
	// organisation) is accepted with a warning.
	d := newSim(t, s, "3402000000132000001", nil)
	res, err := d.Register(ctxTimeout(t, 5*time.Second))
	var se *gbsim.StatusError
	if !errors.As(err, &se) || se.Code != 400 {
		t.Errorf("19-digit ID: %v %v, want 400", res.Statuses, err)
	}
	d = newSim(t, s, "34020000002160000001", nil)
	if _, err := d.Register(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Errorf("odd type digits: %v", err)
	}
	if logs.count("unexpected type digits") == 0 {
		t.Error("no warning about the type digits")
	}
}

func TestRegistrationExpiry(t *testing.T) {
	reg := newFakeRegistry()
	s, _ := newTestServer(t, func(s *Server) { s.Registry = reg; s.ExpiryCheckInterval = 50 * time.Millisecond })
	d := newSim(t, s, ipcID, func(c *gbsim.Config) { c.Expires = time.Second })
	if _, err := d.Register(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	reg.next(t, 2*time.Second)
	start := time.Now()
	ev := reg.next(t, 3*time.Second)
	if ev.registered || ev.reason != UnregisterExpired || ev.deviceID != ipcID {
		t.Fatalf("event = %+v", ev)
	}
	if el := time.Since(start); el < 700*time.Millisecond {
		t.Errorf("expired after %s, granted 1 s", el)
	}
	if len(s.Registrations()) != 0 {
		t.Error("table not empty")
	}
}

func TestReRegisterBeforeExpiry(t *testing.T) {
	reg := newFakeRegistry()
	s, _ := newTestServer(t, func(s *Server) { s.Registry = reg; s.ExpiryCheckInterval = 50 * time.Millisecond })
	d := newSim(t, s, ipcID, func(c *gbsim.Config) { c.Expires = time.Second })
	d.Start()
	deadline := time.After(3500 * time.Millisecond)
	refreshes := 0
	for refreshes < 3 {
		select {
		case ev := <-reg.events:
			if !ev.registered {
				t.Fatalf("registration lapsed: %+v", ev)
			}
			if ev.info.Refresh {
				refreshes++
			}
		case <-deadline:
			t.Fatalf("%d refreshes in 3.5 s with a 1 s lifetime", refreshes)
		}
	}
	if st := d.Stats(); st.RegisterFailures != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestRequestedExpires(t *testing.T) {
	s, _ := newTestServer(t, func(s *Server) { s.MaxExpires = 2 * time.Hour })
	d := newSim(t, s, ipcID, func(c *gbsim.Config) { c.Expires = 48 * time.Hour })
	res, err := d.Register(ctxTimeout(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if res.Expires != 2*time.Hour {
		t.Errorf("granted %s, want the 2 h cap", res.Expires)
	}
}
