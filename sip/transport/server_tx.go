package transport

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ghettovoice/gosip/sip"
)

// timerJ is how long a non-INVITE server transaction over an unreliable
// transport keeps its final response to answer retransmissions of the
// request (RFC 3261 §17.2.2: 64*T1). Over TCP it is 0.
const timerJ = 64 * timerT1

// sweepEvery is how often answered transactions past Timer J are dropped
// when no new request does it first.
const sweepEvery = time.Second

// RequestHandler handles a request whose server transaction the Layer runs
// itself (Layer.Handle). tx.Respond sends a response and keeps it to answer
// retransmissions.
type RequestHandler func(req sip.Request, tx sip.ServerTransaction)

// Handle makes the layer run the server transactions of a non-INVITE method
// itself and hand the requests to h, each in its own goroutine, instead of
// passing them to gosip's transaction layer. Call it before Serve.
//
// gosip keeps every server transaction (the request, a copy of the
// response, a state machine and a goroutine, about 22 KiB) until Timer J,
// 32 s, even over TCP where Timer J is 0. For requests that are answered at
// once (REGISTER, MESSAGE, NOTIFY) from thousands of devices, that was most
// of the platform's memory (docs/perf-gb28181.md). What RFC 3261 §17.2.2
// asks of such a transaction is done here with one table entry per request:
// the encoded final response, resent when the request comes again, until
// Timer J; a retransmission that arrives while the handler runs is absorbed.
//
// INVITE transactions (and the ACKs and CANCELs that match them) are not
// supported: they have more states, and stay with gosip.
func (l *Layer) Handle(method sip.RequestMethod, h RequestHandler) {
	if method == sip.INVITE || method == sip.ACK || method == sip.CANCEL {
		panic("sip transport: Handle of " + string(method))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.handlers == nil {
		l.handlers = map[sip.RequestMethod]RequestHandler{}
	}
	l.handlers[method] = h
}

// handler returns the Handle handler of method, if any.
func (l *Layer) handler(method sip.RequestMethod) RequestHandler {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.handlers[method]
}

// serverTxs is the table of the server transactions the layer runs.
type serverTxs struct {
	mu sync.Mutex
	m  map[string]*serverEntry
	// expiry lists answered UDP transactions in the order they were
	// answered, which is the order of their Timer J.
	expiry []expiring
}

// serverEntry is one transaction: nothing while its handler runs, then the
// last response it sent.
type serverEntry struct {
	res   []byte
	final bool
}

type expiring struct {
	key string
	at  time.Time
}

// serverTx is the sip.ServerTransaction a Handle handler gets.
type serverTx struct {
	l       *Layer
	req     sip.Request
	key     string
	network string
	remote  netip.AddrPort
	reply   func([]byte) error

	mu   sync.Mutex
	done chan bool // made on demand, closed at the final response
	over bool      // final response sent
}

var _ sip.ServerTransaction = (*serverTx)(nil)

// serve runs the transaction of a request of a Handle method: a new one
// goes to h in its own goroutine, which takes over the caller's handler
// slot (with slot) and passes it on when h returns; serve then reports
// true. A retransmission is answered with the last response (or absorbed
// while there is none yet).
func (l *Layer) serve(req sip.Request, h RequestHandler, network string, remote netip.AddrPort, reply func([]byte) error, slot bool) bool {
	key := serverKey(req, remote)
	now := time.Now()
	t := &l.stx
	t.mu.Lock()
	t.sweep(now)
	if e, ok := t.m[key]; ok {
		res := e.res
		t.mu.Unlock()
		l.stats.absorbed.Add(1)
		if res != nil {
			if err := reply(res); err != nil {
				l.log.Debug("sip response retransmission failed", "remote", remote.String(), "err", err)
			}
		}
		return false
	}
	if t.m == nil {
		t.m = map[string]*serverEntry{}
	}
	t.m[key] = &serverEntry{}
	t.mu.Unlock()

	tx := &serverTx{l: l, req: req, key: key, network: network, remote: remote, reply: reply}
	l.wg.Add(1) // the caller's reader holds the group open
	go func() {
		defer l.wg.Done()
		if slot {
			defer l.next()
		}
		defer tx.finish()
		h(req, tx)
	}()
	return true
}

// serverKey identifies a request's server transaction (RFC 3261 §17.2.3):
// branch, sent-by and method of the top Via, and the address it came from,
// because cheap devices number their branches from 1 and several of them
// behind NAT can share a private sent-by. A branch without the RFC 3261
// cookie (RFC 2543 devices) is completed by Call-ID, CSeq and From tag.
func serverKey(req sip.Request, remote netip.AddrPort) string {
	var b strings.Builder
	b.WriteString(remote.String())
	b.WriteByte(' ')
	b.WriteString(string(req.Method()))
	hop, _ := req.ViaHop() // checked by the decoder
	b.WriteByte(' ')
	b.WriteString(hop.Host)
	if hop.Port != nil {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(int(*hop.Port)))
	}
	branch := ""
	if hop.Params != nil {
		if v, ok := hop.Params.Get("branch"); ok && v != nil {
			branch = v.String()
		}
	}
	b.WriteByte(' ')
	b.WriteString(branch)
	if !strings.HasPrefix(branch, sip.RFC3261BranchMagicCookie) || len(branch) == len(sip.RFC3261BranchMagicCookie) {
		callID, _ := req.CallID()
		cseq, _ := req.CSeq()
		tag := ""
		if from, ok := req.From(); ok && from.Params != nil {
			if v, ok := from.Params.Get("tag"); ok && v != nil {
				tag = v.String()
			}
		}
		fmt.Fprintf(&b, " %s %d %s", callID.Value(), cseq.SeqNo, tag)
	}
	return b.String()
}

