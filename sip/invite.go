package sip

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ghettovoice/gosip/sip"

	"github.com/nvr/nvr/sip/mansrtsp"
	"github.com/nvr/nvr/sip/sdp"
	"github.com/nvr/nvr/sip/transport"
)

// Content types of media sessions, in the capitalization devices expect.
const (
	// ContentTypeSDP is the INVITE's body type (GB/T 28181-2016 §9.2.2
	// examples write it upper case; devices compare it without case or
	// not at all).
	ContentTypeSDP = "APPLICATION/SDP"
	// ContentTypeMANSRTSP is the type of playback control INFO bodies.
	ContentTypeMANSRTSP = mansrtsp.ContentType
)

// DefaultInviteTimeout bounds an INVITE that gets no final response. A
// camera answers a live INVITE in well under a second and an NVR a
// playback one in one or two (it opens the recording first); over a
// loaded 4G link a few seconds more. Devices that never answer are common
// (a channel offline behind an NVR), and a viewer is waiting.
const DefaultInviteTimeout = 15 * time.Second

// Media session modes (InviteRequest.Mode, the offer's s= line).
const (
	// ModePlay is live video.
	ModePlay = string(sdp.Play)
	// ModePlayback replays a recording, controlled with MANSRTSP.
	ModePlayback = string(sdp.Playback)
	// ModeDownload fetches a recording at a=downloadspeed.
	ModeDownload = string(sdp.Download)
)

// Errors of media sessions.
var (
	// ErrBadInvite is returned (wrapped) by Invite for an InviteRequest
	// that cannot be sent.
	ErrBadInvite = errors.New("sip: invalid INVITE request")
	// ErrBadAnswer is returned (wrapped) by Invite when the device's 200
	// carries no usable SDP; the call has been ACKed and ended with a BYE.
	ErrBadAnswer = errors.New("sip: device's answer has no usable SDP")
)

// InviteRequest describes the media session Invite asks a device for.
type InviteRequest struct {
	// DeviceID is the registered device (an IPC, or the NVR a channel is
	// behind): where the INVITE is sent.
	DeviceID string
	// ChannelID is the channel to play: the Request-URI and To user. An
	// IPC that lists itself as its channel uses its own ID. Default
	// DeviceID.
	ChannelID string
	// Mode is ModePlay (default), ModePlayback or ModeDownload.
	Mode string
	// Start and End are the recording's range for Playback and Download.
	Start, End time.Time
	// Transport is the media transport: "UDP" (default) or "TCP".
	Transport string
	// Setup is, for TCP, the platform's role: "passive" (default: the
	// platform listens on IP:Port and the device connects) or "active"
	// (the device listens on the port of its answer and the platform
	// connects).
	Setup string
	// IP and Port are where the platform receives the media (for TCP
	// active, the address written in the offer).
	IP   string
	Port int
	// SSRC is the y= value offered; empty picks one with NewSSRC.
	SSRC string
	// DownloadSpeed is the a=downloadspeed of a Download. Default 1.
	DownloadSpeed int
	// StreamNumber selects a sub-stream: 0 the main stream, 1 the first
	// sub-stream… (see package sip/sdp for the attributes written).
	StreamNumber int
	// StreamStyle selects the sub-stream attributes; 0 writes the default
	// set (sdp.DefaultStreamStyle).
	StreamStyle sdp.StreamStyle
	// Format is an optional f= line (GB/T 28181-2016 F.3).
	Format string
}

// normalize fills defaults and checks the request.
func (r *InviteRequest) normalize() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrBadInvite, fmt.Sprintf(format, args...))
	}
	if r.DeviceID == "" {
		return bad("no device ID")
	}
	if r.ChannelID == "" {
		r.ChannelID = r.DeviceID
	}
	// The IDs go into URIs and Subject, the others into SDP lines.
	if strings.ContainsAny(r.DeviceID+r.ChannelID, " \t\r\n;<>@,:") ||
		strings.ContainsAny(r.IP+r.Format, " \t\r\n") {
		return bad("device %q, channel %q, IP %q or f=%q has characters it may not have",
			r.DeviceID, r.ChannelID, r.IP, r.Format)
	}
	switch m := (&sdp.Session{Name: r.Mode}).Mode(); {
	case r.Mode == "":
		r.Mode = ModePlay
	case m == sdp.Play || m == sdp.Playback || m == sdp.Download:
		r.Mode = string(m)
	default:
		return bad("mode %q", r.Mode)
	}
	if r.history() && (r.Start.IsZero() || !r.End.After(r.Start)) {
		return bad("%s needs a start before its end (%s, %s)", r.Mode, r.Start, r.End)
	}
	switch strings.ToUpper(r.Transport) {
	case "", "UDP":
		r.Transport, r.Setup = "UDP", ""
	case "TCP":
		r.Transport = "TCP"
		switch strings.ToLower(r.Setup) {
		case "", sdp.SetupPassive:
			r.Setup = sdp.SetupPassive
		case sdp.SetupActive:
			r.Setup = sdp.SetupActive
		default:
			return bad("setup %q", r.Setup)
		}
	default:
		return bad("transport %q", r.Transport)
	}
	if r.IP == "" || r.Port <= 0 || r.Port > 65535 {
		return bad("media address %s:%d", r.IP, r.Port)
	}
	if r.SSRC != "" {
		if _, ok := sdp.ParseSSRC(r.SSRC); !ok {
			return bad("SSRC %q", r.SSRC)
		}
	}
	if r.Mode == ModeDownload && r.DownloadSpeed <= 0 {
		r.DownloadSpeed = 1
	}
	if r.StreamNumber < 0 {
		return bad("stream number %d", r.StreamNumber)
	}
	return nil
}

