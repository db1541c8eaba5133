package record

import (
	"log/slog"
	"sync"
	"time"
)

// problemLogInterval is the least time between two log lines about one kind
// of per-fragment problem of one recorder: a full disk must not flood the log.
const problemLogInterval = 10 * time.Second

// problemLog counts a recurring problem and logs it at a limited rate.
type problemLog struct {
	log *slog.Logger
	msg string

	mu   sync.Mutex
	last time.Time
	n    int
}

// warn counts a problem and logs it, with the count since the last line,
// unless a line was logged less than problemLogInterval ago.
func (p *problemLog) warn(args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	now := time.Now()
	if !p.last.IsZero() && now.Sub(p.last) < problemLogInterval {
		return
	}
	p.log.Warn(p.msg, append(args, "count", p.n)...)
	p.last, p.n = now, 0
}
