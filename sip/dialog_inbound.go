package sip

import (
	"github.com/ghettovoice/gosip/sip"
)

// onBye answers a BYE from a device: 200 and the dialog ends
// (ErrRemoteBye), or 481 for a Call-ID no dialog has (RFC 3261 §15.1.2).
func (s *Server) onBye(req sip.Request, tx sip.ServerTransaction) {
	d := s.dialogs.get(callIDOf(req))
	if d == nil {
		s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	s.follow(d, req)
	s.respond(tx, req, 200, "OK")
	d.remoteEnded()
}

// onInfo answers an INFO from a device in a dialog with 200 (nothing uses
// its body), and one outside any dialog with 481.
func (s *Server) onInfo(req sip.Request, tx sip.ServerTransaction) {
	d := s.dialogs.get(callIDOf(req))
	if d == nil {
		s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	s.follow(d, req)
	s.respond(tx, req, 200, "OK")
}

// follow records where a dialog's device was heard from, as onMessage
// does: its next requests must go there.
func (s *Server) follow(d *Dialog, req sip.Request) {
	if _, moved, old := s.regs.touch(d.req.DeviceID, req.Source(), transportOf(req.Transport())); moved {
		s.log.Info("device address changed", "device_id", d.req.DeviceID, "from", old, "to", req.Source(),
			"transport", req.Transport())
	}
}

// callIDOf returns a request's Call-ID, "" when it has none.
func callIDOf(req sip.Request) string {
	if id, ok := req.CallID(); ok && id != nil {
		return id.Value()
	}
	return ""
}
