package config

import (
	"fmt"
	"strconv"
	"strings"
)

// minRTPPort is the lowest port rtp.ports and rtp.single_port may use: the ports below 1024 are
// privileged on Unix and belong to well-known services.
const minRTPPort = 1024

// PortRange returns the bounds of Ports, both included, or 0, 0 when Ports is not a valid range
// (Validate reports that).
func (r RTPConfig) PortRange() (lo, hi int) {
	lo, hi, err := parsePortRange(r.Ports)
	if err != nil {
		return 0, 0
	}
	return lo, hi
}

// parsePortRange reads "lo-hi" with minRTPPort <= lo <= hi <= 65535.
func parsePortRange(s string) (lo, hi int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not a port range such as 30000-30999", s)
	}
	lo, errLo := strconv.Atoi(strings.TrimSpace(a))
	hi, errHi := strconv.Atoi(strings.TrimSpace(b))
	switch {
	case errLo != nil || errHi != nil:
		return 0, 0, fmt.Errorf("%q is not a port range such as 30000-30999", s)
	case lo < minRTPPort || hi > 65535 || lo > hi:
		return 0, 0, fmt.Errorf("%q is not a range of ports within %d-65535 with the lower port first", s, minRTPPort)
	}
	return lo, hi, nil
}
