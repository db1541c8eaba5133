package sip

import (
	"context"
	"errors"
	"fmt"

	"github.com/ghettovoice/gosip/sip"

	"github.com/nvr/nvr/sip/transport"
)

// Errors returned by SendMessage.
var (
	// ErrTimeout is returned when the device sent no final response before
	// the context's deadline or the transaction timeout (RFC 3261 Timer F,
	// 32 s).
	ErrTimeout = errors.New("sip: device did not answer in time")
	// ErrNotRegistered is returned for a device with no current
	// registration: the platform does not know where to reach it.
	ErrNotRegistered = errors.New("sip: device not registered")
)

// ResponseError is returned when a device answers with a non-2xx final
// response.
type ResponseError struct {
	Code   int
	Reason string
}

func (e *ResponseError) Error() string {
	return fmt.Sprintf("sip: device answered %d %s", e.Code, e.Reason)
}

// SendMessage sends a MESSAGE with a MANSCDP body to a registered device,
// at the address and over the transport its last request came from, and
// waits for the final response. body is sent as is (already in the
// device's charset). It returns nil on 2xx, a *ResponseError on another
// final response, ErrTimeout when ctx's deadline passes first,
// ErrNotRegistered for an unknown device, ErrNoConnection for a restored
// TCP device that has not reconnected, ErrClosed after Close.
func (s *Server) SendMessage(ctx context.Context, deviceID string, body []byte) error {
	reg, err := s.route(deviceID)
	if err != nil {
		return err
	}
	req := s.newRequest(sip.MESSAGE, reg, ContentTypeMANSCDP, body, nil)
	res, err := s.do(ctx, req)
	if err != nil {
		return fmt.Errorf("MESSAGE to %s: %w", deviceID, err)
	}
	if !res.IsSuccess() {
		return fmt.Errorf("MESSAGE to %s: %w", deviceID, &ResponseError{Code: int(res.StatusCode()), Reason: res.Reason()})
	}
	return nil
}

// dialogIDs identify a dialog's requests (RFC 3261 §12.2.1.1): the Call-ID,
// the tags and the CSeq of the next request.
type dialogIDs struct {
	callID, fromTag, toTag string
	cseq                   uint32
}

// newRequest builds a request to a registered device: out of dialog when
// dlg is nil, in dlg otherwise. extra headers follow the standard ones.
func (s *Server) newRequest(method sip.RequestMethod, reg RegisterInfo, contentType string, body []byte,
	dlg *dialogIDs, extra ...sip.Header) sip.Request {
	host, port := splitHostPort(reg.RemoteAddr)
	ruri := &sip.SipUri{FUser: sip.String{Str: reg.DeviceID}, FHost: host, FPort: port}
	myPort := s.port
	via := sip.ViaHeader{&sip.ViaHop{
		ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: reg.Transport,
		Host: s.host, Port: &myPort,
		Params: sip.NewParams().Add("rport", nil).Add("branch", sip.String{Str: transport.NewBranch()}),
	}}
	ids := dialogIDs{callID: token(12), fromTag: token(4), cseq: s.cseq.Add(1)}
	if dlg != nil {
		ids = *dlg
	}
	from := &sip.FromHeader{
		Address: &sip.SipUri{FUser: sip.String{Str: s.ID}, FHost: s.Domain},
		Params:  sip.NewParams().Add("tag", sip.String{Str: ids.fromTag}),
	}
	to := &sip.ToHeader{Address: &sip.SipUri{FUser: sip.String{Str: reg.DeviceID}, FHost: s.Domain}}
	if ids.toTag != "" {
		to.Params = sip.NewParams().Add("tag", sip.String{Str: ids.toTag})
	}
	callID := sip.CallID(ids.callID)
	cseq := &sip.CSeq{SeqNo: ids.cseq, MethodName: method}
	maxFwd := sip.MaxForwards(70)
	contact := &sip.ContactHeader{Address: &sip.SipUri{FUser: sip.String{Str: s.ID}, FHost: s.host, FPort: &myPort}}
	ua := sip.UserAgentHeader(s.UserAgent)
	hdrs := []sip.Header{via, from, to, &callID, cseq, contact, &maxFwd, &ua}
	hdrs = append(hdrs, extra...)
	if contentType != "" {
		ct := sip.ContentType(contentType)
		hdrs = append(hdrs, &ct)
	}
	req := sip.NewRequest("", method, ruri, "SIP/2.0", hdrs, "", nil)
	req.SetBody(string(body), true)
	req.SetDestination(reg.RemoteAddr)
	// Set explicitly: gosip otherwise switches a UDP request over 1300
	// bytes to TCP, which a UDP device never listens on.
	req.SetTransport(reg.Transport)
	return req
}

// do runs a client transaction and returns its final response.
func (s *Server) do(ctx context.Context, req sip.Request) (sip.Response, error) {
	if s.ctx.Err() != nil {
		return nil, ErrClosed
	}
	// Close aborts requests in flight.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()
	// Our transport runs the client transaction, not gosip's transaction
	// layer: see transport.Layer.Request for why.
	res, err := s.tp.Request(ctx, req)
	switch {
	case err != nil && s.ctx.Err() != nil:
		return nil, ErrClosed
	case err == nil:
		return res, nil
	case errors.Is(err, transport.ErrTxTimeout):
		return nil, ErrTimeout
	case errors.Is(err, context.DeadlineExceeded):
		return nil, fmt.Errorf("%w: %w", ErrTimeout, err)
	case errors.Is(err, transport.ErrClosed):
		return nil, ErrClosed
	default:
		return nil, err
	}
}
