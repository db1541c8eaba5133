package device

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nvr/nvr/device/onvif"
)

// Errors of ONVIF operations that the API maps onto statuses. Each wraps the protocol error it
// stands for, so that its text says what the camera did.
var (
	// ErrONVIFUnauthorized is returned when the camera refuses the account: HTTP 401 or 403, or
	// the fault ter:NotAuthorized (ONVIF Core §5.11.2.1).
	ErrONVIFUnauthorized = errors.New("the camera refused the username or password")
	// ErrNotONVIF is returned when the address answers, but not as an ONVIF device service: an
	// HTML page, a 404, bytes that are not SOAP.
	ErrNotONVIF = errors.New("the address is not an ONVIF device service")
	// ErrONVIFTimeout is returned when the camera does not answer within ONVIFService.Timeout.
	ErrONVIFTimeout = errors.New("the camera did not answer in time")
	// ErrONVIFUnreachable is returned when no connection to the camera can be made: refused, no
	// route, unknown host.
	ErrONVIFUnreachable = errors.New("the camera cannot be reached")
	// ErrONVIFDevice is returned when the camera answers with a SOAP fault, a malformed or
	// unexpected reply, an HTTP error, or a snapshot that is not a JPEG.
	ErrONVIFDevice = errors.New("the camera failed the request")
	// ErrONVIFUnsupported is returned when the camera or channel does not offer what was asked:
	// PTZ on a fixed camera, a snapshot without a snapshot URI, focus and iris (which ONVIF puts
	// in the Imaging service, not used yet).
	ErrONVIFUnsupported = errors.New("not supported by the camera")
)

// AlreadyAddedError is returned when an ONVIF camera is added, or a device moved, to a device
// service address (host and port, see ONVIFAddressKey) that a device already has. It matches
// ErrConflict with errors.Is, so the API answers it as any other conflict.
type AlreadyAddedError struct {
	// Address is the host:port of the device service.
	Address string
	// DeviceID and DeviceName are the device that has the address.
	DeviceID   int64
	DeviceName string
}

// Error implements error.
func (e *AlreadyAddedError) Error() string {
	return fmt.Sprintf("the camera at %s is already added as device %d (%s)", e.Address, e.DeviceID, e.DeviceName)
}

// Is reports whether target is ErrConflict.
func (e *AlreadyAddedError) Is(target error) bool { return target == ErrConflict }

// Defaults of ONVIFService's zero fields.
const (
	// DefaultONVIFPollInterval is how often a camera's reachability is checked.
	DefaultONVIFPollInterval = 30 * time.Second
	// DefaultONVIFPollMisses is how many polls in a row must fail before a camera is offline:
	// one lost answer on a busy network is not an outage.
	DefaultONVIFPollMisses = 2
	// DefaultSnapshotTTL is how long a fetched snapshot is served again: a console grid asking
	// every second does not cost the camera a JPEG encode per viewer.
	DefaultSnapshotTTL = 2 * time.Second
	// MaxDiscoverTimeout bounds the answer window of one discovery.
	MaxDiscoverTimeout = 30 * time.Second
)

// pollWorkers bounds the reachability polls in flight: a few hundred cameras are polled in a few
// rounds of DefaultTimeout at worst, without a goroutine and a socket per camera.
const pollWorkers = 8

// clockTolerance is how far a measured clock offset may move before it is stored again: the
// measurement itself has a resolution of a second.
const clockTolerance = 2 * time.Second

// ONVIFStore is what the ONVIF service needs from the database.
//
// An ONVIF device's device service address, as ONVIFAddressKey makes it of XAddr, is unique:
// CreateONVIFDevice and SyncONVIFDevice return ErrConflict when another device has it, so that
// two onboardings of one camera that race (in this process or in two sharing the database)
// cannot both succeed.
type ONVIFStore interface {
	// CreateONVIFDevice stores a device and its channels in one transaction, as CreateDevice
	// does, and claims the device's address.
	CreateONVIFDevice(ctx context.Context, d *Device, chans []*Channel) error
	Device(ctx context.Context, id int64) (*Device, error)
	ListDevices(ctx context.Context, opts ListOptions) ([]*Device, int64, error)
	Channels(ctx context.Context, deviceID int64) ([]*Channel, error)
	Channel(ctx context.Context, id int64) (*Channel, error)
	UpdateChannel(ctx context.Context, c *Channel) error
	// SyncONVIFDevice stores a device's probed fields (name, address, account, identity, clock)
	// and its channel changes in one transaction, and claims its address.
	SyncONVIFDevice(ctx context.Context, d *Device, add, update []*Channel, remove []int64) error
	SetDeviceOnline(ctx context.Context, id int64, online bool) error
	TouchKeepalive(ctx context.Context, id int64, at time.Time) error
	// SetChannelsStatus with nil gbIDs sets the status of all the device's channels.
	SetChannelsStatus(ctx context.Context, deviceID int64, gbIDs []string, status string) error
	SetClockOffset(ctx context.Context, id int64, offset time.Duration) error
	// ClaimONVIFAddresses gives the devices stored without an address claim (before the store
	// kept them unique) theirs; dups are the devices whose address another device has.
	ClaimONVIFAddresses(ctx context.Context) (claimed int, dups []int64, err error)
}

