package onvifsim

import (
	"io"
	"net/http"
	"time"
)

// Fault is a SOAP fault the simulator sends. Codes are written without
// prefixes; Subcode may nest with "/" ("InvalidArgVal/NoProfile").
type Fault struct {
	Code    string // "Sender" or "Receiver"
	Subcode string
	Reason  string
}

// Misbehaviour makes the simulator answer an operation the wrong way, to
// test how a client copes.
type Misbehaviour struct {
	// Delay waits before answering (or until the client gives up); with
	// nothing else set, the normal answer follows.
	Delay time.Duration
	// Status is the HTTP status; 0 means 200, or the SOAP binding's status
	// for a Fault.
	Status int
	// Fault answers with this SOAP fault.
	Fault *Fault
	// Body answers with these bytes instead (with ContentType), e.g.
	// malformed XML or an HTML page.
	Body        string
	ContentType string
	// Times limits how many requests misbehave; 0 means all of them.
	Times int
}

type misbehaviour struct {
	Misbehaviour
	left int // requests still to misbehave; -1 forever
}

// AnyOp makes Misbehave apply to every operation.
const AnyOp = "*"

// Misbehave makes the simulator answer op (or every operation, with AnyOp)
// as m says, before authentication is checked.
func (s *Server) Misbehave(op string, m Misbehaviour) {
	left := m.Times
	if left == 0 {
		left = -1
	}
	s.mu.Lock()
	s.misbehave[op] = &misbehaviour{Misbehaviour: m, left: left}
	s.mu.Unlock()
}

// Behave undoes Misbehave for op.
func (s *Server) Behave(op string) {
	s.mu.Lock()
	delete(s.misbehave, op)
	s.mu.Unlock()
}

func (s *Server) takeMisbehaviour(op string) *Misbehaviour {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, key := range []string{op, AnyOp} {
		m := s.misbehave[key]
		if m == nil {
			continue
		}
		if m.left > 0 {
			m.left--
			if m.left == 0 {
				delete(s.misbehave, key)
			}
		}
		mb := m.Misbehaviour
		return &mb
	}
	return nil
}

func (s *Server) misbehaveNow(w http.ResponseWriter, m *Misbehaviour) {
	if m.Fault != nil {
		s.writeFault(w, m.Status, *m.Fault)
		return
	}
	status := m.Status
	if status == 0 {
		status = http.StatusOK
	}
	ct := m.ContentType
	if ct == "" {
		ct = "application/soap+xml; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	io.WriteString(w, m.Body)
}
