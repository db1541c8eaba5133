package transport

import (
	"context"
	"fmt"
	"log/slog"
	"sort"

	gosiplog "github.com/ghettovoice/gosip/log"
)

// Levels gosip's calls map to. gosip logs every message it sends and
// receives in full at Debug, and its state machines at Trace; both go below
// slog's Debug so that turning on our debug output does not drown it.
const (
	LevelGosipTrace = slog.LevelDebug - 8
	LevelGosipDebug = slog.LevelDebug - 4
)

// Logger adapts l to gosip's log.Logger. Trace and Debug map to
// LevelGosipTrace and LevelGosipDebug, Info to slog Debug (gosip's info is
// chatter), Print to Info, Warn and Error to themselves. Fatal and Panic log
// at Error and then panic: a library must not exit the process, and gosip
// only uses them for states it considers impossible.
func Logger(l *slog.Logger) gosiplog.Logger {
	return &gosipLogger{l: l, ceiling: slog.LevelError + 4}
}

// quietLogger is Logger with every level capped at LevelGosipDebug. The
// packet parser warns about each header it skips; the transport reports
// malformed input itself, at a limited rate, so the parser's lines would only
// let a flood of garbage through to the log.
func quietLogger(l *slog.Logger) gosiplog.Logger {
	return &gosipLogger{l: l, ceiling: LevelGosipDebug}
}

type gosipLogger struct {
	l       *slog.Logger
	ceiling slog.Level
	prefix  string
	fields  gosiplog.Fields
}

func (g *gosipLogger) emit(level slog.Level, msg func() string) {
	ctx := context.Background()
	level = min(level, g.ceiling)
	if !g.l.Enabled(ctx, level) {
		return // gosip formats whole SIP messages into its debug lines: skip the work
	}
	attrs := make([]slog.Attr, 0, len(g.fields)+1)
	if g.prefix != "" {
		attrs = append(attrs, slog.String("gosip", g.prefix))
	}
	keys := make([]string, 0, len(g.fields))
	for k := range g.fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		attrs = append(attrs, slog.Any(k, g.fields[k]))
	}
	g.l.LogAttrs(ctx, level, msg(), attrs...)
}

func sprint(args []any) func() string { return func() string { return fmt.Sprint(args...) } }
func sprintf(f string, args []any) func() string {
	return func() string { return fmt.Sprintf(f, args...) }
}

func (g *gosipLogger) Print(args ...any) { g.emit(slog.LevelInfo, sprint(args)) }
func (g *gosipLogger) Printf(format string, args ...any) {
	g.emit(slog.LevelInfo, sprintf(format, args))
}
func (g *gosipLogger) Trace(args ...any) { g.emit(LevelGosipTrace, sprint(args)) }
func (g *gosipLogger) Tracef(format string, args ...any) {
	g.emit(LevelGosipTrace, sprintf(format, args))
}
func (g *gosipLogger) Debug(args ...any) { g.emit(LevelGosipDebug, sprint(args)) }
func (g *gosipLogger) Debugf(format string, args ...any) {
	g.emit(LevelGosipDebug, sprintf(format, args))
}
func (g *gosipLogger) Info(args ...any) { g.emit(slog.LevelDebug, sprint(args)) }
func (g *gosipLogger) Infof(format string, args ...any) {
	g.emit(slog.LevelDebug, sprintf(format, args))
}
func (g *gosipLogger) Warn(args ...any) { g.emit(slog.LevelWarn, sprint(args)) }
func (g *gosipLogger) Warnf(format string, args ...any) {
	g.emit(slog.LevelWarn, sprintf(format, args))
}
func (g *gosipLogger) Error(args ...any) { g.emit(slog.LevelError, sprint(args)) }
func (g *gosipLogger) Errorf(format string, args ...any) {
	g.emit(slog.LevelError, sprintf(format, args))
}

func (g *gosipLogger) Fatal(args ...any) {
	g.emit(slog.LevelError, sprint(args))
	panic(fmt.Sprint(args...))
}

func (g *gosipLogger) Fatalf(format string, args ...any) {
	g.emit(slog.LevelError, sprintf(format, args))
	panic(fmt.Sprintf(format, args...))
}

func (g *gosipLogger) Panic(args ...any) {
	g.emit(slog.LevelError, sprint(args))
	panic(fmt.Sprint(args...))
}

func (g *gosipLogger) Panicf(format string, args ...any) {
	g.emit(slog.LevelError, sprintf(format, args))
	panic(fmt.Sprintf(format, args...))
}

func (g *gosipLogger) WithPrefix(prefix string) gosiplog.Logger {
	return &gosipLogger{l: g.l, ceiling: g.ceiling, prefix: prefix, fields: g.fields}
}

func (g *gosipLogger) Prefix() string { return g.prefix }

func (g *gosipLogger) WithFields(fields map[string]any) gosiplog.Logger {
	return &gosipLogger{l: g.l, ceiling: g.ceiling, prefix: g.prefix, fields: g.fields.WithFields(fields)}
}

func (g *gosipLogger) Fields() gosiplog.Fields {
	if g.fields == nil {
		return gosiplog.Fields{}
	}
	return g.fields
}

// SetLevel is ignored: the slog handler decides.
func (g *gosipLogger) SetLevel(uint32) {}
