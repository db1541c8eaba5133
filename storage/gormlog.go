package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"
	gormlogger "gorm.io/gorm/logger"
)

// slowQuery is the duration above which a query is logged as a warning: SQLite on a local disk
// answers our queries in well under a millisecond, so anything this slow means lock contention
// or a struggling disk.
const slowQuery = 200 * time.Millisecond

// gormLogger routes gorm's messages to slog. It differs from gorm's own slog adapter in two
// ways: failed queries are logged at debug level only, because every failure is also returned
// to the caller, who decides whether it matters (a taken username is not an error for the
// server); and query parameters are never logged, because they include camera URLs with
// passwords and password hashes.
type gormLogger struct {
	logger *slog.Logger
}

var (
	_ gormlogger.Interface = gormLogger{}
	_ gorm.ParamsFilter    = gormLogger{}
)

func newGormLogger(logger *slog.Logger) gormLogger {
	return gormLogger{logger: logger}
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
		query, rows := fc()
		l.logger.WarnContext(ctx, "slow query", "sql", query, "rows", rows, "duration", elapsed)
	}
}

// ParamsFilter implements gorm.ParamsFilter so that logged SQL keeps its placeholders.
func (l gormLogger) ParamsFilter(_ context.Context, query string, _ ...any) (string, []any) {
	return query, nil
}
