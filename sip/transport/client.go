package transport

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
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

// Timers of INVITE client transactions (RFC 3261 §17.1.1.2).
const (
	// timerB bounds the wait for any response to an INVITE.
	timerB = 64 * timerT1
	// timerD is how long a completed transaction absorbs retransmitted
	// non-2xx final responses over UDP (ACKing each).
	timerD = 32 * time.Second
)

// ErrTxTerminated is returned by InviteTx.Next after Terminate, and once
// a transaction that delivered a non-2xx final response has ended.
var ErrTxTerminated = errors.New("sip transaction terminated")

// InviteTx is an INVITE client transaction (RFC 3261 §17.1.1, with the
// Accepted state of RFC 6026 §7.2). It retransmits the INVITE over UDP
// (Timer A) until a response arrives, reports Timer B when none does,
// delivers the provisional and final responses to Next, ACKs a non-2xx
// final response itself (and each retransmission of it), and, after a 2xx,
// re-sends the ACK given to Ack for each retransmitted 2xx until Terminate:
// the 2xx's retransmissions carry the INVITE's branch, so the dialog stays
// matchable for as long as the caller keeps the transaction.
type InviteTx struct {
	l     *Layer
	req   sip.Request
	key   string
	in    chan sip.Response
	out   chan txEvent
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
	mu    sync.Mutex
	ack   sip.Request // the 2xx's ACK, re-sent for retransmitted 2xx
	acked int         // ACKs re-sent, for tests
}

// txEvent is a response or an error delivered to Next.
type txEvent struct {
	res sip.Response
	err error
}

// INVITE client transaction states.
const (
	inviteCalling = iota
	inviteProceeding
	inviteAccepted
	inviteCompleted
	inviteTimedOut // Timer B fired: still listening for a late final response
)

