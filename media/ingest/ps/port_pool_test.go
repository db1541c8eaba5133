package ps

import (
	"errors"
	"math/rand/v2"
	"net"
	"testing"
)

func TestPortPool(t *testing.T) {
	// A range of four ports, one of which something else holds. The range
	// is below the kernel's ephemeral ports (32768 and up by default), so
	// that no other socket of the machine takes one meanwhile.
	lo := freeRange(t, 4)
	busy, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: lo + 1})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	bp := lo + 1
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

// freeRange returns the first of n consecutive ports, below the ephemeral
// range, on which UDP and TCP can bind on 127.0.0.1 now.
func freeRange(t *testing.T, n int) int {
	t.Helper()
	free := func(port int) bool {
		u, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		if err != nil {
			return false
		}
		u.Close()
		l, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		if err != nil {
			return false
		}
		l.Close()
		return true
	}
	for lo := 21000 + rand.IntN(8000); lo < 32000; lo += n {
		ok := true
		for p := lo; p < lo+n && ok; p++ {
			ok = free(p)
		}
		if ok {
			return lo
		}
	}
	t.Fatal("no free port range below 32000")
	return 0
}
