package flv

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	flvcodec "github.com/nvr/nvr/media/codec/flv"
	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/testsrc"
	"github.com/nvr/nvr/media/unit"
)

var clipCases = []struct{ video, audio string }{
	{testsrc.ClipH264, testsrc.ClipAAC},
	{testsrc.ClipH265, testsrc.ClipPCMA},
}

// newHTTPServer serves s as HTTP-FLV on 127.0.0.1. done receives once per
// request when ServeHTTP has returned.
func newHTTPServer(t *testing.T, s *stream.Stream) (srv *httptest.Server, done chan struct{}) {
	done = make(chan struct{}, 1000)
	log := testLogger(t)
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ServeHTTP(w, r, s, log)
		done <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	return srv, done
}

func TestServeHTTP(t *testing.T) {
	for _, cc := range clipCases {
		t.Run(cc.video+"+"+cc.audio, func(t *testing.T) {
			checkGoroutines(t)
			c := loadClip(t, cc.video, cc.audio)
			s := stream.New("cam", 0, testLogger(t))
			p := c.newPublisher(s)
			// 2.4 s in the ring: the newest keyframe is frame 50, at 2 s.
			mid := c.index(0, 2400*time.Millisecond)
			c.publish(p, 0, mid)
			srv, done := newHTTPServer(t, s)

			resp, err := http.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "video/x-flv" ||
				resp.Header.Get("Cache-Control") != "no-cache" || resp.ContentLength != -1 {
				t.Fatalf("response %d %v, length %d", resp.StatusCode, resp.Header, resp.ContentLength)
			}
			c.publish(p, mid, len(c.units))
			s.Close()
			h, tags, err := readTags(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			checkOutput(t, c, h, tags, c.index(0, 2*time.Second))
			<-done
		})
	}
}

func TestServeHTTPHeadAndClosed(t *testing.T) {
	checkGoroutines(t)
	s := stream.New("cam", 0, nil)
	srv, _ := newHTTPServer(t, s)
	resp, err := http.Head(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "video/x-flv" {
		t.Fatalf("HEAD: %d %v", resp.StatusCode, resp.Header)
	}
	s.Close()
	resp, err = http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("closed stream: %d", resp.StatusCode)
	}
}

// TestServeHTTPClientLeaves checks that a viewer that goes away ends Serve
// promptly, while the stream is idle and while it is busy.
func TestServeHTTPClientLeaves(t *testing.T) {
	for _, busy := range []bool{false, true} {
		name := "idle"
		if busy {
			name = "busy"
		}
		t.Run(name, func(t *testing.T) {
			checkGoroutines(t)
			c := loadClip(t, testsrc.ClipH264, testsrc.ClipAAC)
			s := stream.New("cam", 0, nil)
			defer s.Close()
			p := c.newPublisher(s)
			c.publish(p, 0, 30)
			srv, done := newHTTPServer(t, s)
			resp, err := http.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(resp.Body, make([]byte, 100)); err != nil {
				t.Fatal(err)
			}
			stop := make(chan struct{})
			var wg sync.WaitGroup
			if busy {
				wg.Go(func() {
					for i := 0; ; i = (i + 1) % len(c.units) {
						select {
						case <-stop:
							return
						case <-time.After(time.Millisecond):
						}
						c.publish(p, i, i+1)
					}
				})
			}
			resp.Body.Close() // closes the connection: the body was not read to its end
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("ServeHTTP still running after the client left")
			}
			close(stop)
			wg.Wait()
			if n := s.Readers(); n != 0 {
				t.Fatalf("%d readers left", n)
			}
		})
	}
}

