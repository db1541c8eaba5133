package web

import (
	"fmt"
	"strconv"
	"time"

	"github.com/nvr/nvr/device"
	"github.com/nvr/nvr/media/hub"
	"github.com/nvr/nvr/media/stream"
)

// deviceDTO is a device as the API shows it. Passwords never leave the
// server: the URL's password is masked, a GB device's password is only
// has_password.
type deviceDTO struct {
	ID        int64     `json:"id"`
	Type      string    `json:"type"`
	Name      string    `json:"name"`
	URL       string    `json:"url,omitempty"`
	Status    string    `json:"status"`
	LastError string    `json:"last_error,omitempty"`
	AlwaysOn  bool      `json:"always_on"`
	Channels  int       `json:"channel_count"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// The fields GB28181 and ONVIF devices share, absent for RTSP cameras.
	*deviceInfoDTO
	// The fields of GB28181 devices, absent for the others.
	*gbDeviceDTO
	// The fields of ONVIF devices, absent for the others.
	*onvifDeviceDTO
}

// deviceInfoDTO holds what GB28181 and ONVIF devices both have: liveness,
// identity, and whether a password is stored (it is never shown).
type deviceInfoDTO struct {
	Online        bool       `json:"online"`
	LastKeepalive *time.Time `json:"last_keepalive"`
	Manufacturer  string     `json:"manufacturer"`
	Model         string     `json:"model"`
	Firmware      string     `json:"firmware"`
	HasPassword   bool       `json:"has_password"`
}

func deviceInfoFrom(d *device.Device) *deviceInfoDTO {
	if d.Type != device.TypeGB28181 && d.Type != device.TypeONVIF {
		return nil
	}
	return &deviceInfoDTO{Online: d.Online, LastKeepalive: timePtr(d.LastKeepalive),
		Manufacturer: d.Manufacturer, Model: d.Model, Firmware: d.Firmware, HasPassword: d.Password != ""}
}

// onvifDeviceDTO holds the fields of an ONVIF device.
type onvifDeviceDTO struct {
	XAddr         string `json:"xaddr"`
	Username      string `json:"username"`
	Serial        string `json:"serial"`
	ClockOffsetMS int64  `json:"clock_offset_ms"`
}

func onvifDeviceFrom(d *device.Device) *onvifDeviceDTO {
	if d.Type != device.TypeONVIF {
		return nil
	}
	return &onvifDeviceDTO{XAddr: d.XAddr, Username: d.Username, Serial: d.Serial, ClockOffsetMS: d.ClockOffset.Milliseconds()}
}

// gbDeviceDTO holds the fields of a GB28181 device. Times the device never
// reached are null.
type gbDeviceDTO struct {
	GBID            string     `json:"gb_id"`
	RegisteredAt    *time.Time `json:"registered_at"`
	ExpiresAt       *time.Time `json:"expires_at"`
	Transport       string     `json:"transport"`
	RemoteAddr      string     `json:"remote_addr"`
	Charset         string     `json:"charset"`
	StreamTransport string     `json:"stream_transport"`
	Longitude       *float64   `json:"longitude,omitempty"`
	Latitude        *float64   `json:"latitude,omitempty"`
	PositionAt      *time.Time `json:"position_at,omitempty"`
}

// timePtr returns nil for the zero time, which the API shows as null.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func gbDeviceFrom(d *device.Device) *gbDeviceDTO {
	if d.Type != device.TypeGB28181 {
		return nil
	}
	out := &gbDeviceDTO{
		GBID: d.GBID, RegisteredAt: timePtr(d.RegisteredAt), ExpiresAt: timePtr(d.ExpiresAt),
		Transport: d.Transport, RemoteAddr: d.RemoteAddr, Charset: d.Charset,
		StreamTransport: d.StreamTransport,
	}
	if !d.PositionAt.IsZero() {
		lon, lat := d.Longitude, d.Latitude
		out.Longitude, out.Latitude, out.PositionAt = &lon, &lat, timePtr(d.PositionAt)
	}
	return out
}

type playURLs struct {
	FLV    string `json:"flv"`
	WSFLV  string `json:"ws_flv"`
	HLS    string `json:"hls"`
	WSFMP4 string `json:"ws_fmp4"`
}

// channelDTO is a channel as the API shows it. status is the stream's state
// (idle, connecting, online, error) for RTSP channels and the catalog's ON/OFF
// for GB28181 channels (OFF while the device is offline); stream_status is the
// stream's state for every channel.
type channelDTO struct {
	ID           int64     `json:"id"`
	DeviceID     int64     `json:"device_id"`
	Name         string    `json:"name"`
	Status       string    `json:"status"`
	StreamStatus string    `json:"stream_status"`
	LastError    string    `json:"last_error,omitempty"`
	StatusTime   time.Time `json:"status_since"`
	AlwaysOn     bool      `json:"always_on"`
	Stream       string    `json:"stream"`
	Play         playURLs  `json:"play"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	// The fields of GB28181 channels, absent for the others.
	*gbChannelDTO
	// The fields of ONVIF channels, absent for the others.
	*onvifChannelDTO
}

