// Package gbmedia plays GB28181 channels: it joins the SIP side (INVITE
// dialogs, MANSRTSP, MediaStatus) to the media side (the PS/RTP receiver and
// the hub). Live channels become hub sources; device-side playback and
// download are sessions of their own, each a hub stream.
//
// It lives under cmd/nvr because it is wiring: neither sip nor media may
// know the other, and the device service knows neither.
package gbmedia

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/nvr/nvr/device"
	"github.com/nvr/nvr/media/hub"
	"github.com/nvr/nvr/media/ingest/ps"
	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/sip"
)

// Devices is what gbmedia needs from the GB28181 device service.
type Devices interface {
	// Target returns a playable GB channel and its online device, or an
	// error the API maps onto a status (offline, not found, not GB).
	Target(ctx context.Context, channelID int64) (*device.Channel, *device.Device, error)
	// IFrame asks the device for a keyframe on a channel (IFameCmd).
	IFrame(ctx context.Context, channelID int64) error
	// DeviceError turns a SIP error into the service's error kinds.
	DeviceError(err error) error
}

// Media plays GB28181 channels. Set the fields, call Initialize, then Close.
type Media struct {
	SIP      *sip.Server
	Devices  Devices
	Hub      *hub.Hub
	Receiver *ps.Receiver
	// MediaIP is the address devices send media to (the SDP's c= line).
	MediaIP         string
	CheckSSRC       bool
	NoMediaTimeout  time.Duration
	KeyframeTimeout time.Duration
	InviteTimeout   time.Duration
	// DownloadDir is where downloads are written.
	DownloadDir string
	Logger      *slog.Logger

	log       *slog.Logger
	mu        sync.Mutex
	playbacks map[string]*playback
	downloads map[string]*download
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// Initialize prepares the sessions.
func (m *Media) Initialize() {
	if m.Logger == nil {
		m.Logger = slog.New(slog.DiscardHandler)
	}
	m.log = m.Logger.With("component", "gbmedia")
	if m.InviteTimeout <= 0 {
		m.InviteTimeout = 10 * time.Second
	}
	m.playbacks = make(map[string]*playback)
	m.downloads = make(map[string]*download)
	m.ctx, m.cancel = context.WithCancel(context.Background())
}

// Close ends every playback and download.
func (m *Media) Close() {
	m.cancel()
	m.mu.Lock()
	var names []string
	for _, pb := range m.playbacks {
		names = append(names, pb.info.Stream)
	}
	for _, d := range m.downloads {
		if d.stream != "" {
			names = append(names, d.stream)
		}
	}
	m.mu.Unlock()
	for _, n := range names {
		m.Hub.Remove(n)
	}
	m.wg.Wait()
}

// LiveSource returns the hub source of a GB channel's live video. The
// device, its transport and the channel's IDs are read at each start, so a
// changed setting applies to the next session.
func (m *Media) LiveSource(channelID int64) stream.Source {
	return &liveSource{m: m, channelID: channelID}
}

type liveSource struct {
	m         *Media
	channelID int64
	mu        sync.Mutex
	cur       *ps.Source
}

func (l *liveSource) Run(ctx context.Context, st *stream.Stream, report func(stream.State, error)) error {
	ch, dev, err := l.m.Devices.Target(ctx, l.channelID)
	if err != nil {
		report(stream.StateError, err)
		return err
	}
	// One call per run: the device's BYE or silence ends the stream and its
	// viewers see the end; the hub starts an always-on (recorded) channel
	// again, and the next viewer of an on-demand one opens a new call.
	src := l.m.source(dev, ch, &inviter{m: l.m, deviceID: dev.GBID, channelID: ch.GBID, mode: sip.ModePlay}, false)
	src.RequestKeyframe = func(ctx context.Context) error { return l.m.Devices.IFrame(ctx, l.channelID) }
	l.mu.Lock()
	l.cur = src
	l.mu.Unlock()
	return src.Run(ctx, st, report)
}

// Ingest implements stream.IngestReporter.
func (l *liveSource) Ingest() stream.Ingest {
	l.mu.Lock()
	src := l.cur
	l.mu.Unlock()
	if src == nil {
		return stream.Ingest{Protocol: "gb28181"}
	}
	st := src.Stats()
	return stream.Ingest{
		Protocol: "gb28181", Transport: string(st.Transport), LocalPort: st.LocalPort, Remote: st.RemoteAddr,
		SSRC: fmt.Sprintf("%010d", st.SSRC), Packets: st.Packets, Lost: st.Lost, Reordered: st.Reordered,
	}
}

// source builds the PS/RTP source of one channel's session.
func (m *Media) source(dev *device.Device, ch *device.Channel, inv *inviter, retry bool) *ps.Source {
	t := ps.Transport(dev.StreamTransport)
	if t == "" {
		t = ps.TransportUDP
	}
	return &ps.Source{
		Receiver:        m.Receiver,
		Inviter:         inv,
		Transport:       t,
		MediaIP:         m.MediaIP,
		CheckSSRC:       m.CheckSSRC,
		NoMediaTimeout:  m.NoMediaTimeout,
		KeyframeTimeout: m.KeyframeTimeout,
		Retry:           retry,
		Logger:          m.log.With("device_id", dev.GBID, "channel", ch.GBID, "mode", inv.mode),
	}
}

// MediaStatus handles a device's MediaStatus notification: 121 says a
// playback or download reached its end, which ends the session's dialog
// (the source then sends BYE and the stream ends).
func (m *Media) MediaStatus(deviceID, callID, notifyType string) {
	if notifyType != "121" {
		return
	}
	if d := m.SIP.Dialog(callID); d != nil {
		d.End(errEndOfMedia)
		return
	}
	// Sent outside the dialog (a new Call-ID): end the device's history
	// sessions, which is what the device can have meant.
	n := 0
	for _, d := range m.SIP.Dialogs(deviceID) {
		if d.Mode() != sip.ModePlay {
			d.End(errEndOfMedia)
			n++
		}
	}
	m.log.Debug("media status outside a dialog", "device_id", deviceID, "call_id", callID, "ended", n)
}

var errEndOfMedia = errors.New("the device reached the end of the recording (MediaStatus 121)")

// inviter implements ps.Inviter over SIP for one channel and mode.
type inviter struct {
	m                   *Media
	deviceID, channelID string
	mode                string
	start, end          time.Time
	speed               int
	// onDialog, when set, learns each dialog the inviter opens.
	onDialog func(*sip.Dialog)

	mu      sync.Mutex
	lastErr error
}

func (i *inviter) SSRC() uint32 {
	s := i.m.SIP.NewSSRC(i.mode != sip.ModePlay)
	n, _ := strconv.ParseUint(s, 10, 32)
	return uint32(n)
}

func (i *inviter) Invite(ctx context.Context, o ps.Offer) (ps.Call, error) {
	req := sip.InviteRequest{
		DeviceID:      i.deviceID,
		ChannelID:     i.channelID,
		Mode:          i.mode,
		Start:         i.start,
		End:           i.end,
		IP:            o.IP,
		Port:          o.Port,
		SSRC:          fmt.Sprintf("%010d", o.SSRC),
		DownloadSpeed: i.speed,
	}
	switch o.Transport {
	case ps.TransportTCPPassive:
		req.Transport, req.Setup = "TCP", "passive"
	case ps.TransportTCPActive:
		req.Transport, req.Setup = "TCP", "active"
	default:
		req.Transport = "UDP"
	}
	ctx, cancel := context.WithTimeout(ctx, i.m.InviteTimeout)
	defer cancel()
	d, err := i.m.SIP.Invite(ctx, req)
	if err != nil {
		err = i.m.Devices.DeviceError(err)
		i.mu.Lock()
		i.lastErr = err
		i.mu.Unlock()
		return nil, err
	}
	if i.onDialog != nil {
		i.onDialog(d)
	}
	return &call{d: d}, nil
}

// err returns the last INVITE error.
func (i *inviter) err() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.lastErr
}

// call adapts a SIP dialog to ps.Call.
type call struct{ d *sip.Dialog }

func (c *call) Answer() ps.Answer {
	a := c.d.Answer()
	out := ps.Answer{Addr: a.Addr(), SSRC: a.SSRCValue()}
	switch {
	case !a.TCP:
		out.Transport = ps.TransportUDP
	case a.Setup == "active":
		// The device connects: we are passive.
		out.Transport = ps.TransportTCPPassive
	default:
		out.Transport = ps.TransportTCPActive
	}
	return out
}

func (c *call) Done() <-chan struct{} { return c.d.Done() }
func (c *call) Err() error            { return c.d.Err() }
func (c *call) Close(ctx context.Context) error {
	return c.d.Bye(ctx)
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
