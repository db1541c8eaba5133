package gb

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nvr/nvr/device"
	"github.com/nvr/nvr/sip"
	"github.com/nvr/nvr/sip/manscdp"
	"github.com/nvr/nvr/sip/ptz"
)

// memStore is an in-memory Store: the database is under test in storage, not here.
type memStore struct {
	mu      sync.Mutex
	nextID  int64
	devices map[int64]*device.Device
	chans   []*device.Channel
	events  []*device.Event
}

func newMemStore() *memStore { return &memStore{devices: map[int64]*device.Device{}} }

func (m *memStore) id() int64 { m.nextID++; return m.nextID }

func (m *memStore) CreateDevice(_ context.Context, d *device.Device, chans []*device.Channel) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.devices {
		if d.GBID != "" && o.GBID == d.GBID {
			return device.ErrConflict
		}
	}
	d.ID = m.id()
	if d.StreamTransport == "" {
		d.StreamTransport = device.StreamUDP
	}
	c := *d
	m.devices[d.ID] = &c
	for _, ch := range chans {
		ch.ID, ch.DeviceID = m.id(), d.ID
		cc := *ch
		m.chans = append(m.chans, &cc)
	}
	return nil
}

func (m *memStore) Device(_ context.Context, id int64) (*device.Device, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.devices[id]
	if !ok {
		return nil, device.ErrNotFound
	}
	c := *d
	return &c, nil
}

func (m *memStore) DeviceByGBID(_ context.Context, gbID string) (*device.Device, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range m.devices {
		if gbID != "" && d.GBID == gbID {
			c := *d
			return &c, nil
		}
	}
	return nil, device.ErrNotFound
}

func (m *memStore) ListDevices(_ context.Context, opts device.ListOptions) ([]*device.Device, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*device.Device
	for _, d := range m.devices {
		if opts.Type == "" || d.Type == opts.Type {
			c := *d
			out = append(out, &c)
		}
	}
	slices.SortFunc(out, func(a, b *device.Device) int { return int(a.ID - b.ID) })
	return out, int64(len(out)), nil
}

func (m *memStore) UpdateDevice(_ context.Context, d *device.Device) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.devices[d.ID]; !ok {
		return device.ErrNotFound
	}
	c := *d
	m.devices[d.ID] = &c
	return nil
}

func (m *memStore) OnlineGBDevices(ctx context.Context) ([]*device.Device, error) {
	all, _, _ := m.ListDevices(ctx, device.ListOptions{Type: device.TypeGB28181})
	return slices.DeleteFunc(all, func(d *device.Device) bool { return !d.Online }), nil
}

func (m *memStore) setDevice(id int64, f func(*device.Device)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.devices[id]
	if !ok {
		return device.ErrNotFound
	}
	f(d)
	return nil
}

func (m *memStore) SetDeviceOnline(_ context.Context, id int64, online bool) error {
	return m.setDevice(id, func(d *device.Device) { d.Online = online })
}

func (m *memStore) TouchKeepalive(_ context.Context, id int64, at time.Time) error {
	return m.setDevice(id, func(d *device.Device) { d.LastKeepalive, d.Online = at, true })
}

func (m *memStore) SetDevicePosition(_ context.Context, id int64, lon, lat float64, at time.Time) error {
	return m.setDevice(id, func(d *device.Device) { d.Longitude, d.Latitude, d.PositionAt = lon, lat, at })
}

func (m *memStore) Channels(_ context.Context, deviceID int64) ([]*device.Channel, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*device.Channel
	for _, c := range m.chans {
		if deviceID == 0 || c.DeviceID == deviceID {
			cc := *c
			out = append(out, &cc)
		}
	}
	return out, nil
}

func (m *memStore) Channel(_ context.Context, id int64) (*device.Channel, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.chans {
		if c.ID == id {
			cc := *c
			return &cc, nil
		}
	}
	return nil, device.ErrNotFound
}

func (m *memStore) ChannelByGBID(_ context.Context, deviceID int64, gbID string) (*device.Channel, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.chans {
		if c.DeviceID == deviceID && c.GBID == gbID {
			cc := *c
			return &cc, nil
		}
	}
	return nil, device.ErrNotFound
}

func (m *memStore) SyncChannels(_ context.Context, deviceID int64, chans []*device.Channel, removeMissing bool) (added, updated, removed int, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := map[string]bool{}
	for _, c := range chans {
		seen[c.GBID] = true
		i := slices.IndexFunc(m.chans, func(o *device.Channel) bool { return o.DeviceID == deviceID && o.GBID == c.GBID })
		cc := *c
		cc.DeviceID = deviceID
		if i < 0 {
			cc.ID = m.id()
			m.chans = append(m.chans, &cc)
			added++
			continue
		}
		cc.ID = m.chans[i].ID
		m.chans[i] = &cc
		updated++
	}
	if removeMissing {
		n := len(m.chans)
		m.chans = slices.DeleteFunc(m.chans, func(o *device.Channel) bool { return o.DeviceID == deviceID && !seen[o.GBID] })
		removed = n - len(m.chans)
	}
	return added, updated, removed, nil
}

