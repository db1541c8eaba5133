package gbsim_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nvr/nvr/sip"
	"github.com/nvr/nvr/sip/gbsim"
)

type handler struct{ msgs chan sip.Message }

func (h *handler) HandleMessage(_ context.Context, m sip.Message) { h.msgs <- m }

func newServer(t *testing.T, h sip.MessageHandler) *sip.Server {
	t.Helper()
	s := &sip.Server{ListenAddr: "127.0.0.1:0", Password: "pw", Handler: h}
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Start registers, refreshes and sends keepalives with increasing SNs.
func TestStartKeepalives(t *testing.T) {
	for _, tr := range []string{"udp", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			h := &handler{msgs: make(chan sip.Message, 100)}
			s := newServer(t, h)
			d, err := gbsim.New(gbsim.Config{DeviceID: gbsim.MakeID(132, 7), Password: "pw", Server: s.Addr(),
				Transport: tr, Keepalive: 100 * time.Millisecond, Expires: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			d.Start()
			for sn := 1; sn <= 3; sn++ {
				select {
				case m := <-h.msgs:
					want := fmt.Sprintf("<SN>%d</SN>", sn)
					if !m.Registered || !strings.Contains(string(m.Body), "<CmdType>Keepalive</CmdType>") ||
						!strings.Contains(string(m.Body), want) || !strings.HasPrefix(string(m.Body), `<?xml version="1.0" encoding="GB2312"?>`) {
						t.Errorf("keepalive %d: %+v\n%s", sn, m, m.Body)
					}
				case <-time.After(3 * time.Second):
					t.Fatalf("keepalive %d not received", sn)
				}
			}
			// The platform hands a keepalive over just before the device
			// counts the 200.
			deadline := time.Now().Add(time.Second)
			for d.Stats().Keepalives < 3 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if st := d.Stats(); st.Registrations != 1 || st.Keepalives < 3 || st.KeepaliveFailures != 0 {
				t.Errorf("stats = %+v", st)
			}
			if _, ok := s.Registration(d.ID()); !ok {
				t.Error("not registered")
			}
		})
	}
}

// Many devices run from one process, each on its own port.
func TestManyDevices(t *testing.T) {
	s := newServer(t, nil)
	const n = 50
	var wg sync.WaitGroup
	addrs := make([]string, n)
	for i := range n {
		d, err := gbsim.New(gbsim.Config{DeviceID: gbsim.MakeID(132, i+1), Password: "pw", Server: s.Addr()})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		addrs[i] = d.LocalAddr()
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if _, err := d.Register(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	regs := s.Registrations()
	if len(regs) != n {
		t.Fatalf("%d registered", len(regs))
	}
	seen := map[string]bool{}
	for _, r := range regs {
		seen[r.RemoteAddr] = true
	}
	for _, a := range addrs {
		if !seen[a] {
			t.Errorf("no registration from %s", a)
		}
	}
}

// A device answers retransmitted requests with the same response and
// records the request once.
func TestRecordsOnce(t *testing.T) {
	s := newServer(t, nil)
	d, err := gbsim.New(gbsim.Config{DeviceID: gbsim.MakeID(132, 1), Password: "pw", Server: s.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := d.Register(ctx); err != nil {
		t.Fatal(err)
	}
	// Silent for a while: the platform retransmits over UDP (T1 = 500 ms).
	d.SetSilent(true)
	go func() {
		time.Sleep(1200 * time.Millisecond)
		d.SetSilent(false)
	}()
	if err := s.SendMessage(ctx, d.ID(), []byte("<Query/>")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if got := d.Received(); len(got) != 1 || string(got[0].Body) != "<Query/>" {
		t.Errorf("received %d messages", len(got))
	}
}
