package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/gorilla/websocket"

	flvcodec "github.com/nvr/nvr/media/codec/flv"
	"github.com/nvr/nvr/media/testsrc"
)

// flvWant says what an FLV stream must carry: video "H264" or "H265",
// audio "AAC", "PCMA" or "" (none).
type flvWant struct {
	video, audio string
}

// flvSummary is what readFLV saw.
type flvSummary struct {
	videoTags, keyframes, audioTags int
	firstTS, lastTS                 uint32 // of media tags
}

// readFLV reads an FLV stream from its start until its media tags span
// spanMS milliseconds, checking the layout a player relies on: the header,
// onMetaData, the video sequence header (AVC or enhanced hvc1), the AAC
// sequence header, a keyframe first, codecs as announced, and timestamps
// that never go backwards.
func readFLV(t *testing.T, r io.Reader, want flvWant, spanMS uint32) flvSummary {
	t.Helper()
	return readFLVKeys(t, r, want, spanMS, 0)
}

// readFLVKeys is readFLV that reads on past spanMS until minKeys video
// keyframes came. It reads as long as the stream goes on: the caller bounds
// it (closing r ends it with a fatal error).
func readFLVKeys(t *testing.T, r io.Reader, want flvWant, spanMS uint32, minKeys int) flvSummary {
	t.Helper()
	var s flvSummary
	fr := flvcodec.NewReader(r)
	h, err := fr.ReadHeader()
	if err != nil {
		t.Fatalf("FLV header: %v", err)
	}
	if !h.HasVideo || h.HasAudio != (want.audio != "") {
		t.Fatalf("FLV header %+v, want %+v", h, want)
	}
	next := func(what string) *flvcodec.Tag {
		t.Helper()
		tag, err := fr.ReadTag()
		if err != nil {
			t.Fatalf("FLV %s (after %d video tags, %d keyframes, %d ms): %v",
				what, s.videoTags, s.keyframes, s.lastTS-s.firstTS, err)
		}
		return tag
	}

	meta := next("onMetaData")
	if meta.Script == nil || meta.Script.Name != "onMetaData" {
		t.Fatalf("first tag is not onMetaData: %+v", meta)
	}
	props, ok := meta.Script.Value.(flvcodec.ECMAArray)
	if !ok {
		t.Fatalf("onMetaData value is a %T", meta.Script.Value)
	}
	wantVideoID := float64(flvcodec.VideoCodecAVC)
	if want.video == "H265" {
		wantVideoID = float64(flvcodec.FourCCHEVC)
	}
	checks := map[string]any{"width": 320.0, "height": 240.0, "videocodecid": wantVideoID}
	switch want.audio {
	case "AAC":
		checks["audiocodecid"] = float64(flvcodec.SoundAAC)
	case "PCMA":
		checks["audiocodecid"] = float64(flvcodec.SoundPCMA)
		checks["audiosamplerate"] = 8000.0
	}
	for k, v := range checks {
		if got, _ := props.Get(k); got != v {
			t.Errorf("onMetaData %s = %v, want %v", k, got, v)
		}
	}

	seq := next("video sequence header")
	if !isVideoSeqHeader(seq, want.video) {
		t.Fatalf("second tag is not the %s sequence header: %+v", want.video, seq)
	}
	if want.audio == "AAC" {
		a := next("AAC sequence header").Audio
		if a == nil || a.Format != flvcodec.SoundAAC || a.PacketType != flvcodec.AACSequenceHeader || len(a.Payload) < 2 {
			t.Fatalf("third tag is not the AAC sequence header: %+v", a)
		}
	}

	last := seq.Timestamp
	for first := true; ; first = false {
		tag := next("media tag")
		if flvcodec.TimestampBefore(tag.Timestamp, last) {
			t.Fatalf("timestamp %d after %d", tag.Timestamp, last)
		}
		last = tag.Timestamp
		if first {
			s.firstTS = tag.Timestamp
		}
		s.lastTS = tag.Timestamp
		switch {
		case tag.Video != nil:
			v := tag.Video
			if isVideoSeqHeader(tag, want.video) {
				continue // parameters repeated or changed
			}
			if !isVideoFrame(v, want.video) || len(v.Payload) == 0 {
				t.Fatalf("video tag %d ms is not %s coded frames: %+v", tag.Timestamp, want.video, v)
			}
			if s.videoTags == 0 && v.FrameType != flvcodec.FrameKey {
				t.Fatalf("first video tag is not a keyframe: frame type %d", v.FrameType)
			}
			s.videoTags++
			if v.FrameType == flvcodec.FrameKey {
				s.keyframes++
			}
		case tag.Audio != nil:
			a := tag.Audio
			switch want.audio {
			case "AAC":
				if a.Format != flvcodec.SoundAAC || (a.PacketType != flvcodec.AACRaw && a.PacketType != flvcodec.AACSequenceHeader) {
					t.Fatalf("audio tag %+v, want AAC", a)
				}
			case "PCMA":
				if a.Format != flvcodec.SoundPCMA || len(a.Payload) == 0 {
					t.Fatalf("audio tag format %d, want G.711 A-law (7)", a.Format)
				}
			default:
				t.Fatalf("audio tag in a stream without audio: %+v", a)
			}
			s.audioTags++
		default:
			t.Fatalf("unexpected tag %s at %d ms", tag.Type, tag.Timestamp)
		}
		if s.videoTags > 0 && s.lastTS-s.firstTS >= spanMS && s.keyframes >= minKeys {
			break
		}
	}
	if want.audio != "" && s.audioTags == 0 {
		t.Errorf("no audio tag in %d ms", s.lastTS-s.firstTS)
	}
	if s.keyframes == 0 {
		t.Errorf("no keyframe")
	}
	return s
}

