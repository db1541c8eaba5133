package gbsim

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/nvr/nvr/sip/manscdp"
	"github.com/nvr/nvr/sip/mansrtsp"
	"github.com/nvr/nvr/sip/sdp"
)

// ErrNoCall is returned by Bye for a Call-ID the device holds no live call
// with.
var ErrNoCall = errors.New("gbsim: no such call")

// maxEndedCalls bounds the ended calls kept for Calls: a load run making
// thousands of calls must not grow without end.
const maxEndedCalls = 256

// callState is where a call is.
type callState int

const (
	callProceeding callState = iota // INVITE received, no final answer yet
	callAnswered                    // 200 sent, no ACK yet
	callConfirmed                   // ACKed: media flows
	callRefused                     // a non-2xx final answer (487 after CANCEL included)
	callEnded                       // a BYE either way, or no ACK
)

// call is a media session the platform opened with INVITE.
type call struct {
	// Set at the INVITE.
	callID, branch, channelID string
	remoteTag, localTag       string
	remoteTarget              string // the platform's Contact
	from                      string // where the INVITE came from (UDP)
	invite                    *message
	startedAt                 time.Time
	acked, ended              chan struct{}

	// Guarded by Device.mu.
	offer                             sdp.Session
	req                               MediaRequest
	answerSSRC                        string
	localPort                         int
	confirmed                         bool
	state                             callState
	last                              []byte // the last response to the INVITE
	status                            int
	sess                              MediaSession
	acks, dropped                     int
	cancelled                         bool
	infos                             []Info
	byePlatform, byeDevice, status121 bool
	endedAt                           time.Time
}

// Info is a MANSRTSP body the platform sent in an INFO.
type Info struct {
	Body []byte
	// Request is the body read; Err says why it could not be.
	Request mansrtsp.Request
	Err     error
}

// Call is what the simulator saw of one INVITE and the call it made.
type Call struct {
	CallID, ChannelID string
	// Offer is the platform's SDP offer.
	Offer sdp.Session
	// Media is what Media.Start was given (Mode, range, transport, the
	// platform's address, the SSRC the media carries).
	Media MediaRequest
	// AnswerSSRC is the answer's y=; LocalPort its m= port.
	AnswerSSRC string
	LocalPort  int
	// Status is the final status sent to the INVITE, 0 while none.
	Status int
	// Acks counts the ACKs received, dropped and repeated ones included.
	Acks int
	// Cancelled is set when the platform sent CANCEL.
	Cancelled bool
	// Infos are the INFO bodies received, in order.
	Infos []Info
	// ByePlatform and ByeDevice say who sent BYE.
	ByePlatform, ByeDevice bool
	// MediaStatusSent is set once the device reported the end of a
	// playback (MediaStatus 121).
	MediaStatusSent bool
	// Confirmed is set once the ACK was taken; Ended once the call is
	// over (BYE, refused, cancelled, no ACK).
	Confirmed, Ended bool
	StartedAt        time.Time
	EndedAt          time.Time
}

// snapshot returns the public view of c. d.mu is held.
func (c *call) snapshot() Call {
	return Call{
		CallID: c.callID, ChannelID: c.channelID, Offer: c.offer, Media: c.req,
		AnswerSSRC: c.answerSSRC, LocalPort: c.localPort, Status: c.status, Acks: c.acks,
		Cancelled: c.cancelled, Infos: slices.Clone(c.infos), ByePlatform: c.byePlatform,
		ByeDevice: c.byeDevice, MediaStatusSent: c.status121,
		Confirmed: c.confirmed, Ended: c.state == callRefused || c.state == callEnded,
		StartedAt: c.startedAt, EndedAt: c.endedAt,
	}
}

// Calls returns the calls seen, oldest first (ended ones included, up to
// a bound).
func (d *Device) Calls() []Call {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Call, 0, len(d.calls))
	for _, c := range d.calls {
		out = append(out, c.snapshot())
	}
	slices.SortFunc(out, func(a, b Call) int { return a.StartedAt.Compare(b.StartedAt) })
	return out
}

// WaitCall waits until a call satisfies ok and returns it.
func (d *Device) WaitCall(ctx context.Context, ok func(Call) bool) (Call, error) {
	for {
		d.mu.Lock()
		for _, c := range d.calls {
			if s := c.snapshot(); ok(s) {
				d.mu.Unlock()
				return s, nil
			}
		}
		notify := d.notify
		d.mu.Unlock()
		select {
		case <-notify:
		case <-ctx.Done():
			return Call{}, ctx.Err()
		}
	}
}

// pruneCalls forgets the oldest ended calls beyond maxEndedCalls. d.mu is
// held.
func (d *Device) pruneCalls() {
	var ended []*call
	for _, c := range d.calls {
		if c.state == callRefused || c.state == callEnded {
			ended = append(ended, c)
		}
	}
	if len(ended) <= maxEndedCalls {
		return
	}
	slices.SortFunc(ended, func(a, b *call) int { return a.endedAt.Compare(b.endedAt) })
	for _, c := range ended[:len(ended)-maxEndedCalls] {
		delete(d.calls, c.callID)
		delete(d.invites, c.branch)
	}
}

// endCall moves c to ended and returns its media session to close (nil
// when it was over already). d.mu is held.
func (d *Device) endCall(c *call) MediaSession {
	if c.state == callEnded || c.state == callRefused {
		return nil
	}
	c.state, c.endedAt = callEnded, time.Now()
	close(c.ended)
	sess := c.sess
	d.signal()
	return sess
}

