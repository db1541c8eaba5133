package onvifsim

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/template"
	"time"
)

//go:embed testdata/snapshot.jpg
var snapshotJPEG []byte

// maxRequestBytes caps a SOAP request; real ones are a few kilobytes.
const maxRequestBytes = 1 << 20

// Server is a running simulated camera.
type Server struct {
	cfg         Config
	style       *vendorStyle
	info        DeviceInfo
	log         *slog.Logger
	tmpl        *template.Template
	advertise   string // host:port in XAddrs
	xaddrs      servicePaths
	profiles    []profileView
	endpointRef string
	opaque      string
	instanceID  int64

	ln   net.Listener
	srv  *http.Server
	udp  []*net.UDPConn
	done chan struct{}
	wg   sync.WaitGroup

	mu           sync.Mutex
	presets      []Preset
	nextPreset   int
	ptzCalls     []PTZCall
	requests     []Request
	misbehave    map[string]*misbehaviour
	tokenNonces  map[string]time.Time
	digestNonces map[string]time.Time
	msgNumber    int64
	closed       bool

	clockOffset atomic.Int64 // nanoseconds added to the host clock
}

// Request is a SOAP request the simulator received.
type Request struct {
	// Op is the operation, e.g. "GetProfiles".
	Op   string
	Path string
	// Auth is how it was authenticated: "token", "digest" or "" (none).
	Auth string
	// Refused reports that authentication failed.
	Refused bool
}

// NewServer starts a simulated camera.
func NewServer(cfg Config) (*Server, error) {
	s, err := newServer(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.start(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// newServer prepares a Server without any I/O; start opens its sockets.
func newServer(cfg Config) (*Server, error) {
	if cfg.Vendor == "" {
		cfg.Vendor = VendorHikvision
	}
	style, ok := vendorStyles[cfg.Vendor]
	if !ok {
		return nil, fmt.Errorf("onvifsim: unknown vendor %q", cfg.Vendor)
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.AuthFailStatus == 0 {
		cfg.AuthFailStatus = http.StatusUnauthorized
	}
	if len(cfg.Profiles) == 0 {
		cfg.Profiles = DefaultProfiles()
	}
	tmpl, err := loadTemplates(cfg.Vendor)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:          cfg,
		style:        style,
		info:         style.info,
		log:          log.With("component", "onvifsim", "vendor", string(cfg.Vendor)),
		tmpl:         tmpl,
		misbehave:    map[string]*misbehaviour{},
		tokenNonces:  map[string]time.Time{},
		digestNonces: map[string]time.Time{},
		done:         make(chan struct{}),
		instanceID:   time.Now().Unix(),
	}
	s.clockOffset.Store(int64(cfg.ClockOffset))
	if cfg.Info.Manufacturer != "" {
		s.info = cfg.Info
	}
	// A stable name-based UUID (RFC 9562 version 5 layout) from the serial
	// number: the endpoint reference survives restarts, as on a camera.
	sum := sha1.Sum([]byte(s.info.SerialNumber))
	sum[6] = sum[6]&0x0f | 0x50
	sum[8] = sum[8]&0x3f | 0x80
	h := hex.EncodeToString(sum[:16])
	s.endpointRef = "urn:uuid:" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	b := make([]byte, 8)
	rand.Read(b)
	s.opaque = hex.EncodeToString(b)
	n := cfg.Presets
	if n == 0 {
		n = 4
	}
	for i := 1; i <= n; i++ {
		s.presets = append(s.presets, Preset{Token: strconv.Itoa(i), Name: fmt.Sprintf("Preset %d", i), Pan: float64(i) / 10, Tilt: -float64(i) / 20})
	}
	s.nextPreset = n + 1
	if cfg.Advertise != "" {
		s.setAdvertise(cfg.Advertise)
	}
	return s, nil
}

// setAdvertise fixes the host:port of every URL the simulator hands out.
func (s *Server) setAdvertise(hostport string) {
	s.advertise = hostport
	base := "http://" + hostport
	p := s.style.paths
	s.xaddrs = servicePaths{
		Device: base + p.Device, Media: base + p.Media, Media2: base + p.Media2, PTZ: base + p.PTZ, Events: base + p.Events,
		Imaging: base + p.Imaging, Analytics: base + p.Analytics, DeviceIO: base + p.DeviceIO,
		Recording: base + p.Recording, Search: base + p.Search, Replay: base + p.Replay,
	}
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	s.profiles = s.profiles[:0]
	for i, p := range s.cfg.Profiles {
		tok, name, enc, encName := s.style.profile(i)
		pv := profileView{
			Token: orDefault(p.Token, tok), Name: orDefault(p.Name, name),
			EncoderToken: enc, EncoderName: encName, VideoSource: s.style.videoSource,
			Encoding: orDefault(p.Encoding, "H264"), Width: p.Width, Height: p.Height,
			FPS: p.FPS, BitrateKbps: p.BitrateKbps, GovLength: 2 * p.FPS, Media2Only: p.Media2Only,
		}
		switch {
		case p.StreamURI != "":
			pv.StreamURI = p.StreamURI
		case s.cfg.RTSPURL != "":
			pv.StreamURI = strings.ReplaceAll(s.cfg.RTSPURL, "{token}", pv.Token)
		default:
			pv.StreamURI = s.style.streamURI(host, i, pv.Token)
		}
		s.profiles = append(s.profiles, pv)
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (s *Server) start() error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("onvifsim: %w", err)
	}
	s.ln = ln
	if s.advertise == "" {
		s.setAdvertise(ln.Addr().String())
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	if err := s.startDiscovery(); err != nil {
		return err
	}
	s.wg.Go(func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", "error", err)
		}
	})
	s.log.Info("listening", "xaddr", s.xaddrs.Device)
	return nil
}

// Close stops the simulator and waits for its goroutines.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	s.mu.Unlock()
	if s.srv != nil {
		s.srv.Close()
	} else if s.ln != nil {
		s.ln.Close()
	}
	for _, c := range s.udp {
		c.Close()
	}
	s.wg.Wait()
}

// Addr returns the HTTP listener's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// XAddr returns the device service URL as advertised.
func (s *Server) XAddr() string { return s.xaddrs.Device }

// URL returns the device service URL on the listener's address (which
// differs from XAddr when Config.Advertise is set).
func (s *Server) URL() string { return "http://" + s.Addr() + s.style.paths.Device }

// SnapshotPath is the path of the snapshot the simulator serves.
const SnapshotPath = "/snapshot.jpg"

// Snapshot returns the JPEG the simulator serves.
func (s *Server) Snapshot() []byte { return append([]byte(nil), snapshotJPEG...) }

// Now returns the simulator's clock.
func (s *Server) Now() time.Time { return time.Now().Add(time.Duration(s.clockOffset.Load())) }

// SetClockOffset changes the simulator's clock, like an NTP sync or a user
// setting the time would.
func (s *Server) SetClockOffset(d time.Duration) { s.clockOffset.Store(int64(d)) }

// Requests returns the SOAP requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == SnapshotPath:
		s.serveSnapshot(w, r)
	case s.isServicePath(r.URL.Path):
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "405 Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		s.serveSOAP(w, r)
	default:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n")
	}
}