func isVideoSeqHeader(tag *flvcodec.Tag, codec string) bool {
	v := tag.Video
	if v == nil || v.FrameType != flvcodec.FrameKey {
		return false
	}
	if codec == "H265" {
		return v.Enhanced && v.FourCC == flvcodec.FourCCHEVC && v.PacketType == flvcodec.PacketTypeSequenceStart
	}
	return !v.Enhanced && v.CodecID == flvcodec.VideoCodecAVC && v.PacketType == flvcodec.AVCSequenceHeader
}

func isVideoFrame(v *flvcodec.VideoTag, codec string) bool {
	if codec == "H265" {
		return v.Enhanced && v.FourCC == flvcodec.FourCCHEVC &&
			(v.PacketType == flvcodec.PacketTypeCodedFrames || v.PacketType == flvcodec.PacketTypeCodedFramesX)
	}
	return !v.Enhanced && v.CodecID == flvcodec.VideoCodecAVC && v.PacketType == flvcodec.AVCNALU
}

// codecCases are the camera flavours the play tests run against.
var codecCases = []struct {
	name         string
	video, audio string // testsrc clips
	want         flvWant
}{
	{"H264+AAC", testsrc.ClipH264, testsrc.ClipAAC, flvWant{video: "H264", audio: "AAC"}},
	{"H265+PCMA", testsrc.ClipH265, testsrc.ClipPCMA, flvWant{video: "H265", audio: "PCMA"}},
}

// startCodecCases starts an app with one camera per codec case and returns
// their channels, in the order of codecCases.
func startCodecCases(t *testing.T) (*testApp, []channelJSON) {
	t.Helper()
	srv, err := testsrc.NewServer(testsrcConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	ta := startApp(t)
	var chans []channelJSON
	for i, c := range codecCases {
		var ac *testsrc.AudioClip
		if c.audio != "" {
			if ac, err = testsrc.LoadAudio(c.audio); err != nil {
				t.Fatal(err)
			}
		}
		path := fmt.Sprintf("cam%d", i)
		srv.AddStream(path, mustVideo(t, c.video), ac)
		_, ch := ta.addDevice(c.name, srv.URL(path))
		chans = append(chans, ch)
	}
	return ta, chans
}

// TestHTTPFLV plays a channel over HTTP-FLV with the token in the URL.
func TestHTTPFLV(t *testing.T) {
	t.Parallel()
	ta, chans := startCodecCases(t)
	for i, c := range codecCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ta, ch := ta.with(t), chans[i]

			resp := ta.send("GET", ch.Play.FLV+"?token="+ta.token, "", nil)
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b, _ := io.ReadAll(resp.Body)
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "video/x-flv" {
				t.Errorf("Content-Type %q", ct)
			}
			s := readFLV(t, resp.Body, c.want, 2000)
			t.Logf("%+v", s)

			// HEAD answers the headers only.
			head := ta.send("HEAD", ch.Play.FLV+"?token="+ta.token, "", nil)
			head.Body.Close()
			if head.StatusCode != http.StatusOK || head.Header.Get("Content-Type") != "video/x-flv" {
				t.Errorf("HEAD: %d %v", head.StatusCode, head.Header)
			}
		})
	}
}

