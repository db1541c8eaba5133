package fmp4

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/testsrc"
	"github.com/nvr/nvr/media/unit"
)

// clipSource publishes test clips into a stream, looping them with rising
// timestamps: video DTS = i*frame interval, audio DTS = j*samples/rate.
type clipSource struct {
	Video *testsrc.VideoClip
	Audio *testsrc.AudioClip
	// Speed is how many times faster than real time to go (0: real time).
	Speed float64
	// For is how much media time to publish (0: until the context ends).
	For time.Duration
	// SwitchAt and SwitchTo change the video clip (and its parameters)
	// once SwitchAt of media time has been published.
	SwitchAt time.Duration
	SwitchTo *testsrc.VideoClip
}

// run publishes until ctx ends or For is reached.
func (c *clipSource) run(ctx context.Context, t testing.TB, s *stream.Stream) {
	pub := s.NewPublisher()
	video := c.Video
	pub.SetTrack(0, video.Params())
	var aParams *unit.Params
	if c.Audio != nil {
		aParams = c.Audio.Params()
		pub.SetTrack(1, aParams)
	}
	speed := c.Speed
	if speed <= 0 {
		speed = 1
	}
	frameDur := time.Second / time.Duration(video.FPS)
	start := time.Now()
	switched := false
	vi, ai, vBase := 0, 0, 0
	for {
		vDTS := time.Duration(vi) * frameDur
		aDTS := time.Duration(1 << 62)
		if c.Audio != nil {
			aDTS = time.Duration(ai) * time.Duration(c.Audio.SamplesPerFrame) * time.Second / time.Duration(c.Audio.SampleRate)
		}
		next := min(vDTS, aDTS)
		if c.For > 0 && next >= c.For {
			return
		}
		wait := time.Until(start.Add(time.Duration(float64(next) / speed)))
		if wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		} else if ctx.Err() != nil {
			return
		}
		if vDTS <= aDTS {
			if !switched && c.SwitchTo != nil && vDTS >= c.SwitchAt {
				switched, video, vBase = true, c.SwitchTo, vi
				pub.SetTrack(0, video.Params())
			}
			f := video.Frames[(vi-vBase)%len(video.Frames)]
			pub.Write(&unit.Unit{Track: 0, DTS: vDTS, PTS: vDTS, Key: f.Key, Data: f.NALUs})
			vi++
		} else {
			f := c.Audio.Frames[ai%len(c.Audio.Frames)]
			pub.Write(&unit.Unit{Track: 1, DTS: aDTS, PTS: aDTS, Key: true, Data: [][]byte{f}})
			ai++
		}
	}
}

// start runs the source in the background until the test ends.
func (c *clipSource) start(t testing.TB, s *stream.Stream) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.run(ctx, t, s)
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
}

func loadVideo(t testing.TB, name string) *testsrc.VideoClip {
	t.Helper()
	c, err := testsrc.LoadVideo(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func loadAudio(t testing.TB, name string) *testsrc.AudioClip {
	t.Helper()
	c, err := testsrc.LoadAudio(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testLogger logs to the test at debug level.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// checkGoroutines fails the test if, once it is over, a goroutine is still
// running code of this package (other than the test itself).
func checkGoroutines(t *testing.T) {
	t.Cleanup(func() {
		var leaked []string
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			leaked = leakedGoroutines("/media/egress/fmp4.")
			if len(leaked) == 0 {
				return
			}
		}
		t.Errorf("leaked goroutines:\n%s", strings.Join(leaked, "\n\n"))
	})
}

func leakedGoroutines(pkg string) []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, pkg) && !strings.Contains(g, "testing.tRunner") && !strings.Contains(g, "leakedGoroutines") {
			out = append(out, g)
		}
	}
	return out
}

// requireTool returns the path of an external tool or skips the test, unless
// NVR_REQUIRE_TOOLS=1 makes a missing tool a failure.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("NVR_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s not found: %v", name, err)
		}
		t.Skipf("%s not found", name)
	}
	return p
}
