// Package gbsim simulates GB/T 28181 devices for tests and load runs: a
// Device registers with digest authentication over UDP or TCP, refreshes
// its registration before it expires, sends Keepalive MESSAGEs, answers the
// platform's requests with 200 and records them, and unregisters. Many
// devices can run in one process, each with its own ID and local port.
//
// It answers the platform's queries as a camera or NVR does: Catalog (N
// channels split over several MESSAGEs, GB2312 Chinese names), DeviceInfo,
// DeviceStatus, RecordInfo (synthetic recordings for the range asked),
// PresetQuery and ConfigDownload; it records the DeviceControl commands it
// receives (PTZCmd decoded with sip/ptz); it accepts SUBSCRIBE and sends
// catalog NOTIFYs when told, and Alarm, MobilePosition and MediaStatus
// notifications.
//
// It answers the platform's INVITEs for its channels (live, playback,
// download; UDP, TCP passive and active media), starts their media through
// the Media interface it declares (the simulator imports no media package),
// follows MANSRTSP playback control in INFO, answers and sends BYE, and at
// the end of a playback sends MediaStatus 121 and then BYE, as devices do.
// Calls records what each call saw.
//
// It is a real SIP peer with its own small parser and transactions, not
// gosip, and it writes its bodies from templates as device firmware does,
// not with sip/manscdp's encoder: the platform is checked the way a
// camera's own stack would check it. Quirks reproduce what real devices do
// (a private address in Via behind NAT, no qop support, UTF-8 bodies under
// a GB2312 prolog, wrong type digits, duplicated, reordered, missing or
// slow response parts, queries never answered).
package gbsim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nvr/nvr/sip/digest"
	"github.com/nvr/nvr/sip/manscdp"
)

// Defaults of a simulated device.
const (
	DefaultPlatformID = "34020000002000000001"
	DefaultDomain     = "3402000000"
	DefaultExpires    = time.Hour
	DefaultTimeout    = 5 * time.Second
)

// Retransmission timers of UDP client transactions (RFC 3261 §17.1.2.2).
const (
	timerT1 = 500 * time.Millisecond
	timerT2 = 4 * time.Second
)

// Config describes one simulated device.
type Config struct {
	// DeviceID is the device's 20-digit ID.
	DeviceID string
	// Password answers digest challenges.
	Password string
	// Server is the platform's address, "host:port".
	Server string
	// PlatformID and Domain address the platform. Defaults DefaultPlatformID
	// and DefaultDomain.
	PlatformID string
	Domain     string
	// Transport is "udp" (default) or "tcp".
	Transport string
	// LocalAddr is the local address to bind, default "127.0.0.1:0".
	LocalAddr string
	// Expires is the registration lifetime asked for. Default 1 h.
	Expires time.Duration
	// Keepalive is the interval of Keepalive MESSAGEs sent by Start; 0
	// sends none.
	Keepalive time.Duration
	// Timeout bounds one transaction when the context has no earlier
	// deadline. Default 5 s.
	Timeout time.Duration
	// UserAgent, default "gbsim".
	UserAgent string
	// Quirks reproduce real devices' behaviour.
	Quirks Quirks

	// Name, Manufacturer, Model and Firmware answer DeviceInfo. Defaults
	// "模拟设备" and the ID's serial, "gbsim", "GBSIM-IPC" (or "GBSIM-NVR"
	// with more than one channel), "V1.0.0".
	Name, Manufacturer, Model, Firmware string
	// Channels is the number of video channels in the catalog. Default 1;
	// negative for none.
	Channels int
	// PerMessage is the number of items per Catalog or RecordInfo response
	// MESSAGE. Default 10.
	PerMessage int
	// Tree puts a civil area, a business group (type 215) and a virtual
	// organisation (type 216) in the catalog, with the channels under the
	// virtual organisation.
	Tree bool
	// Presets answer PresetQuery (for every channel). Default three
	// presets with Chinese names. PTZ preset set and delete change them.
	Presets []manscdp.Preset
	// RecordSpan is the length of each synthetic recording RecordInfo
	// reports. Default 30 minutes.
	RecordSpan time.Duration
	// Location is the time zone of the device's clock, in which MANSCDP
	// times are written and read. Default time.Local.
	Location *time.Location
	// Media starts the media of calls; nil answers INVITEs with
	// DefaultMediaPort and sends nothing.
	Media Media
	// MediaIP is the address of the SDP answers (o= and c=). Default: the
	// host of the local SIP address.
	MediaIP string
	// Logger, tagged component=gbsim and device_id.
	Logger *slog.Logger
}

