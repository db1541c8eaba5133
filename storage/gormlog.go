package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	gormlogger "gorm.io/gorm/logger"
)

// slowQuery is the duration above which a query is logged as a warning: SQLite on a local disk
// answers our queries in well under a millisecond, so anything this slow means lock contention
// or a struggling disk.
const slowQuery = 200 * time.Millisecond

// slowQueryPeriod is the shortest interval between two slow-query lines. The time gorm measures
// includes the wait for a pooled connection, so a burst of thousands of registrations makes
// thousands of slow queries at once; one line per period with a count says the same.
const slowQueryPeriod = 10 * time.Second

// gormLogger routes gorm's messages to slog. It differs from gorm's own slog adapter in two
// ways: failed queries are logged at debug level only, because every failure is also returned
// to the caller, who decides whether it matters (a taken username is not an error for the
// server); and query parameters are never logged, because they include camera URLs with
// passwords and password hashes.
type gormLogger struct {
	logger *slog.Logger
	slow   *slowLog
}

// slowLog limits the rate of slow-query lines. Safe for concurrent use.
type slowLog struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
	slowest    time.Duration // of the suppressed ones
}

// allow reports whether a slow query taking d may be logged now, and how many were suppressed
// since the last line and the longest of them.
func (s *slowLog) allow(now time.Time, d time.Duration) (ok bool, suppressed int, slowest time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.last.IsZero() && now.Sub(s.last) < slowQueryPeriod {
		s.suppressed++
		s.slowest = max(s.slowest, d)
		return false, 0, 0
	}
	suppressed, slowest = s.suppressed, s.slowest
	s.last, s.suppressed, s.slowest = now, 0, 0
	return true, suppressed, slowest
}

var (
	_ gormlogger.Interface = gormLogger{}
	_ gorm.ParamsFilter    = gormLogger{}
)

func newGormLogger(logger *slog.Logger) gormLogger {
	return gormLogger{logger: logger, slow: &slowLog{}}
}

// LogMode implements gormlogger.Interface; the level is decided by the slog handler instead.
func (l gormLogger) LogMode(gormlogger.LogLevel) gormlogger.Interface { return l }

// Info implements gormlogger.Interface.
func (l gormLogger) Info(ctx context.Context, msg string, args ...any) {
	l.logger.InfoContext(ctx, fmt.Sprintf(msg, args...))
}

// Warn implements gormlogger.Interface.
func (l gormLogger) Warn(ctx context.Context, msg string, args ...any) {
	l.logger.WarnContext(ctx, fmt.Sprintf(msg, args...))
}

// Error implements gormlogger.Interface.
func (l gormLogger) Error(ctx context.Context, msg string, args ...any) {
	l.logger.ErrorContext(ctx, fmt.Sprintf(msg, args...))
}

// Trace implements gormlogger.Interface; it is called after every query.
func (l gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin)
	switch {
	case err != nil && !errors.Is(err, gorm.ErrRecordNotFound):
		if l.logger.Enabled(ctx, slog.LevelDebug) {
			query, _ := fc()
			l.logger.DebugContext(ctx, "query failed", "sql", query, "duration", elapsed, "error", err)
		}
	case elapsed > slowQuery:
		ok, suppressed, slowest := l.slow.allow(time.Now(), elapsed)
		if !ok {
			return
		}
		query, rows := fc()
		attrs := []any{"sql", shortSQL(query), "rows", rows, "duration", elapsed}
		if suppressed > 0 {
			attrs = append(attrs, "suppressed_since_last", suppressed, "slowest_suppressed", slowest)
		}
		l.logger.WarnContext(ctx, "slow query", attrs...)
	}
}

// maxLoggedSQL is how much of a statement a log line shows. A batched
// update of 500 keepalives is 10 KiB of "WHEN ? THEN ?"; its head says
// which statement it was.
const maxLoggedSQL = 240

// shortSQL cuts a statement to maxLoggedSQL bytes, saying how long it was.
func shortSQL(q string) string {
	if len(q) <= maxLoggedSQL {
		return q
	}
	cut := maxLoggedSQL
	for cut > 0 && !utf8.RuneStart(q[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes)", q[:cut], len(q))
}

// ParamsFilter implements gorm.ParamsFilter so that logged SQL keeps its placeholders.
func (l gormLogger) ParamsFilter(_ context.Context, query string, _ ...any) (string, []any) {
	return query, nil
}
