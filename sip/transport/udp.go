package transport

import (
	"errors"
	"net"
	"net/netip"
)

// serveUDP starts reading c.
func (l *Layer) serveUDP(c *net.UDPConn) {
	_ = c.SetReadBuffer(udpReadBuffer) // best effort; the kernel may cap it
	l.mu.Lock()
	l.udp = c
	l.mu.Unlock()
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		buf := make([]byte, maxDatagram+1)
		for {
			n, remote, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				if l.isCanceled() || errors.Is(err, net.ErrClosed) {
					return
				}
				l.log.Warn("sip udp read failed", "err", err)
				continue
			}
			remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
			l.handle(buf[:n], "UDP", remote, func(b []byte) error {
				_, err := c.WriteToUDPAddrPort(b, remote)
				return err
			})
		}
	}()
}