// sweep drops the answered transactions whose Timer J ran out. t.mu must be
// held.
func (t *serverTxs) sweep(now time.Time) {
	n := 0
	for i, e := range t.expiry {
		if e.at.After(now) {
			break
		}
		delete(t.m, e.key)
		t.expiry[i] = expiring{} // the array outlives the entry until append moves it
		n++
	}
	if n == 0 {
		return
	}
	t.expiry = t.expiry[n:]
	if len(t.expiry) == 0 {
		t.expiry = nil // let a burst's backing array go
	}
}

// sweeper drops expired transactions while no requests arrive.
func (l *Layer) sweeper() {
	defer l.wg.Done()
	tick := time.NewTicker(sweepEvery)
	defer tick.Stop()
	for {
		select {
		case <-l.canceled:
			return
		case now := <-tick.C:
			l.stx.mu.Lock()
			l.stx.sweep(now)
			l.stx.mu.Unlock()
		}
	}
}

// Respond implements sip.ServerTransaction: res goes to where the request
// came from, over the same transport, and is kept to answer
// retransmissions. After a final response, others are refused.
func (tx *serverTx) Respond(res sip.Response) error {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.over {
		return fmt.Errorf("sip transaction %s: already answered", tx.key)
	}
	data := []byte(res.String())
	final := !res.IsProvisional()
	// Recorded before it is sent: the request's retransmission can come back as soon as the
	// response is out, and must find it.
	t := &tx.l.stx
	t.mu.Lock()
	if e := t.m[tx.key]; e != nil {
		e.res, e.final = data, final
		if final {
			if tx.l.IsReliable(tx.network) {
				delete(t.m, tx.key) // Timer J is 0
			} else {
				t.expiry = append(t.expiry, expiring{key: tx.key, at: time.Now().Add(timerJ)})
			}
		}
	}
	t.mu.Unlock()
	err := tx.reply(data)
	if final {
		tx.over = true
		if tx.done != nil {
			close(tx.done)
		}
	}
	if err != nil {
		return fmt.Errorf("sip respond to %s over %s: %w", tx.remote, tx.network, err)
	}
	return nil
}

// finish runs when the handler returns. A request left without a final
// response is forgotten, so that its retransmission is handled afresh.
func (tx *serverTx) finish() {
	tx.mu.Lock()
	over := tx.over
	tx.mu.Unlock()
	if over {
		return
	}
	t := &tx.l.stx
	t.mu.Lock()
	if e := t.m[tx.key]; e != nil && !e.final {
		delete(t.m, tx.key)
	}
	t.mu.Unlock()
}

// Origin implements sip.Transaction.
func (tx *serverTx) Origin() sip.Request { return tx.req }

// Key implements sip.Transaction.
func (tx *serverTx) Key() sip.TransactionKey { return sip.TransactionKey(tx.key) }

// String implements sip.Transaction.
func (tx *serverTx) String() string { return "sip server transaction " + tx.key }

// Errors implements sip.Transaction. Nothing is sent on it: Respond returns
// its errors.
func (tx *serverTx) Errors() <-chan error { return nil }

// Done implements sip.Transaction: it is closed once a final response was
// sent.
func (tx *serverTx) Done() <-chan bool {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.done == nil {
		tx.done = make(chan bool)
		if tx.over {
			close(tx.done)
		}
	}
	return tx.done
}

// Acks implements sip.ServerTransaction; a non-INVITE transaction gets none.
func (tx *serverTx) Acks() <-chan sip.Request { return nil }

// Cancels implements sip.ServerTransaction; CANCEL goes to gosip, which
// answers 481 for a transaction it does not know.
func (tx *serverTx) Cancels() <-chan sip.Request { return nil }
