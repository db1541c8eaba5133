package gb

import (
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/nvr/nvr/device"
	"github.com/nvr/nvr/sip"
	"github.com/nvr/nvr/sip/manscdp"
	"github.com/nvr/nvr/sip/ptz"
)

// Defaults of the Service.
const (
	// DefaultKeepaliveInterval and DefaultKeepaliveMisses are GB/T 28181-2016 §9.6's 60 s and
	// three missed keepalives.
	DefaultKeepaliveInterval = 60 * time.Second
	DefaultKeepaliveMisses   = 3
	// DefaultSyncWorkers bounds the devices asked for DeviceInfo and Catalog at once: 5,000
	// devices registering together must not become 5,000 catalog queries in flight.
	DefaultSyncWorkers = 8
	// DefaultSubscribeExpires is the catalog subscription lifetime asked for; the client
	// refreshes it before it runs out.
	DefaultSubscribeExpires = time.Hour
	// minWatchdogPeriod keeps a tiny keepalive interval from making the watchdog spin.
	minWatchdogPeriod = 10 * time.Millisecond
	// lockStripes is the number of per-device locks, shared by hashing the device ID: enough
	// that unrelated devices rarely wait for each other, without a mutex per device.
	lockStripes = 64
)

// Store is what the service needs from the database; *storage.DB implements it.
type Store interface {
	CreateDevice(ctx context.Context, d *device.Device, chans []*device.Channel) error
	Device(ctx context.Context, id int64) (*device.Device, error)
	DeviceByGBID(ctx context.Context, gbID string) (*device.Device, error)
	ListDevices(ctx context.Context, opts device.ListOptions) ([]*device.Device, int64, error)
	UpdateDevice(ctx context.Context, d *device.Device) error
	OnlineGBDevices(ctx context.Context) ([]*device.Device, error)
	SetDeviceOnline(ctx context.Context, id int64, online bool) error
	TouchKeepalive(ctx context.Context, id int64, at time.Time) error
	SetDevicePosition(ctx context.Context, id int64, lon, lat float64, at time.Time) error
	Channels(ctx context.Context, deviceID int64) ([]*device.Channel, error)
	Channel(ctx context.Context, id int64) (*device.Channel, error)
	ChannelByGBID(ctx context.Context, deviceID int64, gbID string) (*device.Channel, error)
	SyncChannels(ctx context.Context, deviceID int64, chans []*device.Channel, removeMissing bool) (added, updated, removed int, err error)
	DeleteChannelsByGBID(ctx context.Context, deviceID int64, gbIDs []string) (int, error)
	SetChannelsStatus(ctx context.Context, deviceID int64, gbIDs []string, status string) error
	CreateEvent(ctx context.Context, e *device.Event) error
}

// Client is the GB/T 28181 protocol client the service drives; *gb.Client of sip/gb
// implements it.
type Client interface {
	HandleMessage(ctx context.Context, m sip.Message)
	SetCharset(deviceID string, cs manscdp.Charset)
	Charset(deviceID string) manscdp.Charset
	DeviceInfo(ctx context.Context, deviceID string) (*manscdp.DeviceInfo, error)
	DeviceStatus(ctx context.Context, deviceID string) (*manscdp.DeviceStatus, error)
	Catalog(ctx context.Context, deviceID string) (items []manscdp.CatalogItem, complete bool, err error)
	RecordInfo(ctx context.Context, deviceID, channelID string, start, end time.Time) ([]manscdp.RecordItem, bool, error)
	Presets(ctx context.Context, deviceID, channelID string) ([]manscdp.Preset, error)
	ConfigDownload(ctx context.Context, deviceID, configType string) (*manscdp.Config, error)
	PTZ(ctx context.Context, deviceID, channelID string, cmd ptz.Command, args ptz.Args) error
	TeleBoot(ctx context.Context, deviceID string) error
	IFrame(ctx context.Context, deviceID, channelID string) error
	Record(ctx context.Context, deviceID, channelID string, start bool) error
	Guard(ctx context.Context, deviceID string, set bool) error
	SubscribeCatalog(ctx context.Context, deviceID string, expires time.Duration) error
	Unsubscribe(deviceID string)
}

