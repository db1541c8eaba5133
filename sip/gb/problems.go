package gb

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// problemPeriod is the shortest interval between two log lines about the
// same kind of problem. A broken device can send hundreds of bad bodies a
// second; one line per period with a count says the same.
const problemPeriod = 10 * time.Second

// maxProblemKinds bounds the kinds remembered: kinds are fixed strings, the
// bound only guards against a caller that puts data in them.
const maxProblemKinds = 256

// problemLog logs problems at a limited rate per kind. Safe for concurrent
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

// report logs one problem of the given kind at level, or counts it when a
// line about that kind was logged less than problemPeriod ago.
func (p *problemLog) report(level slog.Level, kind string, attrs ...any) {
	now := time.Now()
	p.mu.Lock()
	k := p.kinds[kind]
	if k == nil {
		if len(p.kinds) >= maxProblemKinds {
			clear(p.kinds)
		}
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
	p.log.Log(context.Background(), level, kind, attrs...)
}