// ONVIFService onboards ONVIF cameras (one channel per media profile, pulled over RTSP), keeps
// their profiles in step on request, polls their reachability, and serves their snapshots, PTZ
// and presets. Set the fields, then call Initialize; Close stops it.
type ONVIFService struct {
	Store ONVIFStore
	Media Media
	// Timeout bounds each SOAP exchange and snapshot fetch; onvif.DefaultTimeout when zero.
	Timeout time.Duration
	// PollInterval is how often each camera is asked for its clock (GetSystemDateAndTime, which
	// needs no authentication) to see that it is reachable; DefaultONVIFPollInterval when zero,
	// no polling when negative.
	PollInterval time.Duration
	// PollMisses is how many failed polls in a row make a camera offline; DefaultONVIFPollMisses
	// when zero.
	PollMisses int
	// SnapshotTTL is how long a snapshot is served from memory; DefaultSnapshotTTL when zero.
	SnapshotTTL time.Duration
	// DiscoveryInterval, when positive, runs a WS-Discovery on DiscoveryInterfaces (all
	// multicast interfaces when empty) that often; what it finds is listed by Discovered.
	DiscoveryInterval   time.Duration
	DiscoveryInterfaces []string
	// DiscoveryTimeout is how long a background discovery collects answers;
	// onvif.DefaultDiscoverTimeout when zero.
	DiscoveryTimeout time.Duration
	Logger           *slog.Logger

	log    *slog.Logger
	ctx    context.Context // ends with Close; bounds the work not tied to a request
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	closed bool                        // set by Close: no more background work starts
	cams   map[int64]*camera           // by device ID
	snaps  map[int64]*snapshot         // by channel ID
	found  map[string]DiscoveredCamera // by endpoint reference (or first XAddr)
	// busy holds the addresses (ONVIFAddressKey) that an onboarding or a change of address is
	// working on; the channel is closed when it is done.
	busy map[string]chan struct{}
}

// camera is what the service keeps in memory about one ONVIF device.
type camera struct {
	// key is the address and account the client was made for; a change makes a new client.
	key    string
	client *onvif.Client
	// online is the last state written to the database; fails counts failed polls in a row.
	online bool
	fails  int
}

// snapshot is one fetch of a channel's snapshot, shared by the requests that arrive while it
// runs and for SnapshotTTL after it succeeded.
type snapshot struct {
	key  string        // the URI and account it was fetched with
	done chan struct{} // closed when data, err and at are set
	data []byte
	err  error
	at   time.Time
}

func (e *snapshot) finished() bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

// Initialize fills in defaults, claims the addresses of devices stored before addresses were
// unique (see ONVIFStore), and starts the reachability poll and, when configured, the
// background discovery. Both stop when ctx ends or Close is called.
func (s *ONVIFService) Initialize(ctx context.Context) {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	s.log = s.Logger.With("component", "onvif")
	if s.Timeout <= 0 {
		s.Timeout = onvif.DefaultTimeout
	}
	if s.PollInterval == 0 {
		s.PollInterval = DefaultONVIFPollInterval
	}
	if s.PollMisses <= 0 {
		s.PollMisses = DefaultONVIFPollMisses
	}
	if s.SnapshotTTL <= 0 {
		s.SnapshotTTL = DefaultSnapshotTTL
	}
	s.cams = map[int64]*camera{}
	s.snaps = map[int64]*snapshot{}
	s.found = map[string]DiscoveredCamera{}
	s.busy = map[string]chan struct{}{}
	s.claimAddresses(ctx)
	s.ctx, s.cancel = context.WithCancel(ctx)
	if s.PollInterval > 0 {
		s.wg.Go(s.pollLoop)
	}
	if s.DiscoveryInterval > 0 {
		s.wg.Go(s.discoveryLoop)
	}
}

// claimAddresses has the store claim the addresses of older devices, and reports cameras that
// were added twice before that was refused.
func (s *ONVIFService) claimAddresses(ctx context.Context) {
	claimed, dups, err := s.Store.ClaimONVIFAddresses(ctx)
	if err != nil {
		s.log.Warn("addresses of ONVIF devices not claimed", "error", err)
		return
	}
	if claimed > 0 {
		s.log.Info("addresses of ONVIF devices claimed", "devices", claimed)
	}
	for _, id := range dups {
		// Left as it is: which of the two to keep is for a person to say.
		s.log.Warn("camera added twice: the device has the address of an older one; delete one of them", "device_id", id)
	}
}

// Close stops the background work and waits for it.
func (s *ONVIFService) Close() {
	if s.cancel == nil {
		return
	}
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, c := range s.cams {
		if c.client != nil {
			c.client.Close()
		}
		delete(s.cams, id)
	}
}

// NewONVIF describes an ONVIF camera to add.
type NewONVIF struct {
	// Address is a host, host:port or device service URL (XAddr).
	Address string
	// Username and Password are the camera account; credentials in Address are used when
	// Username is empty.
	Username, Password string
	// Name is the device's name; empty means manufacturer and model.
	Name string
	// AlwaysOn is given to every channel.
	AlwaysOn bool
}