// Quirks are device behaviours the platform must cope with.
type Quirks struct {
	// ViaHost ("host:port") is written in Via and Contact instead of the
	// real local address, as a device behind NAT does. Nothing is ever sent
	// there.
	ViaHost string
	// NoRport leaves ;rport out of Via (RFC 3581 not supported).
	NoRport bool
	// NoQop answers challenges in the RFC 2069 form even when qop=auth is
	// offered.
	NoQop bool
	// MessageStatus answers the platform's MESSAGEs with this status
	// instead of 200 (they are still recorded).
	MessageStatus int

	// UTF8 writes bodies in UTF-8 instead of GB2312 (many Dahua and
	// Uniview firmwares).
	UTF8 bool
	// WrongProlog declares the other charset in the XML prolog than the
	// one the body is written in (Dahua: UTF-8 under encoding="GB2312").
	WrongProlog bool
	// WrongTypeDigits gives the channels type digits 000 in their IDs
	// instead of 131.
	WrongTypeDigits bool
	// NoAnswer answers the platform's MESSAGEs 200 but never sends the
	// response of a query, like firmware that does not implement it.
	NoAnswer bool
	// DuplicatePart sends this part (1-based) of every multi-part response
	// (Catalog, RecordInfo) twice in a row.
	DuplicatePart int
	// SwapParts exchanges the sending order of these pairs of parts
	// (1-based).
	SwapParts [][2]int
	// DropParts are never sent (1-based).
	DropParts []int
	// PartDelay is waited before each part after the first.
	PartDelay time.Duration

	// OwnSSRC answers INVITEs with an SSRC of the device's own instead of
	// the offer's (Hikvision, Kedacom); its media carries that SSRC.
	OwnSSRC bool
	// ZeroSSRC answers y=0000000000 (some Dahua); its media's SSRC is 0.
	ZeroSSRC bool
	// SilentChannels are channel IDs whose INVITEs get no answer at all,
	// not even 100 Trying (a channel offline behind an NVR). A CANCEL is
	// still answered (200, then 487 to the INVITE).
	SilentChannels []string
	// InviteStatus answers INVITEs with this final status instead of 200
	// (486 Busy Here, 488…).
	InviteStatus int
	// InviteDelay is waited, after 100 Trying, before answering an INVITE.
	InviteDelay time.Duration
	// IgnoreCancel answers CANCEL 481 and answers the INVITE anyway, as
	// a device whose 200 crossed the CANCEL does.
	IgnoreCancel bool
	// DropACKs ignores the first N ACKs of each call as if they were lost:
	// over UDP the 200 is retransmitted until one is taken.
	DropACKs int
	// MediaStatusOutOfDialog sends the MediaStatus 121 that ends a
	// playback with a Call-ID of its own instead of the INVITE's.
	MediaStatusOutOfDialog bool
	// NoByeAtEnd: after the MediaStatus 121 the device sends no BYE and
	// waits for the platform's.
	NoByeAtEnd bool
}

// StatusError is a non-2xx final response from the platform.
type StatusError struct {
	Code   int
	Reason string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("gbsim: platform answered %d %s", e.Code, e.Reason)
}

// ErrTimeout is returned when the platform sent no final response in time.
var ErrTimeout = errors.New("gbsim: no response from the platform")

// RegisterResult describes one registration exchange.
type RegisterResult struct {
	// Statuses lists the final statuses received, in order (e.g. 401, 200).
	Statuses []int
	// Expires is the lifetime the platform granted (its Expires header).
	Expires time.Duration
	// Date is the 200's Date header, as sent.
	Date string
}