// testsrcConfig is the configuration of a camera without credentials.
func testsrcConfig() testsrc.ServerConfig { return testsrc.ServerConfig{} }

// dialWS opens a WebSocket, failing the test on an error.
func dialWS(t *testing.T, u string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, resp, err := websocket.DefaultDialer.DialContext(ctx, u, nil)
	if err != nil {
		msg := ""
		if resp != nil {
			b, _ := io.ReadAll(resp.Body)
			msg = fmt.Sprintf(" (%d %s)", resp.StatusCode, b)
		}
		t.Fatalf("dial %s: %v%s", u, err, msg)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetReadDeadline(time.Now().Add(waitTimeout))
	return c
}

// wsReader reads the binary messages of a WebSocket as one byte stream.
type wsReader struct {
	c    *websocket.Conn
	cur  io.Reader
	msgs int
}

func (w *wsReader) Read(p []byte) (int, error) {
	for {
		if w.cur != nil {
			n, err := w.cur.Read(p)
			if errors.Is(err, io.EOF) {
				w.cur = nil
				err = nil
			}
			if n > 0 || err != nil {
				return n, err
			}
			continue
		}
		typ, r, err := w.c.NextReader()
		if err != nil {
			return 0, err
		}
		if typ != websocket.BinaryMessage {
			return 0, fmt.Errorf("WS-FLV message of type %d, want binary", typ)
		}
		w.cur = r
		w.msgs++
	}
}

// TestWSFLV plays a channel as FLV over a WebSocket.
func TestWSFLV(t *testing.T) {
	t.Parallel()
	ta, chans := startCodecCases(t)
	for i, c := range codecCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ta, ch := ta.with(t), chans[i]

			conn := dialWS(t, ta.wsURL(ch.Play.WSFLV))
			typ, first, err := conn.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			// The first message holds the file header, onMetaData and the
			// sequence headers, so a player can start with it alone.
			if typ != websocket.BinaryMessage || !bytes.HasPrefix(first, []byte("FLV")) {
				t.Fatalf("first message: type %d, % x", typ, first[:min(16, len(first))])
			}
			wr := &wsReader{c: conn}
			s := readFLV(t, io.MultiReader(bytes.NewReader(first), wr), c.want, 2000)
			if wr.msgs < 2 {
				t.Errorf("%d messages after the first", wr.msgs)
			}
			t.Logf("%+v in %d messages", s, wr.msgs+1)
			_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		})
	}
}

