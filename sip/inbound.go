package sip

import (
	"github.com/ghettovoice/gosip/sip"
)

// onMessage answers MESSAGE and NOTIFY at once and hands the body to the
// Handler. The body size limit is enforced by the transport (413).
func (s *Server) onMessage(req sip.Request, tx sip.ServerTransaction) {
	id := fromUser(req)
	// Follow the device's address before answering: once it has its 200,
	// the next request to it must go where it is now.
	registered, moved, old := s.regs.touch(id, req.Source(), transportOf(req.Transport()))
	if moved {
		s.log.Info("device address changed", "device_id", id, "from", old, "to", req.Source(),
			"transport", req.Transport())
	}
	s.respond(tx, req, 200, "OK")
	if s.Handler == nil {
		return
	}
	m := Message{
		Method:      string(req.Method()),
		DeviceID:    id,
		RemoteAddr:  req.Source(),
		Transport:   transportOf(req.Transport()),
		ContentType: headerValue(req, "Content-Type"),
		Body:        []byte(req.Body()),
		Registered:  registered,
		CallID:      callIDOf(req),
	}
	if req.Method() == sip.NOTIFY {
		m.Event = headerValue(req, "Event")
	}
	s.Handler.HandleMessage(s.ctx, m)
}
