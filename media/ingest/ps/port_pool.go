package ps

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
)

// PortPool hands out the ports of a range for media sockets, round-robin, so
// that a port just released is not reused at once (a device that has not yet
// seen our BYE would still be sending to it). A port that something else
// holds is skipped. It is safe for concurrent use.
type PortPool struct {
	ip     netip.Addr // invalid: every interface
	lo, hi int

	mu   sync.Mutex
	next int
	used map[int]bool
}

// NewPortPool returns a pool of the ports lo to hi (inclusive) bound on ip
// ("" or an unspecified address: every interface).
func NewPortPool(ip string, lo, hi int) (*PortPool, error) {
	if lo < 1 || hi > 65535 || lo > hi {
		return nil, fmt.Errorf("invalid media port range %d-%d", lo, hi)
	}
	p := &PortPool{lo: lo, hi: hi, next: lo, used: make(map[int]bool)}
	if ip != "" {
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return nil, fmt.Errorf("invalid media listen IP %q: %w", ip, err)
		}
		p.ip = a.Unmap()
	}
	return p, nil
}

// Size returns the number of ports of the range.
func (p *PortPool) Size() int { return p.hi - p.lo + 1 }

// InUse returns how many ports are handed out.
func (p *PortPool) InUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.used)
}

// ListenUDP binds a UDP socket on the next free port.
func (p *PortPool) ListenUDP() (*net.UDPConn, int, error) {
	var c *net.UDPConn
	port, err := p.take(func(port int) error {
		var err error
		c, err = net.ListenUDP(p.network("udp"), p.udpAddr(port))
		return err
	})
	return c, port, err
}

// ListenTCP opens a TCP listener on the next free port.
func (p *PortPool) ListenTCP() (*net.TCPListener, int, error) {
	var l *net.TCPListener
	port, err := p.take(func(port int) error {
		var err error
		l, err = net.ListenTCP(p.network("tcp"), &net.TCPAddr{IP: p.netIP(), Port: port})
		return err
	})
	return l, port, err
}

// Reserve hands out the next free port without binding it: the port we
// announce for TCP active, where we connect and nothing listens.
func (p *PortPool) Reserve() (int, error) {
	return p.take(func(int) error { return nil })
}

// Release returns a port to the pool. The socket on it must be closed.
func (p *PortPool) Release(port int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.used, port)
}

// take tries bind on each free port, starting after the last one handed
// out, until it succeeds.
func (p *PortPool) take(bind func(port int) error) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var lastErr error
	for range p.Size() {
		port := p.next
		if p.next++; p.next > p.hi {
			p.next = p.lo
		}
		if p.used[port] {
			continue
		}
		if err := bind(port); err != nil {
			lastErr = err // in use by another process: skip it
			continue
		}
		p.used[port] = true
		return port, nil
	}
	if lastErr != nil {
		return 0, fmt.Errorf("%w %d-%d (last: %v)", ErrNoPort, p.lo, p.hi, lastErr)
	}
	return 0, fmt.Errorf("%w %d-%d", ErrNoPort, p.lo, p.hi)
}

func (p *PortPool) network(base string) string {
	switch {
	case !p.ip.IsValid():
		return base
	case p.ip.Is4():
		return base + "4"
	}
	return base + "6"
}

func (p *PortPool) netIP() net.IP {
	if !p.ip.IsValid() {
		return nil
	}
	return p.ip.AsSlice()
}

func (p *PortPool) udpAddr(port int) *net.UDPAddr {
	return &net.UDPAddr{IP: p.netIP(), Port: port}
}