// Service manages GB28181 devices. Set the fields, call Initialize before the SIP server
// starts serving, and Close it before the protocol client and the server.
type Service struct {
	// Store keeps devices, channels and events. Required.
	Store Store
	// Client reaches the devices. Required.
	Client Client
	// KeepaliveInterval and KeepaliveMisses set when a silent device goes offline: after
	// KeepaliveMisses × KeepaliveInterval without a keepalive. Defaults 60 s and 3.
	KeepaliveInterval time.Duration
	KeepaliveMisses   int
	// SyncWorkers is the number of devices queried for DeviceInfo and Catalog at once after
	// they come online. Default DefaultSyncWorkers.
	SyncWorkers int
	// SubscribeExpires is the catalog subscription lifetime asked for. Default 1 h.
	SubscribeExpires time.Duration
	// Logger receives the service's log, tagged component=gb.
	Logger *slog.Logger
	// OnMediaStatus, when set, receives MediaStatus notifications (NotifyType 121: a playback
	// or download reached its end) with the Call-ID of the MESSAGE that carried them.
	OnMediaStatus func(deviceID, callID, notifyType string)

	log   *slog.Logger
	locks [lockStripes]sync.Mutex

	mu     sync.Mutex
	states map[string]*devState // by GB ID
	queue  syncQueue

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// devState is what the service remembers of a device between messages, so that a keepalive
// costs one write and the watchdog no query. Its fields are guarded by Service.mu: read them
// with Service.snapshot, write them with Service.update.
type devState struct {
	id     int64
	online bool
	// lastSeen is the time of the last keepalive or REGISTER.
	lastSeen time.Time
	// charset is the stored Device.Charset; empty until a body told.
	charset string
}

// Initialize seeds the client's charsets from the database, marks offline the devices a
// previous run left online (their registrations are restored, see StoredRegistrations, but
// whether they are alive only their next keepalive or REGISTER tells), and starts the watchdog
// and the sync workers.
func (s *Service) Initialize(ctx context.Context) error {
	if s.KeepaliveInterval <= 0 {
		s.KeepaliveInterval = DefaultKeepaliveInterval
	}
	if s.KeepaliveMisses <= 0 {
		s.KeepaliveMisses = DefaultKeepaliveMisses
	}
	if s.SyncWorkers <= 0 {
		s.SyncWorkers = DefaultSyncWorkers
	}
	if s.SubscribeExpires <= 0 {
		s.SubscribeExpires = DefaultSubscribeExpires
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	s.log = s.Logger.With("component", "gb")
	s.states = map[string]*devState{}
	s.queue.init()

	devs, _, err := s.Store.ListDevices(ctx, device.ListOptions{Type: device.TypeGB28181})
	if err != nil {
		return err
	}
	offline := 0
	for _, d := range devs {
		if cs, ok := manscdp.ParseCharset(d.Charset); ok && d.Charset != "" {
			s.Client.SetCharset(d.GBID, cs)
		}
		if d.Online {
			if err := s.Store.SetDeviceOnline(ctx, d.ID, false); err != nil {
				return err
			}
			offline++
		}
		s.states[d.GBID] = &devState{id: d.ID, charset: d.Charset}
	}
	s.log.Info("gb28181 devices loaded", "devices", len(devs), "marked_offline", offline,
		"keepalive_interval", s.KeepaliveInterval, "keepalive_misses", s.KeepaliveMisses)

	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1 + s.SyncWorkers)
	go s.watchdog()
	for range s.SyncWorkers {
		go s.syncWorker()
	}
	return nil
}

// Close stops the watchdog and the sync workers; syncs in flight are cancelled. Events that
// arrive afterwards are still stored, but start no sync.
func (s *Service) Close() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.queue.close()
	s.wg.Wait()
}

// lock returns the lock of a device. Everything that reads and rewrites a device record holds
// it, so that a REGISTER, a keepalive and a PATCH of the same device do not undo each other.
func (s *Service) lock(gbID string) *sync.Mutex {
	h := fnv.New32a()
	_, _ = h.Write([]byte(gbID))
	return &s.locks[h.Sum32()%lockStripes]
}

// state returns what the service remembers of a device, reading the device from the database
// the first time; nil when the device is not stored. The device's lock must be held.
func (s *Service) state(ctx context.Context, gbID string) (*devState, error) {
	s.mu.Lock()
	st := s.states[gbID]
	s.mu.Unlock()
	if st != nil {
		return st, nil
	}
	d, err := s.Store.DeviceByGBID(ctx, gbID)
	if errors.Is(err, device.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return s.remember(d), nil
}

// remember stores what the service keeps of d and returns it.
func (s *Service) remember(d *device.Device) *devState {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.states[d.GBID]
	if st == nil {
		st = &devState{}
		s.states[d.GBID] = st
	}
	st.id, st.online, st.charset = d.ID, d.Online, d.Charset
	if d.Online {
		st.lastSeen = latest(d.RegisteredAt, d.LastKeepalive)
	}
	return st
}

// snapshot returns a copy of st.
func (s *Service) snapshot(st *devState) devState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *st
}

// update changes st with f.
func (s *Service) update(st *devState, f func(*devState)) {
	s.mu.Lock()
	f(st)
	s.mu.Unlock()
}

// forget drops a device that is no longer stored (deleted through the API).
func (s *Service) forget(gbID string) {
	s.mu.Lock()
	delete(s.states, gbID)
	s.mu.Unlock()
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
