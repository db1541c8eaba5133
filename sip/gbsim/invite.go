package gbsim

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nvr/nvr/sip/sdp"
)

// mediaStartTimeout bounds Media.Start: the platform's INVITE is waiting.
const mediaStartTimeout = 5 * time.Second

// callAckTimeout is how long a 200 waits for its ACK before the call is
// given up (RFC 3261 §13.3.1.4: 64×T1).
const callAckTimeout = 64 * timerT1

// onInvite handles an INVITE from the platform (RFC 3261 §13.3, §17.2.1):
// a retransmission gets the last response again; a new one is recorded,
// answered 100 Trying, and answered for good in the background (the offer
// is read and the media started first).
func (d *Device) onInvite(m *message, from string) {
	branch := m.branch()
	d.mu.Lock()
	if c := d.invites[branch]; c != nil {
		last := c.last
		d.mu.Unlock()
		if last != nil {
			_ = d.link.send(last, from)
		}
		return
	}
	d.mu.Unlock()
	d.record(m, from)

	channel := userOf("<" + m.uri + ">")
	if channel == "" {
		channel = userOf(m.get("To"))
	}
	c := &call{
		callID:       m.get("Call-ID"),
		branch:       branch,
		channelID:    channel,
		remoteTag:    param(m.get("From"), "tag"),
		localTag:     randHex(4),
		remoteTarget: uriOf(m.get("Contact")),
		from:         from,
		invite:       m,
		startedAt:    time.Now(),
		acked:        make(chan struct{}),
		ended:        make(chan struct{}),
	}
	q := d.Quirks()
	d.mu.Lock()
	d.pruneCalls()
	d.calls[c.callID] = c
	d.invites[branch] = c
	d.signal()
	if slices.Contains(q.SilentChannels, channel) {
		d.mu.Unlock()
		d.log.Debug("gbsim ignores an INVITE (quirk)", "channel_id", channel)
		return
	}
	c.last = m.response(100, "Trying", "")
	d.mu.Unlock()
	_ = d.link.send(c.last, from)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.answerInvite(c, q)
	}()
}

// answerInvite reads the offer, starts the media and sends the final
// answer of c's INVITE.
func (d *Device) answerInvite(c *call, q Quirks) {
	m := c.invite
	var offer sdp.Session
	if err := offer.Unmarshal(m.body); err != nil {
		d.final(c, 488, "Not Acceptable Here", nil, nil)
		return
	}
	d.mu.Lock()
	c.offer = offer
	d.mu.Unlock()
	if !d.isChannel(c.channelID) {
		d.final(c, 404, "Not Found", nil, nil)
		return
	}
	if q.InviteStatus >= 300 {
		d.final(c, q.InviteStatus, "Quirk", nil, nil)
		return
	}
	if q.InviteDelay > 0 {
		select {
		case <-time.After(q.InviteDelay):
		case <-d.stop:
			return
		}
	}

	ssrc := offer.SSRC
	switch {
	case q.ZeroSSRC:
		ssrc = "0000000000"
	case q.OwnSSRC || ssrc == "":
		ssrc = d.ownSSRC(ssrc)
	}
	ssrcValue, _ := sdp.ParseSSRC(ssrc)
	req := MediaRequest{
		ChannelID:     c.channelID,
		Mode:          string(offer.Mode()),
		Start:         offer.Start,
		End:           offer.End,
		Transport:     mediaTransport(&offer),
		RemoteAddr:    net.JoinHostPort(offer.Address, strconv.Itoa(offer.Port)),
		SSRC:          ssrcValue,
		DownloadSpeed: offer.DownloadSpeed,
	}
	if req.Mode == "" {
		req.Mode = offer.Name
	}
	d.mu.Lock()
	c.req, c.answerSSRC = req, ssrc
	d.mu.Unlock()

	port := DefaultMediaPort
	var sess MediaSession
	if d.cfg.Media != nil {
		ctx, cancel := context.WithTimeout(d.ctx, mediaStartTimeout)
		s, err := d.cfg.Media.Start(ctx, req)
		cancel()
		if err != nil {
			d.log.Warn("gbsim media did not start", "channel_id", c.channelID, "err", err)
			d.final(c, 500, "Media Not Started", nil, nil)
			return
		}
		sess, port = s, s.LocalPort()
	}
	d.mu.Lock()
	c.localPort = port
	d.mu.Unlock()
	body := d.answerSDP(c, &offer, port, ssrc)
	if !d.final(c, 200, "OK", body, sess) {
		if sess != nil {
			sess.Close() // cancelled meanwhile
		}
		return
	}
	d.awaitAck(c)
}

