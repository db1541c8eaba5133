package ps

import (
	"errors"
	"net"
	"testing"
)

func TestPortPool(t *testing.T) {
	// A range of three ports, one of which something else holds.
	busy, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	bp := busy.LocalAddr().(*net.UDPAddr).Port
	lo := bp - 1
	if lo < 1024 {
		lo = bp
	}
	p, err := NewPortPool("127.0.0.1", lo, lo+3)
	if err != nil {
		t.Fatal(err)
	}
	var conns []*net.UDPConn
	got := map[int]bool{}
	for {
		c, port, err := p.ListenUDP()
		if errors.Is(err, ErrNoPort) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if port == bp || got[port] || port < lo || port > lo+3 {
			t.Fatalf("port %d handed out (busy %d, got %v)", port, bp, got)
		}
		got[port] = true
		conns = append(conns, c)
	}
	if len(got) == 0 || len(got) > 3 || p.InUse() != len(got) {
		t.Fatalf("%d ports handed out, %d in use", len(got), p.InUse())
	}
	// A released port can be handed out again; the ports still held are not.
	conns[0].Close()
	first := conns[0].LocalAddr().(*net.UDPAddr).Port
	p.Release(first)
	l, port, err := p.ListenTCP()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if port < lo || port > lo+3 || (got[port] && port != first) {
		// The UDP-busy port may come out for TCP: only UDP holds it.
		t.Fatalf("TCP got port %d (range %d-%d, still held %v, released %d)", port, lo, lo+3, got, first)
	}
	for _, c := range conns[1:] {
		c.Close()
	}
}

func TestPortPoolRoundRobin(t *testing.T) {
	p, err := NewPortPool("127.0.0.1", 1, 65535)
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	p.Release(a)
	b, err := p.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("port %d reused at once", a)
	}
}

func TestPortPoolInvalid(t *testing.T) {
	for _, c := range []struct {
		ip     string
		lo, hi int
	}{{"", 0, 10}, {"", 10, 5}, {"", 1, 70000}, {"not-an-ip", 1000, 2000}} {
		if _, err := NewPortPool(c.ip, c.lo, c.hi); err == nil {
			t.Errorf("NewPortPool(%q, %d, %d) accepted", c.ip, c.lo, c.hi)
		}
	}
}

func TestReadBuffer(t *testing.T) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetReadBuffer(64 << 10); err != nil {
		t.Fatal(err)
	}
	if got, ok := readBuffer(c); ok && got != 64<<10 {
		t.Fatalf("read buffer %d, want %d", got, 64<<10)
	}
}
