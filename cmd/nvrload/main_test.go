package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestRunRefusesBadInvocations(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no command", nil, 2, "usage"},
		{"unknown command", []string{"bench"}, 2, "unknown command"},
		{"bad flag", []string{"relay", "-n", "x"}, 2, "invalid value"},
		{"remote nvr", []string{"relay", "-nvr", "http://192.0.2.1:8080", "-pid", "1"}, 1, "loopback"},
		{"remote camera", []string{"viewers", "-rtsp", "rtsp://example.com:554", "-pid", "1"}, 1, "loopback"},
		{"remote listen", []string{"camera", "-addr", "0.0.0.0:8554"}, 1, "loopback"},
		{"relay without pid", []string{"relay"}, 1, "-pid is required"},
		{"too many cameras", []string{"camera", "-n", "100000"}, 1, "-n must be"},
		{"help", []string{"firstframe", "-h"}, 0, "-interval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr)
			if code != tc.code || !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), tc.code, tc.stderr)
			}
		})
	}
}
