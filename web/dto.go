package web

import (
	"fmt"
	"time"

	"github.com/nvr/nvr/device"
	"github.com/nvr/nvr/media/hub"
	"github.com/nvr/nvr/media/stream"
)

// deviceDTO is a device as the API shows it. Passwords never leave the
// server: the URL's password is masked.
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
}

type playURLs struct {
	FLV    string `json:"flv"`
	WSFLV  string `json:"ws_flv"`
	HLS    string `json:"hls"`
	WSFMP4 string `json:"ws_fmp4"`
}

type channelDTO struct {
	ID         int64     `json:"id"`
	DeviceID   int64     `json:"device_id"`
	Name       string    `json:"name"`
	Status     string    `json:"status"`
	LastError  string    `json:"last_error,omitempty"`
	StatusTime time.Time `json:"status_since"`
	AlwaysOn   bool      `json:"always_on"`
	Stream     string    `json:"stream"`
	Play       playURLs  `json:"play"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func playFor(name string) playURLs {
	return playURLs{
		FLV:    "/live/" + name + ".flv",
		WSFLV:  "/ws/live/" + name + ".flv",
		HLS:    "/live/" + name + "/index.m3u8",
		WSFMP4: "/ws/live/" + name + ".mp4",
	}
}

func (s *Server) channelDTO(ch *device.Channel) channelDTO {
	st := s.Hub.Status(ch.StreamName())
	return channelDTO{
		ID: ch.ID, DeviceID: ch.DeviceID, Name: ch.Name,
		Status: string(st.State), LastError: st.Err, StatusTime: st.Since,
		AlwaysOn: ch.AlwaysOn, Stream: ch.StreamName(), Play: playFor(ch.StreamName()),
		CreatedAt: ch.CreatedAt, UpdatedAt: ch.UpdatedAt,
	}
}

// deviceDTO sums up a device's channels: it is online if any channel is,
// in error if any channel is and none is online.
func (s *Server) deviceDTO(d *device.Device, chans []*device.Channel) deviceDTO {
	out := deviceDTO{ID: d.ID, Type: string(d.Type), Name: d.Name, URL: device.MaskURL(d.URL),
		Status: string(stream.StateIdle), Channels: len(chans), CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
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
