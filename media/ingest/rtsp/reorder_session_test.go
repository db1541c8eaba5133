package rtsp

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/nvr/nvr/media/ingest/internal/problem"
	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/unit"
)

// TestSessionReorder feeds a session, as an au.Sink, the way two UDP reading
// goroutines do, audio ahead of video, and checks the order in the stream:
// DTS order over UDP, arrival order over TCP (one reader, nothing to fix).
func TestSessionReorder(t *testing.T) {
	arrival := []string{"V0", "A23", "A46", "V40", "A69", "V80", "A92", "V120", "A116"}
	for _, c := range []struct {
		transport string
		want      string
	}{
		{TransportUDP, "V0 A23 V40 A46 A69 V80 A92 A116 V120"},
		{TransportTCP, "V0 A23 A46 V40 A69 V80 A92 V120 A116"},
	} {
		t.Run(c.transport, func(t *testing.T) {
			st := stream.New("test", 0, nil)
			defer st.Close()
			s := &session{
				cfg:       &config{log: slog.New(slog.DiscardHandler)},
				st:        st,
				problems:  &problem.Log{Logger: slog.New(slog.DiscardHandler)},
				pub:       st.NewPublisher(),
				firstUnit: make(chan struct{}),
				tracks:    2,
			}
			s.transport.Store(c.transport)
			s.SetTrack(0, &unit.Params{Codec: unit.CodecH264, SampleRate: 90000})
			s.SetTrack(1, &unit.Params{Codec: unit.CodecAAC, SampleRate: 44100, Channels: 1})
			r := st.NewReader()
			defer r.Close()
			for _, name := range arrival {
				u := parseUnit(t, name)
				u.Key = true
				u.Data = [][]byte{{0x65}}
				s.mu.Lock()
				s.WriteUnit(u)
				s.mu.Unlock()
			}
			s.flushReorder()

			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var got []*unit.Unit
			for len(got) < len(arrival) {
				batch, err := r.Read(ctx)
				if err != nil {
					t.Fatalf("after %d units: %v", len(got), err)
				}
				got = append(got, batch...)
			}
			if s := names(got); s != c.want {
				t.Errorf("stream order %q, want %q", s, c.want)
			}
			select {
			case <-s.firstUnit:
			default:
				t.Error("the first unit was not signalled")
			}
		})
	}
}

// TestUDPReadBufferSize checks that the receive buffer asked of gortsplib
// never exceeds the kernel's limit: gortsplib fails the SETUP when the
// socket gets less than it asked for.
func TestUDPReadBufferSize(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the limit is read from /proc")
	}
	dir := t.TempDir()
	for _, c := range []struct {
		content string
		want    int
	}{
		{"4194304\n", udpReadBuffer},
		{"212992\n", 212992},
		{"garbage", 0},
		{"", 0},
	} {
		path := filepath.Join(dir, "rmem_max")
		if err := os.WriteFile(path, []byte(c.content), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := udpReadBufferSize(path); got != c.want {
			t.Errorf("rmem_max %q: %d, want %d", c.content, got, c.want)
		}
	}
	if got := udpReadBufferSize(filepath.Join(dir, "missing")); got != 0 {
		t.Errorf("no rmem_max: %d, want 0", got)
	}
}
