package onvif

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"

	"golang.org/x/net/ipv4"
)

// DefaultDiscoverTimeout is how long Discover collects answers when
// DiscoverOptions.Timeout is zero. Devices wait a random delay of up to
// APP_MAX_DELAY (500 ms, WS-Discovery §3.1.3) before answering; a second
// and a half more covers slow devices and the repeated probe.
const DefaultDiscoverTimeout = 3 * time.Second

// DiscoveryPort is the WS-Discovery port (SOAP-over-UDP §3.2).
const DiscoveryPort = 3702

// discoveryGroup is the IPv4 WS-Discovery multicast group.
var discoveryGroup = net.IPv4(239, 255, 255, 250)

// maxDatagram is the largest SOAP-over-UDP message (a UDP datagram).
const maxDatagram = 65535

// DiscoverOptions selects where Discover sends probes.
type DiscoverOptions struct {
	// Interfaces are the names of the interfaces to send a multicast probe
	// on ("eth0"). Empty Interfaces and Addresses means every interface
	// MulticastInterfaces returns.
	Interfaces []string
	// Addresses get a unicast probe: "host" or "host:port" (port 3702 by
	// default); for devices in other subnets, where multicast does not reach.
	Addresses []string
	// Timeout is how long answers are collected; DefaultDiscoverTimeout
	// when zero. The context's deadline ends collecting earlier.
	Timeout time.Duration
	// Logger receives what was dropped and why; nil discards.
	Logger *slog.Logger
}

// Discover sends WS-Discovery probes for NetworkVideoTransmitters and
// collects the answers until the timeout. Devices are deduplicated by
// endpoint reference (a device on two interfaces, or answering both probes,
// is listed once with the union of its XAddrs), in order of first answer.
//
// The probe is sent twice, 250 ms apart, as SOAP-over-UDP §3.4 recommends
// for a lossy network. An error is returned when no probe could be sent at
// all, or when ctx is cancelled (with what was collected so far).
func Discover(ctx context.Context, opts DiscoverOptions) ([]Discovered, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "ws-discovery")
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultDiscoverTimeout
	}
	ifnames := opts.Interfaces
	if len(ifnames) == 0 && len(opts.Addresses) == 0 {
		var err error
		if ifnames, err = MulticastInterfaces(); err != nil {
			return nil, err
		}
		if len(ifnames) == 0 {
			return nil, errors.New("ws-discovery: no multicast interface is up")
		}
	}

	var targets []target
	var errs []error
	for _, name := range ifnames {
		ifi, err := multicastInterface(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		targets = append(targets, target{ifi: ifi, addr: &net.UDPAddr{IP: discoveryGroup, Port: DiscoveryPort}})
	}
	for _, a := range opts.Addresses {
		ua, err := resolveDiscoveryAddr(ctx, a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		targets = append(targets, target{addr: ua})
	}
	if len(targets) == 0 {
		return nil, errors.Join(errs...)
	}
	for _, err := range errs {
		log.Warn("probe target skipped", "error", err)
	}

	conn, err := net.ListenUDP("udp4", &net.UDPAddr{})
	if err != nil {
		return nil, fmt.Errorf("ws-discovery: %w", err)
	}
	defer conn.Close()
	pc := ipv4.NewPacketConn(conn)
	// TTL 1: the probe stays in the local subnet (ONVIF Core §7.3.1 uses
	// the link-local scope); loopback so a simulator on this host answers.
	_ = pc.SetMulticastTTL(1)
	_ = pc.SetMulticastLoopback(true)

	msgID, err := newMessageID()
	if err != nil {
		return nil, err
	}
	probe := buildProbe(msgID)
	send := func() error {
		var sent int
		var errs []error
		for _, t := range targets {
			if t.ifi != nil {
				if err := pc.SetMulticastInterface(t.ifi); err != nil {
					errs = append(errs, fmt.Errorf("ws-discovery: %s: %w", t.ifi.Name, err))
					continue
				}
			}
			if _, err := conn.WriteToUDP(probe, t.addr); err != nil {
				errs = append(errs, fmt.Errorf("ws-discovery: send to %s: %w", t, err))
				continue
			}
			sent++
		}
		if sent == 0 {
			return errors.Join(errs...)
		}
		for _, err := range errs {
			log.Warn("probe not sent", "error", err)
		}
		return nil
	}
	if err := send(); err != nil {
		return nil, err
	}

	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	// Wake the read when ctx is cancelled.
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Now()) })
	defer stop()

	const repeatDelay = 250 * time.Millisecond
	repeatAt := time.Now().Add(repeatDelay)
	repeated := repeatAt.After(deadline)
	var found []Discovered
	index := map[string]int{}
	buf := make([]byte, maxDatagram)
	for {
		wake := deadline
		if !repeated && repeatAt.Before(wake) {
			wake = repeatAt
		}
		// Set the deadline before looking at ctx: a cancellation after the
		// check moves the deadline back to now.
		conn.SetReadDeadline(wake)
		if ctx.Err() != nil {
			break
		}
		n, from, err := conn.ReadFromUDP(buf)
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				return found, fmt.Errorf("ws-discovery: %w", err)
			}
			if ctx.Err() != nil || !time.Now().Before(deadline) {
				break
			}
			if !repeated && !time.Now().Before(repeatAt) {
				repeated = true
				if err := send(); err != nil {
					log.Warn("repeated probe not sent", "error", err)
				}
			}
			continue
		}
		matches, err := parseProbeMatches(buf[:n])
		if err != nil {
			log.Debug("datagram dropped", "from", from, "error", err)
			continue
		}
		for _, m := range matches {
			m.From = from.String()
			found = merge(found, index, m)
		}
	}
	if err := ctx.Err(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return found, err
	}
	return found, nil
}

