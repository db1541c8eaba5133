package problem

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestLogRateLimited(t *testing.T) {
	var buf bytes.Buffer
	p := &Log{Logger: slog.New(slog.NewTextHandler(&buf, nil))}
	for range 100 {
		p.Add("decode", errors.New("bad"))
	}
	p.AddLost(5)
	if got := strings.Count(buf.String(), "media problems"); got != 1 {
		t.Fatalf("%d lines logged:\n%s", got, buf.String())
	}
	if p.Count() != 101 {
		t.Fatalf("count %d", p.Count())
	}
	var z Log // no logger
	z.Add("x", nil)
}
