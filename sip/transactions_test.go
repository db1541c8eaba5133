package sip

import (
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nvr/nvr/sip/gbsim"
)

// gosipTransactions counts the goroutines of gosip's transaction layer that
// serve one transaction each.
func gosipTransactions() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "gosip/transaction.(*layer).serveTransaction")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// REGISTER (challenged, then accepted), MESSAGE and NOTIFY are answered
// from transactions the transport runs: none of them may leave a gosip
// server transaction behind, which held 22 KiB and a goroutine for 32 s.
func TestAnsweredRequestsLeaveNoGosipTransaction(t *testing.T) {
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			reg := newFakeRegistry()
			s, _ := newTestServer(t, func(s *Server) { s.Registry = reg })
			const n = 20
			var wg sync.WaitGroup
			for i := range n {
				d := newSim(t, s, gbsim.MakeID(132, i+1), func(c *gbsim.Config) { c.Transport = network })
				wg.Go(func() {
					ctx := ctxTimeout(t, 5*time.Second)
					if _, err := d.Register(ctx); err != nil {
						t.Error(err)
						return
					}
					if err := d.Keepalive(ctx); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if len(s.Registrations()) != n {
				t.Fatalf("%d registered, want %d", len(s.Registrations()), n)
			}
			if got := gosipTransactions(); got != 0 {
				t.Errorf("%d gosip server transactions after %d registrations and keepalives", got, n)
			}
		})
	}
}

// A REGISTER retransmitted after its 200 gets the same 200 again, from the
// transport's table, without a second registration event.
func TestRegisterRetransmissionAbsorbed(t *testing.T) {
	reg := newFakeRegistry()
	s, _ := newTestServer(t, func(s *Server) { s.Registry = reg; s.NoAuth = true })
	c := newRawUDP(t, s.Addr())
	const register = "REGISTER sip:34020000002000000001@3402000000 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5099;rport;branch=z9hG4bK-retrans-1\r\n" +
		"From: <sip:34020000001320000001@3402000000>;tag=a1\r\n" +
		"To: <sip:34020000001320000001@3402000000>\r\n" +
		"Call-ID: retrans-1\r\nCSeq: 1 REGISTER\r\n" +
		"Contact: <sip:34020000001320000001@127.0.0.1:5099>\r\n" +
		"Expires: 3600\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	c.send([]byte(register))
	first := c.read(2 * time.Second)
	c.send([]byte(register))
	again := c.read(2 * time.Second)
	if !strings.HasPrefix(first, "SIP/2.0 200") || again != first {
		t.Errorf("first answer:\n%s\nanswer to the retransmission:\n%s", first, again)
	}
	ev := <-reg.events
	if !ev.registered {
		t.Fatalf("event %+v", ev)
	}
	select {
	case ev := <-reg.events:
		t.Errorf("the retransmission was handled again: %+v", ev)
	case <-time.After(100 * time.Millisecond):
	}
	if st := s.TransportStats(); st.Absorbed != 1 {
		t.Errorf("transport stats %+v, want 1 absorbed", st)
	}
}