// Incoming is a request the platform sent to the device.
type Incoming struct {
	Method      string
	ContentType string
	Body        []byte
	From        string // user part of From (the platform ID)
	RemoteAddr  string
	At          time.Time
	// Event and Expires are the headers of a SUBSCRIBE ("" when absent);
	// CallID is the request's Call-ID.
	Event, Expires, CallID string
	// URI is the Request-URI; Subject the INVITE's Subject header.
	URI, Subject string
}

// Stats count what a device did.
type Stats struct {
	Registrations     uint64
	RegisterFailures  uint64
	Keepalives        uint64
	KeepaliveFailures uint64
}

// Device is one simulated device. Create it with New; Close it.
type Device struct {
	cfg    Config
	log    *slog.Logger
	client digest.Client
	link   link
	via    string // sent-by written in Via and Contact

	callID  string // of REGISTERs (RFC 3261 §10.2: the same for refreshes)
	fromTag string
	toTag   string
	cseq    atomic.Uint32
	sn      atomic.Uint32
	nc      atomic.Uint32
	silent  atomic.Bool

	mu       sync.Mutex
	pending  map[string]chan *message // client transactions by branch
	answered map[string]answered      // server transactions by branch, for retransmissions
	received []Incoming
	controls []Control
	notify   chan struct{} // closed and replaced when a request or control is recorded
	granted  time.Duration
	quirks   Quirks
	catalog  []manscdp.CatalogItem
	presets  []manscdp.Preset
	subs     map[string]*subscription // by event package, lower case
	calls    map[string]*call         // by Call-ID, ended ones included (see pruneCalls)
	invites  map[string]*call         // by the INVITE's branch
	guard    bool
	rec      bool

	stats struct {
		registrations, registerFailures, keepalives, keepaliveFailures atomic.Uint64
	}

	stop      chan struct{}
	ctx       context.Context // ends at Close, for answers in flight
	cancel    context.CancelFunc
	started   atomic.Bool
	closeOnce sync.Once
	wg        sync.WaitGroup
}

type answered struct {
	res []byte
	at  time.Time
}