// history reports whether the request is for a recording.
func (r *InviteRequest) history() bool { return r.Mode == ModePlayback || r.Mode == ModeDownload }

// offer returns the SDP offer of a normalized request (GB/T 28181-2016
// §9.2.2.1, Annex F).
func (r *InviteRequest) offer(platformID string) sdp.Session {
	o := sdp.Session{
		Origin: platformID, OriginAddress: r.IP, Name: string(r.Mode), Address: r.IP,
		Media: "video", Port: r.Port, Proto: sdp.ProtoUDP, Formats: []int{96, 98, 97},
		Direction: sdp.RecvOnly, RTPMaps: sdp.GBRTPMaps, Stream: r.StreamNumber, StreamStyle: r.StreamStyle,
		SSRC: r.SSRC, Format: r.Format,
	}
	if r.history() {
		o.URI = r.ChannelID + ":0"
		o.Start, o.End = r.Start, r.End
	}
	if r.Transport == "TCP" {
		o.Proto = sdp.ProtoTCP
		o.Setup = r.Setup
		o.Connection = "new"
	}
	if r.Mode == ModeDownload {
		o.DownloadSpeed = r.DownloadSpeed
	}
	return o
}

// Invite asks a registered device for a media session and returns the
// established dialog. The INVITE goes to the device's registered address
// over its transport (like SendMessage), with Request-URI and To naming
// the channel and Subject "<channelID>:<ssrc>,<platformID>:0" (GB/T
// 28181-2016 §9.2.2.1). Provisional responses are waited through. A 2xx is
// ACKed at once (to the device's registered address whatever its Contact
// says: NAT), and every retransmission of it is ACKed again while the
// dialog lasts. The answer's address, port and SSRC are what the media side
// must use: devices answer with their own SSRC, or 0 (Dialog.Answer).
//
// When ctx ends or InviteTimeout passes first (devices that never answer),
// the INVITE is cancelled (CANCEL, RFC 3261 §9.1) in the background, and a
// 200 that still arrives is ACKed and ended with a BYE; Invite returns an
// error wrapping ErrTimeout (and context.DeadlineExceeded), or ctx.Err()
// when ctx was cancelled. A non-2xx final response returns a
// *ResponseError. Other errors: ErrBadInvite, ErrBadAnswer,
// ErrNotRegistered, ErrNoConnection, ErrClosed.
func (s *Server) Invite(ctx context.Context, r InviteRequest) (*Dialog, error) {
	if err := r.normalize(); err != nil {
		return nil, err
	}
	if s.ctx.Err() != nil {
		return nil, ErrClosed
	}
	reg, err := s.route(r.DeviceID)
	if err != nil {
		return nil, err
	}
	if r.SSRC == "" {
		r.SSRC = s.NewSSRC(r.history())
	}
	d := &Dialog{
		s:    s,
		req:  r,
		reg:  reg,
		ids:  dialogIDs{callID: token(12), fromTag: token(4), cseq: s.cseq.Add(1)},
		done: make(chan struct{}),
	}
	d.offer = r.offer(s.ID)
	d.log = s.log.With("device_id", r.DeviceID, "channel_id", r.ChannelID, "call_id", d.ids.callID)
	if !s.dialogs.reserve(d) {
		return nil, ErrClosed
	}
	tx, err := s.sendInvite(d)
	if err != nil {
		s.dialogs.remove(d)
		return nil, fmt.Errorf("INVITE %s/%s: %w", r.DeviceID, r.ChannelID, err)
	}
	d.log.Debug("INVITE sent", "mode", r.Mode, "transport", r.Transport, "setup", r.Setup,
		"media", fmt.Sprintf("%s:%d", r.IP, r.Port), "ssrc", r.SSRC)

	ictx, cancel := context.WithTimeout(ctx, s.inviteTimeout())
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel) // Close aborts
	defer stop()
	for {
		res, err := tx.Next(ictx)
		switch {
		case err == nil && res.IsProvisional():
			d.log.Debug("INVITE provisional response", "status", int(res.StatusCode()))
		case err == nil && res.IsSuccess():
			return s.accept(d, tx, res)
		case err == nil:
			tx.Terminate()
			s.dialogs.remove(d)
			d.log.Info("device refused the INVITE", "status", int(res.StatusCode()), "reason", res.Reason())
			return nil, fmt.Errorf("INVITE %s/%s: %w", r.DeviceID, r.ChannelID,
				&ResponseError{Code: int(res.StatusCode()), Reason: res.Reason()})
		case s.ctx.Err() != nil || errors.Is(err, transport.ErrClosed):
			// The platform is going away: no CANCEL. A device that still
			// answers gets no ACK and ends the call itself (RFC 3261
			// §13.3.1.4).
			tx.Terminate()
			s.dialogs.remove(d)
			return nil, ErrClosed
		default: // ctx ended, the invite timeout, or Timer B
			s.abandon(d, tx)
			d.log.Warn("device did not answer the INVITE; cancelled", "err", err)
			if errors.Is(err, context.Canceled) && ctx.Err() != nil {
				return nil, fmt.Errorf("INVITE %s/%s: %w", r.DeviceID, r.ChannelID, ctx.Err())
			}
			return nil, fmt.Errorf("INVITE %s/%s: %w: %w", r.DeviceID, r.ChannelID, ErrTimeout, context.DeadlineExceeded)
		}
	}
}