// TestServeTimestampsAndParams drives Serve directly: audio that arrives
// after later video is clamped, a codec change brings a new sequence header
// before its keyframe, a publisher restart with equal parameters does not.
func TestServeTimestampsAndParams(t *testing.T) {
	checkGoroutines(t)
	small := loadClip(t, testsrc.ClipH264, testsrc.ClipAAC)
	hd := loadClip(t, testsrc.ClipH264HD, "")
	s := stream.New("cam", 0, testLogger(t))
	var out bytes.Buffer
	var writes int
	errc := make(chan error, 1)
	go func() {
		errc <- Serve(context.Background(), &out, s, Options{Flush: func() { writes++ }, Logger: testLogger(t)})
	}()
	waitFor(t, "the reader", func() bool { return s.Readers() == 1 })

	ms := time.Millisecond
	p := small.newPublisher(s)
	key, inter, hdKey := small.units[0].Data, small.units[2].Data, hd.units[0].Data
	aac := [][]byte{{0x21, 0x10, 0x04}}
	write := func(p *stream.Publisher, track int, dts time.Duration, k bool, data [][]byte) {
		p.Write(&unit.Unit{Track: track, DTS: dts, PTS: dts, Key: k, Data: data})
	}
	write(p, 1, 0, true, aac) // before the first keyframe: the reader skips it
	write(p, 0, 0, true, key)
	write(p, 1, 10*ms, true, aac)
	write(p, 0, 40*ms, false, inter)
	write(p, 0, 80*ms, false, inter)
	write(p, 1, 33*ms, true, aac) // late: clamped to 80
	write(p, 0, 120*ms, false, inter)
	p.SetTrack(0, hd.vp) // a new resolution
	write(p, 0, 160*ms, true, hdKey)
	write(p, 1, 170*ms, true, aac)

	p2 := s.NewPublisher() // the source reconnects: same codecs, new pointers
	vp, ap := *hd.vp, *small.ap
	p2.SetTrack(0, &vp)
	p2.SetTrack(1, &ap)
	write(p2, 0, 5*time.Second, true, hdKey) // continues 40 ms after 170 ms
	write(p2, 1, 5*time.Second, true, aac)
	s.Close()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if writes < 2 {
		t.Fatalf("%d flushes", writes)
	}

	_, tags, err := readTags(&out)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		ts    uint32
		video bool
		seq   bool
	}
	wants := []want{
		{0, true, true}, {0, false, true}, // sequence headers at the first unit's time
		{0, true, false}, {10, false, false}, {40, true, false}, {80, true, false},
		{80, false, false}, // the late audio
		{120, true, false},
		{160, true, true}, {160, true, false}, // new SPS/PPS, then its keyframe
		{170, false, false},
		{210, true, false}, {210, false, false}, // after the restart, no new sequence header
	}
	tags = tags[1:] // onMetaData
	if len(tags) != len(wants) {
		for _, tag := range tags {
			t.Logf("%v %d", tag.Type, tag.Timestamp)
		}
		t.Fatalf("%d tags, want %d", len(tags), len(wants))
	}
	for i, w := range wants {
		tag := tags[i]
		seq := tag.Video != nil && tag.Video.PacketType == flvcodec.AVCSequenceHeader ||
			tag.Audio != nil && tag.Audio.PacketType == flvcodec.AACSequenceHeader
		if tag.Timestamp != w.ts || (tag.Video != nil) != w.video || seq != w.seq {
			t.Errorf("tag %d: %v at %d (sequence header %v), want %+v", i, tag.Type, tag.Timestamp, seq, w)
		}
	}
	var rec flvcodec.AVCDecoderConfigurationRecord
	if err := rec.Unmarshal(tags[8].Video.Payload); err != nil || !bytes.Equal(rec.SPS[0], hd.vp.SPS) {
		t.Fatalf("second sequence header: %v", err)
	}
}

// TestServeWriteError checks that Serve returns a write error.
func TestServeWriteError(t *testing.T) {
	c := loadClip(t, testsrc.ClipH264, "")
	s := stream.New("cam", 0, nil)
	defer s.Close()
	c.publish(c.newPublisher(s), 0, 10)
	boom := errors.New("boom")
	err := Serve(context.Background(), failWriter{boom}, s, Options{})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	if s.Readers() != 0 {
		t.Fatal("reader left open")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Serve(ctx, io.Discard, s, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: %v", err)
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

// TestServeManyViewers has 100 viewers watch from the stream's first unit:
// each must get every unit, in order.
func TestServeManyViewers(t *testing.T) {
	checkGoroutines(t)
	const viewers = 100
	c := loadClip(t, testsrc.ClipH264, testsrc.ClipAAC)
	s := stream.New("cam", 0, nil)
	srv, _ := newHTTPServer(t, s)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: viewers}}
	defer client.CloseIdleConnections()

	type result struct {
		h    flvcodec.Header
		tags []*flvcodec.Tag
		err  error
	}
	results := make([]result, viewers)
	var wg sync.WaitGroup
	for i := range viewers {
		wg.Go(func() {
			resp, err := client.Get(srv.URL)
			if err != nil {
				results[i].err = err
				return
			}
			defer resp.Body.Close()
			results[i].h, results[i].tags, results[i].err = readTags(resp.Body)
		})
	}
	waitFor(t, "all viewers", func() bool { return s.Readers() == viewers })
	c.publish(c.newPublisher(s), 0, len(c.units))
	s.Close()
	wg.Wait()
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("viewer %d: %v", i, r.err)
		}
		checkOutput(t, c, r.h, r.tags, 0)
	}
}
