package rtsp

import (
	"log/slog"
	"sync"
	"time"
)

// problemLogPeriod is the shortest interval between two log lines about
// per-packet problems. A camera with a broken encoder or a lossy link can
// produce hundreds of them a second; one line per period with a count says
// the same without drowning the log.
const problemLogPeriod = 10 * time.Second

// problemLog counts per-packet problems (decode errors, lost packets) and
// logs them at a limited rate. Such problems never end a session. It is safe
// for concurrent use: with UDP each medium is read by its own goroutine.
type problemLog struct {
	log *slog.Logger

	mu      sync.Mutex
	last    time.Time // when the last line was logged
	pending uint64    // problems since the last line
	lost    uint64    // RTP packets lost since the last line
	total   uint64
}

// add counts one problem and logs a line that sums up those since the last
// line, unless that line is less than problemLogPeriod old.
func (p *problemLog) add(what string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total++
	p.pending++
	p.flushLocked(what, err)
}

// addLost counts RTP packets reported lost.
func (p *problemLog) addLost(n uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lost += n
	p.total++
	p.pending++
	p.flushLocked("RTP packets lost", nil)
}

func (p *problemLog) flushLocked(what string, err error) {
	now := time.Now()
	if !p.last.IsZero() && now.Sub(p.last) < problemLogPeriod {
		return
	}
	attrs := []any{"count", p.pending, "last", what}
	if err != nil {
		attrs = append(attrs, "err", err)
	}
	if p.lost > 0 {
		attrs = append(attrs, "rtp_lost", p.lost)
	}
	p.log.Warn("media problems", attrs...)
	p.last, p.pending, p.lost = now, 0, 0
}

// count returns the number of problems seen.
func (p *problemLog) count() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total
}
