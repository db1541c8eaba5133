package sdp

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// testCase is one description: its text and what it reads as. Cases with
// canonical set are also what Marshal writes for the session. The table
// drives the unmarshal test, the marshal test and the fuzz seeds.
type testCase struct {
	name      string
	file      string // under testdata, instead of text
	text      string
	canonical bool
	want      Session
}

func unix(sec int64) time.Time { return time.Unix(sec, 0) }

var ps = []RTPMap{{96, "PS", 90000}}

var cases = []testCase{
	{
		name: "offer live UDP", canonical: true,
		text: "v=0\r\no=34020000002000000001 0 0 IN IP4 10.0.0.1\r\ns=Play\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n" +
			"m=video 30000 RTP/AVP 96 98 97\r\na=recvonly\r\na=rtpmap:96 PS/90000\r\na=rtpmap:98 H264/90000\r\n" +
			"a=rtpmap:97 MPEG4/90000\r\ny=0200000001\r\n",
		want: Session{Origin: "34020000002000000001", OriginAddress: "10.0.0.1", Name: "Play", Address: "10.0.0.1",
			Media: "video", Port: 30000, Proto: ProtoUDP, Formats: []int{96, 98, 97}, Direction: RecvOnly,
			RTPMaps: GBRTPMaps, SSRC: "0200000001"},
	},
	{
		name: "offer playback TCP passive, sub-stream", canonical: true,
		text: "v=0\r\no=34020000002000000001 0 0 IN IP4 10.0.0.1\r\ns=Playback\r\nu=34020000001320000001:0\r\n" +
			"c=IN IP4 10.0.0.1\r\nt=1700000000 1700003600\r\nm=video 30002 TCP/RTP/AVP 96 98 97\r\na=recvonly\r\n" +
			"a=rtpmap:96 PS/90000\r\na=rtpmap:98 H264/90000\r\na=rtpmap:97 MPEG4/90000\r\na=setup:passive\r\n" +
			"a=connection:new\r\na=stream:1\r\na=streamnumber:1\r\na=streamprofile:1\r\ny=1200000002\r\n",
		want: Session{Origin: "34020000002000000001", OriginAddress: "10.0.0.1", Name: "Playback",
			URI: "34020000001320000001:0", Address: "10.0.0.1", Start: unix(1700000000), End: unix(1700003600),
			Media: "video", Port: 30002, Proto: ProtoTCP, Formats: []int{96, 98, 97}, Direction: RecvOnly,
			RTPMaps: GBRTPMaps, Setup: SetupPassive, Connection: "new", Stream: 1, SSRC: "1200000002"},
	},
	{
		name: "offer download TCP active, 2016 f=", canonical: true,
		text: "v=0\r\no=34020000002000000001 0 0 IN IP4 10.0.0.1\r\ns=Download\r\nu=34020000001320000001:0\r\n" +
			"c=IN IP4 10.0.0.1\r\nt=1700000000 1700000600\r\nm=video 30004 TCP/RTP/AVP 96\r\na=recvonly\r\n" +
			"a=rtpmap:96 PS/90000\r\na=setup:active\r\na=connection:new\r\na=downloadspeed:4\r\ny=1200000003\r\n" +
			"f=v/2/5/25/1/4000a/1/8/1\r\n",
		want: Session{Origin: "34020000002000000001", OriginAddress: "10.0.0.1", Name: "Download",
			URI: "34020000001320000001:0", Address: "10.0.0.1", Start: unix(1700000000), End: unix(1700000600),
			Media: "video", Port: 30004, Proto: ProtoTCP, Formats: []int{96}, Direction: RecvOnly,
			RTPMaps: ps, Setup: SetupActive, Connection: "new", DownloadSpeed: 4, SSRC: "1200000003",
			Format: "v/2/5/25/1/4000a/1/8/1"},
	},
	{
		name: "hikvision live UDP", file: "hikvision_play_udp.sdp",
		want: Session{Origin: "34020000001320000001", OriginAddress: "192.168.1.64", Name: "Play",
			Address: "192.168.1.64", Media: "video", Port: 15060, Proto: ProtoUDP, Formats: []int{96},
			Direction: SendOnly, RTPMaps: ps, SSRC: "0100000001"},
	},
	{
		name: "hikvision own SSRC", file: "hikvision_own_ssrc.sdp",
		want: Session{Origin: "34020000001320000003", OriginAddress: "10.0.0.5", Name: "Play",
			Address: "10.0.0.5", Media: "video", Port: 5490, Proto: ProtoUDP, Formats: []int{96},
			Direction: SendOnly, RTPMaps: ps, FileSize: -1, SSRC: "0703001718"},
	},
	{
		name: "hikvision playback", file: "hikvision_playback.sdp",
		want: Session{Origin: "34020000001320000001", OriginAddress: "192.168.1.64", Name: "Playback",
			URI: "34020000001320000001:0", Address: "192.168.1.64", Start: unix(1700000000), End: unix(1700003600),
			Media: "video", Port: 15062, Proto: ProtoUDP, Formats: []int{96}, Direction: SendOnly, RTPMaps: ps,
			SSRC: "1100000002"},
	},
	{
		name: "dahua live UDP", file: "dahua_play_udp.sdp",
		want: Session{Origin: "34020000001310000002", OriginAddress: "192.168.0.111", Name: "Play",
			Info: "VCam Live Video", Address: "192.168.0.111", Media: "video", Port: 9712, Proto: ProtoUDP,
			Formats: []int{96}, Direction: SendOnly, RTPMaps: ps, SSRC: "0100000001",
			Format: "v/0/0/0/0/0a/0/0/0"},
	},
	{
		name: "dahua TCP active", file: "dahua_tcp_active.sdp",
		want: Session{Origin: "34020000001310000001", OriginAddress: "192.168.1.108", Name: "Play",
			Info: "VCam Live Video", Address: "192.168.1.108", Media: "video", Port: 10032, Proto: ProtoTCP,
			Formats: []int{96}, Direction: SendOnly, RTPMaps: ps, Setup: SetupActive, Connection: "new",
			SSRC: "0200005549", Format: "v/0/0/0/0/0a/0/0/0"},
	},
	{
		name: "dahua SSRC zero", file: "dahua_ssrc_zero.sdp",
		want: Session{Origin: "34020000001320000005", OriginAddress: "192.168.1.109", Name: "Play",
			Address: "192.168.1.109", Media: "video", Port: 40018, Proto: ProtoUDP, Formats: []int{96},
			Direction: SendOnly, RTPMaps: ps, SSRC: "0000000000"},
	},
	{
		name: "uniview download", file: "uniview_download.sdp",
		want: Session{Origin: "34020000001320000010", OriginAddress: "172.16.3.20", Name: "Download",
			URI: "34020000001320000010:0", Address: "172.16.3.20", Start: unix(1700000000), End: unix(1700001800),
			Media: "video", Port: 30002, Proto: ProtoUDP, Formats: []int{96}, Direction: SendOnly, RTPMaps: ps,
			FileSize: 104857600, SSRC: "1100000003"},
	},
	{
		name: "kedacom y before m, no c", file: "kedacom_y_before_m.sdp",
		want: Session{Origin: "34020000001320000020", OriginAddress: "192.168.8.20", Name: "Play",
			Address: "192.168.8.20", Media: "video", Port: 20000, Proto: ProtoTCP, Formats: []int{96},
			Direction: SendOnly, RTPMaps: ps, Setup: SetupPassive, Connection: "new", SSRC: "0000123456"},
	},
	{
		name: "quirks", file: "quirk_mixed.sdp",
		want: Session{Origin: "34020000001320000030", OriginAddress: "10.1.1.30", Name: "play",
			Address: "10.1.1.31", Start: unix(3908908800 - ntpUnixOffset), End: unix(3908912400 - ntpUnixOffset),
			Media: "video", Port: 6000, Proto: "RTP/AVP/TCP", Formats: []int{96, 98}, Direction: SendOnly,
			RTPMaps: ps, Setup: SetupActive, Attributes: []string{"x-vendor:1"}, SSRC: "12345"},
	},
	{
		name: "stream variants: first wins", text: "m=video 1 RTP/AVP\na=streamMode:sub\na=stream:3\n",
		want: Session{Media: "video", Port: 1, Proto: ProtoUDP, Stream: 1},
	},
}

