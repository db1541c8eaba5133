package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// defaultClockTicks is USER_HZ on every Linux architecture Go supports; it
// is used when getconf is missing.
const defaultClockTicks = 100

// Errors of the /proc parsers.
var (
	// errStatFormat is returned by parseStatTicks and parseMachineTicks for
	// a line that is not what /proc/<pid>/stat or /proc/stat hold.
	errStatFormat = errors.New("malformed /proc/<pid>/stat")
	// errNoVmRSS is returned by parseVmRSS when the status has no VmRSS line
	// (a kernel thread, or a zombie).
	errNoVmRSS = errors.New("no VmRSS in /proc/<pid>/status")
)

// parseStatTicks returns utime+stime, in clock ticks, of a /proc/<pid>/stat
// line (proc(5)). The second field, comm, is in parentheses and may itself
// hold spaces and parentheses, so the fields are counted from the last ')'.
func parseStatTicks(stat []byte) (uint64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errStatFormat
	}
	// After comm: field 3 (state) is at index 0, so utime (field 14) is at
	// index 11 and stime (field 15) at index 12.
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("%w: %d fields after comm", errStatFormat, len(f))
	}
	utime, err := strconv.ParseUint(f[11], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: utime: %w", errStatFormat, err)
	}
	stime, err := strconv.ParseUint(f[12], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: stime: %w", errStatFormat, err)
	}
	return utime + stime, nil
}

// parseVmRSS returns the resident set size in bytes from the "VmRSS:"
// line of /proc/<pid>/status, which the kernel writes in kB (KiB).
func parseVmRSS(status []byte) (int64, error) {
	for line := range strings.Lines(string(status)) {
		rest, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("VmRSS line %q: unexpected format", strings.TrimSpace(line))
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("VmRSS line %q: %w", strings.TrimSpace(line), err)
		}
		return kb << 10, nil
	}
	return 0, errNoVmRSS
}

// machineTicks is the aggregate "cpu" line of /proc/stat: ticks spent by
// all cores, busy and in total.
type machineTicks struct {
	busy, total uint64
}

// parseMachineTicks reads the first line of /proc/stat (proc(5)):
// "cpu user nice system idle iowait irq softirq steal guest guest_nice".
// Idle and iowait count as not busy; guest time is already inside user.
func parseMachineTicks(stat []byte) (machineTicks, error) {
	line, _, _ := bytes.Cut(stat, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return machineTicks{}, fmt.Errorf("%w: first line %q", errStatFormat, line)
	}
	var m machineTicks
	for i, s := range f[1:9] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return machineTicks{}, fmt.Errorf("%w: %w", errStatFormat, err)
		}
		m.total += v
		if i != 3 && i != 4 { // idle, iowait
			m.busy += v
		}
	}
	return m, nil
}

// readMachineTicks reads /proc/stat.
func readMachineTicks() (machineTicks, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineTicks{}, err
	}
	return parseMachineTicks(b)
}

// clockTicks returns the kernel's clock ticks per second (USER_HZ), the
// unit of utime and stime, from getconf CLK_TCK.
func clockTicks(ctx context.Context) int {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "getconf", "CLK_TCK").Output()
	if err != nil {
		return defaultClockTicks
	}
	hz, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || hz <= 0 {
		return defaultClockTicks
	}
	return hz
}

// proc reads the CPU time and memory of one process.
type proc struct {
	pid int
	hz  int // clock ticks per second
}

// cpuSeconds returns the CPU time (user+system) the process has used.
func (p proc) cpuSeconds() (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
	if err != nil {
		return 0, err
	}
	ticks, err := parseStatTicks(b)
	if err != nil {
		return 0, err
	}
	return float64(ticks) / float64(p.hz), nil
}

// rss returns the resident set size in bytes.
func (p proc) rss() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid))
	if err != nil {
		return 0, err
	}
	return parseVmRSS(b)
}
