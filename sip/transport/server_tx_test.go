package transport

import (
	"bufio"
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ghettovoice/gosip/sip"
)

// rawRequest is a MESSAGE as a device sends it, with this Via branch.
func rawRequest(network, branch string, cseq int) string {
	return "MESSAGE sip:34020000002000000001@3402000000 SIP/2.0\r\n" +
		"Via: SIP/2.0/" + network + " 192.168.1.64:5060;rport;branch=" + branch + "\r\n" +
		"From: <sip:34020000001320000001@3402000000>;tag=f1\r\n" +
		"To: <sip:34020000002000000001@3402000000>\r\n" +
		"Call-ID: c1\r\nCSeq: " + string(rune('0'+cseq)) + " MESSAGE\r\nMax-Forwards: 70\r\n" +
		"Content-Type: Application/MANSCDP+xml\r\nContent-Length: 5\r\n\r\nhello"
}

// handled serves MESSAGE from the layer, counting the calls, and answers
// 200 once release is closed (at once when it is nil).
func handled(l *Layer, release chan struct{}) *atomic.Int32 {
	var calls atomic.Int32
	l.Handle(sip.MESSAGE, func(req sip.Request, tx sip.ServerTransaction) {
		calls.Add(1)
		if release != nil {
			<-release
		}
		_ = tx.Respond(sip.NewResponseFromRequest("", req, 200, "OK", ""))
	})
	return &calls
}

func newHandleLayer(t *testing.T, setup func(*Layer)) *Layer {
	t.Helper()
	l := &Layer{}
	l.Initialize()
	setup(l)
	if _, err := l.ListenUDPAndTCP("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		l.Cancel()
		<-l.Done()
	})
	return l
}

func (l *Layer) pending() int {
	l.stx.mu.Lock()
	defer l.stx.mu.Unlock()
	return len(l.stx.m)
}