func (c testCase) input(t testing.TB) []byte {
	if c.file == "" {
		return []byte(c.text)
	}
	b, err := os.ReadFile(filepath.Join("testdata", c.file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestUnmarshal(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s Session
			if err := s.Unmarshal(c.input(t)); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(s, c.want) {
				t.Errorf("got  %+v\nwant %+v", s, c.want)
			}
		})
	}
}

func TestMarshal(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.canonical {
				if got := string(c.want.Marshal()); got != c.text {
					t.Errorf("got\n%q\nwant\n%q", got, c.text)
				}
			}
			// Every session writes back to itself.
			var s Session
			if err := s.Unmarshal(c.want.Marshal()); err != nil {
				t.Fatal(err)
			}
			if !sameSession(s, c.want) {
				t.Errorf("round trip\ngot  %+v\nwant %+v", s, c.want)
			}
		})
	}
}

// sameSession compares what a round trip keeps: all but OriginAddress,
// which Marshal fills from Address when it is empty.
func sameSession(a, b Session) bool {
	a.OriginAddress, b.OriginAddress = "", ""
	return reflect.DeepEqual(a, b)
}

func TestUnmarshalErrors(t *testing.T) {
	for _, c := range []struct {
		text string
		want error
	}{
		{"", ErrNoMedia},
		{"v=0\r\no=- 0 0 IN IP4 1.2.3.4\r\ns=Play\r\n", ErrNoMedia},
		{"m=video\r\n", ErrBadMedia},
		{"m=video x RTP/AVP 96\r\n", ErrBadMedia},
		{"m=video 70000 RTP/AVP 96\r\n", ErrBadMedia},
	} {
		var s Session
		if err := s.Unmarshal([]byte(c.text)); !errors.Is(err, c.want) {
			t.Errorf("%q: %v, want %v", c.text, err, c.want)
		}
	}
}