// final sends the final response of c's INVITE unless a CANCEL came first
// (it then reports false). A 2xx carries body (the SDP answer) and moves
// the call to answered with sess.
func (d *Device) final(c *call, code int, reason string, body []byte, sess MediaSession) bool {
	extra := []header{{"Contact", fmt.Sprintf("<sip:%s@%s>", c.channelID, d.via)}}
	var res []byte
	if code/100 == 2 {
		res = c.invite.responseBody(code, reason, c.localTag, "APPLICATION/SDP", body, extra...)
	} else {
		res = c.invite.response(code, reason, c.localTag)
	}
	d.mu.Lock()
	if c.state != callProceeding {
		d.mu.Unlock()
		return false
	}
	c.last, c.status = res, code
	if code/100 == 2 {
		c.state, c.sess = callAnswered, sess
	} else {
		c.state, c.endedAt = callRefused, time.Now()
		close(c.ended)
	}
	d.signal()
	d.mu.Unlock()
	if err := d.link.send(res, c.from); err != nil {
		d.log.Warn("gbsim INVITE answer failed", "err", err)
	}
	return true
}

// awaitAck retransmits the 200 over UDP until the ACK arrives (RFC 3261
// §13.3.1.4); without an ACK in 64×T1 the call is given up with a BYE.
func (d *Device) awaitAck(c *call) {
	interval := timerT1
	var retransmit <-chan time.Time
	var timer *time.Timer
	if !d.link.reliable() {
		timer = time.NewTimer(interval)
		defer timer.Stop()
		retransmit = timer.C
	}
	giveUp := time.NewTimer(callAckTimeout)
	defer giveUp.Stop()
	for {
		select {
		case <-c.acked:
			return
		case <-c.ended:
			return
		case <-retransmit:
			d.mu.Lock()
			res := c.last
			d.mu.Unlock()
			_ = d.link.send(res, c.from)
			interval = min(2*interval, timerT2)
			timer.Reset(interval)
		case <-giveUp.C:
			d.log.Warn("gbsim got no ACK; ending the call", "call_id", c.callID)
			ctx, cancel := context.WithTimeout(d.ctx, d.cfg.Timeout)
			_ = d.Bye(ctx, c.callID)
			cancel()
			return
		case <-d.stop:
			return
		}
	}
}

// onAck handles an ACK: of a non-2xx answer (nothing to do), or of a 200,
// which confirms the call and starts its media, unless the DropACKs quirk
// pretends it was lost.
func (d *Device) onAck(m *message, from string) {
	d.record(m, from)
	d.mu.Lock()
	c := d.calls[m.get("Call-ID")]
	if c == nil {
		d.mu.Unlock()
		return
	}
	c.acks++
	d.signal()
	if c.state != callAnswered {
		d.mu.Unlock()
		return
	}
	if c.dropped < d.quirks.DropACKs {
		c.dropped++
		d.mu.Unlock()
		return
	}
	c.state, c.confirmed = callConfirmed, true
	close(c.acked)
	sess := c.sess
	d.mu.Unlock()
	if sess == nil {
		return
	}
	sess.Begin()
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.watchMedia(c, sess)
	}()
}

