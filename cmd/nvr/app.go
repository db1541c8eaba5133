package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nvr/nvr/cmd/nvr/internal/gbmedia"
	"github.com/nvr/nvr/config"
	"github.com/nvr/nvr/device"
	devgb "github.com/nvr/nvr/device/gb"
	"github.com/nvr/nvr/media/egress/hls"
	"github.com/nvr/nvr/media/hub"
	"github.com/nvr/nvr/media/ingest/ps"
	"github.com/nvr/nvr/media/ingest/rtsp"
	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/sip"
	sipgb "github.com/nvr/nvr/sip/gb"
	"github.com/nvr/nvr/storage"
	"github.com/nvr/nvr/web"
)

// shutdownTimeout bounds the graceful part of a shutdown; the whole exit
// must take less than 5 s.
const shutdownTimeout = 3 * time.Second

// app is the wired platform.
type app struct {
	cfg  config.Config
	log  *slog.Logger
	db   *storage.DB
	hub  *hub.Hub
	hls  *hls.Manager
	http *http.Server
	ln   net.Listener

	// GB28181 signalling: the SIP server, the protocol client over it, and
	// the device service between them and the database.
	sip      *sip.Server
	gbClient *sipgb.Client
	gb       *devgb.Service
	// GB28181 media: the PS/RTP receiver and the sessions over it.
	rtp *ps.Receiver
	gbm *gbmedia.Media

	// onvif serves ONVIF cameras (cmd/nvr/onvif.go).
	onvif *device.ONVIFService
	// rec records channels and keeps their recordings (cmd/nvr/recording.go).
	rec *recordings
}

func newApp(ctx context.Context, cfg config.Config, log *slog.Logger) (_ *app, err error) {
	// a is not the named result: "return nil, err" must not hide the
	// half-built app from the cleanup below.
	a := &app{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			a.shutdown()
		}
	}()
	log.Info("starting nvr", "version", version, "data_dir", cfg.DataDir)

	a.db, err = storage.Open(ctx, storage.Options{Driver: cfg.Database.Driver, DSN: cfg.Database.DSN, DataDir: cfg.DataDir, Logger: log})
	if err != nil {
		return nil, err
	}
	if err := web.EnsureAdmin(ctx, a.db, cfg.Admin.Password, cfg.DataDir, log); err != nil {
		return nil, fmt.Errorf("creating the admin user: %w", err)
	}
	auth := &web.Auth{Users: a.db, TTL: cfg.Auth.TokenTTL.Std()}
	if err := auth.Initialize(ctx); err != nil {
		return nil, err
	}

	a.hub = &hub.Hub{
		IdleTimeout:  cfg.Media.IdleTimeout.Std(),
		StartTimeout: cfg.Media.StartTimeout.Std(),
		RingSize:     cfg.Media.RingSize,
		Logger:       log,
	}
	a.hub.Initialize()
	a.hls = &hls.Manager{
		SegmentDuration: cfg.HLS.SegmentDuration.Std(),
		SegmentCount:    cfg.HLS.SegmentCount,
		IdleTimeout:     cfg.HLS.IdleTimeout.Std(),
		Acquire:         a.hub.Acquire,
		Logger:          log,
	}
	if err := a.hls.Initialize(); err != nil {
		return nil, err
	}

	a.hub.Resolve = a.resolveStream

	if err := a.startGB(ctx); err != nil {
		return nil, err
	}
	devices := &device.Service{Store: a.db, Media: channelMedia{a}, Logger: log.With("component", "device")}
	if err := devices.Start(ctx); err != nil {
		return nil, err
	}
	if err := a.startRecording(ctx); err != nil {
		return nil, err
	}

	srv := &web.Server{
		Store: a.db, Devices: devices, GB: a.gb, GBMedia: a.gbm, Recordings: a.rec, Hub: a.hub, HLS: a.hls, Auth: auth,
		CORSOrigins: cfg.HTTP.CORSOrigins, Version: version, Logger: log,
	}
	a.ln, err = net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return nil, fmt.Errorf("http.addr: %w", err)
	}
	a.http = &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.With("component", "http").Handler(), slog.LevelDebug),
	}
	a.startONVIF(ctx, srv)
	return a, nil
}