// Over UDP a retransmission is absorbed while the handler runs and answered
// with the same response afterwards, until Timer J; the request never
// reaches gosip.
func TestServerTxUDP(t *testing.T) {
	release := make(chan struct{})
	var calls *atomic.Int32
	l := newHandleLayer(t, func(l *Layer) { calls = handled(l, release) })
	c, err := net.Dial("udp", l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := rawRequest("UDP", "z9hG4bK-1", 1)
	read := func() string {
		buf := make([]byte, 4096)
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := c.Read(buf)
		if err != nil {
			t.Helper()
			t.Fatalf("%v; calls %d, stats %+v, pending %d", err, calls.Load(), l.Stats(), l.pending())
		}
		return string(buf[:n])
	}
	send := func() {
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
	}
	send()
	send() // while the handler runs: absorbed, no answer
	waitFor(t, func() bool { return l.Stats().Absorbed == 1 })
	close(release)
	first := read()
	send()
	if again := read(); again != first || !strings.HasPrefix(first, "SIP/2.0 200 OK") {
		t.Errorf("first answer:\n%s\nanswer to the retransmission:\n%s", first, again)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("handler called %d times", n)
	}
	if n := l.pending(); n != 1 {
		t.Errorf("%d transactions kept, want 1 until Timer J", n)
	}
	select {
	case m := <-l.Messages():
		t.Errorf("passed to gosip: %s", m.Short())
	default:
	}
	l.stx.mu.Lock()
	l.stx.sweep(time.Now().Add(timerJ + time.Second))
	l.stx.mu.Unlock()
	if n := l.pending(); n != 0 {
		t.Errorf("%d transactions kept after Timer J", n)
	}
	send() // a new transaction now
	read()
	if n := calls.Load(); n != 2 {
		t.Errorf("handler called %d times after Timer J, want 2", n)
	}
}

// Over TCP Timer J is 0: nothing is kept once the response is sent.
func TestServerTxTCP(t *testing.T) {
	var calls *atomic.Int32
	l := newHandleLayer(t, func(l *Layer) { calls = handled(l, nil) })
	c, err := net.Dial("tcp", l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	for i := 1; i <= 3; i++ {
		if _, err := c.Write([]byte(rawRequest("TCP", "z9hG4bK-"+string(rune('0'+i)), i))); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		res, err := ReadStreamMessage(r, DefaultMaxHeaderSize, DefaultMaxBodySize)
		if err != nil || !strings.HasPrefix(string(res), "SIP/2.0 200 OK") {
			t.Fatalf("answer %q, %v", res, err)
		}
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("handler called %d times", n)
	}
	waitFor(t, func() bool { return l.pending() == 0 })
}

// A handler that returns without a final response leaves nothing behind: the
// request's retransmission is handled afresh.
func TestServerTxUnanswered(t *testing.T) {
	var calls atomic.Int32
	l := newHandleLayer(t, func(l *Layer) {
		l.Handle(sip.MESSAGE, func(sip.Request, sip.ServerTransaction) { calls.Add(1) })
	})
	c, err := net.Dial("udp", l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 2 {
		if _, err := c.Write([]byte(rawRequest("UDP", "z9hG4bK-u", 1))); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return l.pending() == 0 && calls.Load() > 0 })
	}
	waitFor(t, func() bool { return calls.Load() == 2 })
}

func TestServerKey(t *testing.T) {
	remote := netip.MustParseAddrPort("198.51.100.7:40000")
	other := netip.MustParseAddrPort("198.51.100.8:40000")
	parse := func(raw string) sip.Request {
		t.Helper()
		l := &Layer{}
		l.Initialize()
		msg, err := l.dec.decode([]byte(raw), "UDP", remote, "127.0.0.1:5060")
		if err != nil {
			t.Fatal(err)
		}
		return msg.(sip.Request)
	}
	a := parse(rawRequest("UDP", "z9hG4bK-1", 1))
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"retransmission", serverKey(a, remote), serverKey(parse(rawRequest("UDP", "z9hG4bK-1", 1)), remote), true},
		{"other branch", serverKey(a, remote), serverKey(parse(rawRequest("UDP", "z9hG4bK-2", 2)), remote), false},
		// Two devices behind NAT with the same private sent-by and branch counter.
		{"other source", serverKey(a, remote), serverKey(a, other), false},
		// RFC 2543: no cookie, so the CSeq tells transactions apart.
		{"rfc2543 retransmission", serverKey(parse(rawRequest("UDP", "7", 1)), remote), serverKey(parse(rawRequest("UDP", "7", 1)), remote), true},
		{"rfc2543 next request", serverKey(parse(rawRequest("UDP", "7", 1)), remote), serverKey(parse(rawRequest("UDP", "7", 2)), remote), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if (tt.a == tt.b) != tt.same {
				t.Errorf("keys %q and %q: same = %v, want %v", tt.a, tt.b, tt.a == tt.b, tt.same)
			}
		})
	}
}