// TestWSFMP4 plays a channel as fragmented MP4 over a WebSocket, the way an
// MSE player does.
func TestWSFMP4(t *testing.T) {
	t.Parallel()
	src := newSource(t, testsrcConfig(), "cam", testsrc.ClipH264, testsrc.ClipAAC)
	ta := startApp(t)
	_, ch := ta.addDevice("cam", src.URL("cam"))

	conn := dialWS(t, ta.wsURL(ch.Play.WSFMP4))
	typ, msg, err := conn.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	var hello struct {
		Type string `json:"type"`
		MIME string `json:"mime"`
	}
	if typ != websocket.TextMessage || json.Unmarshal(msg, &hello) != nil || hello.MIME == "" {
		t.Fatalf("first message: type %d %q", typ, msg)
	}
	if !strings.HasPrefix(hello.MIME, "video/mp4") || !strings.Contains(hello.MIME, "avc1") || !strings.Contains(hello.MIME, "mp4a") {
		t.Errorf("MIME %q", hello.MIME)
	}

	typ, msg, err = conn.ReadMessage()
	if err != nil || typ != websocket.BinaryMessage {
		t.Fatalf("init segment: type %d, %v", typ, err)
	}
	video, timescale, audio := parseInit(t, msg)
	if audio == 0 {
		t.Fatal("no AAC track in the init segment")
	}

	var videoDur, samples, audioSamples uint64
	baseTimes := map[int]uint64{}
	for videoDur < 2*timescale {
		typ, msg, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("after %d video samples: %v", samples, err)
		}
		if typ != websocket.BinaryMessage {
			t.Fatalf("message of type %d in the middle: %q", typ, msg)
		}
		var parts fmp4.Parts
		if err := parts.Unmarshal(msg); err != nil {
			t.Fatalf("fragment: %v", err)
		}
		for _, p := range parts {
			for _, tr := range p.Tracks {
				if b, ok := baseTimes[tr.ID]; ok && tr.BaseTime < b {
					t.Fatalf("track %d: base time %d after %d", tr.ID, tr.BaseTime, b)
				}
				baseTimes[tr.ID] = tr.BaseTime
				switch tr.ID {
				case video:
					for _, s := range tr.Samples {
						if samples == 0 {
							checkIDR(t, s)
						}
						samples++
						videoDur += uint64(s.Duration)
					}
				case audio:
					audioSamples += uint64(len(tr.Samples))
				default:
					t.Fatalf("fragment of track %d, not in the init segment", tr.ID)
				}
			}
		}
	}
	if audioSamples == 0 {
		t.Error("no audio sample")
	}
	t.Logf("%d video samples, %d audio samples", samples, audioSamples)
}

// parseInit checks an fMP4 init segment with an H.264 and an AAC track and
// returns their ids and the video time scale.
func parseInit(t *testing.T, b []byte) (video int, timescale uint64, audio int) {
	t.Helper()
	var init fmp4.Init
	if err := init.Unmarshal(bytes.NewReader(b)); err != nil {
		t.Fatalf("init segment: %v", err)
	}
	for _, tr := range init.Tracks {
		switch c := tr.Codec.(type) {
		case *fmp4.CodecH264:
			video, timescale = tr.ID, uint64(tr.TimeScale)
			if len(c.SPS) == 0 || len(c.PPS) == 0 {
				t.Errorf("H.264 track without parameters")
			}
		case *fmp4.CodecMPEG4Audio:
			audio = tr.ID
		default:
			t.Errorf("track %d: codec %T", tr.ID, tr.Codec)
		}
	}
	if video == 0 || timescale == 0 {
		t.Fatalf("no H.264 track in %d tracks", len(init.Tracks))
	}
	return video, timescale, audio
}

// checkIDR checks that a sample is a sync sample holding an IDR picture.
func checkIDR(t *testing.T, s *fmp4.Sample) {
	t.Helper()
	au, err := s.GetH264()
	if err != nil {
		t.Fatalf("first video sample: %v", err)
	}
	if s.IsNonSyncSample || !h264.IsRandomAccess(au) {
		t.Fatalf("first video sample is not an IDR (non-sync %v, %d NALUs)", s.IsNonSyncSample, len(au))
	}
}