// startGB wires and starts GB28181 signalling. The device service is
// initialized before the SIP server serves, so that the first REGISTER finds
// it ready.
func (a *app) startGB(ctx context.Context) error {
	c := a.cfg.SIP
	a.sip = &sip.Server{
		ListenAddr: c.Addr,
		Host:       c.Host,
		ID:         c.ID,
		Domain:     c.Domain,
		// An empty password already means "no authentication" for every
		// device without its own; NoAuth would also skip the devices that
		// have one, so it stays off.
		Password:      c.Password,
		DenyUnknown:   !c.AutoAccept,
		AllowList:     c.AllowList,
		MaxExpires:    c.RegisterExpiresMax.Std(),
		InviteTimeout: c.InviteTimeout.Std(),
		UserAgent:     "nvr/" + version,
		Logger:        a.log,
	}
	a.gbClient = &sipgb.Client{
		Server:         a.sip,
		QueryTimeout:   c.QueryTimeout.Std(),
		CatalogTimeout: c.CatalogTimeout.Std(),
		Location:       time.Local,
		Logger:         a.log,
	}
	a.gb = &devgb.Service{
		Store:             a.db,
		Client:            a.gbClient,
		KeepaliveInterval: c.KeepaliveInterval.Std(),
		KeepaliveMisses:   c.KeepaliveMisses,
		Logger:            a.log,
	}
	a.gbClient.Events = a.gb
	a.gbClient.Initialize()
	if err := a.gb.Initialize(ctx); err != nil {
		return fmt.Errorf("gb28181 devices: %w", err)
	}
	a.sip.Registry, a.sip.Credentials, a.sip.Handler = a.gb, a.gb, a.gb
	if err := a.sip.Initialize(); err != nil {
		return fmt.Errorf("sip.addr: %w", err)
	}
	return a.startGBMedia()
}

// startGBMedia opens the RTP port range and wires GB28181 live, playback and
// download sessions over the SIP server.
func (a *app) startGBMedia() error {
	r := a.cfg.RTP
	lo, hi := r.PortRange()
	a.rtp = &ps.Receiver{PortLo: lo, PortHi: hi, SinglePort: r.SinglePort, Logger: a.log}
	if err := a.rtp.Initialize(); err != nil {
		return fmt.Errorf("rtp: %w", err)
	}
	mediaIP := r.IP
	if mediaIP == "" {
		mediaIP = a.sip.AdvertisedHost()
	}
	a.gbm = &gbmedia.Media{
		SIP:             a.sip,
		Devices:         a.gb,
		Hub:             a.hub,
		Receiver:        a.rtp,
		MediaIP:         mediaIP,
		CheckSSRC:       r.SSRCCheck,
		NoMediaTimeout:  r.NoMediaTimeout.Std(),
		KeyframeTimeout: r.KeyframeTimeout.Std(),
		InviteTimeout:   a.cfg.SIP.InviteTimeout.Std(),
		DownloadDir:     filepath.Join(a.cfg.DataDir, "downloads"),
		Logger:          a.log,
	}
	a.gbm.Initialize()
	a.gb.OnMediaStatus = a.gbm.MediaStatus
	a.log.Info("gb28181 media", "ip", mediaIP, "ports", r.Ports, "single_port", r.SinglePort)
	if elo, ehi, ok := ephemeralPorts(); ok && lo <= ehi && hi >= elo {
		// The kernel hands these ports to outgoing connections: some will be
		// busy when a stream wants them (skipped), and a stray packet may
		// reach a media port.
		a.log.Warn("rtp.ports overlaps the kernel's ephemeral port range; choose ports outside it",
			"ports", r.Ports, "ephemeral", fmt.Sprintf("%d-%d", elo, ehi))
	}
	return nil
}

// ephemeralPorts reads the range the kernel picks local ports from (Linux).
func ephemeralPorts() (lo, hi int, ok bool) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, 0, false
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, 0, false
	}
	lo, err1 := strconv.Atoi(f[0])
	hi, err2 := strconv.Atoi(f[1])
	return lo, hi, err1 == nil && err2 == nil
}

