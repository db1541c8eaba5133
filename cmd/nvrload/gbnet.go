package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// errSNMPFormat is returned by parseUDPCounters for a /proc/net/snmp
// without its two "Udp:" lines (names, then values).
var errSNMPFormat = errors.New("malformed /proc/net/snmp")

// udpCounters are the machine's UDP counters of /proc/net/snmp. They cover
// every socket of the network namespace, not only the nvr's.
type udpCounters struct {
	// InErrors counts datagrams not delivered for any reason besides a
	// closed port; RcvbufErrors, those dropped because the socket's receive
	// buffer was full (the receiver fell behind), is part of it.
	InErrors, RcvbufErrors uint64
}

// parseUDPCounters reads the "Udp:" header and value lines of
// /proc/net/snmp (the first is the column names, the second the values).
func parseUDPCounters(snmp []byte) (udpCounters, error) {
	var names, values []string
	sc := bufio.NewScanner(bytes.NewReader(snmp))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = f[1:]
			continue
		}
		values = f[1:]
		break
	}
	if names == nil || len(values) != len(names) {
		return udpCounters{}, errSNMPFormat
	}
	var c udpCounters
	found := 0
	for i, n := range names {
		var dst *uint64
		switch n {
		case "InErrors":
			dst = &c.InErrors
		case "RcvbufErrors":
			dst = &c.RcvbufErrors
		default:
			continue
		}
		v, err := strconv.ParseUint(values[i], 10, 64)
		if err != nil {
			return udpCounters{}, fmt.Errorf("%w: %s: %w", errSNMPFormat, n, err)
		}
		*dst = v
		found++
	}
	if found != 2 {
		return udpCounters{}, fmt.Errorf("%w: no InErrors or RcvbufErrors", errSNMPFormat)
	}
	return c, nil
}

// readUDPCounters reads /proc/net/snmp.
func readUDPCounters() (udpCounters, error) {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return udpCounters{}, err
	}
	return parseUDPCounters(b)
}

// socketDrops maps a UDP socket's inode to its "drops" column of
// /proc/net/udp: datagrams the kernel dropped for that socket alone (a full
// receive buffer, mostly).
type socketDrops map[uint64]uint64

// parseSocketDrops reads /proc/net/udp or /proc/net/udp6 (proc(5)): after
// the header, each line is "sl local rem st tx:rx tr:when retrnsmt uid
// timeout inode ref pointer drops". Only inodes in keep are returned.
func parseSocketDrops(table []byte, keep map[uint64]bool, into socketDrops) error {
	sc := bufio.NewScanner(bytes.NewReader(table))
	first := true
	for sc.Scan() {
		if first { // the header
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 13 {
			continue
		}
		inode, err := strconv.ParseUint(f[9], 10, 64)
		if err != nil {
			return fmt.Errorf("udp table: inode %q: %w", f[9], err)
		}
		if !keep[inode] {
			continue
		}
		drops, err := strconv.ParseUint(f[12], 10, 64)
		if err != nil {
			return fmt.Errorf("udp table: drops %q: %w", f[12], err)
		}
		into[inode] = drops
	}
	return sc.Err()
}

// socketInodes returns the inodes of the sockets a process holds open,
// from the "socket:[N]" links in /proc/<pid>/fd.
func socketInodes(pid int) (map[uint64]bool, error) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := make(map[uint64]bool)
	for _, e := range ents {
		l, err := os.Readlink(dir + "/" + e.Name())
		if err != nil {
			continue // closed meanwhile
		}
		s, ok := strings.CutPrefix(l, "socket:[")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(strings.TrimSuffix(s, "]"), 10, 64); err == nil {
			out[n] = true
		}
	}
	return out, nil
}

// readSocketDrops returns the drops of every UDP socket (v4 and v6) that pid
// holds open.
func readSocketDrops(pid int) (socketDrops, error) {
	inodes, err := socketInodes(pid)
	if err != nil {
		return nil, err
	}
	out := make(socketDrops)
	for _, f := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, err
		}
		if err := parseSocketDrops(b, inodes, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// dropsDelta returns the drops between two readings: for a socket open at
// both, the difference; for one opened meanwhile, all of its drops. A
// socket closed meanwhile takes its drops with it and is not counted.
func dropsDelta(before, after socketDrops) (total uint64, sockets int) {
	for inode, n := range after {
		d := n - min(before[inode], n)
		if d > 0 {
			total += d
			sockets++
		}
	}
	return total, sockets
}
