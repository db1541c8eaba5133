package manscdp

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Defaults of an Assembler's limits.
const (
	// DefaultMaxPending allows one catalog query in flight for each of the
	// 5,000 devices a platform is sized for, with room to spare.
	DefaultMaxPending = 8192
	// DefaultMaxAssemblyItems is ten times the largest catalog (10,000
	// channels) the platform is sized for.
	DefaultMaxAssemblyItems = 100000
	// DefaultTTL drops parts that nobody waits for (late duplicates, a
	// response after its query timed out).
	DefaultTTL = 2 * time.Minute
)

// ErrNoResponse is returned by Assembler.Wait when the context ends before
// any part of the response arrived.
var ErrNoResponse = errors.New("manscdp: no response")

// Key identifies one multi-part response: the device or channel asked, the
// CmdType and the SN of the query.
type Key struct {
	DeviceID string
	CmdType  string
	SN       int64
}

// KeyOf returns the Key of a response part.
func KeyOf(m *Message) Key {
	return Key{DeviceID: m.DeviceID, CmdType: m.CmdType, SN: m.SN}
}

// Assembled is a Catalog or RecordInfo response put together from its
// parts.
type Assembled struct {
	Key
	// SumNum is the largest total any part announced.
	SumNum int
	// Catalog holds the catalog items in arrival order, one per DeviceID.
	Catalog []CatalogItem
	// Records holds the recordings sorted by start time, one per
	// DeviceID, StartTime, EndTime and FilePath.
	Records []RecordItem
	// Parts is the number of messages added, duplicates included.
	Parts int
	// Complete reports that the distinct items reached SumNum.
	Complete bool
	// Missing is SumNum minus the distinct items received.
	Missing int
}

// Assembler collects the parts of Catalog and RecordInfo responses (and
// catalog NOTIFYs) that devices split over many MESSAGEs. A response is
// complete when its distinct items reach SumNum; parts may arrive twice or
// out of order, and some never arrive, in which case Wait returns what did.
// Memory is bounded: at most MaxPending responses are kept (the oldest is
// dropped to make room), each with at most MaxAssemblyItems items, and one
// that nobody waits for is dropped after TTL.
//
// The zero value is ready to use. An Assembler is safe for concurrent use.
type Assembler struct {
	// MaxPending is the number of responses kept at once; 0 means
	// DefaultMaxPending.
	MaxPending int
	// MaxAssemblyItems bounds the items of one response; 0 means
	// DefaultMaxAssemblyItems.
	MaxAssemblyItems int
	// TTL is how long a response nobody waits for is kept; 0 means
	// DefaultTTL.
	TTL time.Duration

	mu      sync.Mutex
	pending map[Key]*assembly
	order   list.List // of *assembly, oldest first
	now     func() time.Time
}

type assembly struct {
	key      Key
	created  time.Time
	elem     *list.Element
	sumNum   int
	parts    int
	catalog  []CatalogItem
	records  []RecordItem
	seen     map[string]struct{}
	waiters  int
	complete bool
	done     chan struct{} // closed when complete or dropped
	closed   bool
}

