package gbsim

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/nvr/nvr/sip/transport"
)

// link is the device's connection to the platform.
type link interface {
	// send writes a message; to is the UDP destination ("" = the platform).
	send(b []byte, to string) error
	localAddr() string
	reliable() bool
	// start begins reading. It is separate from dialing so that the device
	// has stored the link before the first message can arrive.
	start()
	close()
}

// udpBufSize is a device's receive buffer. What the platform sends a device
// (queries, control) is small; 16 KiB instead of 64 KiB keeps 5,000
// simulated devices in one process from holding 320 MiB of buffers.
const udpBufSize = 16 << 10

// udpLink is a UDP socket of the device's own.
type udpLink struct {
	c       *net.UDPConn
	server  netip.AddrPort
	done    chan struct{}
	receive func([]byte, string)
}

func dialUDP(local, server string, receive func([]byte, string)) (*udpLink, error) {
	la, err := net.ResolveUDPAddr("udp", local)
	if err != nil {
		return nil, err
	}
	sa, err := net.ResolveUDPAddr("udp", server)
	if err != nil {
		return nil, err
	}
	c, err := net.ListenUDP("udp", la)
	if err != nil {
		return nil, err
	}
	l := &udpLink{c: c, server: sa.AddrPort(), done: make(chan struct{}), receive: receive}
	return l, nil
}

func (l *udpLink) send(b []byte, to string) error {
	dest := l.server
	if to != "" {
		ap, err := netip.ParseAddrPort(to)
		if err != nil {
			return err
		}
		dest = ap
	}
	_, err := l.c.WriteToUDPAddrPort(b, dest)
	return err
}

func (l *udpLink) localAddr() string { return l.c.LocalAddr().String() }
func (l *udpLink) reliable() bool    { return false }
func (l *udpLink) close()            { _ = l.c.Close(); <-l.done }

// tcpLink is one TCP connection to the platform, used both ways.
type tcpLink struct {
	c       net.Conn
	wmu     sync.Mutex
	done    chan struct{}
	receive func([]byte, string)
}

// maxSimBody bounds what the simulator reads from the platform.
const maxSimBody = 16 << 20

func dialTCP(local, server string, timeout time.Duration, receive func([]byte, string)) (*tcpLink, error) {
	la, err := net.ResolveTCPAddr("tcp", local)
	if err != nil {
		return nil, err
	}
	dialer := net.Dialer{LocalAddr: la, Timeout: timeout}
	c, err := dialer.Dial("tcp", server)
	if err != nil {
		return nil, fmt.Errorf("gbsim: connect %s: %w", server, err)
	}
	l := &tcpLink{c: c, done: make(chan struct{}), receive: receive}
	return l, nil
}

func (l *tcpLink) send(b []byte, _ string) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	_, err := l.c.Write(b)
	return err
}

func (l *tcpLink) localAddr() string { return l.c.LocalAddr().String() }
func (l *tcpLink) reliable() bool    { return true }
func (l *tcpLink) close()            { _ = l.c.Close(); <-l.done }

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// MakeID returns a 20-digit device ID in the default civil area 34020000,
// industry 00, network 0: area(8) industry(2) type(3) network(1) serial(6).
// typ 132 is an IPC, 118 an NVR.
func MakeID(typ, serial int) string {
	return fmt.Sprintf("3402000000%03d0%06d", typ%1000, serial%1000000)
}

func (l *udpLink) start() {
	go func() {
		defer close(l.done)
		buf := make([]byte, udpBufSize)
		for {
			n, from, err := l.c.ReadFromUDPAddrPort(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			l.receive(append([]byte(nil), buf[:n]...), from.String())
		}
	}()
}

func (l *tcpLink) start() {
	go func() {
		defer close(l.done)
		r := bufio.NewReader(l.c)
		for {
			msg, err := transport.ReadStreamMessage(r, transport.DefaultMaxHeaderSize, maxSimBody)
			if err != nil {
				_ = l.c.Close()
				return
			}
			l.receive(msg, "")
		}
	}()
}