// onvifChannelDTO holds the media profile of an ONVIF channel.
type onvifChannelDTO struct {
	ProfileToken string `json:"profile_token"`
	Role         string `json:"role"`
	Codec        string `json:"codec"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	FPS          int    `json:"fps"`
	PTZ          bool   `json:"ptz"`
	// Snapshot is the API path of the channel's JPEG; empty when the camera
	// has no snapshot URI (which is never shown: it may hold credentials).
	Snapshot string `json:"snapshot,omitempty"`
}

// gbChannelDTO holds the catalog fields of a GB28181 channel.
type gbChannelDTO struct {
	GBID         string  `json:"gb_id"`
	ParentID     string  `json:"parent_id"`
	Kind         string  `json:"kind"`
	PTZType      int     `json:"ptz_type"`
	CivilCode    string  `json:"civil_code"`
	Address      string  `json:"address"`
	Longitude    float64 `json:"longitude"`
	Latitude     float64 `json:"latitude"`
	Manufacturer string  `json:"manufacturer"`
	Model        string  `json:"model"`
}

func playFor(name string) playURLs {
	return playURLs{
		FLV:    "/live/" + name + ".flv",
		WSFLV:  "/ws/live/" + name + ".flv",
		HLS:    "/live/" + name + "/index.m3u8",
		WSFMP4: "/ws/live/" + name + ".mp4",
	}
}

// channelDTO shows a channel; deviceOnline is its device's Online, which
// turns a GB channel's status OFF while the device is offline.
func (s *Server) channelDTO(ch *device.Channel, deviceOnline bool) channelDTO {
	st := s.Hub.Status(ch.StreamName())
	out := channelDTO{
		ID: ch.ID, DeviceID: ch.DeviceID, Name: ch.Name,
		Status: string(st.State), StreamStatus: string(st.State), LastError: st.Err, StatusTime: st.Since,
		AlwaysOn: ch.AlwaysOn, Stream: ch.StreamName(), Play: playFor(ch.StreamName()),
		CreatedAt: ch.CreatedAt, UpdatedAt: ch.UpdatedAt,
	}
	if ch.GBID != "" {
		out.Status = device.ChannelOff
		if deviceOnline && ch.Status == device.ChannelOn {
			out.Status = device.ChannelOn
		}
		out.gbChannelDTO = &gbChannelDTO{
			GBID: ch.GBID, ParentID: ch.ParentID, Kind: ch.Kind, PTZType: ch.PTZType,
			CivilCode: ch.CivilCode, Address: ch.Address, Longitude: ch.Longitude, Latitude: ch.Latitude,
			Manufacturer: ch.Manufacturer, Model: ch.Model,
		}
	}
	if ch.ProfileToken != "" {
		// ONVIF: ON while the reachability poll finds the camera.
		out.Status = device.ChannelOff
		if deviceOnline && ch.Status == device.ChannelOn {
			out.Status = device.ChannelOn
		}
		out.onvifChannelDTO = &onvifChannelDTO{
			ProfileToken: ch.ProfileToken, Role: ch.Role, Codec: ch.Codec, Width: ch.Width, Height: ch.Height,
			FPS: ch.FPS, PTZ: ch.PTZ,
		}
		if ch.SnapshotURI != "" {
			out.Snapshot = "/api/v1/channels/" + strconv.FormatInt(ch.ID, 10) + "/snapshot.jpg"
		}
	}
	return out
}

// deviceDTO sums up a device's channels: it is online if any channel is,
// in error if any channel is and none is online.
func (s *Server) deviceDTO(d *device.Device, chans []*device.Channel) deviceDTO {
	out := deviceDTO{ID: d.ID, Type: string(d.Type), Name: d.Name, URL: device.MaskURL(d.URL),
		Status: string(stream.StateIdle), Channels: len(chans), CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
		deviceInfoDTO: deviceInfoFrom(d), gbDeviceDTO: gbDeviceFrom(d), onvifDeviceDTO: onvifDeviceFrom(d)}
	rank := map[stream.State]int{stream.StateIdle: 0, stream.StateConnecting: 1, stream.StateError: 2, stream.StateOnline: 3}
	for _, ch := range chans {
		st := s.Hub.Status(ch.StreamName())
		if rank[st.State] > rank[stream.State(out.Status)] {
			out.Status = string(st.State)
		}
		if st.Err != "" && out.LastError == "" {
			out.LastError = st.Err
		}
		out.AlwaysOn = out.AlwaysOn || ch.AlwaysOn
	}
	return out
}

type trackDTO struct {
	Codec      string `json:"codec"`
	Kind       string `json:"kind"`
	Width      int    `json:"width,omitempty"`
	Height     int    `json:"height,omitempty"`
	SampleRate int    `json:"sample_rate,omitempty"`
	Channels   int    `json:"channels,omitempty"`
}

type streamDTO struct {
	Name       string     `json:"name"`
	Status     string     `json:"status"`
	LastError  string     `json:"last_error,omitempty"`
	AlwaysOn   bool       `json:"always_on"`
	Codecs     []string   `json:"codecs"`
	Resolution string     `json:"resolution,omitempty"`
	Tracks     []trackDTO `json:"tracks"`
	Bitrate    int64      `json:"bitrate"`
	FPS        float64    `json:"fps"`
	Readers    int        `json:"readers"`
	Dropped    uint64     `json:"dropped"`
	Bytes      uint64     `json:"bytes"`
	StartedAt  time.Time  `json:"started_at"`
	LastUnitAt *time.Time `json:"last_unit_at,omitempty"`
	Ingest     *ingestDTO `json:"ingest,omitempty"`
}

// ingestDTO tells how a stream's media arrives; GB28181 streams report their RTP transport, SSRC
// and packet loss.
type ingestDTO struct {
	Protocol    string  `json:"protocol"`
	Transport   string  `json:"transport,omitempty"`
	LocalPort   int     `json:"local_port,omitempty"`
	Remote      string  `json:"remote,omitempty"`
	SSRC        string  `json:"ssrc,omitempty"`
	Packets     uint64  `json:"packets"`
	Lost        uint64  `json:"lost"`
	Reordered   uint64  `json:"reordered"`
	LossPercent float64 `json:"loss_percent"`
}

func streamDTOFrom(in hub.Info) streamDTO {
	out := streamDTO{
		Name: in.Name, Status: string(in.Status.State), LastError: in.Status.Err, AlwaysOn: in.AlwaysOn,
		Codecs: []string{}, Tracks: []trackDTO{},
		Bitrate: int64(in.Bitrate), FPS: float64(int(in.FPS*10)) / 10,
		Readers: in.Readers, Dropped: in.Dropped, Bytes: in.Bytes, StartedAt: in.Started,
	}
	if !in.LastUnitAt.IsZero() {
		t := in.LastUnitAt
		out.LastUnitAt = &t
	}
	if g := in.Ingest; g != nil {
		out.Ingest = &ingestDTO{
			Protocol: g.Protocol, Transport: g.Transport, LocalPort: g.LocalPort, Remote: g.Remote, SSRC: g.SSRC,
			Packets: g.Packets, Lost: g.Lost, Reordered: g.Reordered,
			LossPercent: float64(int(g.LossPercent()*100)) / 100,
		}
	}
	for _, p := range in.Tracks {
		if p == nil {
			continue
		}
		out.Codecs = append(out.Codecs, p.Codec.String())
		t := trackDTO{Codec: p.Codec.String(), Kind: "audio"}
		if p.Codec.IsVideo() {
			t.Kind, t.Width, t.Height = "video", p.Width, p.Height
			if p.Width > 0 && out.Resolution == "" {
				out.Resolution = fmt.Sprintf("%dx%d", p.Width, p.Height)
			}
		} else {
			t.SampleRate, t.Channels = p.SampleRate, p.Channels
		}
		out.Tracks = append(out.Tracks, t)
	}
	return out
}
