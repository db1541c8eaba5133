package gbmedia

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// testHost is the only address tests use.
const testHost = "127.0.0.1"

// rxPacket is one RTP packet as the test platform received it.
type rxPacket struct {
	hdr     rtp.Header
	payload []byte
	at      time.Time
	src     int // UDP source port
}

// receiver is a tiny platform: it receives RTP over UDP or TCP and keeps
// every packet.
type receiver struct {
	t    *testing.T
	addr string // where the simulator sends (UDP, TCP passive)

	mu    sync.Mutex
	pkts  []rxPacket
	err   error // framing or RTP errors
	conns []io.Closer
	wg    sync.WaitGroup
}

func (r *receiver) add(buf []byte) { r.addFrom(buf, 0) }

func (r *receiver) addFrom(buf []byte, src int) {
	var p rtp.Packet
	err := p.Unmarshal(buf)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		if r.err == nil {
			r.err = err
		}
		return
	}
	r.pkts = append(r.pkts, rxPacket{hdr: p.Header, payload: slices.Clone(p.Payload), at: time.Now(), src: src})
}

func (r *receiver) setErr(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
}

func (r *receiver) track(c io.Closer) {
	r.mu.Lock()
	r.conns = append(r.conns, c)
	r.mu.Unlock()
}

func (r *receiver) close() {
	r.mu.Lock()
	conns := r.conns
	r.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	r.wg.Wait()
}

// packets returns a copy of what arrived so far and fails the test on a
// framing error.
func (r *receiver) packets() []rxPacket {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		r.t.Errorf("receiver: %v", r.err)
		r.err = nil
	}
	return slices.Clone(r.pkts)
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pkts)
}

// waitFor polls until cond holds on the packets, failing after timeout.
func (r *receiver) waitFor(timeout time.Duration, what string, cond func([]rxPacket) bool) []rxPacket {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		pkts := r.packets()
		if cond(pkts) {
			return pkts
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("timeout waiting for %s (%d packets)", what, len(pkts))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func newUDPReceiver(t *testing.T) *receiver {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(testHost)})
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadBuffer(4 << 20)
	r := &receiver{t: t, addr: conn.LocalAddr().String()}
	r.track(conn)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		buf := make([]byte, 65536)
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			r.addFrom(buf[:n], int(from.Port()))
		}
	}()
	t.Cleanup(r.close)
	return r
}

// newTCPListenReceiver listens like a platform in TCP passive mode.
func newTCPListenReceiver(t *testing.T, interleaved bool) *receiver {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(testHost, "0"))
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{t: t, addr: ln.Addr().String()}
	r.track(ln)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.track(c)
			r.wg.Add(1)
			go r.readTCP(c, interleaved)
		}
	}()
	t.Cleanup(r.close)
	return r
}

// dialTCPReceiver connects like a platform in TCP active mode.
func dialTCPReceiver(t *testing.T, port int, interleaved bool) *receiver {
	t.Helper()
	c, err := net.Dial("tcp", net.JoinHostPort(testHost, strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{t: t}
	r.track(c)
	r.wg.Add(1)
	go r.readTCP(c, interleaved)
	t.Cleanup(r.close)
	return r
}

// readTCP reads RFC 4571 frames, or '$' interleaved frames.
func (r *receiver) readTCP(c net.Conn, interleaved bool) {
	defer r.wg.Done()
	br := bufio.NewReaderSize(c, 65536)
	hdrLen := 2
	if interleaved {
		hdrLen = 4
	}
	hdr := make([]byte, hdrLen)
	buf := make([]byte, 65536)
	for {
		if _, err := io.ReadFull(br, hdr); err != nil {
			return
		}
		if interleaved && (hdr[0] != '$' || hdr[1] != 0) {
			r.setErr(errors.New("bad interleaved frame header"))
			return
		}
		n := int(binary.BigEndian.Uint16(hdr[hdrLen-2:]))
		if _, err := io.ReadFull(br, buf[:n]); err != nil {
			return
		}
		r.add(buf[:n])
	}
}