// resolveStream gives the hub the source of a channel's stream that was not
// registered at start-up: a GB28181 channel added by a catalog since.
func (a *app) resolveStream(ctx context.Context, name string) (stream.Source, bool, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(name, "ch"), 10, 64)
	if err != nil || !strings.HasPrefix(name, "ch") || a.gbm == nil {
		return nil, false, fmt.Errorf("%w: %q", hub.ErrUnknown, name)
	}
	ch, err := a.db.Channel(ctx, id)
	if errors.Is(err, device.ErrNotFound) {
		return nil, false, fmt.Errorf("%w: %q", hub.ErrUnknown, name)
	}
	if err != nil {
		return nil, false, err
	}
	if ch.GBID == "" || ch.Kind != device.KindChannel {
		return nil, false, fmt.Errorf("%w: %q", hub.ErrUnknown, name)
	}
	return a.gbm.LiveSource(ch.ID), ch.AlwaysOn, nil
}

// sipAddr is the SIP server's address (useful when configured with port 0).
func (a *app) sipAddr() string { return a.sip.Addr() }

// addr is the HTTP listener's address (useful when configured with port 0).
func (a *app) addr() string { return a.ln.Addr().String() }

// serve runs the HTTP server until ctx ends.
func (a *app) serve(ctx context.Context) error {
	a.log.Info("http server listening", "addr", a.addr())
	errc := make(chan error, 1)
	go func() { errc <- a.http.Serve(a.ln) }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
		a.log.Info("shutting down")
		return nil
	}
}

// shutdown stops accepting, ends every stream (so long-lived FLV and
// WebSocket viewers return), then waits a bounded time for handlers.
func (a *app) shutdown() {
	if a.http != nil {
		a.http.SetKeepAlivesEnabled(false)
		_ = a.ln.Close()
	}
	if a.rec != nil { // open segments are closed and indexed while their sources still run
		a.rec.Close()
	}
	// Playback and download sessions first, while SIP can still BYE them.
	if a.gbm != nil {
		a.gbm.Close()
	}
	// Signalling next: no new device request starts a sync or a query, and
	// the handlers in flight finish while the database is still open.
	if a.gb != nil {
		a.gb.Close()
	}
	if a.gbClient != nil {
		a.gbClient.Close()
	}
	if a.sip != nil {
		_ = a.sip.Close()
	}
	if a.hls != nil {
		a.hls.Close()
	}
	if a.hub != nil {
		a.hub.Close()
	}
	if a.rtp != nil {
		a.rtp.Close()
	}
	if a.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		if err := a.http.Shutdown(ctx); err != nil {
			a.log.Warn("closing remaining connections", "error", err)
			_ = a.http.Close()
		}
		cancel()
	}
	if a.db != nil {
		if err := a.db.Close(); err != nil {
			a.log.Warn("closing database", "error", err)
		}
	}
}

// channelMedia connects the device service to the hub: each channel is a
// stream whose source is built from the channel's URL.
type channelMedia struct{ a *app }

func (m channelMedia) SetChannel(ch *device.Channel) {
	if ch.GBID != "" {
		// GB28181 channels are played over INVITE and PS/RTP.
		if ch.Kind == device.KindChannel && m.a.gbm != nil {
			m.a.hub.Set(ch.StreamName(), m.a.gbm.LiveSource(ch.ID), ch.AlwaysOn)
		}
		return
	}
	c := m.a.cfg.RTSP
	src := &rtsp.Source{
		URL:            ch.URL,
		Transport:      c.Transport,
		ConnectTimeout: c.ConnectTimeout.Std(),
		ReadTimeout:    c.ReadTimeout.Std(),
		BackoffMin:     c.BackoffMin.Std(),
		BackoffMax:     c.BackoffMax.Std(),
		Logger:         m.a.log.With("channel_id", ch.ID),
	}
	m.a.hub.Set(ch.StreamName(), src, ch.AlwaysOn)
}

func (m channelMedia) RemoveChannel(ch *device.Channel) { m.a.hub.Remove(ch.StreamName()) }