func TestHandleRefusesInvite(t *testing.T) {
	for _, m := range []sip.RequestMethod{sip.INVITE, sip.ACK, sip.CANCEL} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Handle(%s) did not panic", m)
				}
			}()
			l := &Layer{}
			l.Initialize()
			l.Handle(m, func(sip.Request, sip.ServerTransaction) {})
		}()
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 2 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// An idle TCP connection holds no read buffer; a message split over several
// writes, a body larger than the buffer and two messages in one write are
// all read whole.
func TestTCPReadBufferLent(t *testing.T) {
	var calls *atomic.Int32
	l := newHandleLayer(t, func(l *Layer) { calls = handled(l, nil) })
	const conns = 20
	var cs []net.Conn
	for range conns {
		c, err := net.Dial("tcp", l.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		cs = append(cs, c)
	}
	big := strings.Replace(rawRequest("TCP", "z9hG4bK-big", 1), "Content-Length: 5\r\n\r\nhello",
		"Content-Length: 20000\r\n\r\n"+strings.Repeat("x", 20000), 1)
	two := rawRequest("TCP", "z9hG4bK-p1", 1) + rawRequest("TCP", "z9hG4bK-p2", 2)
	for i, c := range cs {
		var err error
		switch i % 3 {
		case 0: // split in the header section, with a pause
			half := rawRequest("TCP", "z9hG4bK-s", 1)
			if _, err = c.Write([]byte(half[:40])); err == nil {
				time.Sleep(20 * time.Millisecond)
				_, err = c.Write([]byte(half[40:]))
			}
		case 1:
			_, err = c.Write([]byte(big))
		case 2:
			_, err = c.Write([]byte(two))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	want := int32(0)
	for i := range conns {
		want += map[int]int32{0: 1, 1: 1, 2: 2}[i%3]
	}
	waitFor(t, func() bool { return calls.Load() == want })
	waitFor(t, func() bool { return l.readersLent.Load() == 0 })
}

// At most MaxHandlers requests are handled at once; the others wait in the
// socket undecoded, while responses to the platform's own requests still
// get through.
func TestHandlerSlots(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	var calls *atomic.Int32
	l := newHandleLayer(t, func(l *Layer) {
		l.gate = newGate(2, DefaultMaxBacklog) // as MaxHandlers 2 would
		calls = handled(l, release)
	})
	t.Cleanup(free) // runs before the layer's cleanup
	c, err := net.Dial("udp", l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 4 {
		if _, err := c.Write([]byte(rawRequest("UDP", "z9hG4bK-slot"+string(rune('a'+i)), 1))); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool { return calls.Load() == 2 })
	// A request for gosip waits its turn too, then is passed up.
	info := strings.ReplaceAll(rawRequest("UDP", "z9hG4bK-slotinfo", 1), "MESSAGE", "INFO")
	if _, err := c.Write([]byte(info)); err != nil {
		t.Fatal(err)
	}

	// A device answers a request of the platform while both slots are taken.
	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	go func() {
		buf := make([]byte, 65536)
		n, from, err := peer.ReadFromUDP(buf)
		if err == nil {
			_, _ = peer.WriteToUDP([]byte(answer(string(buf[:n]))), from)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if res, err := l.Request(ctx, testRequest(l, "UDP", peer.LocalAddr().String())); err != nil || res.StatusCode() != 200 {
		t.Fatalf("request while the slots are taken: %v %v", res, err)
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("%d handlers ran with 2 slots", n)
	}
	if n := l.gate.queued(); n != 3 {
		t.Errorf("%d requests waiting, want 3", n)
	}
	free()
	waitFor(t, func() bool { return calls.Load() == 4 })
	select {
	case m := <-l.Messages():
		if req, ok := m.(sip.Request); !ok || req.Method() != sip.INFO {
			t.Errorf("passed up: %s", m.Short())
		}
	case <-time.After(2 * time.Second):
		t.Error("the INFO was not passed up")
	}
	buf := make([]byte, 4096)
	for range 4 {
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if n, err := c.Read(buf); err != nil || !strings.HasPrefix(string(buf[:n]), "SIP/2.0 200") {
			t.Fatalf("answer %q, %v", buf[:n], err)
		}
	}
}

// With the backlog full, a UDP request is dropped (the device will
// retransmit it) and a TCP reader waits for room.
func TestHandlerBacklogFull(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	var calls *atomic.Int32
	l := newHandleLayer(t, func(l *Layer) {
		l.gate = newGate(1, 1)
		calls = handled(l, release)
	})
	t.Cleanup(free)
	u, err := net.Dial("udp", l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	for i := range 3 {
		if _, err := u.Write([]byte(rawRequest("UDP", "z9hG4bK-full"+string(rune('a'+i)), 1))); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool { return l.Stats().Dropped == 1 })
	tc, err := net.Dial("tcp", l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	if _, err := tc.Write([]byte(rawRequest("TCP", "z9hG4bK-fullt", 1))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d handlers ran with one slot", n)
	}
	free()
	waitFor(t, func() bool { return calls.Load() == 3 }) // UDP a and b, then the TCP one
	if d := l.Stats().Dropped; d != 1 {
		t.Errorf("%d dropped, want 1", d)
	}
}
