package testsrc

import (
	"context"
	"fmt"
	"net"
	"sync"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"
)

// instance is one listening lifetime of a Server: a gortsplib.Server, its
// streams and their pacing goroutines. Restart builds a new one, because a
// gortsplib.Server and its ServerStreams cannot be started again once closed.
type instance struct {
	s    *Server
	rtsp *gortsplib.Server

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // pacing goroutines

	// mu guards streams, which the gortsplib callbacks read.
	mu      sync.RWMutex
	streams map[string]*gortsplib.ServerStream
}

// newInstance starts serving on ln (which it takes over) and publishes all
// feeds of s. s.mu is held.
func newInstance(s *Server, ln net.Listener) (*instance, error) {
	inst := &instance{
		s:       s,
		streams: make(map[string]*gortsplib.ServerStream),
	}
	rs := &gortsplib.Server{
		Handler:     inst,
		RTSPAddress: s.addr,
		// Hand over the listener we bound ourselves, so the port is known
		// before Start and stays ours across Restart.
		Listen: func(string, string) (net.Listener, error) { return ln, nil },
	}

	var rtpConn, rtcpConn *net.UDPConn
	if s.cfg.UDP {
		var err error
		rtpConn, rtcpConn, err = listenUDPPair(s.rtpPort)
		if err != nil {
			ln.Close()
			return nil, err
		}
		s.rtpPort = rtpConn.LocalAddr().(*net.UDPAddr).Port
		rs.UDPRTPAddress = rtpConn.LocalAddr().String()
		rs.UDPRTCPAddress = rtcpConn.LocalAddr().String()
		rs.ListenPacket = func(_, address string) (net.PacketConn, error) {
			switch address {
			case rs.UDPRTPAddress:
				return rtpConn, nil
			case rs.UDPRTCPAddress:
				return rtcpConn, nil
			}
			return nil, fmt.Errorf("unexpected UDP listen address %s", address)
		}
	}

	inst.rtsp = rs
	inst.ctx, inst.cancel = context.WithCancel(context.Background())

	// Streams are created once the server runs (ServerStream needs a started
	// server); hold mu meanwhile so an early DESCRIBE waits instead of
	// getting 404.
	inst.mu.Lock()
	defer inst.mu.Unlock()

	if err := rs.Start(); err != nil {
		inst.cancel()
		// Start may fail before using the hooks; Close on a closed
		// listener is harmless.
		ln.Close()
		if rtpConn != nil {
			rtpConn.Close()
			rtcpConn.Close()
		}
		return nil, err
	}

	for _, f := range s.feeds {
		inst.addFeedLocked(f)
	}
	return inst, nil
}

// addFeed creates the feed's streams and starts its pacing goroutine.
func (inst *instance) addFeed(f *feed) {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	inst.addFeedLocked(f)
}

func (inst *instance) addFeedLocked(f *feed) {
	streams, err := f.newStreams(inst.rtsp)
	if err != nil {
		inst.s.log.Error("cannot publish stream", "error", err, "stream", f.paths[0])
		return
	}
	for i, p := range f.paths {
		inst.streams[p] = streams[i].stream
	}
	inst.wg.Add(1)
	go func() {
		defer inst.wg.Done()
		f.run(inst.ctx, streams, inst.s.log)
	}()
}

// close stops pacing, closes the streams (dropping their readers) and the
// RTSP server, and waits for all of their goroutines.
func (inst *instance) close() {
	inst.cancel()
	inst.wg.Wait()

	inst.mu.Lock()
	streams := inst.streams
	inst.streams = nil
	inst.mu.Unlock()

	for _, st := range streams {
		st.Close()
	}
	inst.rtsp.Close()
}

func (inst *instance) stream(path string) *gortsplib.ServerStream {
	inst.mu.RLock()
	defer inst.mu.RUnlock()
	return inst.streams[cleanPath(path)]
}

