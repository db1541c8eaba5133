package ps

import (
	"sync/atomic"
	"time"
)

// Stats describes one media connection, for the API.
type Stats struct {
	Transport Transport
	// LocalPort is the port announced to the device.
	LocalPort int
	// RemoteAddr is where the media comes from: the first source of
	// accepted UDP packets, the TCP peer, or before any media the address
	// of the device's answer.
	RemoteAddr string
	// SSRC is the SSRC of the packets accepted (before any: the one
	// expected).
	SSRC uint32
	// Packets and Bytes count the RTP packets accepted (Bytes with their
	// RTP headers).
	Packets, Bytes uint64
	// Lost counts the packets that never arrived in time, Reordered those
	// put back in order, Duplicates those received twice, Late those that
	// came after they had been given up.
	Lost, Reordered, Duplicates, Late uint64
	// Dropped counts packets refused: another SSRC or source address, not
	// RTP, or a full queue on the shared port.
	Dropped uint64
	// Frames counts the frames taken out of the program stream.
	Frames uint64
	// LastPacket is when the last packet was accepted (zero before).
	LastPacket time.Time
}

// counters are the live values behind Stats, written by Run and read by
// the API.
type counters struct {
	packets, bytes                    atomic.Uint64
	lost, reordered, duplicates, late atomic.Uint64
	dropped, frames                   atomic.Uint64
	lastPacket                        atomic.Int64 // UnixNano
	ssrc                              atomic.Uint32
	remote                            atomic.Pointer[string]
}