func TestSessionHelpers(t *testing.T) {
	for _, c := range []struct {
		name string
		want Mode
	}{{"Play", Play}, {" playback", Playback}, {"DOWNLOAD", Download}, {"Talk", Talk}, {"Live", ""}} {
		if got := (&Session{Name: c.name}).Mode(); got != c.want {
			t.Errorf("Mode(%q) = %q, want %q", c.name, got, c.want)
		}
	}
	if !Playback.History() || !Download.History() || Play.History() {
		t.Error("History")
	}
	for _, c := range []struct {
		y    string
		want uint32
		ok   bool
	}{
		{"0100000001", 100000001, true}, {"1234", 1234, true}, {"0", 0, true}, {"0000000000", 0, true},
		{"4294967295", 4294967295, true}, {"4294967296", 0, false}, {"", 0, false}, {"12a", 0, false},
		{"-1", 0, false}, {"+1", 0, false},
	} {
		if got, ok := (&Session{SSRC: c.y}).SSRCValue(); got != c.want || ok != c.ok {
			t.Errorf("SSRCValue(%q) = %d, %v", c.y, got, ok)
		}
	}
	if got := FormatSSRC(100000001); got != "0100000001" {
		t.Errorf("FormatSSRC = %q", got)
	}
	if !(&Session{Proto: "RTP/AVP/TCP"}).TCP() || (&Session{Proto: ProtoUDP}).TCP() {
		t.Error("TCP")
	}
	s := Session{Stream: 2, StreamStyle: StreamMode, Address: "::1"}
	got := string(s.Marshal())
	want := "v=0\r\no=- 0 0 IN IP6 ::1\r\ns=\r\nc=IN IP6 ::1\r\nt=0 0\r\nm=video 0\r\na=streamMode:sub\r\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	in := cases[len(cases)-2].input(b)
	var s Session
	for b.Loop() {
		if err := s.Unmarshal(in); err != nil {
			b.Fatal(err)
		}
	}
}