// authorize checks the reader's credentials when the server requires them.
// As in gortsplib's server-auth example, readers are checked at DESCRIBE and
// SETUP (a client may SETUP without DESCRIBE).
func (inst *instance) authorize(sc *gortsplib.ServerConn, req *base.Request) (*base.Response, error) {
	cfg := inst.s.cfg
	if cfg.Username == "" || sc.VerifyCredentials(req, cfg.Username, cfg.Password) {
		return nil, nil
	}
	// ErrServerAuth makes gortsplib send the WWW-Authenticate challenge when
	// no credentials were given, and drop the connection when they are wrong.
	return &base.Response{StatusCode: base.StatusUnauthorized}, liberrors.ErrServerAuth{}
}

func (inst *instance) find(path string) (*base.Response, *gortsplib.ServerStream) {
	st := inst.stream(path)
	if st == nil {
		return &base.Response{StatusCode: base.StatusNotFound}, nil
	}
	return &base.Response{StatusCode: base.StatusOK}, st
}

// OnConnOpen implements gortsplib.ServerHandlerOnConnOpen.
func (inst *instance) OnConnOpen(ctx *gortsplib.ServerHandlerOnConnOpenCtx) {
	inst.s.conns.Add(1)
	inst.s.log.Debug("conn opened", "remote", ctx.Conn.NetConn().RemoteAddr().String())
}

// OnConnClose implements gortsplib.ServerHandlerOnConnClose.
func (inst *instance) OnConnClose(ctx *gortsplib.ServerHandlerOnConnCloseCtx) {
	inst.s.conns.Add(-1)
	inst.s.log.Debug("conn closed", "error", ctx.Error)
}

// OnSessionClose implements gortsplib.ServerHandlerOnSessionClose.
func (inst *instance) OnSessionClose(ctx *gortsplib.ServerHandlerOnSessionCloseCtx) {
	inst.s.setPlaying(ctx.Session, false)
	inst.s.log.Debug("session closed", "error", ctx.Error)
}

// OnDescribe implements gortsplib.ServerHandlerOnDescribe.
func (inst *instance) OnDescribe(ctx *gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	if res, err := inst.authorize(ctx.Conn, ctx.Request); err != nil {
		return res, nil, err
	}
	res, st := inst.find(ctx.Path)
	return res, st, nil
}

// OnSetup implements gortsplib.ServerHandlerOnSetup.
func (inst *instance) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	if res, err := inst.authorize(ctx.Conn, ctx.Request); err != nil {
		return res, nil, err
	}
	res, st := inst.find(ctx.Path)
	return res, st, nil
}

// OnPlay implements gortsplib.ServerHandlerOnPlay.
func (inst *instance) OnPlay(ctx *gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	inst.s.setPlaying(ctx.Session, true)
	inst.s.log.Debug("session playing", "stream", cleanPath(ctx.Path))
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// maxUDPPairAttempts bounds the search for a free even/odd port pair; a busy
// machine rarely needs more than a few.
const maxUDPPairAttempts = 50

// listenUDPPair binds an RTP/RTCP pair on 127.0.0.1: an even port and the
// next one (RFC 3550 section 11), preferring preferRTP when it is free.
// Binding here, not in gortsplib, leaves no window for another process to
// take the ports.
func listenUDPPair(preferRTP int) (*net.UDPConn, *net.UDPConn, error) {
	try := func(rtpPort int) (*net.UDPConn, *net.UDPConn, bool) {
		rtp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(listenHost), Port: rtpPort})
		if err != nil {
			return nil, nil, false
		}
		port := rtp.LocalAddr().(*net.UDPAddr).Port
		if port%2 != 0 {
			rtp.Close()
			return nil, nil, false
		}
		rtcp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(listenHost), Port: port + 1})
		if err != nil {
			rtp.Close()
			return nil, nil, false
		}
		return rtp, rtcp, true
	}

	if preferRTP != 0 {
		if rtp, rtcp, ok := try(preferRTP); ok {
			return rtp, rtcp, nil
		}
	}
	for range maxUDPPairAttempts {
		if rtp, rtcp, ok := try(0); ok {
			return rtp, rtcp, nil
		}
	}
	return nil, nil, fmt.Errorf("no free UDP port pair on %s after %d attempts", listenHost, maxUDPPairAttempts)
}
