package transport

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
)

// On Linux the TCP connections of devices are watched by one epoll loop
// instead of a goroutine each. A device connection is idle nearly all the
// time (a keepalive a minute); a goroutine parked on each costs its stack,
// 4–8 KiB once it has handled a message, which was 25 MiB of the
// platform's 131 MiB with 5,000 devices on TCP (docs/perf-gb28181.md).
//
// The loop only learns that a connection has input; the reading is done by
// a goroutine started for it, through the connection's normal (Go
// netpoller) Read, with the code every platform uses (readBuffered). Each
// connection is registered level-triggered and one-shot: after an event
// it is not reported again until the goroutine has read what was there and
// re-arms it, so one connection is never read by two goroutines, and input
// that arrived meanwhile is reported at once by the re-arm.

// epollMaxEvents is how many events one epoll_wait returns at most.
const epollMaxEvents = 128

// epollWatch is the event set of a connection: input, or the peer's end.
const epollWatch = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT

// poller is the epoll loop of a Layer.
type poller struct {
	epfd int
	wake [2]int // a pipe; a byte on it stops the loop

	mu     sync.Mutex
	conns  map[uint64]*tcpConn
	nextID uint64 // 0 is the wake pipe
	closed bool
}

// watch starts reading tc: the first call starts the loop.
func (l *Layer) watch(tc *tcpConn) error {
	p, err := l.startPoller()
	if err != nil {
		return err
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	p.nextID++
	tc.id = p.nextID
	p.conns[tc.id] = tc
	p.mu.Unlock()
	if err := p.ctl(tc, syscall.EPOLL_CTL_ADD); err != nil {
		p.forget(tc)
		return err
	}
	return nil
}

// unwatch stops watching tc, before it is closed.
func (l *Layer) unwatch(tc *tcpConn) {
	l.mu.Lock()
	p := l.poll
	l.mu.Unlock()
	if p == nil || tc.id == 0 {
		return
	}
	p.forget(tc)
	// The kernel drops a closed descriptor from the set by itself; deleting
	// it first keeps a descriptor number reused meanwhile out of doubt.
	_ = p.ctl(tc, syscall.EPOLL_CTL_DEL)
}

// startPoller returns the layer's poller, starting it on first use.
func (l *Layer) startPoller() (*poller, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.poll != nil {
		return l.poll, nil
	}
	if l.isCanceled() {
		return nil, ErrClosed
	}
	p, err := newPoller()
	if err != nil {
		return nil, err
	}
	l.poll = p
	l.wg.Add(1)
	go l.pollLoop(p)
	return p, nil
}

func newPoller() (*poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("sip tcp epoll: %w", err)
	}
	p := &poller{epfd: epfd, conns: map[uint64]*tcpConn{}}
	if err := syscall.Pipe2(p.wake[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		_ = syscall.Close(epfd)
		return nil, fmt.Errorf("sip tcp epoll: %w", err)
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN} // id 0
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, p.wake[0], &ev); err != nil {
		p.release()
		return nil, fmt.Errorf("sip tcp epoll: %w", err)
	}
	return p, nil
}

// ctl adds, re-arms (EPOLL_CTL_MOD) or deletes tc's descriptor.
func (p *poller) ctl(tc *tcpConn, op int) error {
	rc, err := tc.c.SyscallConn()
	if err != nil {
		return err
	}
	ev := syscall.EpollEvent{Events: epollWatch, Fd: int32(uint32(tc.id)), Pad: int32(uint32(tc.id >> 32))}
	var cerr error
	err = rc.Control(func(fd uintptr) {
		cerr = syscall.EpollCtl(p.epfd, op, int(fd), &ev)
	})
	if err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sip tcp epoll_ctl: %w", err)
	}
	return nil
}

// forget drops tc from the table; an event already returned for it finds
// nothing.
func (p *poller) forget(tc *tcpConn) {
	p.mu.Lock()
	delete(p.conns, tc.id)
	p.mu.Unlock()
}

// stop makes the loop return.
func (p *poller) stop() {
	_, _ = syscall.Write(p.wake[1], []byte{0})
}

func (p *poller) release() {
	_ = syscall.Close(p.wake[0])
	_ = syscall.Close(p.wake[1])
	_ = syscall.Close(p.epfd)
}

// pollLoop waits for input on the watched connections and starts a reader
// for each that has some. It blocks a thread in epoll_wait, which the Go
// scheduler treats like any blocking system call.
func (l *Layer) pollLoop(p *poller) {
	defer l.wg.Done()
	defer func() {
		p.mu.Lock()
		p.closed = true
		p.conns = nil
		p.mu.Unlock()
		p.release()
	}()
	events := make([]syscall.EpollEvent, epollMaxEvents)
	for {
		n, err := syscall.EpollWait(p.epfd, events, -1)
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			l.log.Error("sip tcp epoll_wait failed; tcp connections are no longer read", "err", err)
			return
		}
		for _, ev := range events[:n] {
			id := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			if id == 0 {
				return // stop
			}
			p.mu.Lock()
			tc := p.conns[id]
			p.mu.Unlock()
			if tc == nil {
				continue // closed meanwhile
			}
			l.wg.Add(1)
			go l.readReady(p, tc)
		}
	}
}

// readReady reads what tc has, then re-arms it.
func (l *Layer) readReady(p *poller, tc *tcpConn) {
	defer l.wg.Done()
	if !l.readBuffered(tc, l.getReader(tc.c)) {
		return
	}
	if err := p.ctl(tc, syscall.EPOLL_CTL_MOD); err != nil {
		if !l.isCanceled() {
			l.problems.report("closing sip tcp connection", "remote", tc.key, "err", err)
		}
		tc.close()
	}
}
