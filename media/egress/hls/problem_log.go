package hls

import (
	"log/slog"
	"sync"
	"time"
)

// problemLogInterval is the least time between two log lines about
// per-frame problems of one stream: a broken camera must not flood the log.
const problemLogInterval = 10 * time.Second

// problemLog counts per-frame problems and logs them at a limited rate.
type problemLog struct {
	log *slog.Logger

	mu   sync.Mutex
	last time.Time
	n    int
}

// warn counts a problem and logs it, with the count since the last line,
// unless a line was logged less than problemLogInterval ago.
func (p *problemLog) warn(msg string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	now := time.Now()
	if !p.last.IsZero() && now.Sub(p.last) < problemLogInterval {
		return
	}
	p.log.Warn(msg, "err", err, "count", p.n)
	p.last, p.n = now, 0
}