// TestHLS plays a channel over HLS the way a player does: the multivariant
// playlist, then the media playlist, init segment and a segment, every URI
// carrying the token. Meanwhile the stream appears in GET /streams.
func TestHLS(t *testing.T) {
	t.Parallel()
	src := newSource(t, testsrcConfig(), "cam", testsrc.ClipH264, testsrc.ClipAAC)
	ta := startApp(t)
	_, ch := ta.addDevice("cam", src.URL("cam"))

	base, err := url.Parse(ta.playURL(ch.Play.HLS))
	if err != nil {
		t.Fatal(err)
	}
	var mv *playlist.Multivariant
	eventually(t, "the HLS playlist", func() bool {
		st, b := ta.do("GET", ch.Play.HLS+"?token="+ta.token, "", nil)
		if st == http.StatusServiceUnavailable {
			return false
		}
		if st != http.StatusOK {
			t.Fatalf("index.m3u8: %d %s", st, b)
		}
		pl, err := playlist.Unmarshal(b)
		if err != nil {
			t.Fatalf("index.m3u8: %v\n%s", err, b)
		}
		var ok bool
		if mv, ok = pl.(*playlist.Multivariant); !ok {
			t.Fatalf("index.m3u8 is a %T", pl)
		}
		return true
	}, nil)
	if len(mv.Variants) == 0 {
		t.Fatal("no variant")
	}
	v := mv.Variants[0]
	if !hasCodec(v.Codecs, "avc1") || !hasCodec(v.Codecs, "mp4a") {
		t.Errorf("variant codecs %v", v.Codecs)
	}
	if v.Resolution != "320x240" {
		t.Errorf("variant resolution %q", v.Resolution)
	}

	get := func(ref *url.URL, uri string) []byte {
		t.Helper()
		u, err := ref.Parse(uri)
		if err != nil {
			t.Fatal(err)
		}
		if u.Query().Get("token") != ta.token {
			t.Fatalf("URI %q does not carry the token", uri)
		}
		st, b := ta.do("GET", u.RequestURI(), "", nil)
		if st != http.StatusOK {
			t.Fatalf("GET %s: %d %s", u.Path, st, b)
		}
		return b
	}
	media := func(uri string) (*url.URL, *playlist.Media) {
		t.Helper()
		u, _ := base.Parse(uri)
		pl, err := playlist.Unmarshal(get(base, uri))
		if err != nil {
			t.Fatalf("%s: %v", uri, err)
		}
		m, ok := pl.(*playlist.Media)
		if !ok {
			t.Fatalf("%s is a %T", uri, pl)
		}
		if m.Map == nil || len(m.Segments) == 0 {
			t.Fatalf("%s: no EXT-X-MAP or no segment", uri)
		}
		return u, m
	}

	vu, vm := media(v.URI)
	videoID, _, audioInVideo := parseInit(t, get(vu, vm.Map.URI))
	seg := get(vu, vm.Segments[0].URI)
	var parts fmp4.Parts
	if err := parts.Unmarshal(seg); err != nil {
		t.Fatalf("segment: %v", err)
	}
	found := false
	for _, p := range parts {
		for _, tr := range p.Tracks {
			if tr.ID == videoID && len(tr.Samples) > 0 && !found {
				checkIDR(t, tr.Samples[0])
				found = true
			}
		}
	}
	if !found {
		t.Fatal("no video sample in the first segment")
	}

	// The AAC track is a separate audio rendition unless muxed with video.
	if audioInVideo == 0 {
		var rend *playlist.MultivariantRendition
		for _, r := range mv.Renditions {
			if r.Type == playlist.MultivariantRenditionTypeAudio && r.URI != nil {
				rend = r
			}
		}
		if rend == nil {
			t.Fatal("AAC is neither in the video init segment nor an audio rendition")
		}
		au, am := media(*rend.URI)
		var init fmp4.Init
		if err := init.Unmarshal(bytes.NewReader(get(au, am.Map.URI))); err != nil {
			t.Fatalf("audio init: %v", err)
		}
		if len(init.Tracks) != 1 {
			t.Fatalf("audio init has %d tracks", len(init.Tracks))
		}
		if _, ok := init.Tracks[0].Codec.(*fmp4.CodecMPEG4Audio); !ok {
			t.Fatalf("audio rendition codec %T", init.Tracks[0].Codec)
		}
		get(au, am.Segments[0].URI)
	}

	// While HLS plays, the stream is listed with its codecs and rates; the
	// bitrate is measured over a window of a few seconds.
	var s streamJSON
	eventually(t, "the stream's bitrate", func() bool {
		var ok bool
		s, ok = ta.streamInfo(ch.Stream)
		_ = get(vu, vm.Map.URI) // keep the HLS muxer in use
		return ok && s.Bitrate > 0
	}, func() string { return fmt.Sprintf("%+v", s) })
	if strings.Join(s.Codecs, ",") != "H264,AAC" || s.Resolution != "320x240" || s.Readers < 1 || s.Status != "online" || s.FPS <= 0 {
		t.Errorf("stream %+v, want codecs [H264 AAC], 320x240, online, readers >= 1", s)
	}
}

func hasCodec(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}
