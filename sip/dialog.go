package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ghettovoice/gosip/sip"

	"github.com/nvr/nvr/sip/sdp"
	"github.com/nvr/nvr/sip/transport"
)

// Reasons a dialog ends, returned by Dialog.Err.
var (
	// ErrRemoteBye: the device sent BYE (it stopped the stream, rebooted a
	// channel, or ended a playback).
	ErrRemoteBye = errors.New("sip: device ended the media session (BYE)")
	// ErrLocalBye: the platform sent BYE (Dialog.Bye).
	ErrLocalBye = errors.New("sip: platform ended the media session (BYE)")
	// ErrDialogGone: the device answered an in-dialog request with 481
	// (it no longer knows the call, e.g. after a reboot).
	ErrDialogGone = errors.New("sip: device no longer knows the media session")
	// ErrDialogEnded is returned (wrapped with the reason) by Info on a
	// dialog that has ended.
	ErrDialogEnded = errors.New("sip: media session ended")
)

// Dialog is a media session established by Invite (RFC 3261 §12). It
// lasts until the device sends BYE (Done is closed, Err is ErrRemoteBye),
// the platform sends one (Bye), or End is called. The Server keeps it by
// Call-ID (Server.Dialog) and by device (Server.Dialogs) until a BYE
// either way, and answers BYE and INFO for other Call-IDs with 481. Its
// methods are safe for concurrent use.
type Dialog struct {
	s          *Server
	req        InviteRequest // normalized, SSRC filled
	reg        RegisterInfo  // the device's registration when invited
	ids        dialogIDs     // cseq: the last CSeq used
	inviteCSeq uint32
	offer      sdp.Session
	log        *slog.Logger

	// Set once the INVITE is answered 2xx, before the dialog is shared.
	target sip.Uri // the 2xx's Contact: the remote target
	answer SDPAnswer
	tx     *transport.InviteTx

	mu         sync.Mutex
	done       chan struct{}
	err        error
	remoteBye  bool
	rtspSeq    int           // the last MANSRTSP CSeq sent
	bye        chan struct{} // closed when the platform's BYE is over
	byeErr     error
	answeredAt time.Time
}

// CallID returns the dialog's Call-ID: a device's MediaStatus MESSAGE in
// the dialog carries it (Message.CallID).
func (d *Dialog) CallID() string { return d.ids.callID }

// DeviceID returns the device invited.
func (d *Dialog) DeviceID() string { return d.req.DeviceID }

// ChannelID returns the channel playing.
func (d *Dialog) ChannelID() string { return d.req.ChannelID }

// Mode returns ModePlay, ModePlayback or ModeDownload.
func (d *Dialog) Mode() string { return d.req.Mode }

// SSRC returns the SSRC offered (y= of the offer). What the device sends
// may differ: see Answer.
func (d *Dialog) SSRC() string { return d.req.SSRC }

// Request returns the InviteRequest as sent (defaults filled in).
func (d *Dialog) Request() InviteRequest { return d.req }

// Offer returns the SDP offer sent.
func (d *Dialog) Offer() sdp.Session { return d.offer }

// Answer returns the device's SDP answer.
func (d *Dialog) Answer() SDPAnswer { return d.answer }

// AnsweredAt returns when the 2xx arrived.
func (d *Dialog) AnsweredAt() time.Time { return d.answeredAt }

// Done is closed when the dialog ends.
func (d *Dialog) Done() <-chan struct{} { return d.done }

// Err returns why the dialog ended (ErrRemoteBye, ErrLocalBye,
// ErrDialogGone, or End's reason), nil while it lasts.
func (d *Dialog) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// End ends the dialog locally with reason (nil reads as ErrDialogEnded),
// without a BYE: used when the device reports the end of a playback
// (MediaStatus 121), after which the caller still sends Bye. The dialog
// stays known (a BYE from the device is answered 200) until a BYE either
// way. Ending an ended dialog does nothing.
func (d *Dialog) End(reason error) {
	if reason == nil {
		reason = ErrDialogEnded
	}
	d.end(reason)
}

// end closes Done with reason unless it is closed already. It reports
// whether it did.
func (d *Dialog) end(reason error) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return false
	}
	d.err = reason
	close(d.done)
	return true
}

// Bye ends the dialog with a BYE in it (RFC 3261 §15.1.1) and forgets it;
// Done is closed (ErrLocalBye unless it had ended already). No BYE is sent
// when the device sent one. It is idempotent: later calls wait for the
// first and return its result. A 481 answer (the device forgot the call)
// is success; ErrTimeout, a *ResponseError or ErrClosed are returned
// otherwise, and the dialog is forgotten either way.
func (d *Dialog) Bye(ctx context.Context) error {
	d.mu.Lock()
	if d.bye != nil {
		ch := d.bye
		d.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.byeErr
	}
	d.bye = make(chan struct{})
	send := !d.remoteBye
	d.mu.Unlock()

	d.end(ErrLocalBye)
	var err error
	if send {
		err = d.sendBye(ctx)
	}
	d.forget()
	d.mu.Lock()
	d.byeErr = err
	close(d.bye)
	d.mu.Unlock()
	return err
}

