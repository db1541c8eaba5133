package gbmedia

import "time"

// Session modes, as in the SDP s= line of the INVITE (GB/T 28181-2016 C.2).
const (
	ModePlay     = "Play"
	ModePlayback = "Playback"
	ModeDownload = "Download"
)

// Transports, named from the platform's point of view as in the SDP
// a=setup attribute (RFC 4145 section 4).
const (
	// TransportUDP sends RTP over UDP to Request.RemoteAddr.
	TransportUDP = "udp"
	// TransportTCPPassive: the platform listens; the simulator connects to
	// Request.RemoteAddr.
	TransportTCPPassive = "tcp-passive"
	// TransportTCPActive: the simulator listens on Session.LocalPort; the
	// platform connects.
	TransportTCPActive = "tcp-active"
)

// Request describes one media session asked for by an INVITE.
//
// Its fields have the same names, types and order as sip/gbsim.MediaRequest,
// so a value of that type converts with gbmedia.Request(r).
type Request struct {
	// ChannelID is the 20-digit channel the INVITE is for; it selects the clip
	// set (Sender.ChannelClips).
	ChannelID string
	// Mode is ModePlay, ModePlayback or ModeDownload.
	Mode string
	// Start and End are the recorded range of Playback and Download (the SDP
	// t= line). The stream's PTS 0 is Start; the session ends at End. A zero or
	// empty range never ends.
	Start, End time.Time
	// Transport is TransportUDP, TransportTCPPassive or TransportTCPActive.
	Transport string
	// RemoteAddr is the platform's media address, ip:port (not used by
	// TransportTCPActive).
	RemoteAddr string
	// SSRC goes into every RTP packet.
	SSRC uint32
	// DownloadSpeed is the a=downloadspeed of a Download; 0 means 1.
	DownloadSpeed int
}