func (s *Server) isServicePath(p string) bool {
	sp := s.style.paths
	for _, x := range []string{sp.Device, sp.Media, sp.PTZ, sp.Events, sp.Imaging, sp.Analytics, sp.DeviceIO, sp.Recording, sp.Search, sp.Replay} {
		if p == x {
			return true
		}
	}
	// Firmware without Media2 serves nothing at its path.
	return s.cfg.Media2 && p == sp.Media2
}

func (s *Server) serveSnapshot(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "405 Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	if s.cfg.Username != "" {
		if err := s.checkDigest(r); err != nil {
			s.log.Debug("snapshot refused", "error", err)
			w.Header().Set("WWW-Authenticate", s.digestChallenge())
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, "<html><body><h1>401 Unauthorized</h1></body></html>")
			return
		}
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Content-Length", strconv.Itoa(len(snapshotJPEG)))
	w.Write(snapshotJPEG)
}

// writeSOAP sends a rendered reply.
func (s *Server) writeSOAP(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/soap+xml; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// writeFault sends a SOAP fault; the status follows the SOAP 1.2 HTTP
// binding (§7.5.1: Sender 400, Receiver 500) unless given.
func (s *Server) writeFault(w http.ResponseWriter, status int, f Fault) {
	if status == 0 {
		status = http.StatusInternalServerError
		if f.Code == "Sender" {
			status = http.StatusBadRequest
		}
	}
	v := s.baseView(s.Now())
	v.Fault = f.view()
	body, err := s.render("Fault", v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.writeSOAP(w, status, body)
}

// waitOrDone sleeps d unless the request or the server ends first.
func (s *Server) waitOrDone(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.done:
	}
	return false
}

// newUUID returns a random "urn:uuid:".
func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return "urn:uuid:" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