// New binds the device's socket (or connects over TCP) and starts reading.
// It does not register.
func New(cfg Config) (*Device, error) {
	if cfg.PlatformID == "" {
		cfg.PlatformID = DefaultPlatformID
	}
	if cfg.Domain == "" {
		cfg.Domain = DefaultDomain
	}
	if cfg.Transport == "" {
		cfg.Transport = "udp"
	}
	cfg.Transport = strings.ToLower(cfg.Transport)
	if cfg.LocalAddr == "" {
		cfg.LocalAddr = "127.0.0.1:0"
	}
	if cfg.Expires == 0 {
		cfg.Expires = DefaultExpires
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "gbsim"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	applyContentDefaults(&cfg)
	d := &Device{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "gbsim", "device_id", cfg.DeviceID),
		client:   digest.Client{Username: cfg.DeviceID, Password: cfg.Password, NoQop: cfg.Quirks.NoQop},
		callID:   randHex(8) + "@gbsim",
		fromTag:  randHex(4),
		toTag:    randHex(4),
		pending:  map[string]chan *message{},
		answered: map[string]answered{},
		notify:   make(chan struct{}),
		stop:     make(chan struct{}),
		quirks:   cfg.Quirks,
		presets:  append([]manscdp.Preset(nil), cfg.Presets...),
		subs:     map[string]*subscription{},
		calls:    map[string]*call{},
		invites:  map[string]*call{},
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.catalog = d.buildCatalog()
	d.cseq.Store(1)
	var err error
	switch cfg.Transport {
	case "udp":
		d.link, err = dialUDP(cfg.LocalAddr, cfg.Server, d.receive)
	case "tcp":
		d.link, err = dialTCP(cfg.LocalAddr, cfg.Server, cfg.Timeout, d.receive)
	default:
		err = fmt.Errorf("gbsim: transport %q not supported", cfg.Transport)
	}
	if err != nil {
		d.cancel()
		return nil, err
	}
	d.via = d.link.localAddr()
	if d.cfg.MediaIP == "" {
		d.cfg.MediaIP, _, _ = net.SplitHostPort(d.link.localAddr())
	}
	if cfg.Quirks.ViaHost != "" {
		d.via = cfg.Quirks.ViaHost
	}
	d.link.start()
	return d, nil
}

// ID returns the device ID.
func (d *Device) ID() string { return d.cfg.DeviceID }

// LocalAddr returns the real local address ("ip:port"), the one the
// platform should see as the source.
func (d *Device) LocalAddr() string { return d.link.localAddr() }

// SetSilent makes the device stop (true) or resume (false) answering the
// platform's requests, like a device that hung.
func (d *Device) SetSilent(silent bool) { d.silent.Store(silent) }

// SetQuirks replaces the quirks while the device runs. ViaHost and NoQop
// take effect only at New.
func (d *Device) SetQuirks(q Quirks) {
	d.mu.Lock()
	d.quirks = q
	d.mu.Unlock()
}

// Quirks returns the quirks in effect.
func (d *Device) Quirks() Quirks {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.quirks
}

// Close stops background work and closes the socket. It does not
// unregister.
func (d *Device) Close() error {
	d.closeOnce.Do(func() {
		close(d.stop)
		d.cancel()
		d.link.close()
		d.wg.Wait()
		d.closeCalls()
	})
	return nil
}

// Stats returns the device's counters.
func (d *Device) Stats() Stats {
	return Stats{
		Registrations:     d.stats.registrations.Load(),
		RegisterFailures:  d.stats.registerFailures.Load(),
		Keepalives:        d.stats.keepalives.Load(),
		KeepaliveFailures: d.stats.keepaliveFailures.Load(),
	}
}

// Register registers the device, answering a digest challenge.
func (d *Device) Register(ctx context.Context) (RegisterResult, error) {
	res, err := d.register(ctx, d.cfg.Expires)
	if err != nil {
		d.stats.registerFailures.Add(1)
		return res, err
	}
	d.stats.registrations.Add(1)
	d.mu.Lock()
	d.granted = res.Expires
	d.mu.Unlock()
	return res, nil
}

// Unregister sends a REGISTER with Expires: 0.
func (d *Device) Unregister(ctx context.Context) (RegisterResult, error) {
	return d.register(ctx, 0)
}

func (d *Device) register(ctx context.Context, expires time.Duration) (RegisterResult, error) {
	var res RegisterResult
	var auth string
	for range 3 { // no auth, then an answer, then one more after stale=true
		cseq := d.cseq.Add(1)
		resp, err := d.transact(ctx, func(branch string) []byte {
			return d.buildRegister(branch, cseq, expires, auth)
		})
		if err != nil {
			return res, err
		}
		res.Statuses = append(res.Statuses, resp.code)
		switch resp.code {
		case 200:
			res.Date = resp.get("Date")
			res.Expires = expires
			if v, err := strconv.Atoi(resp.get("Expires")); err == nil {
				res.Expires = time.Duration(v) * time.Second
			}
			return res, nil
		case 401, 407:
			h := resp.get("WWW-Authenticate")
			if resp.code == 407 {
				h = resp.get("Proxy-Authenticate")
			}
			ch, err := digest.ParseChallenge(h)
			if err != nil {
				return res, fmt.Errorf("gbsim: bad challenge %q: %w", h, err)
			}
			if auth != "" && !ch.Stale {
				return res, &StatusError{Code: resp.code, Reason: resp.reason}
			}
			a, err := d.client.Authorize(ch, "REGISTER", d.registerURI(), d.nc.Add(1), randHex(8))
			if err != nil {
				return res, err
			}
			auth = a.String()
		default:
			return res, &StatusError{Code: resp.code, Reason: resp.reason}
		}
	}
	return res, &StatusError{Code: 401, Reason: "challenged again"}
}

func (d *Device) registerURI() string {
	return "sip:" + d.cfg.PlatformID + "@" + d.cfg.Domain
}

// viaLine returns the Via header value for a new request.
func (d *Device) viaLine(branch string) string {
	rport := ";rport"
	if d.Quirks().NoRport {
		rport = ""
	}
	return fmt.Sprintf("SIP/2.0/%s %s%s;branch=%s", strings.ToUpper(d.cfg.Transport), d.via, rport, branch)
}

func (d *Device) buildRegister(branch string, cseq uint32, expires time.Duration, auth string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "REGISTER %s SIP/2.0\r\n", d.registerURI())
	fmt.Fprintf(&b, "Via: %s\r\n", d.viaLine(branch))
	fmt.Fprintf(&b, "From: <sip:%s@%s>;tag=%s\r\n", d.cfg.DeviceID, d.cfg.Domain, d.fromTag)
	fmt.Fprintf(&b, "To: <sip:%s@%s>\r\n", d.cfg.DeviceID, d.cfg.Domain)
	fmt.Fprintf(&b, "Call-ID: %s\r\n", d.callID)
	fmt.Fprintf(&b, "CSeq: %d REGISTER\r\n", cseq)
	fmt.Fprintf(&b, "Contact: <sip:%s@%s>\r\n", d.cfg.DeviceID, d.via)
	b.WriteString("Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "User-Agent: %s\r\n", d.cfg.UserAgent)
	fmt.Fprintf(&b, "Expires: %d\r\n", int(expires/time.Second))
	if auth != "" {
		fmt.Fprintf(&b, "Authorization: %s\r\n", auth)
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return []byte(b.String())
}

// KeepaliveBody returns the Keepalive notification GB/T 28181 §9.6 defines
// (the codec package is not used here on purpose: the simulator writes what
// devices write).
func KeepaliveBody(deviceID string, sn uint32) []byte {
	return fmt.Appendf(nil, "<?xml version=\"1.0\" encoding=\"GB2312\"?>\r\n"+
		"<Notify>\r\n<CmdType>Keepalive</CmdType>\r\n<SN>%d</SN>\r\n<DeviceID>%s</DeviceID>\r\n<Status>OK</Status>\r\n</Notify>\r\n",
		sn, deviceID)
}

// Keepalive sends one Keepalive MESSAGE and waits for the answer.
func (d *Device) Keepalive(ctx context.Context) error {
	code, err := d.Send(ctx, "MESSAGE", "Application/MANSCDP+xml", KeepaliveBody(d.cfg.DeviceID, d.sn.Add(1)))
	if err == nil && code/100 != 2 {
		err = &StatusError{Code: code}
	}
	if err != nil {
		d.stats.keepaliveFailures.Add(1)
		return err
	}
	d.stats.keepalives.Add(1)
	return nil
}

// Send sends an out-of-dialog request (MESSAGE, NOTIFY…) to the platform
// and returns the final status.
func (d *Device) Send(ctx context.Context, method, contentType string, body []byte) (int, error) {
	resp, err := d.request(ctx, outRequest{method: method, contentType: contentType, body: body})
	if err != nil {
		return 0, err
	}
	return resp.code, nil
}

// outRequest is a request the device sends to the platform.
type outRequest struct {
	method, contentType string
	body                []byte
	// callID, fromTag and toTag place the request in a dialog; empty
	// callID and fromTag make a new out-of-dialog request.
	callID, fromTag, toTag string
	// fromUser is the From user, default the device ID (a call's BYE
	// comes from the channel invited); ruri the Request-URI, default
	// the platform's address of record (in a dialog: its Contact).
	fromUser, ruri string
	headers        []header
}

// request sends r and returns the final response.
func (d *Device) request(ctx context.Context, r outRequest) (*message, error) {
	cseq := d.cseq.Add(1)
	callID, tag := r.callID, r.fromTag
	if callID == "" {
		callID = randHex(8) + "@gbsim"
	}
	if tag == "" {
		tag = randHex(4)
	}
	to := fmt.Sprintf("<sip:%s@%s>", d.cfg.PlatformID, d.cfg.Domain)
	if r.toTag != "" {
		to += ";tag=" + r.toTag
	}
	fromUser, ruri := r.fromUser, r.ruri
	if fromUser == "" {
		fromUser = d.cfg.DeviceID
	}
	if ruri == "" {
		ruri = "sip:" + d.cfg.PlatformID + "@" + d.cfg.Domain
	}
	return d.transact(ctx, func(branch string) []byte {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", r.method, ruri)
		fmt.Fprintf(&b, "Via: %s\r\n", d.viaLine(branch))
		fmt.Fprintf(&b, "From: <sip:%s@%s>;tag=%s\r\n", fromUser, d.cfg.Domain, tag)
		fmt.Fprintf(&b, "To: %s\r\n", to)
		fmt.Fprintf(&b, "Call-ID: %s\r\n", callID)
		fmt.Fprintf(&b, "CSeq: %d %s\r\n", cseq, r.method)
		b.WriteString("Max-Forwards: 70\r\n")
		fmt.Fprintf(&b, "User-Agent: %s\r\n", d.cfg.UserAgent)
		for _, h := range r.headers {
			fmt.Fprintf(&b, "%s: %s\r\n", h.name, h.value)
		}
		if r.contentType != "" {
			fmt.Fprintf(&b, "Content-Type: %s\r\n", r.contentType)
		}
		fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(r.body))
		b.Write(r.body)
		return []byte(b.String())
	})
}

// Start runs the device in the background: it registers (unless already
// registered), refreshes the registration at 4/5 of the granted lifetime,
// and sends Keepalives every Config.Keepalive. Failures are logged, counted
// in Stats and retried. Close stops it.
func (d *Device) Start() {
	if !d.started.CompareAndSwap(false, true) {
		return
	}
	d.wg.Add(1)
	go d.run()
}

func (d *Device) run() {
	defer d.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-d.stop
		cancel()
	}()
	d.mu.Lock()
	granted := d.granted
	d.mu.Unlock()
	refresh := time.NewTimer(0)
	if granted > 0 {
		refresh.Reset(granted * 4 / 5)
	}
	defer refresh.Stop()
	var keepalive <-chan time.Time
	if d.cfg.Keepalive > 0 {
		t := time.NewTicker(d.cfg.Keepalive)
		defer t.Stop()
		keepalive = t.C
	}
	for {
		select {
		case <-d.stop:
			return
		case <-refresh.C:
			res, err := d.Register(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				d.log.Warn("gbsim register failed; retrying", "err", err)
				refresh.Reset(time.Second)
				continue
			}
			refresh.Reset(max(res.Expires*4/5, 100*time.Millisecond))
		case <-keepalive:
			if err := d.Keepalive(ctx); err != nil && ctx.Err() == nil {
				d.log.Warn("gbsim keepalive failed", "err", err)
			}
		}
	}
}