// RequestInvite sends an INVITE and starts its client transaction. The top
// Via must carry a branch from NewBranch. Call Terminate when done with it.
func (l *Layer) RequestInvite(req sip.Request) (*InviteTx, error) {
	b, err := branchOf(req)
	if err != nil {
		return nil, err
	}
	tx := &InviteTx{
		l:    l,
		req:  req,
		key:  clientKey(b, string(sip.INVITE)),
		in:   make(chan sip.Response, 8),
		out:  make(chan txEvent, 16),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	l.mu.Lock()
	if l.isCanceled() {
		l.mu.Unlock()
		return nil, ErrClosed
	}
	l.clients[tx.key] = tx.in // recorded before sending: a fast answer must find it
	l.wg.Add(1)               // under l.mu and not canceled: Cancel's Wait comes after
	l.mu.Unlock()
	if err := l.Send(req); err != nil {
		l.mu.Lock()
		delete(l.clients, tx.key)
		l.mu.Unlock()
		l.wg.Done()
		return nil, err
	}
	go tx.run()
	return tx, nil
}

// branchOf returns the top Via's branch, which must come from NewBranch.
func branchOf(req sip.Request) (string, error) {
	hop, ok := req.ViaHop()
	if !ok || hop.Params == nil {
		return "", errors.New("sip request without Via")
	}
	b, ok := hop.Params.Get("branch")
	if !ok || b == nil || !strings.HasPrefix(b.String(), BranchPrefix) {
		return "", errors.New("sip request without a branch from NewBranch")
	}
	return b.String(), nil
}

// Request returns the INVITE.
func (tx *InviteTx) Request() sip.Request { return tx.req }

// Next returns the next response the transaction delivers: each
// provisional response, then the final one, then (after a 2xx) nothing
// more. It returns ErrTxTimeout when Timer B fired with no response
// (responses arriving later are still delivered), ctx.Err(), ErrClosed
// when the layer is closed, and ErrTxTerminated after Terminate or once a
// non-2xx final response has been delivered and its transaction ended.
func (tx *InviteTx) Next(ctx context.Context) (sip.Response, error) {
	select {
	case ev := <-tx.out:
		return ev.res, ev.err
	default:
	}
	select {
	case ev := <-tx.out:
		return ev.res, ev.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-tx.done:
		select {
		case ev := <-tx.out:
			return ev.res, ev.err
		default:
		}
		if tx.l.isCanceled() {
			return nil, ErrClosed
		}
		return nil, ErrTxTerminated
	}
}

// Ack sends the ACK of a 2xx (a request of its own, RFC 3261 §13.2.2.4)
// and re-sends it for every retransmission of the 2xx until Terminate.
func (tx *InviteTx) Ack(ack sip.Request) error {
	tx.mu.Lock()
	tx.ack = ack
	tx.mu.Unlock()
	return tx.l.Send(ack)
}

// AcksResent returns how many times the ACK was re-sent for a
// retransmitted 2xx.
func (tx *InviteTx) AcksResent() int {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	return tx.acked
}

// Cancel sends a CANCEL for the INVITE (RFC 3261 §9.1) and returns its
// final response; the INVITE's own final response (487, or a 2xx that
// crossed the CANCEL) still comes from Next. RFC 3261 §9.1 waits for a
// provisional response before cancelling; GB/T 28181 devices often send
// none, so Cancel does not wait: a device that has no transaction answers
// 481, which costs nothing.
func (tx *InviteTx) Cancel(ctx context.Context) (sip.Response, error) {
	return tx.l.Request(ctx, cancelOf(tx.req))
}

// Terminate ends the transaction: no more retransmissions, no more
// responses delivered. A transaction that received a non-2xx final
// response keeps ACKing its retransmissions until Timer D.
func (tx *InviteTx) Terminate() { tx.once.Do(func() { close(tx.stop) }) }

// Done is closed once the transaction has ended.
func (tx *InviteTx) Done() <-chan struct{} { return tx.done }

func (tx *InviteTx) deliver(ev txEvent) {
	select {
	case tx.out <- ev:
	default: // a flood of provisional responses: the first ones suffice
	}
}

func (tx *InviteTx) run() {
	l := tx.l
	defer l.wg.Done()
	defer close(tx.done)
	defer func() {
		l.mu.Lock()
		delete(l.clients, tx.key)
		l.mu.Unlock()
	}()

	state := inviteCalling
	timerA := time.NewTimer(timerT1)
	interval := timerT1
	if l.IsReliable(tx.req.Transport()) {
		timerA.Stop()
	}
	defer timerA.Stop()
	timerBT := time.NewTimer(timerB)
	defer timerBT.Stop()
	var timerDC <-chan time.Time
	var nonSuccessACK sip.Request
	stop := tx.stop
	for {
		select {
		case res := <-tx.in:
			switch {
			case res.IsProvisional():
				if state == inviteCalling {
					state = inviteProceeding
					timerA.Stop()
					timerBT.Stop()
				}
				if state == inviteProceeding || state == inviteTimedOut {
					tx.deliver(txEvent{res: res})
				}
			case res.IsSuccess():
				switch state {
				case inviteCalling, inviteProceeding, inviteTimedOut:
					state = inviteAccepted
					timerA.Stop()
					timerBT.Stop()
					tx.deliver(txEvent{res: res})
				case inviteAccepted:
					tx.mu.Lock()
					ack := tx.ack
					if ack != nil {
						tx.acked++
					}
					tx.mu.Unlock()
					if ack != nil {
						if err := l.Send(ack); err != nil {
							l.log.Debug("sip ACK retransmission failed", "err", err)
						}
					}
				}
			default:
				switch state {
				case inviteCalling, inviteProceeding, inviteTimedOut:
					state = inviteCompleted
					timerA.Stop()
					timerBT.Stop()
					nonSuccessACK = ackOf(tx.req, res)
					if err := l.Send(nonSuccessACK); err != nil {
						l.log.Debug("sip ACK failed", "err", err)
					}
					tx.deliver(txEvent{res: res})
					if l.IsReliable(tx.req.Transport()) {
						return
					}
					timerDC = time.After(timerD)
				case inviteCompleted:
					_ = l.Send(nonSuccessACK)
				}
			}
		case <-timerA.C:
			if state != inviteCalling {
				continue
			}
			if err := l.Send(tx.req); err != nil {
				l.log.Debug("sip INVITE retransmission failed", "err", err)
			}
			interval *= 2 // no T2 cap for INVITE (RFC 3261 §17.1.1.2)
			timerA.Reset(interval)
		case <-timerBT.C:
			if state == inviteCalling {
				state = inviteTimedOut
				timerA.Stop()
				tx.deliver(txEvent{err: ErrTxTimeout})
			}
		case <-timerDC:
			return
		case <-stop:
			if state != inviteCompleted {
				return
			}
			stop = nil // absorb the retransmissions until Timer D
		case <-l.canceled:
			return
		}
	}
}

// ackOf builds the ACK of a non-2xx final response (RFC 3261 §17.1.1.3):
// the INVITE's Request-URI, top Via (same branch), From, Call-ID and CSeq
// number, the response's To (with its tag) and the INVITE's Route.
func ackOf(inv sip.Request, res sip.Response) sip.Request {
	hop, _ := inv.ViaHop()
	hdrs := []sip.Header{sip.ViaHeader{hop.Clone()}}
	maxFwd := sip.MaxForwards(70)
	hdrs = append(hdrs, &maxFwd)
	if from, ok := inv.From(); ok {
		hdrs = append(hdrs, from.Clone())
	}
	if to, ok := res.To(); ok {
		hdrs = append(hdrs, to.Clone())
	} else if to, ok := inv.To(); ok {
		hdrs = append(hdrs, to.Clone())
	}
	if id, ok := inv.CallID(); ok {
		hdrs = append(hdrs, id.Clone())
	}
	if cseq, ok := inv.CSeq(); ok {
		hdrs = append(hdrs, &sip.CSeq{SeqNo: cseq.SeqNo, MethodName: sip.ACK})
	}
	for _, r := range inv.GetHeaders("Route") {
		hdrs = append(hdrs, r.Clone())
	}
	return finish(sip.NewRequest("", sip.ACK, inv.Recipient().Clone(), "SIP/2.0", hdrs, "", nil), inv)
}

// cancelOf builds the CANCEL of an INVITE (RFC 3261 §9.1): the same
// Request-URI, top Via, From, To, Call-ID, CSeq number and Route.
func cancelOf(inv sip.Request) sip.Request {
	hop, _ := inv.ViaHop()
	hdrs := []sip.Header{sip.ViaHeader{hop.Clone()}}
	maxFwd := sip.MaxForwards(70)
	hdrs = append(hdrs, &maxFwd)
	if from, ok := inv.From(); ok {
		hdrs = append(hdrs, from.Clone())
	}
	if to, ok := inv.To(); ok {
		hdrs = append(hdrs, to.Clone())
	}
	if id, ok := inv.CallID(); ok {
		hdrs = append(hdrs, id.Clone())
	}
	if cseq, ok := inv.CSeq(); ok {
		hdrs = append(hdrs, &sip.CSeq{SeqNo: cseq.SeqNo, MethodName: sip.CANCEL})
	}
	for _, r := range inv.GetHeaders("Route") {
		hdrs = append(hdrs, r.Clone())
	}
	return finish(sip.NewRequest("", sip.CANCEL, inv.Recipient().Clone(), "SIP/2.0", hdrs, "", nil), inv)
}

// finish gives a request built from inv an empty body and inv's
// destination and transport.
func finish(req, inv sip.Request) sip.Request {
	req.SetBody("", true)
	req.SetDestination(inv.Destination())
	req.SetTransport(inv.Transport())
	return req
}
