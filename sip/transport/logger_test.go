package transport

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: LevelGosipTrace}))
	g := Logger(l).WithPrefix("transaction.Layer").WithFields(map[string]any{"b": 2, "a": 1})
	g.Tracef("trace %d", 1)
	g.Debug("debug")
	g.Info("info")
	g.Warnf("warn %s", "x")
	g.Error("err")
	g.Print("print")
	out := buf.String()
	for _, want := range []string{
		`level=DEBUG-8 msg="trace 1" gosip=transaction.Layer a=1 b=2`,
		`level=DEBUG-4 msg=debug`,
		`level=DEBUG msg=info`,
		`level=WARN msg="warn x"`,
		`level=ERROR msg=err`,
		`level=INFO msg=print`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if g.Prefix() != "transaction.Layer" || g.Fields()["a"] != 1 {
		t.Errorf("prefix/fields = %q %v", g.Prefix(), g.Fields())
	}

	func() {
		defer func() {
			if recover() == nil {
				t.Error("Panicf did not panic")
			}
		}()
		g.Panicf("boom %d", 1)
	}()

	// Disabled levels do not format: gosip passes whole messages.
	buf.Reset()
	quiet := Logger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	quiet.Debugf("%v", formatPanics{})
	if buf.Len() != 0 {
		t.Errorf("debug line logged at info level: %s", buf.String())
	}
	// The parser's logger is capped below Debug.
	quietLogger(l).Warn("skip header")
	if !strings.Contains(buf.String(), "level=DEBUG-4 msg=\"skip header\"") {
		t.Errorf("capped warn: %s", buf.String())
	}
}

type formatPanics struct{}

func (formatPanics) String() string { panic("formatted") }
