package ps

import (
	"encoding/binary"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/testsrc"
)

// FuzzIngest feeds arbitrary datagrams (each prefixed by a 2-byte length
// in the fuzz input) through the whole receive path after a good start of
// a stream: nothing may panic, and what is published stays orderly.
func FuzzIngest(f *testing.F) {
	cfg := senderConfig{video: testsrc.ClipH265, audio: testsrc.ClipAAC, ssrc: 1, extension: true}
	pkts := flat(packetize(cfg, buildEvents(f, cfg)))
	join := func(ps [][]byte) []byte {
		var b []byte
		for _, p := range ps {
			b = binary.BigEndian.AppendUint16(b, uint16(len(p)))
			b = append(b, p...)
		}
		return b
	}
	f.Add(join(pkts[40:44]))
	f.Add(join([][]byte{pkts[50], pkts[49], pkts[52]}))
	f.Add(join([][]byte{{0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0xba}}))
	f.Fuzz(func(t *testing.T, in []byte) {
		st := stream.New("fuzz", 64, nil)
		c := newConn(nil, TransportUDP, 1)
		c.log = slog.New(slog.DiscardHandler)
		rs := newRunState(c, st, RunConfig{}, 0, true)
		from := netip.MustParseAddrPort("127.0.0.1:5000")
		now := time.Unix(1000, 0)
		for _, p := range pkts[:30] {
			rs.accept(p, from, now)
		}
		for len(in) >= 2 {
			n := min(int(binary.BigEndian.Uint16(in)), len(in)-2)
			rs.accept(in[2:2+n], from, now)
			in = in[2+n:]
			now = now.Add(10 * time.Millisecond)
		}
		rs.finish()
	})
}
