package main

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
)

// forwarder relays TCP connections from a fixed address to the simulator,
// which always listens on a free port of its own choosing: it lets
// "nvrload camera -addr 127.0.0.1:8554" keep the URLs that the other
// commands and the docs use. It runs in the camera process, so its cost is
// not counted against the nvr.
type forwarder struct {
	ln       net.Listener
	target   string
	maxConns int
	log      *slog.Logger

	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// newForwarder listens on addr and forwards to target. At most maxConns
// client connections are open at a time; more are refused.
func newForwarder(addr, target string, maxConns int, log *slog.Logger) (*forwarder, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	f := &forwarder{ln: ln, target: target, maxConns: maxConns, log: log, conns: make(map[net.Conn]struct{})}
	f.wg.Go(f.accept)
	return f, nil
}

// accept runs until the listener is closed.
func (f *forwarder) accept() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				f.log.Warn("forwarder accept failed", "error", err)
			}
			return
		}
		if !f.track(c) {
			f.log.Warn("forwarder connection refused: too many", "max", f.maxConns)
			c.Close()
			continue
		}
		f.wg.Go(func() { f.relay(c) })
	}
}

func (f *forwarder) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conns == nil || len(f.conns) >= 2*f.maxConns {
		return false
	}
	f.conns[c] = struct{}{}
	return true
}

func (f *forwarder) untrack(c net.Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.conns, c)
}

// relay copies both ways until either side closes. Both connections are
// tracked, so close can end it.
func (f *forwarder) relay(client net.Conn) {
	defer f.untrack(client)
	defer client.Close()
	server, err := net.Dial("tcp", f.target)
	if err != nil {
		f.log.Warn("forwarder cannot reach the simulator", "error", err)
		return
	}
	if !f.track(server) {
		server.Close()
		return
	}
	defer f.untrack(server)
	defer server.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(server, client)
		// The client is done sending: let the server see EOF.
		if tc, ok := server.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}()
	_, _ = io.Copy(client, server)
	client.Close()
	<-done
}

// close stops accepting, drops every connection and waits for the relays.
func (f *forwarder) close() {
	f.ln.Close()
	f.mu.Lock()
	for c := range f.conns {
		c.Close()
	}
	f.conns = nil
	f.mu.Unlock()
	f.wg.Wait()
}
