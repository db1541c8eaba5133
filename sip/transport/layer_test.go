package transport

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ghettovoice/gosip/sip"
)

func newTestLayer(t *testing.T) *Layer {
	t.Helper()
	l := &Layer{Logger: slog.New(slog.DiscardHandler)}
	l.Initialize()
	if _, err := l.ListenUDPAndTCP("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		l.Cancel()
		<-l.Done()
	})
	return l
}

// testRequest builds a MESSAGE to dest over network with a NewBranch branch.
func testRequest(l *Layer, network, dest string) sip.Request {
	host, portStr, _ := net.SplitHostPort(l.Addr())
	p, _ := strconv.Atoi(portStr)
	port := sip.Port(p)
	via := sip.ViaHeader{&sip.ViaHop{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: network, Host: host, Port: &port,
		Params: sip.NewParams().Add("branch", sip.String{Str: NewBranch()})}}
	from := &sip.FromHeader{Address: &sip.SipUri{FUser: sip.String{Str: "p"}, FHost: "d"}, Params: sip.NewParams().Add("tag", sip.String{Str: "1"})}
	to := &sip.ToHeader{Address: &sip.SipUri{FUser: sip.String{Str: "x"}, FHost: "d"}}
	callID := sip.CallID("c1")
	cseq := &sip.CSeq{SeqNo: 1, MethodName: sip.MESSAGE}
	req := sip.NewRequest("", sip.MESSAGE, &sip.SipUri{FHost: "x"}, "SIP/2.0", []sip.Header{via, from, to, &callID, cseq}, "", nil)
	req.SetBody("hello", true)
	req.SetDestination(dest)
	req.SetTransport(network)
	return req
}

// answer turns a request's text into a 200.
func answer(req string) string {
	var b strings.Builder
	b.WriteString("SIP/2.0 200 OK\r\n")
	for _, line := range strings.Split(req, "\r\n") {
		for _, h := range []string{"Via:", "From:", "To:", "Call-ID:", "CSeq:"} {
			if strings.HasPrefix(line, h) {
				b.WriteString(line + "\r\n")
			}
		}
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.String()
}

// Over UDP the request is retransmitted until answered (Timer E), and a
// duplicate answer is dropped instead of reaching gosip.
func TestRequestUDPRetransmits(t *testing.T) {
	l := newTestLayer(t)
	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	go func() {
		buf := make([]byte, 65536)
		for i := 1; ; i++ {
			n, from, err := peer.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if i == 2 { // ignore the first copy, answer the second twice
				res := []byte(answer(string(buf[:n])))
				_, _ = peer.WriteToUDP(res, from)
				_, _ = peer.WriteToUDP(res, from)
			}
		}
	}()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	res, err := l.Request(ctx, testRequest(l, "UDP", peer.LocalAddr().String()))
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode() != 200 {
		t.Errorf("status %d", res.StatusCode())
	}
	if el := time.Since(start); el < 400*time.Millisecond || el > 1500*time.Millisecond {
		t.Errorf("answered after %s; the retransmission is due at 500 ms", el)
	}
	select {
	case m := <-l.Messages():
		t.Errorf("duplicate response passed up: %s", m.Short())
	case <-time.After(200 * time.Millisecond):
	}
}

// Over TCP a request to an address without a connection dials it, and the
// answer on that connection completes the transaction.
func TestRequestTCPDial(t *testing.T) {
	l := newTestLayer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		msg, err := ReadStreamMessage(bufio.NewReader(c), DefaultMaxHeaderSize, DefaultMaxBodySize)
		if err != nil {
			return
		}
		_, _ = c.Write([]byte(answer(string(msg))))
		time.Sleep(time.Second)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	res, err := l.Request(ctx, testRequest(l, "TCP", ln.Addr().String()))
	if err != nil || res.StatusCode() != 200 {
		t.Fatalf("%v %v", res, err)
	}
}

func TestRequestTimeouts(t *testing.T) {
	l := newTestLayer(t)
	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close() // reads nothing: a dead device
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := l.Request(ctx, testRequest(l, "UDP", peer.LocalAddr().String())); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v", err)
	}
	req := testRequest(l, "UDP", peer.LocalAddr().String())
	hop, _ := req.ViaHop()
	hop.Params.Add("branch", sip.String{Str: "z9hG4bKother"})
	if _, err := l.Request(context.Background(), req); err == nil {
		t.Error("a branch not from NewBranch was accepted")
	}
}