// sendInvite builds the INVITE of d and starts its transaction.
func (s *Server) sendInvite(d *Dialog) (*transport.InviteTx, error) {
	r := d.req
	reg := d.reg
	reg.DeviceID = r.ChannelID // Request-URI and To name the channel
	ids := d.ids
	subject := &sip.GenericHeader{HeaderName: "Subject", Contents: r.ChannelID + ":" + r.SSRC + "," + s.ID + ":0"}
	req := s.newRequest(sip.INVITE, reg, ContentTypeSDP, d.offer.Marshal(), &ids, subject)
	d.inviteCSeq = ids.cseq
	return s.tp.RequestInvite(req)
}

// inviteTimeout returns InviteTimeout or its default.
func (s *Server) inviteTimeout() time.Duration {
	if s.InviteTimeout > 0 {
		return s.InviteTimeout
	}
	return DefaultInviteTimeout
}

// accept completes an INVITE answered 2xx: ACK, read the answer, and
// make the dialog active.
func (s *Server) accept(d *Dialog, tx *transport.InviteTx, res sip.Response) (*Dialog, error) {
	d.established(res)
	d.tx = tx
	if err := tx.Ack(d.request(sip.ACK, "", nil, d.inviteCSeq)); err != nil {
		d.log.Warn("ACK not sent", "err", err)
	}
	ans, err := parseAnswer([]byte(res.Body()), d.offer)
	if err != nil {
		d.log.Warn("device's answer has no usable SDP; ending the call", "err", err, "body", res.Body())
		_ = d.byeWithin(dialogByeTimeout)
		return nil, fmt.Errorf("INVITE %s/%s: %w: %w", d.req.DeviceID, d.req.ChannelID, ErrBadAnswer, err)
	}
	d.answer = ans
	if !s.dialogs.activate(d) {
		_ = d.byeWithin(dialogByeTimeout)
		return nil, ErrClosed
	}
	d.log.Info("media session established", "mode", d.req.Mode, "transport", d.req.Transport,
		"answer_addr", ans.Addr(), "answer_setup", ans.Setup,
		"ssrc", d.req.SSRC, "answer_ssrc", ans.SSRC)
	return d, nil
}

// abandon cancels an INVITE that got no final response in time, in the
// background: CANCEL, then wait (Timer B) for the INVITE's final response;
// a 2xx that crossed the CANCEL is ACKed and ended with a BYE (RFC 3261
// §9.1, §15).
func (s *Server) abandon(d *Dialog, tx *transport.InviteTx) {
	if !s.dialogs.track(&s.wg) {
		tx.Terminate()
		s.dialogs.remove(d)
		return
	}
	go func() {
		defer s.wg.Done()
		defer s.dialogs.remove(d) // the SSRC stays reserved until settled
		defer tx.Terminate()
		ctx, cancel := context.WithTimeout(s.ctx, inviteSettleTimeout)
		defer cancel()
		if res, err := tx.Cancel(ctx); err != nil {
			d.log.Debug("CANCEL not answered", "err", err)
		} else {
			d.log.Debug("CANCEL answered", "status", int(res.StatusCode()))
		}
		for {
			res, err := tx.Next(ctx)
			switch {
			case errors.Is(err, transport.ErrTxTimeout) || err == nil && res.IsProvisional():
				continue
			case err != nil:
				return
			case res.IsSuccess():
				d.log.Info("device answered a cancelled INVITE; ending the call")
				d.established(res)
				_ = tx.Ack(d.request(sip.ACK, "", nil, d.inviteCSeq))
				_ = d.byeWithin(dialogByeTimeout)
			}
			return
		}
	}()
}

// Timeouts of dialog housekeeping.
const (
	// inviteSettleTimeout is how long a cancelled INVITE's final response
	// is waited for (Timer B, 64×T1).
	inviteSettleTimeout = 32 * time.Second
	// dialogByeTimeout bounds the BYEs the platform sends on its own (a
	// bad answer, a cancelled call answered late, Close).
	dialogByeTimeout = 2 * time.Second
)