func (m *memStore) DeleteChannelsByGBID(_ context.Context, deviceID int64, gbIDs []string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := len(m.chans)
	m.chans = slices.DeleteFunc(m.chans, func(o *device.Channel) bool { return o.DeviceID == deviceID && slices.Contains(gbIDs, o.GBID) })
	return n - len(m.chans), nil
}

func (m *memStore) SetChannelsStatus(_ context.Context, deviceID int64, gbIDs []string, status string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.chans {
		if c.DeviceID == deviceID && (gbIDs == nil || slices.Contains(gbIDs, c.GBID)) {
			c.Status = status
		}
	}
	return nil
}

func (m *memStore) CreateEvent(_ context.Context, e *device.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e.ID = m.id()
	m.events = append(m.events, e)
	return nil
}

// fakeClient is a Client that answers from its fields and records what it was asked.
type fakeClient struct {
	mu       sync.Mutex
	info     manscdp.DeviceInfo
	catalog  []manscdp.CatalogItem
	complete bool
	err      error // returned by every request when set
	calls    []string
	charsets map[string]manscdp.Charset
	messages []sip.Message
	synced   chan string // receives the device ID of each SubscribeCatalog
}

func newFakeClient() *fakeClient {
	return &fakeClient{complete: true, charsets: map[string]manscdp.Charset{}, synced: make(chan string, 100),
		info: manscdp.DeviceInfo{DeviceName: "大门", Manufacturer: "Hikvision", Model: "DS-2CD", Firmware: "V5.5"}}
}

func (f *fakeClient) record(call string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	return f.err
}

func (f *fakeClient) HandleMessage(_ context.Context, m sip.Message) {
	f.mu.Lock()
	f.messages = append(f.messages, m)
	f.mu.Unlock()
}

func (f *fakeClient) SetCharset(id string, cs manscdp.Charset) {
	f.mu.Lock()
	f.charsets[id] = cs
	f.mu.Unlock()
}

func (f *fakeClient) Charset(id string) manscdp.Charset {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.charsets[id]
}

func (f *fakeClient) DeviceInfo(_ context.Context, id string) (*manscdp.DeviceInfo, error) {
	if err := f.record("DeviceInfo " + id); err != nil {
		return nil, err
	}
	info := f.info
	return &info, nil
}

func (f *fakeClient) DeviceStatus(_ context.Context, id string) (*manscdp.DeviceStatus, error) {
	return &manscdp.DeviceStatus{Online: "ONLINE"}, f.record("DeviceStatus " + id)
}

func (f *fakeClient) Catalog(_ context.Context, id string) ([]manscdp.CatalogItem, bool, error) {
	if err := f.record("Catalog " + id); err != nil {
		return nil, false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.catalog), f.complete, nil
}

func (f *fakeClient) RecordInfo(_ context.Context, id, ch string, _, _ time.Time) ([]manscdp.RecordItem, bool, error) {
	return nil, true, f.record("RecordInfo " + id + " " + ch)
}

func (f *fakeClient) Presets(_ context.Context, id, ch string) ([]manscdp.Preset, error) {
	return []manscdp.Preset{{ID: 1, Name: "一"}}, f.record("Presets " + id + " " + ch)
}

func (f *fakeClient) ConfigDownload(_ context.Context, id, _ string) (*manscdp.Config, error) {
	return &manscdp.Config{}, f.record("ConfigDownload " + id)
}

func (f *fakeClient) PTZ(_ context.Context, id, ch string, cmd ptz.Command, _ ptz.Args) error {
	return f.record("PTZ " + id + " " + ch + " " + cmd.String())
}

func (f *fakeClient) TeleBoot(_ context.Context, id string) error { return f.record("TeleBoot " + id) }

func (f *fakeClient) IFrame(_ context.Context, id, ch string) error {
	return f.record("IFrame " + id + " " + ch)
}

func (f *fakeClient) Record(_ context.Context, id, ch string, start bool) error {
	return f.record(fmt.Sprintf("Record %s %s %v", id, ch, start))
}

func (f *fakeClient) Guard(_ context.Context, id string, set bool) error {
	return f.record(fmt.Sprintf("Guard %s %v", id, set))
}

func (f *fakeClient) SubscribeCatalog(_ context.Context, id string, _ time.Duration) error {
	err := f.record("SubscribeCatalog " + id)
	f.synced <- id
	return err
}

func (f *fakeClient) Unsubscribe(id string) { _ = f.record("Unsubscribe " + id) }