// transact runs a client transaction: it sends the request built for a
// new branch, retransmits it over UDP (Timer A), and returns the final
// response.
func (d *Device) transact(ctx context.Context, build func(branch string) []byte) (*message, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.cfg.Timeout)
		defer cancel()
	}
	branch := "z9hG4bK" + randHex(8)
	ch := make(chan *message, 8)
	d.mu.Lock()
	d.pending[branch] = ch
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(d.pending, branch)
		d.mu.Unlock()
	}()
	req := build(branch)
	if err := d.link.send(req, ""); err != nil {
		return nil, err
	}
	interval := timerT1
	var retransmit <-chan time.Time
	var timer *time.Timer
	if !d.link.reliable() {
		timer = time.NewTimer(interval)
		defer timer.Stop()
		retransmit = timer.C
	}
	for {
		select {
		case res := <-ch:
			if res.code < 200 {
				retransmit = nil // provisional: stop retransmitting, keep waiting
				continue
			}
			return res, nil
		case <-retransmit:
			if err := d.link.send(req, ""); err != nil {
				return nil, err
			}
			interval = min(2*interval, timerT2)
			timer.Reset(interval)
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
		case <-d.stop:
			return nil, net.ErrClosed
		}
	}
}

// receive handles one message from the platform. from is the sender's
// address (UDP) or "" (TCP: answer on the connection).
func (d *Device) receive(data []byte, from string) {
	m, err := parseMessage(data)
	if err != nil {
		if len(strings.TrimSpace(string(data))) > 0 {
			d.log.Warn("gbsim dropped unparsable input", "err", err)
		}
		return
	}
	if m.method == "" {
		d.mu.Lock()
		ch := d.pending[m.branch()]
		d.mu.Unlock()
		if ch != nil {
			select {
			case ch <- m:
			default:
			}
		}
		return
	}
	if d.silent.Load() {
		return
	}
	switch m.method {
	case "ACK":
		d.onAck(m, from)
		return
	case "INVITE":
		d.onInvite(m, from)
		return
	case "CANCEL":
		d.onCancel(m, from)
		return
	}
	key := m.branch() + " " + m.cseqMethod()
	d.mu.Lock()
	if a, ok := d.answered[key]; ok {
		d.mu.Unlock()
		_ = d.link.send(a.res, from) // retransmitted request: same answer
		return
	}
	d.mu.Unlock()

	code, reason := 200, "OK"
	var extra []header
	var body *manscdp.Message
	switch m.method {
	case "INFO":
		d.record(m, from)
		code, reason = d.onInfo(m)
	case "BYE":
		d.record(m, from)
		code, reason = d.onBye(m)
	case "MESSAGE", "NOTIFY":
		d.record(m, from)
		if st := d.Quirks().MessageStatus; st != 0 && m.method == "MESSAGE" {
			code, reason = st, "Quirk"
		}
		if m.method == "MESSAGE" && code == 200 {
			body = d.intake(m.body)
		}
	case "SUBSCRIBE":
		d.record(m, from)
		code, reason, extra = d.onSubscribe(m)
	case "OPTIONS":
	default:
		code, reason = 405, "Method Not Allowed"
	}
	res := m.response(code, reason, d.toTag, extra...)
	now := time.Now()
	d.mu.Lock()
	d.answered[key] = answered{res: res, at: now}
	if len(d.answered) > 256 {
		for k, a := range d.answered {
			if now.Sub(a.at) > 32*time.Second { // Timer J
				delete(d.answered, k)
			}
		}
	}
	d.mu.Unlock()
	if err := d.link.send(res, from); err != nil {
		d.log.Warn("gbsim answer failed", "err", err)
	}
	if body != nil {
		// Answered after the 200, in the background: the answer is a
		// transaction of its own, whose 200 this reader must receive.
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			d.answer(d.ctx, body)
		}()
	}
}

func (d *Device) record(m *message, from string) {
	in := Incoming{
		Method:      m.method,
		ContentType: m.get("Content-Type"),
		Body:        m.body,
		From:        userOf(m.get("From")),
		RemoteAddr:  from,
		At:          time.Now(),
		Event:       m.get("Event"),
		Expires:     m.get("Expires"),
		CallID:      m.get("Call-ID"),
		URI:         m.uri,
		Subject:     m.get("Subject"),
	}
	d.mu.Lock()
	d.received = append(d.received, in)
	d.signal()
	d.mu.Unlock()
}

// Received returns the requests recorded so far.
func (d *Device) Received() []Incoming {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Incoming(nil), d.received...)
}

// WaitReceived waits until at least n requests were recorded and returns
// them.
func (d *Device) WaitReceived(ctx context.Context, n int) ([]Incoming, error) {
	for {
		d.mu.Lock()
		if len(d.received) >= n {
			out := append([]Incoming(nil), d.received...)
			d.mu.Unlock()
			return out, nil
		}
		notify := d.notify
		d.mu.Unlock()
		select {
		case <-notify:
		case <-ctx.Done():
			return d.Received(), ctx.Err()
		}
	}
}
