package gbmedia

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nvr/nvr/device"
	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/sip"
)

// Limits of playback and download requests.
const (
	// maxRange is the longest time range one session replays.
	maxRange = 24 * time.Hour
	// claimWait is how long a new playback stays up for its first viewer:
	// the session is opened by the API call, the viewer connects after.
	claimWait = 30 * time.Second
	// controlTimeout bounds a MANSRTSP INFO.
	controlTimeout = 5 * time.Second
)

// ErrUnknownSession is returned for a playback or download ID that does not
// exist (any more).
var ErrUnknownSession = fmt.Errorf("%w: no such session", device.ErrNotFound)

type playback struct {
	info device.Playback

	mu     sync.Mutex
	dialog *sip.Dialog
}

func (p *playback) setDialog(d *sip.Dialog) {
	p.mu.Lock()
	p.dialog = d
	p.mu.Unlock()
}

func (p *playback) currentDialog() *sip.Dialog {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dialog
}

func checkRange(start, end time.Time) error {
	switch {
	case start.IsZero() || end.IsZero():
		return fmt.Errorf("%w: start and end are required", device.ErrInvalid)
	case !end.After(start):
		return fmt.Errorf("%w: end must be after start", device.ErrInvalid)
	case end.Sub(start) > maxRange:
		return fmt.Errorf("%w: the range is longer than %v", device.ErrInvalid, maxRange)
	}
	return nil
}

// StartPlayback asks the device to replay a channel's recordings from start
// to end. It returns once the device streams (or with its error); the
// session's stream then plays like a live one and ends when the device
// reaches end, when nobody watched it for the hub's idle delay, or on
// StopPlayback.
func (m *Media) StartPlayback(ctx context.Context, channelID int64, start, end time.Time) (*device.Playback, error) {
	if err := checkRange(start, end); err != nil {
		return nil, err
	}
	ch, dev, err := m.Devices.Target(ctx, channelID)
	if err != nil {
		return nil, err
	}
	id := newID()
	pb := &playback{info: device.Playback{
		ID: id, ChannelID: channelID, Stream: "pb" + id, Start: start, End: end, CreatedAt: time.Now(),
	}}
	inv := &inviter{m: m, deviceID: dev.GBID, channelID: ch.GBID, mode: sip.ModePlayback,
		start: start, end: end, onDialog: pb.setDialog}
	src := m.source(dev, ch, inv, false)
	st, err := m.open(ctx, pb.info.Stream, src, inv)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.playbacks[id] = pb
	m.mu.Unlock()
	m.log.Info("playback started", "session", id, "channel_id", channelID, "start", start, "end", end)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		select {
		case <-st.Done():
		case <-m.ctx.Done():
		}
		m.forgetPlayback(id)
	}()
	out := pb.info
	return &out, nil
}

// open registers a session's source with the hub and starts it, holding it
// for claimWait so that the viewer who asked has time to connect. It
// returns the INVITE's own error when the device refused or did not answer.
func (m *Media) open(ctx context.Context, name string, src stream.Source, inv *inviter) (*stream.Stream, error) {
	m.Hub.Set(name, src, false)
	st, release, err := m.Hub.Acquire(ctx, name)
	if err != nil {
		m.Hub.Remove(name)
		if ierr := inv.err(); ierr != nil {
			return nil, ierr
		}
		return nil, err
	}
	t := time.AfterFunc(claimWait, release)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		select {
		case <-st.Done():
			if t.Stop() {
				release()
			}
		case <-m.ctx.Done():
		}
	}()
	return st, nil
}

func (m *Media) forgetPlayback(id string) {
	m.mu.Lock()
	pb := m.playbacks[id]
	delete(m.playbacks, id)
	m.mu.Unlock()
	if pb != nil {
		m.Hub.Remove(pb.info.Stream)
		m.log.Info("playback ended", "session", id)
	}
}

// Playback returns a running session.
func (m *Media) Playback(id string) (*device.Playback, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	pb := m.playbacks[id]
	if pb == nil {
		return nil, ErrUnknownSession
	}
	out := pb.info
	return &out, nil
}

// ControlPlayback sends a trick-play request (MANSRTSP over INFO).
func (m *Media) ControlPlayback(ctx context.Context, id string, c device.PlaybackControl) error {
	m.mu.Lock()
	pb := m.playbacks[id]
	m.mu.Unlock()
	if pb == nil {
		return ErrUnknownSession
	}
	var body []byte
	switch c.Action {
	case device.PlaybackPause:
		body = sip.MANSRTSPPause()
	case device.PlaybackResume:
		body = sip.MANSRTSPPlay(0, -1)
	case device.PlaybackSeek:
		span := pb.info.End.Sub(pb.info.Start).Seconds()
		if c.Position < 0 || c.Position > span {
			return fmt.Errorf("%w: position must be within 0-%.0f seconds", device.ErrInvalid, span)
		}
		body = sip.MANSRTSPPlay(0, c.Position)
	case device.PlaybackSpeed:
		if c.Scale < 0.25 || c.Scale > 8 {
			return fmt.Errorf("%w: scale must be within 0.25-8", device.ErrInvalid)
		}
		body = sip.MANSRTSPPlay(c.Scale, -1)
	default:
		return fmt.Errorf("%w: action must be pause, resume, seek or speed", device.ErrInvalid)
	}
	d := pb.currentDialog()
	if d == nil {
		return fmt.Errorf("%w: the session has no call with the device", device.ErrConflict)
	}
	ctx, cancel := context.WithTimeout(ctx, controlTimeout)
	defer cancel()
	if err := d.Info(ctx, body); err != nil {
		if errors.Is(err, sip.ErrDialogEnded) {
			return ErrUnknownSession
		}
		return m.Devices.DeviceError(err)
	}
	return nil
}

// StopPlayback ends a session: BYE to the device, and its viewers see the end
// of the stream.
func (m *Media) StopPlayback(_ context.Context, id string) error {
	m.mu.Lock()
	_, ok := m.playbacks[id]
	m.mu.Unlock()
	if !ok {
		return ErrUnknownSession
	}
	m.forgetPlayback(id)
	return nil
}