// target is where one probe goes.
type target struct {
	ifi  *net.Interface // set for a multicast probe
	addr *net.UDPAddr
}

func (t target) String() string {
	if t.ifi != nil {
		return t.addr.String() + "%" + t.ifi.Name
	}
	return t.addr.String()
}

// merge adds m to found unless a device with the same key is there, in
// which case its XAddrs are added to that device's.
func merge(found []Discovered, index map[string]int, m Discovered) []Discovered {
	key := m.EndpointRef
	if key == "" && len(m.XAddrs) > 0 {
		key = "xaddr:" + m.XAddrs[0]
	}
	i, ok := index[key]
	if !ok {
		index[key] = len(found)
		return append(found, m)
	}
	d := &found[i]
next:
	for _, x := range m.XAddrs {
		for _, y := range d.XAddrs {
			if x == y {
				continue next
			}
		}
		d.XAddrs = append(d.XAddrs, x)
	}
	return found
}

// multicastInterface returns the named interface if it can send multicast.
func multicastInterface(name string) (*net.Interface, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return nil, fmt.Errorf("ws-discovery: interface %q: %w", name, err)
	}
	if ifi.Flags&net.FlagUp == 0 {
		return nil, fmt.Errorf("ws-discovery: interface %q is down", name)
	}
	if ifi.Flags&net.FlagMulticast == 0 {
		return nil, fmt.Errorf("ws-discovery: interface %q cannot multicast", name)
	}
	return ifi, nil
}

// MulticastInterfaces returns the names of the interfaces that are up, can
// multicast, are not loopback and have an IPv4 address: where a camera
// could be found by a multicast probe.
func MulticastInterfaces() ([]string, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ifi := range ifs {
		if ifi.Flags&net.FlagUp == 0 || ifi.Flags&net.FlagMulticast == 0 || ifi.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifi.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
				out = append(out, ifi.Name)
				break
			}
		}
	}
	return out, nil
}

// resolveDiscoveryAddr resolves a unicast probe address to IPv4.
func resolveDiscoveryAddr(ctx context.Context, a string) (*net.UDPAddr, error) {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		host, port = a, strconv.Itoa(DiscoveryPort)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p <= 0 || p > 65535 {
		return nil, fmt.Errorf("ws-discovery: address %q: bad port", a)
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip4", host)
	if err != nil || len(ips) == 0 {
		return nil, fmt.Errorf("ws-discovery: address %q: no IPv4 address: %v", a, err)
	}
	return &net.UDPAddr{IP: ips[0].AsSlice(), Port: p}, nil
}
