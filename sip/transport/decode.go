package transport

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/ghettovoice/gosip/sip"
	"github.com/ghettovoice/gosip/sip/parser"
)

// ErrMalformed is returned (wrapped) for input that is not a usable SIP
// message.
var ErrMalformed = errors.New("malformed sip message")

// errKeepalive marks a datagram or stream chunk that is only whitespace
// (RFC 5626 CRLF keep-alive, or padding some devices send): ignored silently.
var errKeepalive = errors.New("keep-alive")

// Rejection is an inbound message the transport refuses. When Request is
// set, the transport answers it with Code; otherwise the input is dropped.
type Rejection struct {
	Code    int
	Reason  string
	Request sip.Request // nil when the input could not be identified
	Err     error
}

func (r *Rejection) Error() string {
	if r.Code == 0 {
		return fmt.Sprintf("dropped: %v", r.Err)
	}
	return fmt.Sprintf("%d %s: %v", r.Code, r.Reason, r.Err)
}

func (r *Rejection) Unwrap() error { return r.Err }

// decoder turns raw bytes from a peer into a gosip message ready for the
// transaction layer.
type decoder struct {
	parser      *parser.PacketParser
	maxBodySize int
}

// decode parses one message that arrived over network ("UDP" or "TCP")
// from remote on the local address local. For a stream, data is exactly one
// framed message. Errors are *Rejection, or errKeepalive.
func (d *decoder) decode(data []byte, network string, remote netip.AddrPort, local string) (msg sip.Message, err error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errKeepalive
	}
	head, body, err := SplitDatagram(data)
	if err == nil && len(body) > d.maxBodySize {
		err = fmt.Errorf("%w: %d bytes, limit %d", ErrBodyTooLarge, len(body), d.maxBodySize)
	}
	if err != nil {
		code, reason := 400, "Bad Request"
		if errors.Is(err, ErrBodyTooLarge) {
			code, reason = 413, "Request Entity Too Large"
		}
		return nil, d.reject(head, code, reason, err)
	}
	msg, err = d.parse(head, body)
	if err != nil {
		return nil, &Rejection{Err: err}
	}
	err = checkRequired(msg)
	if err == nil {
		err = checkCSeqMethod(msg)
	}
	if err != nil {
		return nil, d.reject(head, 400, "Bad Request", err)
	}
	switch m := msg.(type) {
	case sip.Request:
		fixVia(m, remote)
	case sip.Response:
	}
	msg.SetSource(remote.String())
	msg.SetDestination(local)
	msg.SetTransport(network)
	return msg, nil
}

// reject builds a Rejection with the request identified from the header
// section alone, when that is possible, so that it can be answered.
func (d *decoder) reject(head []byte, code int, reason string, cause error) *Rejection {
	rej := &Rejection{Code: code, Reason: reason, Err: cause}
	msg, err := d.parse(stripContentLength(head), nil)
	if err != nil {
		return rej
	}
	req, ok := msg.(sip.Request)
	if !ok || req.IsAck() {
		return rej // responses and ACKs are never answered
	}
	// Via routes the answer and CSeq lets the sender match it; a missing
	// From, To or Call-ID is simply left out of the 400.
	if hop, ok := req.ViaHop(); !ok || hop == nil || hop.Host == "" {
		return rej
	}
	if _, ok := req.CSeq(); !ok {
		return rej
	}
	rej.Request = req
	return rej
}

// parse runs gosip's parser on a header section and body. The parser is a
// third party's code fed with network input: a panic in it is turned into
// an error instead of taking the listener down.
func (d *decoder) parse(head, body []byte) (msg sip.Message, err error) {
	defer func() {
		if r := recover(); r != nil {
			msg, err = nil, fmt.Errorf("%w: parser panic: %v", ErrMalformed, r)
		}
	}()
	buf := make([]byte, 0, len(head)+2+len(body))
	buf = append(buf, head...)
	buf = append(buf, '\r', '\n')
	buf = append(buf, body...)
	msg, err = d.parser.ParseMessage(buf)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return msg, nil
}

// checkRequired verifies the headers the transaction layer and our handlers
// rely on (RFC 3261 §8.1.1): without them gosip cannot match a transaction
// or build a response.
func checkRequired(msg sip.Message) error {
	hop, ok := msg.ViaHop()
	if !ok || hop == nil || hop.Host == "" {
		return fmt.Errorf("%w: missing or bad Via", ErrMalformed)
	}
	if _, ok := msg.CSeq(); !ok {
		return fmt.Errorf("%w: missing or bad CSeq", ErrMalformed)
	}
	if _, isReq := msg.(sip.Request); isReq {
		if _, ok := msg.From(); !ok {
			return fmt.Errorf("%w: missing or bad From", ErrMalformed)
		}
		if _, ok := msg.To(); !ok {
			return fmt.Errorf("%w: missing or bad To", ErrMalformed)
		}
		if _, ok := msg.CallID(); !ok {
			return fmt.Errorf("%w: missing Call-ID", ErrMalformed)
		}
	}
	return nil
}

// checkCSeqMethod verifies that a request's CSeq names its method (RFC 3261
// §8.1.1.5); gosip matches transactions by the CSeq method.
func checkCSeqMethod(msg sip.Message) error {
	req, ok := msg.(sip.Request)
	if !ok {
		return nil
	}
	if cseq, _ := req.CSeq(); cseq.MethodName != req.Method() {
		return fmt.Errorf("%w: CSeq method %s in a %s", ErrMalformed, cseq.MethodName, req.Method())
	}
	return nil
}

// fixVia records where the request really came from in its top Via
// (RFC 3261 §18.2.1 received, RFC 3581 rport). Responses are sent to the
// packet's source in any case (the message's Source is set to it), which
// is what a device behind NAT needs even when it did not ask for rport.
func fixVia(req sip.Request, remote netip.AddrPort) {
	hop, ok := req.ViaHop()
	if !ok {
		return
	}
	if hop.Params == nil {
		hop.Params = sip.NewParams()
	}
	ip := remote.Addr().Unmap().String()
	if hop.Host != ip {
		hop.Params.Add("received", sip.String{Str: ip})
	}
	if hop.Params.Has("rport") {
		hop.Params.Add("rport", sip.String{Str: strconv.Itoa(int(remote.Port()))})
	}
}

// stripContentLength removes Content-Length lines so that a header section
// whose body was refused can still be parsed.
func stripContentLength(head []byte) []byte {
	var out []byte
	for _, line := range strings.SplitAfter(string(head), "\n") {
		name, _, _ := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if strings.EqualFold(name, "Content-Length") || strings.EqualFold(name, "l") {
			continue
		}
		out = append(out, line...)
	}
	return out
}
