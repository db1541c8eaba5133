package main

import (
	"errors"
	"testing"
)

func TestParseStatTicks(t *testing.T) {
	// The tail of a real line, fields 3 to 52 (Linux 6.1).
	const tail = " S 1 4242 4242 0 -1 4194560 12702 0 0 0 1234 567 0 0 20 0 14 0 123456 1663561728 9830 18446744073709551615 1 1 0 0 0 0 1002055680 0 2143420159 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0"
	for _, tc := range []struct {
		name string
		line string
		want uint64
		err  error
	}{
		{"plain comm", "4242 (nvr)" + tail, 1234 + 567, nil},
		{"comm with spaces and parens", "4242 (a) b (c))" + tail, 1234 + 567, nil},
		{"comm looking like fields", "4242 (S 1 2 3 4 5 6 7 8 9 10 11 12 13 14)" + tail, 1234 + 567, nil},
		{"newline at end", "4242 (nvr)" + tail + "\n", 1234 + 567, nil},
		{"no comm", "4242 nvr" + tail, 0, errStatFormat},
		{"truncated", "4242 (nvr) S 1 4242 4242 0 -1 4194560 12702 0 0 0 1234", 0, errStatFormat},
		{"utime not a number", "4242 (nvr) S 1 4242 4242 0 -1 4194560 12702 0 0 0 x 567 0", 0, errStatFormat},
		{"empty", "", 0, errStatFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatTicks([]byte(tc.line))
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("error = %v, want %v", err, tc.err)
			}
			if got != tc.want {
				t.Errorf("ticks = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestParseVmRSS(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  string
		want    int64
		wantErr bool
	}{
		{"real", "Name:\tnvr\nVmPeak:\t 1000000 kB\nVmRSS:\t   39320 kB\nRssAnon:\t   20000 kB\n", 39320 << 10, false},
		{"last line without newline", "Name:\tnvr\nVmRSS:\t1 kB", 1 << 10, false},
		{"no VmRSS (kernel thread)", "Name:\tkthreadd\nState:\tS (sleeping)\n", 0, true},
		{"other unit", "VmRSS:\t1 MB\n", 0, true},
		{"not a number", "VmRSS:\tmany kB\n", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseVmRSS([]byte(tc.status))
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, want error %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("rss = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestParseMachineTicks(t *testing.T) {
	for _, tc := range []struct {
		name    string
		stat    string
		want    machineTicks
		wantErr bool
	}{
		{"real", "cpu  248786 58 35585 233992 1814 0 1580 9818 0 0\ncpu0 124393 29 17792 116996 907 0 790 4909 0 0\n",
			machineTicks{busy: 248786 + 58 + 35585 + 1580 + 9818, total: 248786 + 58 + 35585 + 233992 + 1814 + 1580 + 9818}, false},
		{"old kernel without guest fields", "cpu 1 2 3 4 5 6 7 8\n", machineTicks{busy: 1 + 2 + 3 + 6 + 7 + 8, total: 36}, false},
		{"per-cpu line first", "cpu0 1 2 3 4 5 6 7 8\n", machineTicks{}, true},
		{"short", "cpu 1 2 3\n", machineTicks{}, true},
		{"not a number", "cpu 1 2 3 x 5 6 7 8\n", machineTicks{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseMachineTicks([]byte(tc.stat))
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, want error %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
