package ps

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeDevice is a test Inviter: on Invite it answers at once and sends RTP
// over real sockets to the offer (or, for TCP active, waits for our
// connection). The Inviter is our own seam, not the protocol under test.
type fakeDevice struct {
	t         *testing.T
	groups    [][][]byte // the packets to send, by frame
	gap       time.Duration
	framing   framing
	nextSSRC  atomic.Uint32
	answer    func(offer uint32) uint32 // the answer's SSRC; nil: the offer's
	endAfter  bool                      // BYE after the last packet
	endErr    error
	inviteErr error
	// script replaces the default sender when set.
	script func(c *fakeCall, send func([]byte) error)

	mu     sync.Mutex
	offers []Offer
	calls  []*fakeCall
}

func newFakeDevice(t *testing.T, groups [][][]byte) *fakeDevice {
	d := &fakeDevice{t: t, groups: groups, gap: 300 * time.Microsecond}
	d.nextSSRC.Store(100)
	t.Cleanup(func() {
		for _, c := range d.allCalls() {
			c.stopSending()
		}
	})
	return d
}

func (d *fakeDevice) SSRC() uint32 { return d.nextSSRC.Add(1) }

func (d *fakeDevice) allCalls() []*fakeCall {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]*fakeCall(nil), d.calls...)
}

func (d *fakeDevice) invites() []Offer {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Offer(nil), d.offers...)
}

func (d *fakeDevice) Invite(ctx context.Context, o Offer) (Call, error) {
	d.mu.Lock()
	d.offers = append(d.offers, o)
	d.mu.Unlock()
	if d.inviteErr != nil {
		return nil, d.inviteErr
	}
	ssrc := o.SSRC
	if d.answer != nil {
		ssrc = d.answer(o.SSRC)
	}
	c := &fakeCall{dev: d, offer: o, ssrc: ssrc, done: make(chan struct{}), stop: make(chan struct{})}
	c.ans = Answer{Transport: o.Transport, Addr: "127.0.0.1:9", SSRC: ssrc}
	if d.answer != nil && ssrc == 0 {
		c.ssrc = 0x5eed // the device sends one of its own
	}
	var ln net.Listener
	if o.Transport == TransportTCPActive {
		var err error
		if ln, err = net.Listen("tcp4", "127.0.0.1:0"); err != nil {
			return nil, err
		}
		c.ans.Addr = ln.Addr().String()
	}
	d.mu.Lock()
	d.calls = append(d.calls, c)
	d.mu.Unlock()
	c.wg.Add(1)
	go c.send(ln)
	return c, nil
}

// fakeCall is one call of a fakeDevice.
type fakeCall struct {
	dev   *fakeDevice
	offer Offer
	ans   Answer
	ssrc  uint32 // what the device puts in its packets

	done     chan struct{}
	doneOnce sync.Once
	err      error
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
	closed   atomic.Int32
	sent     atomic.Int64
}

func (c *fakeCall) Answer() Answer        { return c.ans }
func (c *fakeCall) Done() <-chan struct{} { return c.done }
func (c *fakeCall) Err() error            { return c.err }

func (c *fakeCall) Close(ctx context.Context) error {
	c.closed.Add(1)
	c.stopSending()
	return nil
}

func (c *fakeCall) stopSending() {
	c.stopOnce.Do(func() { close(c.stop) })
	c.wg.Wait()
}

// bye ends the call from the device's side.
func (c *fakeCall) bye(err error) {
	c.doneOnce.Do(func() {
		c.err = err
		close(c.done)
	})
}

func (c *fakeCall) stopped() bool {
	select {
	case <-c.stop:
		return true
	default:
		return false
	}
}

// send connects as the transport wants and sends the packets.
func (c *fakeCall) send(ln net.Listener) {
	defer c.wg.Done()
	var conn net.Conn
	var err error
	to := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: c.offer.Port}
	switch c.offer.Transport {
	case TransportUDP:
		conn, err = net.DialUDP("udp4", nil, &net.UDPAddr{IP: to.IP, Port: to.Port})
	case TransportTCPPassive:
		conn, err = net.DialTCP("tcp4", nil, to)
	case TransportTCPActive:
		go func() { <-c.stop; ln.Close() }()
		conn, err = ln.Accept()
		ln.Close()
	}
	if err != nil {
		if !c.stopped() {
			c.dev.t.Logf("fake device: connect: %v", err)
		}
		return
	}
	defer conn.Close()
	go func() { <-c.stop; conn.Close() }()
	send := func(p []byte) error {
		if c.stopped() {
			return errors.New("stopped")
		}
		q := append([]byte(nil), p...)
		binary.BigEndian.PutUint32(q[8:12], c.ssrc)
		if c.offer.Transport != TransportUDP {
			q = c.dev.framing.wrap(q)
		}
		_, err := conn.Write(q)
		if err == nil {
			c.sent.Add(1)
		}
		return err
	}
	if c.dev.script != nil {
		c.dev.script(c, send)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-c.stop:
		case <-ctx.Done():
		}
		cancel()
	}()
	err = pace(ctx, c.dev.groups, c.dev.gap, send)
	cancel()
	if err == nil && c.dev.endAfter {
		c.bye(c.dev.endErr)
	}
}
