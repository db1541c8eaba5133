package flv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/testsrc"
	"github.com/nvr/nvr/media/unit"
)

// The child process of BenchmarkHTTPFanout is this test binary running
// TestFanoutViewers with these variables set.
const (
	envFanoutURL     = "NVR_FLV_FANOUT_URL"
	envFanoutViewers = "NVR_FLV_FANOUT_VIEWERS"
)

// BenchmarkHTTPFanout serves the 720p clip (H.264 1280x720, 25 fps, about
// 2.3 Mbit/s) with AAC (44.1 kHz, 43 frames/s) in real time to N HTTP-FLV
// viewers over loopback TCP, the load of issue #2's per-viewer target. One
// iteration is one video frame, published at its time with the audio
// before it (ns/op is therefore the pacing, 40 ms), so run it with
// -benchtime=500x (20 s) or so.
//
// The viewers are a child process (this binary running TestFanoutViewers),
// so the CPU time and the write syscalls counted here are the server's, as
// in cmd/nvrload. On loopback the receiver's TCP processing runs in the
// sender's context and is counted too. Reported:
//
//   - %core: this process's CPU time as a share of one core, the
//     publisher included; viewers=0 is the baseline without viewers;
//   - cpu-ns/frame/viewer: user+system CPU time of this process (getrusage)
//     per video frame per viewer; 20,000 is 0.05 % of a core at 25 fps;
//   - %core/viewer: the same as a share of one core;
//   - writes/frame/viewer: write and writev syscalls of this process
//     (/proc/self/io syscw) per video frame per viewer: the writes to the
//     viewers' sockets, and the Go runtime's eventfd writes that wake its
//     network poller (timers, among them the publisher's pacing, and
//     write deadlines);
//   - lost/viewer: video frames a viewer did not receive (must be 0);
//   - KiB/viewer: Go heap and stacks in use after a GC, with the viewers
//     connected and without, per viewer.
func BenchmarkHTTPFanout(b *testing.B) {
	for _, viewers := range []int{0, 1, 100, 500} {
		b.Run(fmt.Sprintf("viewers=%d", viewers), func(b *testing.B) {
			benchHTTPFanout(b, viewers)
		})
	}
}

func benchHTTPFanout(b *testing.B, viewers int) {
	src := newLiveClip(b)
	s := stream.New("bench", 0, nil)
	p := s.NewPublisher()
	p.SetTrack(0, src.vp)
	p.SetTrack(1, src.ap)
	// The hub hands a stream to viewers once it has a keyframe.
	for {
		u := src.next()
		p.Write(u)
		if u.Track == 0 {
			break
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ServeHTTP(w, r, s, nil)
	}))
	defer srv.Close()

	mem0 := liveMemory()
	lines := make(chan string, 4)
	if viewers > 0 {
		stop := startViewers(b, srv.URL, viewers, lines)
		defer func() {
			s.Close() // ends the viewers, also when the benchmark fails
			stop()
		}()
		if line := <-lines; line != "ready" {
			s.Close()
			b.Fatalf("viewers: %q", line)
		}
	}

	cpu0, writes0 := cpuTime(b), syscw(b)
	start := time.Now()
	first := src.peekDTS()
	frames := 0
	for b.Loop() {
		for {
			u := src.next()
			if d := time.Until(start.Add(u.DTS - first)); d > 0 {
				time.Sleep(d)
			}
			p.Write(u)
			if u.Track == 0 {
				break
			}
		}
		frames++
	}
	wall := time.Since(start)
	cpu, writes := cpuTime(b)-cpu0, syscw(b)-writes0
	mem := liveMemory() - mem0
	s.Close()
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "%core")
	if viewers == 0 {
		return
	}

	line := <-lines
	var lo, hi, failed int
	if _, err := fmt.Sscanf(line, "result min=%d max=%d failed=%d", &lo, &hi, &failed); err != nil {
		b.Fatalf("viewers: %q", line)
	}
	if failed > 0 {
		b.Fatalf("%d viewers failed", failed)
	}
	// Every viewer has the keyframe published before the loop, then frames more.
	per := float64(frames * viewers)
	b.ReportMetric(float64(cpu.Nanoseconds())/per, "cpu-ns/frame/viewer")
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds()/float64(viewers), "%core/viewer")
	b.ReportMetric(float64(writes)/per, "writes/frame/viewer")
	b.ReportMetric(float64(frames+1-lo), "lost/viewer")
	b.ReportMetric(float64(mem)/float64(viewers)/1024, "KiB/viewer")
}

// startViewers runs TestFanoutViewers in a child process, which sends its
// "fanout: " lines to lines. stop waits for the child.
func startViewers(b *testing.B, url string, viewers int, lines chan<- string) (stop func()) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestFanoutViewers$", "-test.count=1")
	cmd.Env = append(os.Environ(), envFanoutURL+"="+url, envFanoutViewers+"="+strconv.Itoa(viewers))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), "fanout: "); ok {
				lines <- line
			}
		}
	}()
	return func() {
		_ = cmd.Wait()
		cancel()
	}
}