// Add adds a response part. It reports true when this part completed the
// response; parts of other CmdTypes are ignored. A part of a response that
// is already complete changes nothing.
func (a *Assembler) Add(m *Message) bool {
	if m == nil || (m.Catalog == nil && m.RecordInfo == nil) {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.get(KeyOf(m))
	if s.complete {
		return false
	}
	s.parts++
	maxItems := a.MaxAssemblyItems
	if maxItems <= 0 {
		maxItems = DefaultMaxAssemblyItems
	}
	switch {
	case m.Catalog != nil:
		s.sumNum = max(s.sumNum, m.Catalog.SumNum)
		for _, it := range m.Catalog.Items {
			if s.add(it.DeviceID, maxItems) {
				s.catalog = append(s.catalog, it)
			}
		}
	case m.RecordInfo != nil:
		s.sumNum = max(s.sumNum, m.RecordInfo.SumNum)
		for _, it := range m.RecordInfo.Items {
			if s.add(recordKey(it), maxItems) {
				s.records = append(s.records, it)
			}
		}
	}
	if len(s.seen) >= min(s.sumNum, maxItems) {
		s.complete = true
		s.finish()
		return true
	}
	return false
}

// add reports whether an item of this dedup key is new and fits.
func (s *assembly) add(key string, maxItems int) bool {
	if _, dup := s.seen[key]; dup || len(s.seen) >= maxItems {
		return false
	}
	s.seen[key] = struct{}{}
	return true
}

func recordKey(r RecordItem) string {
	return r.DeviceID + "\x00" + strconv.FormatInt(r.StartTime.Unix(), 10) + "\x00" +
		strconv.FormatInt(r.EndTime.Unix(), 10) + "\x00" + r.FilePath
}

func (s *assembly) finish() {
	if !s.closed {
		s.closed = true
		close(s.done)
	}
}

// Wait waits until the response of key is complete or ctx ends, then
// forgets it and returns what arrived. When ctx ends first the result is
// partial (Complete false, Missing > 0); if no part at all arrived the error
// wraps ErrNoResponse and ctx's error. Call Wait after sending the query:
// parts that arrive before are kept.
func (a *Assembler) Wait(ctx context.Context, key Key) (Assembled, error) {
	a.mu.Lock()
	s := a.get(key)
	s.waiters++
	a.mu.Unlock()

	var ctxErr error
	select {
	case <-s.done:
	case <-ctx.Done():
		ctxErr = ctx.Err()
	}

	a.mu.Lock()
	s.waiters--
	if s.waiters == 0 && a.pending[key] == s {
		a.remove(s)
	}
	res := s.result()
	a.mu.Unlock()

	if !res.Complete && res.Parts == 0 && ctxErr != nil {
		return res, fmt.Errorf("%w from %s to %s %d: %w", ErrNoResponse, key.DeviceID, key.CmdType, key.SN, ctxErr)
	}
	return res, nil
}

// Pending returns the number of responses being assembled.
func (a *Assembler) Pending() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.pending)
}

func (s *assembly) result() Assembled {
	r := Assembled{
		Key:      s.key,
		SumNum:   s.sumNum,
		Catalog:  slices.Clone(s.catalog),
		Records:  slices.Clone(s.records),
		Parts:    s.parts,
		Complete: s.complete,
		Missing:  max(0, s.sumNum-len(s.seen)),
	}
	slices.SortStableFunc(r.Records, func(x, y RecordItem) int { return x.StartTime.Compare(y.StartTime) })
	return r
}

// get returns the assembly of key, creating it (and making room) if needed.
// a.mu is held.
func (a *Assembler) get(key Key) *assembly {
	if a.pending == nil {
		a.pending = make(map[Key]*assembly)
	}
	now := time.Now
	if a.now != nil {
		now = a.now
	}
	t := now()
	a.expire(t)
	if s, ok := a.pending[key]; ok {
		return s
	}
	maxPending := a.MaxPending
	if maxPending <= 0 {
		maxPending = DefaultMaxPending
	}
	for len(a.pending) >= maxPending {
		// The oldest goes first; a waiter on it returns what it has.
		s := a.order.Front().Value.(*assembly)
		a.remove(s)
		s.finish()
	}
	s := &assembly{key: key, created: t, seen: make(map[string]struct{}), done: make(chan struct{})}
	s.elem = a.order.PushBack(s)
	a.pending[key] = s
	return s
}

// expire drops assemblies older than the TTL that nobody waits for.
func (a *Assembler) expire(now time.Time) {
	ttl := a.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	for e := a.order.Front(); e != nil; {
		s := e.Value.(*assembly)
		if now.Sub(s.created) < ttl {
			return // the list is in creation order
		}
		e = e.Next()
		if s.waiters == 0 {
			a.remove(s)
			s.finish()
		}
	}
}

func (a *Assembler) remove(s *assembly) {
	if s.elem != nil {
		a.order.Remove(s.elem)
		s.elem = nil
	}
	if a.pending[s.key] == s {
		delete(a.pending, s.key)
	}
}
