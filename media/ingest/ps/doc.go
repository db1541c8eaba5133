// Package ps receives GB28181 media: an MPEG program stream carried in RTP
// over UDP, TCP passive or TCP active (GB/T 28181-2016 Appendix C), and
// publishes it into a stream.Stream the same way the RTSP ingest does.
//
// A Receiver owns the local ports: a range handed out round-robin, and
// optionally one shared UDP port where streams are told apart by SSRC. Open
// reserves the local end of one INVITE as a Conn; SetRemote applies the
// device's answer; Run receives until the stream ends:
//
//	socket ─▶ RTP parse ─▶ SSRC / source checks ─▶ reorder (UDP) ─▶ PS demuxer ─▶ au tracks ─▶ stream.Publisher
//
// Source ties signalling and receiving together without knowing SIP: it
// asks an Inviter for a call (implemented over SIP elsewhere), receives,
// and for a live view invites again with backoff when the call fails.
//
// See README.md for why it is built this way.
package ps
