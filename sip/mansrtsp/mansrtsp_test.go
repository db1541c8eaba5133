package mansrtsp

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

// cases drive the unmarshal test, the marshal test and the fuzz seeds.
// Cases with canonical set are also what Marshal writes for the request.
var cases = []struct {
	name      string
	text      string
	canonical bool
	want      Request
}{
	{"speed", "PLAY RTSP/1.0\r\nCSeq: 3\r\nScale: 2.0\r\n", true, Request{Method: MethodPlay, CSeq: 3, Scale: 2}},
	{"half speed", "PLAY RTSP/1.0\r\nCSeq: 4\r\nScale: 0.5\r\n", true, Request{Method: MethodPlay, CSeq: 4, Scale: 0.5}},
	{"seek", "PLAY RTSP/1.0\r\nCSeq: 5\r\nRange: npt=100-\r\n", true,
		Request{Method: MethodPlay, CSeq: 5, Seek: true, Position: 100 * time.Second}},
	{"seek fraction", "PLAY RTSP/1.0\r\nCSeq: 6\r\nRange: npt=12.25-\r\n", true,
		Request{Method: MethodPlay, CSeq: 6, Seek: true, Position: 12250 * time.Millisecond}},
	{"resume", "PLAY RTSP/1.0\r\nCSeq: 7\r\nRange: npt=now-\r\n", true, Request{Method: MethodPlay, CSeq: 7, Now: true}},
	{"pause", "PAUSE RTSP/1.0\r\nCSeq: 8\r\nPauseTime: now\r\n", true,
		Request{Method: MethodPause, CSeq: 8, PauseTime: "now"}},
	{"speed and seek", "PLAY RTSP/1.0\r\nCSeq: 9\r\nScale: -1.0\r\nRange: npt=0-\r\n", true,
		Request{Method: MethodPlay, CSeq: 9, Scale: -1, Seek: true}},
	{"teardown", "TEARDOWN RTSP/1.0\r\nCSeq: 10\r\n", true, Request{Method: MethodTeardown, CSeq: 10}},
	{"LF, odd case, blanks, hh:mm:ss, end", "\n play rtsp/1.0\ncseq:11\nRANGE : NPT = 01:02:03.5-01:10:00\nX-Foo: 1\n\n", false,
		Request{Method: MethodPlay, CSeq: 11, Seek: true, Position: time.Hour + 2*time.Minute + 3500*time.Millisecond}},
	{"no version, bad values ignored", "PLAY\r\nCSeq: x\r\nScale: fast\r\nRange: clock=20240101T000000Z-\r\nRange: npt=-5-\r\n", false,
		Request{Method: MethodPlay}},
	{"integer scale", "PLAY RTSP/1.0\r\nCSeq: 12\r\nScale: 4\r\n", false, Request{Method: MethodPlay, CSeq: 12, Scale: 4}},
}

func TestUnmarshal(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r Request
			if err := r.Unmarshal([]byte(c.text)); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r, c.want) {
				t.Errorf("got %+v, want %+v", r, c.want)
			}
		})
	}
}

func TestMarshal(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := c.want.Marshal()
			if c.canonical && string(out) != c.text {
				t.Errorf("got %q, want %q", out, c.text)
			}
			var r Request
			if err := r.Unmarshal(out); err != nil || !reflect.DeepEqual(r, c.want) {
				t.Errorf("round trip: %+v, %v", r, err)
			}
		})
	}
}

func TestBuilders(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{string(Speed(1, 2)), "PLAY RTSP/1.0\r\nCSeq: 1\r\nScale: 2.0\r\n"},
		{string(SeekTo(2, 90*time.Second)), "PLAY RTSP/1.0\r\nCSeq: 2\r\nRange: npt=90-\r\n"},
		{string(SeekTo(2, 1500*time.Millisecond)), "PLAY RTSP/1.0\r\nCSeq: 2\r\nRange: npt=1.5-\r\n"},
		{string(Resume(3)), "PLAY RTSP/1.0\r\nCSeq: 3\r\nRange: npt=now-\r\n"},
		{string(Pause(4)), "PAUSE RTSP/1.0\r\nCSeq: 4\r\nPauseTime: now\r\n"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestUnmarshalErrors(t *testing.T) {
	for _, in := range []string{"", "\r\n\r\n", "CSeq: 1\r\n"} {
		var r Request
		if err := r.Unmarshal([]byte(in)); !errors.Is(err, ErrNotMANSRTSP) {
			t.Errorf("%q: %v", in, err)
		}
	}
}
