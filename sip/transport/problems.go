package transport

import (
	"log/slog"
	"sync"
	"time"
)

// problemPeriod is the shortest interval between two log lines about the
// same kind of bad input. A broken device (or a scanner) can send thousands
// of bad packets a second; one line per period with a count says the same
// without drowning the log.
const problemPeriod = 10 * time.Second

// problemLog logs bad input at a limited rate per kind. Safe for concurrent
// use.
type problemLog struct {
	log *slog.Logger

	mu    sync.Mutex
	kinds map[string]*problemKind
}

type problemKind struct {
	last       time.Time
	suppressed int
}

// report logs one problem of the given kind, or counts it when a line about
// that kind was logged less than problemPeriod ago.
func (p *problemLog) report(kind string, attrs ...any) {
	now := time.Now()
	p.mu.Lock()
	k := p.kinds[kind]
	if k == nil {
		k = &problemKind{}
		p.kinds[kind] = k
	}
	if !k.last.IsZero() && now.Sub(k.last) < problemPeriod {
		k.suppressed++
		p.mu.Unlock()
		return
	}
	suppressed := k.suppressed
	k.last, k.suppressed = now, 0
	p.mu.Unlock()
	if suppressed > 0 {
		attrs = append(attrs, "suppressed_since_last", suppressed)
	}
	p.log.Warn(kind, attrs...)
}