// Create probes a camera and adds it with one channel per media profile that has an RTSP
// stream. Nothing is stored unless the probe succeeded: device and channels are created in one
// transaction afterwards.
//
// A camera is added once: a second Create for the same device service address (host and port,
// however written) returns an *AlreadyAddedError. Creates for one address run one after the
// other in this process, so the second neither probes the camera nor waits for the database to
// refuse it; the store's unique address settles races between processes.
func (s *ONVIFService) Create(ctx context.Context, in NewONVIF) (*Device, []*Channel, error) {
	u, ui, err := onvif.ParseAddress(in.Address)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: address: %v", ErrInvalid, err)
	}
	user, pass := strings.TrimSpace(in.Username), in.Password
	if user == "" && ui != nil {
		user = ui.Username()
		pass, _ = ui.Password()
	}
	unlock, err := s.lockAddress(ctx, ONVIFAddressKey(u.String()))
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	if d, err := s.deviceAt(ctx, u.String(), 0); err != nil {
		return nil, nil, err
	} else if d != nil {
		return nil, nil, alreadyAdded(u.String(), d)
	}
	desc, err := onvif.Probe(ctx, u.String(), user, pass, s.clientOptions(0)...)
	if err != nil {
		return nil, nil, onvifError(err)
	}
	d := &Device{
		Type: TypeONVIF, Name: strings.TrimSpace(in.Name), XAddr: desc.XAddr, Username: user, Password: pass,
		Online: true, LastKeepalive: time.Now(),
	}
	applyDescription(d, desc)
	if d.Name == "" {
		d.Name = cmp.Or(strings.TrimSpace(desc.Manufacturer+" "+desc.Model), u.Hostname())
	}
	chans := profileChannels(d, desc)
	if len(chans) == 0 {
		return nil, nil, fmt.Errorf("%w: it offers no media profile with an RTSP stream", ErrONVIFDevice)
	}
	for _, ch := range chans {
		ch.AlwaysOn = in.AlwaysOn
	}
	if err := s.Store.CreateONVIFDevice(ctx, d, chans); err != nil {
		return nil, nil, s.addressConflict(ctx, d, err)
	}
	for _, ch := range chans {
		s.Media.SetChannel(ch)
	}
	s.mu.Lock()
	s.cams[d.ID] = &camera{online: true}
	s.mu.Unlock()
	s.log.Info("device added", "device_id", d.ID, "type", d.Type, "name", d.Name, "xaddr", d.XAddr,
		"model", d.Model, "channels", len(chans), "media2", desc.Media2, "clock_offset", d.ClockOffset)
	return d, chans, nil
}

// applyDescription copies what a probe read about the camera into d.
func applyDescription(d *Device, desc *onvif.DeviceDescription) {
	d.XAddr = desc.XAddr
	d.Manufacturer, d.Model, d.Firmware, d.Serial = desc.Manufacturer, desc.Model, desc.Firmware, desc.Serial
	d.ClockOffset = desc.ClockOffset
}

// profileChannels makes one channel per profile that has video and an RTSP stream URI, named
// after the device and the profile's role: "Door main", "Door sub". A token the device lists
// twice makes one channel, the first.
func profileChannels(d *Device, desc *onvif.DeviceDescription) []*Channel {
	var out []*Channel
	used := map[string]bool{}
	tokens := map[string]bool{}
	for _, p := range desc.Profiles {
		if p.Codec == "" || p.StreamURI == "" || tokens[p.Token] {
			continue
		}
		tokens[p.Token] = true
		label := p.Role
		if label == RoleOther || used[label] {
			// A third stream, or the second main of an NVR with several video sources.
			label = cmp.Or(strings.TrimSpace(p.Name), p.Token)
		}
		used[label] = true
		out = append(out, &Channel{
			Name: d.Name + " " + label, URL: withCredentials(p.StreamURI, d.Username, d.Password), Status: ChannelOn,
			ProfileToken: p.Token, Role: p.Role, Codec: p.Codec, Width: p.Width, Height: p.Height, FPS: p.FPS,
			SnapshotURI: p.SnapshotURI, PTZ: p.PTZ,
		})
	}
	return out
}