// onCancel answers a CANCEL (RFC 3261 §9.2): 200, then 487 to its INVITE
// when that had no final answer yet; 481 when no INVITE matches.
func (d *Device) onCancel(m *message, from string) {
	d.record(m, from)
	d.mu.Lock()
	c := d.invites[m.branch()]
	if c == nil || d.quirks.IgnoreCancel {
		if c != nil {
			c.cancelled = true
			d.signal()
		}
		d.mu.Unlock()
		_ = d.link.send(m.response(481, "Call/Transaction Does Not Exist", d.toTag), from)
		return
	}
	c.cancelled = true
	var terminated []byte
	if c.state == callProceeding {
		terminated = c.invite.response(487, "Request Terminated", c.localTag)
		c.state, c.status, c.last, c.endedAt = callRefused, 487, terminated, time.Now()
		close(c.ended)
	}
	d.signal()
	d.mu.Unlock()
	_ = d.link.send(m.response(200, "OK", c.localTag), from)
	if terminated != nil {
		_ = d.link.send(terminated, c.from)
	}
}

// mediaTransport names the offer's transport from the platform's side.
func mediaTransport(offer *sdp.Session) string {
	switch {
	case !offer.TCP():
		return TransportUDP
	case offer.Setup == sdp.SetupActive:
		return TransportTCPActive
	default:
		return TransportTCPPassive // passive, or not said: platforms listen
	}
}

// ownSSRC returns an SSRC of the device's own: the offer's first digit
// (live or history) and nine random ones, different from the offer's.
func (d *Device) ownSSRC(offered string) string {
	first := "0"
	if strings.HasPrefix(offered, "1") {
		first = "1"
	}
	for {
		var n uint64
		for _, b := range []byte(randHex(4)) {
			n = n*16 + uint64(strings.IndexByte("0123456789abcdef", b))
		}
		s := first + fmt.Sprintf("%09d", n%1_000_000_000)
		if s != offered {
			return s
		}
	}
}

// answerSDP writes the SDP answer as device firmware does, from a
// template: the device's media address and port, sendonly, PS, the
// complementary TCP role, the SSRC.
func (d *Device) answerSDP(c *call, offer *sdp.Session, port int, ssrc string) []byte {
	var b strings.Builder
	ip := d.cfg.MediaIP
	fmt.Fprintf(&b, "v=0\r\no=%s 0 0 IN IP4 %s\r\ns=%s\r\n", c.channelID, ip, offer.Name)
	if offer.URI != "" {
		fmt.Fprintf(&b, "u=%s\r\n", offer.URI)
	}
	fmt.Fprintf(&b, "c=IN IP4 %s\r\nt=%s %s\r\n", ip, unixOrZero(offer.Start), unixOrZero(offer.End))
	proto := sdp.ProtoUDP
	if offer.TCP() {
		proto = sdp.ProtoTCP
	}
	fmt.Fprintf(&b, "m=video %d %s 96\r\na=sendonly\r\na=rtpmap:96 PS/90000\r\n", port, proto)
	if offer.TCP() {
		setup := sdp.SetupActive // the platform listens: the device connects
		if offer.Setup == sdp.SetupActive {
			setup = sdp.SetupPassive
		}
		fmt.Fprintf(&b, "a=setup:%s\r\na=connection:new\r\n", setup)
	}
	if offer.Mode() == sdp.Download {
		b.WriteString("a=filesize:-1\r\n")
	}
	fmt.Fprintf(&b, "y=%s\r\nf=\r\n", ssrc)
	return []byte(b.String())
}

func unixOrZero(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.Unix(), 10)
}

// isChannel reports whether id is one of the device's playable channels
// (or the device itself, which an IPC may be invited as).
func (d *Device) isChannel(id string) bool {
	if id == d.cfg.DeviceID {
		return true
	}
	for _, it := range d.Catalog() {
		if it.DeviceID == id && isChannelID(id) {
			return true
		}
	}
	return false
}