// liveMemory returns the bytes of heap spans and goroutine stacks in use
// after a garbage collection.
func liveMemory() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse + ms.StackInuse)
}

// cpuTime returns the user and system CPU time this process has used.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// syscw returns how many write syscalls (write, writev and the like) this
// process has made, from /proc/self/io.
func syscw(tb testing.TB) int64 {
	buf, err := os.ReadFile("/proc/self/io")
	if err != nil {
		tb.Skip("no /proc/self/io:", err)
	}
	for line := range strings.SplitSeq(string(buf), "\n") {
		if v, ok := strings.CutPrefix(line, "syscw: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return n
		}
	}
	tb.Fatal("no syscw in /proc/self/io")
	return 0
}

// liveClip loops the 720p clip and the AAC clip on one timeline and hands
// out fresh units in DTS order.
type liveClip struct {
	vp, ap *unit.Params
	video  *clip
	audio  *testsrc.AudioClip
	vi, ai int
}

func newLiveClip(tb testing.TB) *liveClip {
	v := loadClip(tb, testsrc.ClipH264HD, "")
	a, err := testsrc.LoadAudio(testsrc.ClipAAC)
	if err != nil {
		tb.Fatal(err)
	}
	conf, err := a.Config.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	ap := &unit.Params{Codec: unit.CodecAAC, SampleRate: a.SampleRate, Channels: a.Channels, AudioConfig: conf}
	return &liveClip{vp: v.vp, ap: ap, video: v, audio: a}
}

func (c *liveClip) videoDTS() time.Duration { return time.Duration(c.vi) * time.Second / 25 }

func (c *liveClip) audioDTS() time.Duration {
	return time.Duration(c.ai*c.audio.SamplesPerFrame) * time.Second / time.Duration(c.audio.SampleRate)
}

func (c *liveClip) peekDTS() time.Duration { return min(c.videoDTS(), c.audioDTS()) }

func (c *liveClip) next() *unit.Unit {
	if a := c.audioDTS(); a < c.videoDTS() {
		c.ai++
		return &unit.Unit{Track: 1, DTS: a, PTS: a, Key: true, Data: [][]byte{c.audio.Frames[(c.ai-1)%len(c.audio.Frames)]}}
	}
	dts := c.videoDTS()
	f := &c.video.units[c.vi%len(c.video.units)]
	c.vi++
	return &unit.Unit{Track: 0, DTS: dts, PTS: dts, Key: f.Key, Data: f.Data}
}

// TestFanoutViewers is the viewers' side of BenchmarkHTTPFanout, run in a
// child process: it opens the viewers, prints "fanout: ready" once each has
// its first video frame, reads until the server ends the streams and prints
// the fewest and most video frames a viewer got.
func TestFanoutViewers(t *testing.T) {
	url := os.Getenv(envFanoutURL)
	n, _ := strconv.Atoi(os.Getenv(envFanoutViewers))
	if url == "" || n <= 0 {
		t.Skip("the child process of BenchmarkHTTPFanout")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: -1}}
	var ready, done sync.WaitGroup
	ready.Add(n)
	counts := make([]int, n)
	errs := make([]error, n)
	for i := range n {
		done.Go(func() {
			readied := false
			defer func() {
				if !readied {
					ready.Done()
				}
			}()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			resp, err := client.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			errs[i] = countVideoFrames(resp.Body, func(frames int) {
				counts[i] = frames
				if !readied {
					readied = true
					ready.Done()
				}
			})
		})
	}
	ready.Wait()
	fmt.Println("fanout: ready")
	done.Wait()
	lo, hi, failed := counts[0], counts[0], 0
	for i, c := range counts {
		lo, hi = min(lo, c), max(hi, c)
		if errs[i] != nil {
			failed++
			fmt.Fprintf(os.Stderr, "viewer %d: %v\n", i, errs[i])
		}
	}
	fmt.Printf("fanout: result min=%d max=%d failed=%d\n", lo, hi, failed)
}

// countVideoFrames reads an FLV stream to its end, skipping tag bodies, and
// calls frame with the number of AVC NALU video tags read so far after each.
func countVideoFrames(r io.Reader, frame func(int)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	if _, err := br.Discard(9 + 4); err != nil { // file header, PreviousTagSize0
		return err
	}
	var hdr [13]byte // tag header and the video tag's first two body bytes
	frames := 0
	for {
		if _, err := io.ReadFull(br, hdr[:11]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		size := int(hdr[1])<<16 | int(hdr[2])<<8 | int(hdr[3])
		rest := size + 4
		if hdr[0] == 9 && size >= 2 {
			if _, err := io.ReadFull(br, hdr[11:13]); err != nil {
				return err
			}
			rest -= 2
			if hdr[12] == 1 { // AVCPacketType NALU
				frames++
				frame(frames)
			}
		}
		if _, err := br.Discard(rest); err != nil {
			return err
		}
	}
}