// withCredentials puts the camera account into an RTSP URI: cameras want the same account for
// RTSP as for ONVIF, and the ingest authenticates with the URL's userinfo.
func withCredentials(raw, user, pass string) string {
	if user == "" {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.User = url.UserPassword(user, pass)
	return u.String()
}

// sameProfile reports whether two channels agree on everything a profile sets.
func sameProfile(a, b *Channel) bool {
	return a.ProfileToken == b.ProfileToken && a.URL == b.URL && a.Role == b.Role && a.Codec == b.Codec &&
		a.Width == b.Width && a.Height == b.Height && a.FPS == b.FPS && a.SnapshotURI == b.SnapshotURI && a.PTZ == b.PTZ
}

// ONVIFSyncResult says what a re-read of a camera's profiles changed.
type ONVIFSyncResult struct {
	Added, Updated, Removed int
	// Total is the number of profiles that are channels now.
	Total int
}

// Sync reads a camera's profiles again and adds, updates and removes channels to match; the
// identity and clock offset are refreshed too. Channel names and always_on are kept.
func (s *ONVIFService) Sync(ctx context.Context, id int64) (ONVIFSyncResult, error) {
	d, err := s.onvifDevice(ctx, id)
	if err != nil {
		return ONVIFSyncResult{}, err
	}
	return s.resync(ctx, d)
}

// resync probes d (with its address and account as they are in d, which may be new) and
// stores the result.
func (s *ONVIFService) resync(ctx context.Context, d *Device) (ONVIFSyncResult, error) {
	desc, err := onvif.Probe(ctx, d.XAddr, d.Username, d.Password, s.clientOptions(d.ID)...)
	if err != nil {
		return ONVIFSyncResult{}, onvifError(err)
	}
	applyDescription(d, desc)
	old, err := s.Store.Channels(ctx, d.ID)
	if err != nil {
		return ONVIFSyncResult{}, err
	}
	want := profileChannels(d, desc)
	match, gone := matchChannels(old, want)
	var add, update, restart []*Channel
	for i, w := range want {
		o := match[i]
		if o == nil {
			w.AlwaysOn = slices.ContainsFunc(old, func(c *Channel) bool { return c.AlwaysOn })
			add = append(add, w)
			continue
		}
		if sameProfile(o, w) {
			continue
		}
		if o.URL != w.URL {
			restart = append(restart, o)
		}
		o.ProfileToken, o.URL, o.Role, o.Codec = w.ProfileToken, w.URL, w.Role, w.Codec
		o.Width, o.Height, o.FPS, o.SnapshotURI, o.PTZ = w.Width, w.Height, w.FPS, w.SnapshotURI, w.PTZ
		update = append(update, o)
	}
	remove := make([]int64, len(gone))
	for i, o := range gone {
		remove[i] = o.ID
	}
	if err := s.Store.SyncONVIFDevice(ctx, d, add, update, remove); err != nil {
		return ONVIFSyncResult{}, s.addressConflict(ctx, d, err)
	}
	for _, ch := range append(add, restart...) {
		s.Media.SetChannel(ch)
	}
	for _, ch := range gone {
		s.Media.RemoveChannel(ch)
	}
	s.mu.Lock()
	for _, ch := range append(update, gone...) {
		delete(s.snaps, ch.ID)
	}
	s.mu.Unlock()
	res := ONVIFSyncResult{Added: len(add), Updated: len(update), Removed: len(remove), Total: len(want)}
	s.log.Info("profiles synced", "device_id", d.ID, "added", res.Added, "updated", res.Updated, "removed", res.Removed)
	return res, nil
}

// matchChannels pairs the profiles read now (want) with the channels made of them before (old):
// match[i] is the channel of want[i], nil for a new profile; gone are the channels left over.
//
// A channel is found by its profile token, which Media (ver10) and Media2 share. Firmware that
// gave its profiles other tokens through Media2 than through Media would otherwise turn a
// camera first read through Media into new channels (losing names, always_on and recordings):
// a channel whose token is gone is therefore also found by its stream URI, which names the
// same stream whichever service handed it out.
func matchChannels(old, want []*Channel) (match []*Channel, gone []*Channel) {
	match = make([]*Channel, len(want))
	byToken := map[string]*Channel{}
	for _, ch := range old {
		if ch.ProfileToken != "" {
			byToken[ch.ProfileToken] = ch
		}
	}
	for i, w := range want {
		if o := byToken[w.ProfileToken]; o != nil {
			match[i] = o
			delete(byToken, w.ProfileToken)
		}
	}
	byStream := map[string]*Channel{}
	for _, ch := range old {
		if byToken[ch.ProfileToken] == ch {
			if k := streamKey(ch.URL); k != "" {
				byStream[k] = ch
			}
		}
	}
	for i, w := range want {
		if match[i] != nil {
			continue
		}
		if o := byStream[streamKey(w.URL)]; o != nil {
			match[i] = o
			delete(byStream, streamKey(w.URL))
			delete(byToken, o.ProfileToken)
		}
	}
	for _, ch := range old {
		if byToken[ch.ProfileToken] == ch {
			gone = append(gone, ch)
		}
	}
	return match, gone
}

// streamKey is a stream URI without its credentials, which change with the account.
func streamKey(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	u.User = nil
	return u.String()
}

// ONVIFPatch holds the fields of an ONVIF device to change; nil leaves one as is.
type ONVIFPatch struct {
	Name *string
	// Address, Username and Password, when changed, are checked by probing the camera with
	// them, which also re-reads its profiles; nothing is stored when that fails. A Password of
	// MaskedPassword keeps the stored one.
	Address, Username, Password *string
	// AlwaysOn is set on every channel.
	AlwaysOn *bool
}

// Update changes an ONVIF device.
func (s *ONVIFService) Update(ctx context.Context, id int64, p ONVIFPatch) (*Device, error) {
	d, err := s.onvifDevice(ctx, id)
	if err != nil {
		return nil, err
	}
	if p.Name != nil {
		n := strings.TrimSpace(*p.Name)
		if n == "" {
			return nil, fmt.Errorf("%w: name must not be empty", ErrInvalid)
		}
		d.Name = n
	}
	reprobe := false
	if p.Address != nil {
		u, ui, err := onvif.ParseAddress(*p.Address)
		if err != nil {
			return nil, fmt.Errorf("%w: address: %v", ErrInvalid, err)
		}
		if ui != nil && p.Username == nil {
			d.Username = ui.Username()
			d.Password, _ = ui.Password()
		}
		// The new address is taken as an onboarding would take it (see Create).
		unlock, err := s.lockAddress(ctx, ONVIFAddressKey(u.String()))
		if err != nil {
			return nil, err
		}
		defer unlock()
		if other, err := s.deviceAt(ctx, u.String(), d.ID); err != nil {
			return nil, err
		} else if other != nil {
			return nil, alreadyAdded(u.String(), other)
		}
		reprobe = reprobe || u.String() != d.XAddr
		d.XAddr = u.String()
	}
	if p.Username != nil && strings.TrimSpace(*p.Username) != d.Username {
		d.Username, reprobe = strings.TrimSpace(*p.Username), true
	}
	if p.Password != nil && *p.Password != MaskedPassword && *p.Password != d.Password {
		d.Password, reprobe = *p.Password, true
	}
	if reprobe {
		if _, err := s.resync(ctx, d); err != nil {
			return nil, err
		}
	} else if err := s.Store.SyncONVIFDevice(ctx, d, nil, nil, nil); err != nil {
		return nil, s.addressConflict(ctx, d, err)
	}
	if p.AlwaysOn != nil {
		chans, err := s.Store.Channels(ctx, d.ID)
		if err != nil {
			return nil, err
		}
		for _, ch := range chans {
			if ch.AlwaysOn == *p.AlwaysOn {
				continue
			}
			ch.AlwaysOn = *p.AlwaysOn
			if err := s.Store.UpdateChannel(ctx, ch); err != nil {
				return nil, err
			}
			s.Media.SetChannel(ch)
		}
	}
	return d, nil
}

// onvifDevice returns the device with this ID, which must be an ONVIF device.
func (s *ONVIFService) onvifDevice(ctx context.Context, id int64) (*Device, error) {
	d, err := s.Store.Device(ctx, id)
	if err != nil {
		return nil, err
	}
	if d.Type != TypeONVIF {
		return nil, fmt.Errorf("%w: device %d is not an ONVIF device", ErrInvalid, id)
	}
	return d, nil
}

// onvifChannel returns a channel of an ONVIF device, and the device.
func (s *ONVIFService) onvifChannel(ctx context.Context, id int64) (*Channel, *Device, error) {
	ch, err := s.Store.Channel(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	d, err := s.Store.Device(ctx, ch.DeviceID)
	if err != nil {
		return nil, nil, err
	}
	if d.Type != TypeONVIF || ch.ProfileToken == "" {
		return nil, nil, fmt.Errorf("%w: channel %d is not a channel of an ONVIF device", ErrInvalid, id)
	}
	return ch, d, nil
}

// deviceAt returns the ONVIF device other than the one with ID except whose device service is
// at the same host and port as xaddr, or nil.
func (s *ONVIFService) deviceAt(ctx context.Context, xaddr string, except int64) (*Device, error) {
	key := ONVIFAddressKey(xaddr)
	devs, _, err := s.Store.ListDevices(ctx, ListOptions{Type: TypeONVIF})
	if err != nil {
		return nil, err
	}
	for _, d := range devs {
		if key != "" && d.ID != except && ONVIFAddressKey(d.XAddr) == key {
			return d, nil
		}
	}
	return nil, nil
}

// alreadyAdded is the error for an address that device d has.
func alreadyAdded(xaddr string, d *Device) error {
	return &AlreadyAddedError{Address: ONVIFAddressKey(xaddr), DeviceID: d.ID, DeviceName: d.Name}
}

// addressConflict explains an ErrConflict of the store about device d: another device has its
// address (one added since deviceAt looked, by another nvr process sharing the database, or
// before this check existed). Other errors, and conflicts of another kind (a profile token),
// are returned as they are.
func (s *ONVIFService) addressConflict(ctx context.Context, d *Device, err error) error {
	if !errors.Is(err, ErrConflict) {
		return err
	}
	other, lerr := s.deviceAt(ctx, d.XAddr, d.ID)
	switch {
	case lerr != nil:
		return errors.Join(err, lerr)
	case other != nil:
		s.log.Info("camera already added", "xaddr", d.XAddr, "device_id", other.ID)
		return alreadyAdded(d.XAddr, other)
	default:
		return err
	}
}

// lockAddress waits until no other Create or change of address works on the device service
// address key in this process, and marks it busy until unlock is called. A request that ends
// while it waits gets its context's error.
func (s *ONVIFService) lockAddress(ctx context.Context, key string) (unlock func(), err error) {
	for {
		s.mu.Lock()
		busy, ok := s.busy[key]
		if !ok {
			done := make(chan struct{})
			s.busy[key] = done
			s.mu.Unlock()
			return func() {
				s.mu.Lock()
				delete(s.busy, key)
				s.mu.Unlock()
				close(done)
			}, nil
		}
		s.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return nil, onvifError(ctx.Err())
		}
	}
}

// ONVIFAddressKey is what two addresses of one ONVIF device service have in common: the host,
// lower case, and the port, explicit ("192.0.2.10:80" for "192.0.2.10",
// "http://192.0.2.10/onvif/device_service" and "HTTP://192.0.2.10:80/x"). It is "" for an
// address that does not parse. A camera is added once per key; the store keeps the key of each
// ONVIF device unique.
func ONVIFAddressKey(raw string) string {
	u, _, err := onvif.ParseAddress(raw)
	if err != nil {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// clientOptions are the options of every ONVIF client and probe.
func (s *ONVIFService) clientOptions(deviceID int64) []onvif.Option {
	log := s.Logger // the client adds component=onvif itself
	if deviceID != 0 {
		log = log.With("device_id", deviceID)
	}
	return []onvif.Option{onvif.WithTimeout(s.Timeout), onvif.WithLogger(log)}
}

// client returns the device's client, made anew when its address or account changed. It
// starts with the stored clock offset; a refused request measures it again.
func (s *ONVIFService) client(d *Device) (*onvif.Client, error) {
	key := d.XAddr + "\x00" + d.Username + "\x00" + d.Password
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cams[d.ID]
	if c == nil {
		c = &camera{online: d.Online}
		s.cams[d.ID] = c
	}
	if c.client != nil && c.key == key {
		return c.client, nil
	}
	cl, err := onvif.NewClient(d.XAddr, append(s.clientOptions(d.ID), onvif.WithCredentials(d.Username, d.Password))...)
	if err != nil {
		return nil, fmt.Errorf("%w: device %d: %v", ErrInvalid, d.ID, err)
	}
	cl.SetClockOffset(d.ClockOffset)
	if c.client != nil {
		c.client.Close()
	}
	c.client, c.key = cl, key
	return cl, nil
}

// onvifError turns an error of package onvif into one of the service's errors, keeping its
// text. A cancelled request, and an error of ours (ErrInvalid, ErrNotFound…), stay as they are.
func onvifError(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, ErrInvalid) || errors.Is(err, ErrNotFound) ||
		errors.Is(err, ErrONVIFUnsupported) {
		return err
	}
	var sentinel error
	switch {
	case errors.Is(err, onvif.ErrUnauthorized):
		sentinel = ErrONVIFUnauthorized
	case errors.Is(err, onvif.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		sentinel = ErrONVIFTimeout
	case errors.Is(err, onvif.ErrNotONVIF):
		sentinel = ErrNotONVIF
	case errors.Is(err, onvif.ErrNoService):
		sentinel = ErrONVIFUnsupported
	case unreachable(err):
		sentinel = ErrONVIFUnreachable
	default:
		// SOAP faults, bad replies, HTTP errors, snapshots that are not JPEGs.
		sentinel = ErrONVIFDevice
	}
	return fmt.Errorf("%w: %w", sentinel, err)
}

// unreachable reports whether err is a failure to connect (as opposed to a connection that
// broke or a bad answer).
func unreachable(err error) bool {
	if _, ok := errors.AsType[*net.DNSError](err); ok {
		return true
	}
	if oe, ok := errors.AsType[*net.OpError](err); ok && oe.Op == "dial" {
		return true
	}
	return false
}

// Actions of ONVIFService.PTZ: those of the GB28181 PTZ API, so that one console panel drives
// both. Focus and iris are part of ONVIF Imaging, which is not used yet.
var (
	ptzDirections = map[string][3]float64{ // pan, tilt, zoom signs: right, up and in are positive (ONVIF PTZ §5.3.3)
		"left": {-1, 0, 0}, "right": {1, 0, 0}, "up": {0, 1, 0}, "down": {0, -1, 0},
		"up_left": {-1, 1, 0}, "up_right": {1, 1, 0}, "down_left": {-1, -1, 0}, "down_right": {1, -1, 0},
		"zoom_in": {0, 0, 1}, "zoom_out": {0, 0, -1},
	}
	ptzImaging = []string{"focus_near", "focus_far", "iris_open", "iris_close", "fi_stop"}
)

// defaultPTZSpeed is the speed of a move that names none, on the 0-255 scale of the GB28181
// API: half speed.
const defaultPTZSpeed = 128

// ONVIFPTZ is a PTZ request in the shape of the GB28181 API.
type ONVIFPTZ struct {
	// Action is left, right, up, down, up_left, up_right, down_left, down_right, zoom_in,
	// zoom_out, stop, preset_set, preset_call or preset_delete.
	Action string
	// Speed is 0-255 (nil: 128), mapped onto the generic velocity space -1..1.
	Speed *int
	// Preset is the preset's ID as Presets lists it, for the preset actions.
	Preset *int
}

// PTZ moves, zooms or stops an ONVIF channel's camera (ContinuousMove, Stop), or sets, calls or
// removes a preset. preset_set with an ID the camera has overwrites that preset; with another
// ID it creates a new preset whose ID the camera chooses (see Presets).
func (s *ONVIFService) PTZ(ctx context.Context, channelID int64, r ONVIFPTZ) error {
	action := strings.ToLower(strings.TrimSpace(r.Action))
	speed := defaultPTZSpeed
	if r.Speed != nil {
		speed = *r.Speed
	}
	if speed < 0 || speed > 255 {
		return fmt.Errorf("%w: speed %d is not within 0-255", ErrInvalid, speed)
	}
	dir, move := ptzDirections[action]
	switch {
	case move, action == "stop":
	case action == "preset_set" || action == "preset_call" || action == "preset_delete":
		if r.Preset == nil || *r.Preset < 1 || *r.Preset > 255 {
			return fmt.Errorf("%w: %s needs a preset within 1-255", ErrInvalid, action)
		}
	case slices.Contains(ptzImaging, action):
		return fmt.Errorf("%w: %s: focus and iris are not supported on ONVIF channels", ErrONVIFUnsupported, action)
	default:
		return fmt.Errorf("%w: action %q is not one of left, right, up, down, up_left, up_right, down_left, down_right, zoom_in, zoom_out, stop, preset_set, preset_call, preset_delete", ErrInvalid, r.Action)
	}
	ch, c, err := s.ptzChannel(ctx, channelID)
	if err != nil {
		return err
	}
	log := s.log.With("device_id", ch.DeviceID, "channel_id", ch.ID)
	switch {
	case move:
		v := float64(speed) / 255
		err = c.ContinuousMove(ctx, ch.ProfileToken, onvif.Velocity{Pan: dir[0] * v, Tilt: dir[1] * v, Zoom: dir[2] * v}, 0)
	case action == "stop":
		err = c.Stop(ctx, ch.ProfileToken)
	default:
		err = s.presetAction(ctx, c, ch, action, *r.Preset)
	}
	if err != nil {
		log.Debug("ptz failed", "action", action, "error", err)
		return onvifError(err)
	}
	log.Debug("ptz", "action", action, "speed", speed)
	return nil
}

func (s *ONVIFService) presetAction(ctx context.Context, c *onvif.Client, ch *Channel, action string, id int) error {
	ps, err := c.GetPresets(ctx, ch.ProfileToken)
	if err != nil {
		return err
	}
	token := ""
	for _, p := range presetIDs(ps) {
		if p.ID == id {
			token = p.Token
		}
	}
	switch action {
	case "preset_set":
		_, err = c.SetPreset(ctx, ch.ProfileToken, "", token)
		return err
	case "preset_call":
		if token == "" {
			return fmt.Errorf("%w: the camera has no preset %d", ErrInvalid, id)
		}
		return c.GotoPreset(ctx, ch.ProfileToken, token, nil)
	default:
		if token == "" {
			return fmt.Errorf("%w: the camera has no preset %d", ErrInvalid, id)
		}
		return c.RemovePreset(ctx, ch.ProfileToken, token)
	}
}

// ONVIFPreset is a PTZ preset of an ONVIF channel.
type ONVIFPreset struct {
	// ID is the preset's number in the PTZ API: the token when every token is a number (as on
	// most cameras), else the position in the camera's list, from 1.
	ID    int
	Token string
	Name  string
}

// Presets lists the PTZ presets of an ONVIF channel.
func (s *ONVIFService) Presets(ctx context.Context, channelID int64) ([]ONVIFPreset, error) {
	ch, c, err := s.ptzChannel(ctx, channelID)
	if err != nil {
		return nil, err
	}
	ps, err := c.GetPresets(ctx, ch.ProfileToken)
	if err != nil {
		return nil, onvifError(err)
	}
	return presetIDs(ps), nil
}

// presetIDs numbers presets for the API (see ONVIFPreset.ID).
func presetIDs(ps []onvif.Preset) []ONVIFPreset {
	out := make([]ONVIFPreset, len(ps))
	numeric := true
	for i, p := range ps {
		n, err := strconv.Atoi(p.Token)
		numeric = numeric && err == nil && n > 0
		out[i] = ONVIFPreset{ID: n, Token: p.Token, Name: p.Name}
	}
	if !numeric {
		for i := range out {
			out[i].ID = i + 1
		}
	}
	return out
}

// ptzChannel returns an ONVIF channel with PTZ and its device's client.
func (s *ONVIFService) ptzChannel(ctx context.Context, channelID int64) (*Channel, *onvif.Client, error) {
	ch, d, err := s.onvifChannel(ctx, channelID)
	if err != nil {
		return nil, nil, err
	}
	if !ch.PTZ {
		return nil, nil, fmt.Errorf("%w: channel %d has no PTZ", ErrONVIFUnsupported, channelID)
	}
	c, err := s.client(d)
	if err != nil {
		return nil, nil, err
	}
	return ch, c, nil
}

// Snapshot returns a JPEG of an ONVIF channel, fetched from the camera's snapshot URI with the
// device's account (HTTP basic or digest). A snapshot is served again for SnapshotTTL, and
// requests that arrive while one is fetched wait for it instead of fetching their own. The
// channel is read from the store every time, so that a deleted channel or a changed account
// or URI is never answered from memory.
func (s *ONVIFService) Snapshot(ctx context.Context, channelID int64) ([]byte, error) {
	ch, d, err := s.onvifChannel(ctx, channelID)
	if err != nil {
		return nil, err
	}
	if ch.SnapshotURI == "" {
		return nil, fmt.Errorf("%w: channel %d has no snapshot URI", ErrONVIFUnsupported, channelID)
	}
	key := ch.SnapshotURI + "\x00" + d.Username + "\x00" + d.Password
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, context.Canceled
	}
	e := s.snaps[channelID]
	if e == nil || e.key != key || e.finished() && (e.err != nil || time.Since(e.at) >= s.SnapshotTTL) {
		e = &snapshot{key: key, done: make(chan struct{})}
		s.snaps[channelID] = e
		s.wg.Go(func() { s.fetchSnapshot(ch, d, e) })
	}
	s.mu.Unlock()
	select {
	case <-e.done:
		return e.data, e.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fetchSnapshot fills e. It runs on the service's context, not the first request's: the
// requests waiting for it must not fail because that one gave up.
func (s *ONVIFService) fetchSnapshot(ch *Channel, d *Device, e *snapshot) {
	defer close(e.done)
	ctx, cancel := context.WithTimeout(s.ctx, s.Timeout)
	defer cancel()
	c, err := s.client(d)
	if err == nil {
		e.data, err = c.Snapshot(ctx, ch.SnapshotURI)
		err = onvifError(err)
	}
	e.err, e.at = err, time.Now()
	if err != nil {
		s.log.Debug("snapshot failed", "device_id", d.ID, "channel_id", ch.ID, "error", err)
	}
}

// pollLoop checks every camera's reachability each PollInterval.
func (s *ONVIFService) pollLoop() {
	t := time.NewTicker(s.PollInterval)
	defer t.Stop()
	for {
		s.pollAll(s.ctx)
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pollAll polls every ONVIF device, a few at a time, and forgets what it kept about devices
// that are gone.
func (s *ONVIFService) pollAll(ctx context.Context) {
	devs, _, err := s.Store.ListDevices(ctx, ListOptions{Type: TypeONVIF})
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("listing ONVIF devices to poll", "error", err)
		}
		return
	}
	s.forget(devs)
	sem := make(chan struct{}, pollWorkers)
	var wg sync.WaitGroup
	for _, d := range devs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Go(func() {
			defer func() { <-sem }()
			s.poll(ctx, d)
		})
	}
	wg.Wait()
}

// forget drops the clients of deleted devices and the finished snapshots past their TTL.
func (s *ONVIFService) forget(devs []*Device) {
	keep := map[int64]bool{}
	for _, d := range devs {
		keep[d.ID] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, c := range s.cams {
		if !keep[id] {
			if c.client != nil {
				c.client.Close()
			}
			delete(s.cams, id)
		}
	}
	for id, e := range s.snaps {
		if e.finished() && time.Since(e.at) >= s.SnapshotTTL {
			delete(s.snaps, id)
		}
	}
}

// poll asks one camera for its clock, which also keeps the clock offset its tokens are signed
// with up to date, and writes online and channel status when they change.
func (s *ONVIFService) poll(ctx context.Context, d *Device) {
	c, err := s.client(d)
	if err != nil {
		s.log.Warn("device not polled", "device_id", d.ID, "error", err)
		return
	}
	pctx, cancel := context.WithTimeout(ctx, min(s.Timeout, s.PollInterval))
	offset, err := c.SyncClock(pctx)
	cancel()
	if ctx.Err() != nil {
		return
	}
	s.mu.Lock()
	cam := s.cams[d.ID]
	if cam == nil { // deleted meanwhile
		s.mu.Unlock()
		return
	}
	was := cam.online
	if err == nil {
		cam.fails, cam.online = 0, true
	} else {
		cam.fails++
		if cam.fails >= s.PollMisses {
			cam.online = false
		}
	}
	now, fails := cam.online, cam.fails
	s.mu.Unlock()

	log := s.log.With("device_id", d.ID)
	if err == nil {
		if err := s.Store.TouchKeepalive(ctx, d.ID, time.Now()); err != nil {
			log.Debug("poll not stored", "error", err)
		}
		if (offset - d.ClockOffset).Abs() > clockTolerance {
			if err := s.Store.SetClockOffset(ctx, d.ID, offset); err != nil {
				log.Debug("clock offset not stored", "error", err)
			}
		}
	} else {
		log.Debug("poll failed", "error", err, "fails", fails)
	}
	if was == now {
		return
	}
	status := ChannelOff
	if now {
		status = ChannelOn
		log.Info("device online")
	} else {
		log.Warn("device offline", "error", onvifError(err))
		if err := s.Store.SetDeviceOnline(ctx, d.ID, false); err != nil {
			log.Warn("device state not stored", "error", err)
		}
	}
	if err := s.Store.SetChannelsStatus(ctx, d.ID, nil, status); err != nil {
		log.Warn("channel status not stored", "error", err)
	}
}

// DiscoveredCamera is a camera that answered a WS-Discovery probe.
type DiscoveredCamera struct {
	// Endpoint is the camera's stable WS-Addressing address, usually "urn:uuid:…".
	Endpoint string
	// XAddrs are its device service URLs.
	XAddrs []string
	// Name, Hardware and Location come from its ONVIF scopes.
	Name, Hardware, Location string
	// From is the address ("ip:port") the answer came from.
	From string
	// DeviceID is the ID of the device already added at one of XAddrs' hosts; 0 when none is.
	DeviceID int64
	// LastSeen is when it last answered.
	LastSeen time.Time
}

// DiscoverRequest says where Discover sends WS-Discovery probes.
type DiscoverRequest struct {
	// Interfaces get a multicast probe; Addresses ("host" or "host:port", port 3702 by default)
	// a unicast one. Both empty means every multicast interface.
	Interfaces, Addresses []string
	// Timeout is how long answers are collected: at most MaxDiscoverTimeout, and
	// onvif.DefaultDiscoverTimeout when zero.
	Timeout time.Duration
}

// Discover sends WS-Discovery probes, collects the answers and says which cameras are added.
func (s *ONVIFService) Discover(ctx context.Context, r DiscoverRequest) ([]DiscoveredCamera, error) {
	if r.Timeout < 0 || r.Timeout > MaxDiscoverTimeout {
		return nil, fmt.Errorf("%w: timeout must be within 0-%s", ErrInvalid, MaxDiscoverTimeout)
	}
	found, err := onvif.Discover(ctx, onvif.DiscoverOptions{
		Interfaces: r.Interfaces, Addresses: r.Addresses, Timeout: r.Timeout, Logger: s.Logger,
	})
	if err != nil && len(found) == 0 {
		if ctx.Err() != nil {
			return nil, err
		}
		// No probe could be sent: unknown interfaces, unresolvable addresses.
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	out := s.remember(found)
	if err := s.markAdded(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Discovered lists the cameras found by the discoveries of the last three
// DiscoveryIntervals (or ten minutes without background discovery), newest answer first.
func (s *ONVIFService) Discovered(ctx context.Context) ([]DiscoveredCamera, error) {
	keep := 10 * time.Minute
	if s.DiscoveryInterval > 0 {
		keep = 3 * s.DiscoveryInterval
	}
	s.mu.Lock()
	var out []DiscoveredCamera
	for k, c := range s.found {
		if time.Since(c.LastSeen) > keep {
			delete(s.found, k)
			continue
		}
		out = append(out, c)
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b DiscoveredCamera) int {
		return cmp.Or(b.LastSeen.Compare(a.LastSeen), strings.Compare(a.Endpoint, b.Endpoint))
	})
	if err := s.markAdded(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// remember converts and keeps what a discovery found.
func (s *ONVIFService) remember(found []onvif.Discovered) []DiscoveredCamera {
	now := time.Now()
	out := make([]DiscoveredCamera, 0, len(found))
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range found {
		c := DiscoveredCamera{Endpoint: f.EndpointRef, XAddrs: f.XAddrs, Name: f.Name, Hardware: f.Hardware,
			Location: f.Location, From: f.From, LastSeen: now}
		key := c.Endpoint
		if key == "" && len(c.XAddrs) > 0 {
			key = "xaddr:" + c.XAddrs[0]
		}
		if _, known := s.found[key]; !known {
			s.log.Info("camera discovered", "endpoint", c.Endpoint, "xaddrs", c.XAddrs, "name", c.Name, "from", c.From)
		}
		s.found[key] = c
		out = append(out, c)
	}
	return out
}

// markAdded sets the DeviceID of the cameras that are already added.
func (s *ONVIFService) markAdded(ctx context.Context, cams []DiscoveredCamera) error {
	if len(cams) == 0 {
		return nil
	}
	devs, _, err := s.Store.ListDevices(ctx, ListOptions{Type: TypeONVIF})
	if err != nil {
		return err
	}
	byKey := map[string]int64{}
	for _, d := range devs {
		if k := ONVIFAddressKey(d.XAddr); k != "" {
			byKey[k] = d.ID
		}
	}
	for i := range cams {
		cams[i].DeviceID = 0
		for _, x := range cams[i].XAddrs {
			if id := byKey[ONVIFAddressKey(x)]; id != 0 {
				cams[i].DeviceID = id
				break
			}
		}
	}
	return nil
}

// discoveryLoop runs a discovery each DiscoveryInterval.
func (s *ONVIFService) discoveryLoop() {
	t := time.NewTicker(s.DiscoveryInterval)
	defer t.Stop()
	for {
		found, err := onvif.Discover(s.ctx, onvif.DiscoverOptions{
			Interfaces: s.DiscoveryInterfaces, Timeout: s.DiscoveryTimeout, Logger: s.Logger,
		})
		if err != nil && s.ctx.Err() == nil {
			s.log.Warn("background discovery", "error", err)
		}
		s.remember(found)
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
	}
}