// sendBye sends the BYE and reads its answer.
func (d *Dialog) sendBye(ctx context.Context) error {
	res, err := d.s.do(ctx, d.request(sip.BYE, "", nil, d.nextCSeq()))
	switch {
	case err != nil:
		d.log.Warn("BYE not answered", "err", err)
		return fmt.Errorf("BYE to %s/%s: %w", d.req.DeviceID, d.req.ChannelID, err)
	case res.IsSuccess() || res.StatusCode() == 481:
		d.log.Info("media session ended by the platform", "status", int(res.StatusCode()))
		return nil
	default:
		d.log.Warn("device refused the BYE", "status", int(res.StatusCode()))
		return fmt.Errorf("BYE to %s/%s: %w", d.req.DeviceID, d.req.ChannelID,
			&ResponseError{Code: int(res.StatusCode()), Reason: res.Reason()})
	}
}

// byeWithin sends Bye bounded by timeout.
func (d *Dialog) byeWithin(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.Bye(ctx)
}

// Info sends a MANSRTSP body (MANSRTSPPlay, MANSRTSPPause, package
// sip/mansrtsp) in an INFO in the dialog, to control a playback (GB/T
// 28181-2016 §9.8), and waits for the answer. The body's CSeq is replaced
// by the dialog's own MANSRTSP sequence number (1, 2, 3…: devices expect it
// to grow within the session). A 481 ends the dialog (ErrDialogGone).
// Errors: ErrDialogEnded (wrapping the reason) after the dialog ended, and
// those of SendMessage.
func (d *Dialog) Info(ctx context.Context, body []byte) error {
	if err := d.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrDialogEnded, err)
	}
	d.mu.Lock()
	d.rtspSeq++
	seq := d.rtspSeq
	d.mu.Unlock()
	body = renumberMANSRTSP(body, seq)
	res, err := d.s.do(ctx, d.request(sip.INFO, ContentTypeMANSRTSP, body, d.nextCSeq()))
	if err != nil {
		return fmt.Errorf("INFO to %s/%s: %w", d.req.DeviceID, d.req.ChannelID, err)
	}
	if res.IsSuccess() {
		return nil
	}
	if res.StatusCode() == 481 {
		d.end(ErrDialogGone)
	}
	return fmt.Errorf("INFO to %s/%s: %w", d.req.DeviceID, d.req.ChannelID,
		&ResponseError{Code: int(res.StatusCode()), Reason: res.Reason()})
}

// nextCSeq returns the CSeq of the next request in the dialog (RFC 3261
// §12.2.1.1: one more than the last).
func (d *Dialog) nextCSeq() uint32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ids.cseq++
	return d.ids.cseq
}

// established records what the INVITE's 2xx says of the dialog: the To
// tag and the remote target.
func (d *Dialog) established(res sip.Response) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.answeredAt = time.Now()
	if to, ok := res.To(); ok && to.Params != nil {
		if tag, ok := to.Params.Get("tag"); ok && tag != nil {
			d.ids.toTag = tag.String()
		}
	}
	if c, ok := res.Contact(); ok && c.Address != nil {
		d.target = c.Address.Clone()
	}
}

// request builds a request in the dialog (ACK, BYE, INFO) with CSeq
// number cseq. It goes to the device's current registered address (NAT;
// the address it was invited at when it is no longer registered), with the
// 2xx's Contact as Request-URI (RFC 3261 §12.2.1.1).
func (d *Dialog) request(method sip.RequestMethod, contentType string, body []byte, cseq uint32) sip.Request {
	reg := d.reg
	if cur, err := d.s.route(d.req.DeviceID); err == nil {
		reg = cur
	}
	reg.DeviceID = d.req.ChannelID
	d.mu.Lock()
	ids := d.ids
	target := d.target
	d.mu.Unlock()
	ids.cseq = cseq
	req := d.s.newRequest(method, reg, contentType, body, &ids)
	if target != nil {
		req.SetRecipient(target.Clone())
	}
	return req
}

// remoteEnded handles the device's BYE: the dialog ends and is forgotten.
func (d *Dialog) remoteEnded() {
	d.mu.Lock()
	d.remoteBye = true
	d.mu.Unlock()
	d.forget() // before Done closes: whoever wakes finds it gone
	if d.end(ErrRemoteBye) {
		d.log.Info("media session ended by the device (BYE)")
	}
}

// forget removes the dialog from the server's table and stops ACKing
// retransmitted 2xx.
func (d *Dialog) forget() {
	d.s.dialogs.remove(d)
	if d.tx != nil {
		d.tx.Terminate()
	}
}