// closeLater closes a media session off the reader goroutine.
func (d *Device) closeLater(sess MediaSession) {
	if sess == nil {
		return
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		sess.Close()
	}()
}

// onBye answers the platform's BYE: the call ends and its media stops;
// 481 when no live call has the Call-ID.
func (d *Device) onBye(m *message) (int, string) {
	d.mu.Lock()
	c := d.calls[m.get("Call-ID")]
	if c == nil || c.state != callAnswered && c.state != callConfirmed {
		d.mu.Unlock()
		return 481, "Call/Transaction Does Not Exist"
	}
	c.byePlatform = true
	sess := d.endCall(c)
	d.mu.Unlock()
	d.closeLater(sess)
	return 200, "OK"
}

// onInfo applies a MANSRTSP body to the call's media: PLAY (Range seeks,
// then playing resumes at Scale, or at the same speed), PAUSE. It is
// answered 200 whatever the body says, as devices do; 481 when no live
// call has the Call-ID.
func (d *Device) onInfo(m *message) (int, string) {
	var r mansrtsp.Request
	err := r.Unmarshal(m.body)
	d.mu.Lock()
	c := d.calls[m.get("Call-ID")]
	if c == nil || c.state != callAnswered && c.state != callConfirmed {
		d.mu.Unlock()
		return 481, "Call/Transaction Does Not Exist"
	}
	c.infos = append(c.infos, Info{Body: m.body, Request: r, Err: err})
	sess := c.sess
	d.signal()
	d.mu.Unlock()
	if err != nil || sess == nil {
		return 200, "OK"
	}
	switch r.Method {
	case mansrtsp.MethodPlay:
		if r.Seek {
			sess.Seek(r.Position)
		}
		sess.Play(r.Scale)
	case mansrtsp.MethodPause:
		sess.Pause()
	}
	return 200, "OK"
}

// Bye ends a call from the device's side (a stream the device stops): its
// media stops and a BYE goes to the platform. It returns ErrNoCall for a
// Call-ID with no live call, and the BYE's failure.
func (d *Device) Bye(ctx context.Context, callID string) error {
	d.mu.Lock()
	c := d.calls[callID]
	if c == nil || c.state != callAnswered && c.state != callConfirmed {
		d.mu.Unlock()
		return ErrNoCall
	}
	c.byeDevice = true
	sess := d.endCall(c)
	d.mu.Unlock()
	if sess != nil {
		sess.Close()
	}
	res, err := d.request(ctx, outRequest{
		method: "BYE", callID: c.callID, fromUser: c.channelID, fromTag: c.localTag, toTag: c.remoteTag,
		ruri: c.remoteTarget,
	})
	if err != nil {
		return err
	}
	if res.code/100 != 2 {
		return &StatusError{Code: res.code, Reason: res.reason}
	}
	return nil
}

// watchMedia waits for a confirmed call's media to end by itself: at the
// end of a playback or download the device reports MediaStatus 121 (in the
// dialog, or out of it by quirk) and then sends BYE (unless NoByeAtEnd);
// a live stream or a failed session is ended with a BYE.
func (d *Device) watchMedia(c *call, sess MediaSession) {
	select {
	case <-sess.Done():
	case <-c.ended:
		return
	case <-d.stop:
		return
	}
	d.mu.Lock()
	live := c.state == callConfirmed
	req := c.req
	d.mu.Unlock()
	if !live {
		return
	}
	ctx, cancel := context.WithTimeout(d.ctx, d.cfg.Timeout)
	defer cancel()
	q := d.Quirks()
	history := req.Mode == string(sdp.Playback) || req.Mode == string(sdp.Download)
	if history && !failed(sess) {
		if err := d.sendEndOfFile(ctx, c, q.MediaStatusOutOfDialog); err != nil && ctx.Err() == nil {
			d.log.Warn("gbsim MediaStatus not delivered", "call_id", c.callID, "err", err)
		}
		if q.NoByeAtEnd {
			return
		}
	}
	if err := d.Bye(ctx, c.callID); err != nil && !errors.Is(err, ErrNoCall) && ctx.Err() == nil {
		d.log.Warn("gbsim BYE not delivered", "call_id", c.callID, "err", err)
	}
}

// sendEndOfFile sends MediaStatus 121 (A.2.5.5) for c: in its dialog (the
// INVITE's Call-ID and tags, as devices do), or with a Call-ID of its own.
func (d *Device) sendEndOfFile(ctx context.Context, c *call, outOfDialog bool) error {
	x := newBody("Notify", manscdp.CmdMediaStatus, int64(d.sn.Add(1)), c.channelID)
	x.elInt("NotifyType", manscdp.NotifyEndOfFile)
	r := outRequest{method: "MESSAGE", contentType: contentType, body: d.encode(x)}
	if !outOfDialog {
		r.callID, r.fromTag, r.toTag, r.ruri = c.callID, c.localTag, c.remoteTag, c.remoteTarget
	}
	res, err := d.request(ctx, r)
	if err != nil {
		return err
	}
	d.mu.Lock()
	c.status121 = true
	d.signal()
	d.mu.Unlock()
	if res.code/100 != 2 {
		return &StatusError{Code: res.code, Reason: res.reason}
	}
	return nil
}

// closeCalls stops the media of every call (Close: the device goes away
// without BYE, as one that loses power).
func (d *Device) closeCalls() {
	d.mu.Lock()
	var sessions []MediaSession
	for _, c := range d.calls {
		if s := d.endCall(c); s != nil {
			sessions = append(sessions, s)
		}
	}
	d.mu.Unlock()
	for _, s := range sessions {
		s.Close()
	}
}
