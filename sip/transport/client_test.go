package transport

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ghettovoice/gosip/sip"
)

// inviteRequest turns testRequest into an INVITE.
func inviteRequest(l *Layer, dest string) sip.Request {
	req := testRequest(l, "UDP", dest)
	req.SetMethod(sip.INVITE)
	cseq, _ := req.CSeq()
	cseq.MethodName = sip.INVITE
	return req
}

// respond writes a response with status line to the request's text.
func respond(req, status, toTag string) []byte {
	res := strings.Replace(answer(req), "SIP/2.0 200 OK", "SIP/2.0 "+status, 1)
	if toTag != "" {
		res = strings.Replace(res, "\r\nTo: <sip:x@d>", "\r\nTo: <sip:x@d>;tag="+toTag, 1)
	}
	return []byte(res)
}

// udpPeer reads what the layer sends it.
type udpPeer struct {
	c    *net.UDPConn
	from *net.UDPAddr
}

func newUDPPeer(t *testing.T) *udpPeer {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &udpPeer{c: c}
}

// read returns the next datagram's text, "" after timeout.
func (p *udpPeer) read(timeout time.Duration) string {
	buf := make([]byte, 65536)
	_ = p.c.SetReadDeadline(time.Now().Add(timeout))
	n, from, err := p.c.ReadFromUDP(buf)
	if err != nil {
		return ""
	}
	p.from = from
	return string(buf[:n])
}

func (p *udpPeer) send(b []byte) { _, _ = p.c.WriteToUDP(b, p.from) }

func method(msg string) string { m, _, _ := strings.Cut(msg, " "); return m }

// An INVITE over UDP is retransmitted (Timer A) until a provisional
// response; the 2xx is delivered, and its retransmissions are ACKed with
// the ACK given to Ack until Terminate.
func TestInviteTx2xx(t *testing.T) {
	l := newTestLayer(t)
	peer := newUDPPeer(t)
	tx, err := l.RequestInvite(inviteRequest(l, peer.c.LocalAddr().String()))
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Terminate()
	first := peer.read(time.Second)
	if method(first) != "INVITE" || method(peer.read(time.Second)) != "INVITE" {
		t.Fatal("INVITE not retransmitted")
	}
	peer.send(respond(first, "100 Trying", ""))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if res, err := tx.Next(ctx); err != nil || res.StatusCode() != 100 {
		t.Fatalf("Next: %v, %v", res, err)
	}
	if m := peer.read(1200 * time.Millisecond); m != "" {
		t.Fatalf("retransmitted after a provisional response: %q", method(m))
	}
	ok := respond(first, "200 OK", "dev")
	peer.send(ok)
	res, err := tx.Next(ctx)
	if err != nil || res.StatusCode() != 200 {
		t.Fatalf("Next: %v, %v", res, err)
	}
	ack := ackOf(tx.Request(), res) // any request will do as "the ACK"
	if err := tx.Ack(ack); err != nil {
		t.Fatal(err)
	}
	if m := peer.read(time.Second); method(m) != "ACK" {
		t.Fatalf("ACK not sent: %q", m)
	}
	peer.send(ok)
	if m := peer.read(time.Second); method(m) != "ACK" || !strings.Contains(m, ";tag=dev") {
		t.Fatalf("retransmitted 200 not ACKed: %q", m)
	}
	if tx.AcksResent() != 1 {
		t.Errorf("AcksResent %d", tx.AcksResent())
	}
	tx.Terminate()
	<-tx.Done()
	peer.send(ok)
	if m := peer.read(300 * time.Millisecond); m != "" {
		t.Errorf("after Terminate: %q", method(m))
	}
}

// A non-2xx final response is ACKed by the transaction (same branch, the
// response's To tag, the INVITE's Request-URI and CSeq number), and so is
// its retransmission; a CANCEL names the INVITE's transaction.
func TestInviteTxNon2xxAndCancel(t *testing.T) {
	l := newTestLayer(t)
	peer := newUDPPeer(t)
	tx, err := l.RequestInvite(inviteRequest(l, peer.c.LocalAddr().String()))
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Terminate()
	inv := peer.read(time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	cancelled := make(chan error, 1)
	go func() {
		_, err := tx.Cancel(ctx)
		cancelled <- err
	}()
	c := peer.read(time.Second)
	branch := func(m string) string {
		_, b, _ := strings.Cut(m, "branch=")
		b, _, _ = strings.Cut(b, "\r\n")
		return b
	}
	if method(c) != "CANCEL" || branch(c) != branch(inv) || !strings.Contains(c, "CSeq: 1 CANCEL") ||
		strings.Contains(c, "tag=dev") {
		t.Fatalf("CANCEL %q", c)
	}
	peer.send(respond(c, "200 OK", "dev"))
	if err := <-cancelled; err != nil {
		t.Fatal(err)
	}
	terminated := respond(inv, "487 Request Terminated", "dev")
	peer.send(terminated)
	res, err := tx.Next(ctx)
	if err != nil || res.StatusCode() != 487 {
		t.Fatalf("Next: %v, %v", res, err)
	}
	for range 2 {
		a := peer.read(time.Second)
		if method(a) != "ACK" || branch(a) != branch(inv) || !strings.Contains(a, "CSeq: 1 ACK") ||
			!strings.Contains(a, "tag=dev") || !strings.HasPrefix(a, "ACK sip:x SIP/2.0") {
			t.Fatalf("ACK %q", a)
		}
		peer.send(terminated) // a retransmission: ACKed again
	}
}

// Timer B: no response at all is reported as ErrTxTimeout; a late final
// response is still delivered. It takes 32 s: run with SIP_SLOW_TESTS=1.
func TestInviteTxTimerB(t *testing.T) {
	if os.Getenv("SIP_SLOW_TESTS") == "" {
		t.Skip("takes 32 s (Timer B); set SIP_SLOW_TESTS=1")
	}
	t.Parallel()
	l := newTestLayer(t)
	peer := newUDPPeer(t)
	tx, err := l.RequestInvite(inviteRequest(l, peer.c.LocalAddr().String()))
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Terminate()
	inv := peer.read(time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	if _, err := tx.Next(ctx); err != ErrTxTimeout {
		t.Fatalf("Next: %v", err)
	}
	peer.send(respond(inv, "200 OK", "late"))
	if res, err := tx.Next(ctx); err != nil || res.StatusCode() != 200 {
		t.Fatalf("late 200: %v, %v", res, err)
	}
}
