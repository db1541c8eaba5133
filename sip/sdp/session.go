package sdp

import (
	"strconv"
	"strings"
	"time"
)

// Mode is the session name (s=) of a GB/T 28181 media session.
type Mode string

// Session names (GB/T 28181-2016 §9.2.2, Annex F).
const (
	// Play is live video.
	Play Mode = "Play"
	// Playback replays a recording at normal speed, controlled with
	// MANSRTSP (speed, pause, seek).
	Playback Mode = "Playback"
	// Download fetches a recording as fast as a=downloadspeed allows.
	Download Mode = "Download"
	// Talk is voice broadcast (the device receives audio).
	Talk Mode = "Talk"
)

// History reports whether the mode plays a recording (Playback, Download).
func (m Mode) History() bool { return m == Playback || m == Download }

// Transport protocols of the m= line.
const (
	// ProtoUDP is RTP over UDP.
	ProtoUDP = "RTP/AVP"
	// ProtoTCP is RTP over TCP, framed by RFC 4571.
	ProtoTCP = "TCP/RTP/AVP"
)

// TCP connection roles of a=setup (RFC 4145 §4): active connects, passive
// listens.
const (
	SetupActive  = "active"
	SetupPassive = "passive"
)

// Media directions.
const (
	RecvOnly = "recvonly"
	SendOnly = "sendonly"
	SendRecv = "sendrecv"
	Inactive = "inactive"
)

// RTPMap is an a=rtpmap attribute.
type RTPMap struct {
	PayloadType int
	// Encoding is the encoding name: PS, H264, H265, MPEG4, PCMA…
	Encoding  string
	ClockRate int
}

// GBRTPMaps are the payload types a platform offers for video (GB/T
// 28181-2016 F.2): PS first, which is what devices send.
var GBRTPMaps = []RTPMap{
	{PayloadType: 96, Encoding: "PS", ClockRate: 90000},
	{PayloadType: 98, Encoding: "H264", ClockRate: 90000},
	{PayloadType: 97, Encoding: "MPEG4", ClockRate: 90000},
}

// StreamStyle selects the sub-stream attributes written for Stream > 0
// (see the package documentation).
type StreamStyle uint8

// Sub-stream attribute forms.
const (
	// StreamAttr writes a=stream:N.
	StreamAttr StreamStyle = 1 << iota
	// StreamNumber writes a=streamnumber:N (GB/T 28181-2022).
	StreamNumber
	// StreamProfile writes a=streamprofile:N (Dahua).
	StreamProfile
	// StreamMode writes a=streamMode:main|sub (TP-Link).
	StreamMode
)

// DefaultStreamStyle is used when Session.StreamStyle is 0.
const DefaultStreamStyle = StreamAttr | StreamNumber | StreamProfile

// Session is a GB/T 28181 session description with one media section.
// Marshal writes it; Unmarshal reads an offer or an answer into it.
type Session struct {
	// Origin is the o= username: the 20-digit ID of the sender (the
	// platform in an offer, the device or channel in an answer).
	Origin string
	// OriginAddress is the o= address.
	OriginAddress string
	// Name is the s= line as sent; Mode reads it.
	Name string
	// Info is the i= line (some devices write "VCam Live Video").
	Info string
	// URI is the u= line, "<channelID>:0" for playback and download.
	URI string
	// Address is the c= connection address: where the sender receives (an
	// offer) or sends from (an answer) media. Unmarshal falls back to
	// OriginAddress when there is no c= line.
	Address string
	// Start and End are the t= line: the recording's range for playback and
	// download, zero for live (t=0 0). Written as Unix seconds.
	Start, End time.Time

	// Media is the m= media type, "video" (or "audio" for Talk).
	Media string
	// Port is the m= port: where the offerer receives, or, in an answer,
	// the device's sending port (for TCP active/passive, see Setup).
	Port int
	// Proto is the m= protocol, ProtoUDP or ProtoTCP.
	Proto string
	// Formats are the m= payload types.
	Formats []int
	// Direction is recvonly, sendonly, sendrecv or inactive ("" for none).
	Direction string
	// RTPMaps are the a=rtpmap attributes, in order.
	RTPMaps []RTPMap
	// Setup is a=setup: for TCP, "passive" says the sender of this
	// description listens, "active" that it connects.
	Setup string
	// Connection is a=connection ("new" or "existing").
	Connection string
	// DownloadSpeed is a=downloadspeed (Download: the multiple of real
	// time asked for); 0 writes none.
	DownloadSpeed int
	// FileSize is a=filesize in bytes (answers to Download; Hikvision
	// writes -1 for unknown); 0 writes none.
	FileSize int64
	// Stream selects a sub-stream: 0 the main stream (no attribute), 1 the
	// first sub-stream… Unmarshal reads the first of a=stream,
	// a=streamnumber, a=streamprofile and a=streamMode it finds.
	Stream int
	// StreamStyle selects the attributes Marshal writes for Stream > 0;
	// 0 means DefaultStreamStyle.
	StreamStyle StreamStyle
	// Attributes are the other a= lines, without "a=" (e.g.
	// "username:34020000001320000001"), written after the known ones.
	Attributes []string

	// SSRC is the y= line as sent: ten decimal digits by the standard, but
	// devices also send "0", nothing, or their own value.
	SSRC string
	// Format is the f= line (GB/T 28181-2016 F.3: v/codec/resolution/
	// frame rate/bitrate type/bitrate a/codec/bitrate/sample rate).
	Format string
}

// Mode returns the session name as a Mode, matched without regard to case,
// or "" for a name that is none of them.
func (s *Session) Mode() Mode {
	for _, m := range []Mode{Play, Playback, Download, Talk} {
		if strings.EqualFold(strings.TrimSpace(s.Name), string(m)) {
			return m
		}
	}
	return ""
}

// TCP reports whether the media goes over TCP (TCP/RTP/AVP, or the
// RTP/AVP/TCP some devices write).
func (s *Session) TCP() bool { return strings.Contains(strings.ToUpper(s.Proto), "TCP") }

// SSRCValue returns the y= SSRC as a number. ok is false when y= is
// missing or not a decimal number that fits 32 bits. A zero SSRC (some
// Dahua firmwares) is returned as 0, true: the caller decides what 0 means.
func (s *Session) SSRCValue() (ssrc uint32, ok bool) {
	return ParseSSRC(s.SSRC)
}

// ParseSSRC reads a y= value: decimal digits (ten by the standard, fewer
// from some devices) that fit 32 bits.
func ParseSSRC(v string) (uint32, bool) {
	v = strings.TrimSpace(v)
	if v == "" || strings.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return 0, false
	}
	return uint32(n), true
}

// FormatSSRC writes an SSRC as the ten digits of y=.
func FormatSSRC(ssrc uint32) string { return strconv.FormatUint(uint64(ssrc)+1e10, 10)[1:] }
