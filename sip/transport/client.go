package transport

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/ghettovoice/gosip/sip"
)

// ErrTxTimeout is returned by Request when no final response arrived within
// Timer F (RFC 3261 §17.1.2.2).
var ErrTxTimeout = errors.New("sip transaction timed out")

// Client transaction timers (RFC 3261 §17.1.2.2, Table 4).
const (
	timerT1 = 500 * time.Millisecond
	timerT2 = 4 * time.Second
	timerF  = 64 * timerT1
)

// BranchPrefix starts every branch NewBranch makes. A response carrying it
// belongs to one of our client transactions; when none is waiting (a late
// retransmission) it is dropped quietly instead of reaching gosip.
const BranchPrefix = sip.RFC3261BranchMagicCookie + "-nvr-"

// NewBranch returns a fresh branch for Request.
func NewBranch() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return BranchPrefix + hex.EncodeToString(b)
}

// Request runs a non-INVITE client transaction (RFC 3261 §17.1.2) and
// returns the final response: it sends req to its Destination over its
// Transport, retransmits over UDP (Timer E), and gives up at ctx's end
// (ctx.Err()) or at Timer F (ErrTxTimeout). The top Via must carry a branch
// from NewBranch.
//
// gosip has client transactions of its own, but its transaction layer
// sends the request before it records the transaction, so a device that
// answers within microseconds (any device on a LAN, or over TCP) is
// "not matched" and its response lost; and its Terminate can panic on a
// concurrent response. Owning the transport makes doing it here simple.
func (l *Layer) Request(ctx context.Context, req sip.Request) (sip.Response, error) {
	hop, ok := req.ViaHop()
	if !ok || hop.Params == nil {
		return nil, errors.New("sip request without Via")
	}
	b, ok := hop.Params.Get("branch")
	if !ok || b == nil || !strings.HasPrefix(b.String(), BranchPrefix) {
		return nil, errors.New("sip request without a branch from NewBranch")
	}
	key := clientKey(b.String(), string(req.Method()))
	ch := make(chan sip.Response, 4)
	l.mu.Lock()
	l.clients[key] = ch // recorded before sending: a fast answer must find it
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.clients, key)
		l.mu.Unlock()
	}()

	if err := l.Send(req); err != nil {
		return nil, err
	}
	timeout := time.NewTimer(timerF)
	defer timeout.Stop()
	var retransmit <-chan time.Time
	interval := timerT1
	var timerE *time.Timer
	if !l.IsReliable(req.Transport()) {
		timerE = time.NewTimer(interval)
		defer timerE.Stop()
		retransmit = timerE.C
	}
	for {
		select {
		case res := <-ch:
			if !res.IsProvisional() {
				return res, nil
			}
			interval = timerT2 // proceeding: keep retransmitting at T2
		case <-retransmit:
			if err := l.Send(req); err != nil {
				return nil, err
			}
			interval = min(2*interval, timerT2)
			timerE.Reset(interval)
		case <-timeout.C:
			return nil, ErrTxTimeout
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-l.canceled:
			return nil, ErrClosed
		}
	}
}

func clientKey(branch, method string) string { return branch + " " + method }

// deliverResponse hands a response to the client transaction waiting for
// it. It reports whether the response was ours (delivered, or a late
// duplicate to drop).
func (l *Layer) deliverResponse(res sip.Response) bool {
	hop, ok := res.ViaHop()
	if !ok || hop.Params == nil {
		return false
	}
	b, ok := hop.Params.Get("branch")
	if !ok || b == nil || !strings.HasPrefix(b.String(), BranchPrefix) {
		return false
	}
	cseq, _ := res.CSeq()
	l.mu.Lock()
	ch := l.clients[clientKey(b.String(), string(cseq.MethodName))]
	l.mu.Unlock()
	if ch == nil {
		l.log.Debug("sip late response dropped", "status", int(res.StatusCode()), "remote", res.Source())
		return true
	}
	select {
	case ch <- res:
	default: // a flood of retransmitted responses: the first ones suffice
	}
	return true
}
