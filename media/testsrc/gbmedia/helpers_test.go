package gbmedia

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/nvr/nvr/media/codec/ps"
	"github.com/nvr/nvr/media/unit"
)

// testSSRC is a history SSRC as GB/T 28181 builds it (first digit 1).
const testSSRC = 1100000001

func startSession(t *testing.T, s *Sender, req Request) *Session {
	t.Helper()
	if req.SSRC == 0 {
		req.SSRC = testSSRC
	}
	if req.Mode == "" {
		req.Mode = ModePlay
	}
	if req.ChannelID == "" {
		req.ChannelID = "34020000001320000001"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sess, err := s.Start(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sess.Close)
	return sess
}

// rxFrame is one frame the ps.Demuxer rebuilt.
type rxFrame struct {
	codec    unit.Codec
	pts, dts int64
	key      bool
	data     []byte
}

// demux reorders the packets by sequence number and runs them through the
// ps.Demuxer, telling it about gaps as an ingest would.
func demux(pkts []rxPacket) []rxFrame {
	var out []rxFrame
	d := ps.Demuxer{OnFrame: func(f ps.Frame) {
		out = append(out, rxFrame{codec: f.Codec, pts: f.PTS, dts: f.DTS, key: f.Key, data: slices.Clone(f.Data)})
	}}
	ordered := reassemble(pkts)
	for i, p := range ordered {
		if i > 0 && p.hdr.SequenceNumber != ordered[i-1].hdr.SequenceNumber+1 {
			d.Lost()
		}
		d.Write(p.payload)
	}
	d.Flush()
	return out
}

func framesOf(frames []rxFrame, video bool) []rxFrame {
	var out []rxFrame
	for _, f := range frames {
		if f.codec.IsVideo() == video {
			out = append(out, f)
		}
	}
	return out
}

// isKey tells an IDR (H.264) or IRAP (H.265) picture from its NAL units,
// and checks that the demuxer agrees.
func isKey(f rxFrame) bool {
	h265 := f.codec == unit.CodecH265
	key := false
	for typ := range nalTypes(f.data, h265) {
		if (!h265 && typ == 5) || (h265 && typ >= 16 && typ <= 21) {
			key = true
		}
	}
	if key != f.key {
		panic("ps.Frame.Key disagrees with the NAL unit types")
	}
	return key
}

// waitStats polls the session's stats until cond holds.
func waitStats(t *testing.T, sess *Session, timeout time.Duration, what string, cond func(Stats) bool) Stats {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st := sess.Stats()
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("timeout waiting for %s: %+v", what, st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkGoroutines fails when goroutines started during the test outlive it.
func checkGoroutines(t *testing.T) {
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(2 * time.Second)
		for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > base {
			buf := make([]byte, 1<<16)
			t.Errorf("%d goroutines leaked:\n%s", n-base, buf[:runtime.Stack(buf, true)])
		}
	})
}
