package gbmedia

// Quirks make the stream look like what real devices send (see
// /work/shared/GB28181.md, "PS streams as devices really send them"), so the
// platform's ingest can be tested against them. The zero value is a clean,
// standard stream.
type Quirks struct {
	// NoPSM leaves out the program stream map (some Dahua and older devices).
	NoPSM bool
	// H265AsH264 declares H.265 video as H.264 (stream type 0x1B) in the PSM,
	// as some Hikvision firmwares do. No effect on H.264 clip sets.
	H265AsH264 bool
	// MarkerFirst sets the RTP marker bit on the first packet of a frame
	// instead of the last (RFC 3551 section 4.1 asks for the last).
	MarkerFirst bool
	// HeaderExtension adds an RTP header extension (RFC 3550 section 5.3.1,
	// one-byte form of RFC 8285) to every packet.
	HeaderExtension bool
	// Reorder swaps a packet with the next one of the same frame with this
	// probability, 0..1.
	Reorder float64
	// Loss drops a packet with this probability, 0..1. UDP only.
	Loss float64
	// ZeroLengthPES writes video PES packets with PES_packet_length 0
	// (ISO/IEC 13818-1 2.4.3.7 allows it for video in TS; devices do it in PS).
	ZeroLengthPES bool
	// PrivateStream adds private stream 1 (0xBD) PES packets, as Hikvision does.
	PrivateStream bool
	// PackPerPES writes a pack header before every PES of a frame split over
	// several PES packets (frames above 64 KiB), not only before the first.
	PackPerPES bool
}
