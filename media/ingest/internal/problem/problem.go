// Package problem counts the per-packet problems of an ingest session
// (decode errors, lost packets, bad framing) and logs them at a limited rate.
// Such problems never end a session: a camera with a broken encoder or a
// lossy link would otherwise either flood the log or be cut off.
package problem

import (
	"log/slog"
	"sync"
	"time"
)

// LogPeriod is the shortest interval between two log lines. A lossy link
// can cause hundreds of problems a second; one line per period with a count
// says the same without drowning the log.
const LogPeriod = 10 * time.Second

// Log counts problems and logs a summary at most once per LogPeriod. It is
// safe for concurrent use. The zero value discards the lines; set Logger.
type Log struct {
	// Logger receives the summaries. Nil discards them.
	Logger *slog.Logger

	mu      sync.Mutex
	last    time.Time // when the last line was logged
	pending uint64    // problems since the last line
	lost    uint64    // packets lost since the last line
	total   uint64
}

// Add counts one problem and logs a line that sums up those since the last
// line, unless that line is less than LogPeriod old.
func (p *Log) Add(what string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total++
	p.pending++
	p.flushLocked(what, err)
}

// AddLost counts n packets lost as one problem.
func (p *Log) AddLost(n uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lost += n
	p.total++
	p.pending++
	p.flushLocked("RTP packets lost", nil)
}

func (p *Log) flushLocked(what string, err error) {
	now := time.Now()
	if !p.last.IsZero() && now.Sub(p.last) < LogPeriod {
		return
	}
	if p.Logger != nil {
		attrs := []any{"count", p.pending, "last", what}
		if err != nil {
			attrs = append(attrs, "err", err)
		}
		if p.lost > 0 {
			attrs = append(attrs, "rtp_lost", p.lost)
		}
		p.Logger.Warn("media problems", attrs...)
	}
	p.last, p.pending, p.lost = now, 0, 0
}

// Count returns the number of problems seen.
func (p *Log) Count() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total
}
