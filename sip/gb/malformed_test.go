package gb_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nvr/nvr/sip"
	"github.com/nvr/nvr/sip/gbsim"
)

// Bad bodies from a device are logged and dropped, a bad byte costs only
// itself, and the device (and everyone else) is served normally after.
func TestMalformedBodies(t *testing.T) {
	const ct = "Application/MANSCDP+xml"
	id := gbsim.MakeID(132, 1)
	cases := []struct {
		name string
		tcp  bool // too large for a datagram
		ct   string
		body []byte
		log  string // what the client logs
	}{
		{"truncated", false, ct, []byte(`<?xml version="1.0" encoding="GB2312"?>` + "\r\n<Response>\r\n<CmdType>DeviceInfo</CmdType>\r\n<SN>5</SN>\r\n<Devi"),
			"gb undecodable body dropped"},
		{"not MANSCDP", false, ct, []byte("<html><body>hello</body></html>"), "gb undecodable body dropped"},
		{"empty", false, ct, nil, "gb undecodable body dropped"},
		{"wrong CmdType", false, ct, []byte("<Response><CmdType>Bogus</CmdType><SN>1</SN><DeviceID>" + id + "</DeviceID></Response>"),
			"gb answer nobody waits for dropped"},
		{"unknown notify", false, ct, []byte("<Notify><CmdType>Bogus</CmdType><SN>1</SN><DeviceID>" + id + "</DeviceID></Notify>"),
			"gb notification ignored"},
		{"a query from the device", false, ct, []byte("<Query><CmdType>Catalog</CmdType><SN>1</SN><DeviceID>" + id + "</DeviceID></Query>"),
			"gb request from a device ignored"},
		{"SDP", false, "application/sdp", []byte("v=0\r\n"), "gb body of an unexpected content type dropped"},
		// Exactly the server's limit (a larger one is refused 413 by the
		// transport); an unterminated element that long.
		{"1 MiB", true, ct, mib(id), "gb undecodable body dropped"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			tr := "udp"
			if tc.tcp {
				tr = "tcp"
			}
			d := e.device(t, func(c *gbsim.Config) { c.Transport = tr })
			other := e.device(t, func(c *gbsim.Config) { c.DeviceID = gbsim.MakeID(132, 2) })
			ctx := ctxTimeout(t, 10*time.Second)
			if _, err := d.Send(ctx, "MESSAGE", tc.ct, tc.body); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(2 * time.Second)
			for !e.log.contains(tc.log) && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if !e.log.contains(tc.log) {
				t.Errorf("log lacks %q", tc.log)
			}
			for _, dev := range []*gbsim.Device{d, other} {
				if _, err := e.client.DeviceInfo(ctx, dev.ID()); err != nil {
					t.Errorf("DeviceInfo of %s after: %v", dev.ID(), err)
				}
			}
		})
	}
}

// A bad byte in a name becomes U+FFFD and the message is still handled.
func TestInvalidCharsetBytes(t *testing.T) {
	e := newEnv(t, nil)
	d := e.device(t, nil)
	ctx := ctxTimeout(t, 5*time.Second)
	// GB2312 "大门" with an 0xFF byte between its characters.
	body := []byte("<?xml version=\"1.0\" encoding=\"GB2312\"?>\r\n<Notify>\r\n<CmdType>Alarm</CmdType>\r\n<SN>3</SN>\r\n" +
		"<DeviceID>" + d.ID() + "</DeviceID>\r\n<AlarmPriority>2</AlarmPriority>\r\n<AlarmMethod>5</AlarmMethod>\r\n" +
		"<AlarmTime>2024-03-18T10:22:31</AlarmTime>\r\n<AlarmDescription>\xB4\xF3\xFF\xC3\xC5</AlarmDescription>\r\n</Notify>\r\n")
	if _, err := d.Send(ctx, "MESSAGE", "Application/MANSCDP+xml", body); err != nil {
		t.Fatal(err)
	}
	ev := e.events.next(t, "alarm", 2*time.Second)
	if desc := ev.alarm.AlarmDescription; !strings.HasPrefix(desc, "大") || !strings.HasSuffix(desc, "门") || !strings.ContainsRune(desc, '\uFFFD') {
		t.Errorf("description %q", desc)
	}
}

// Nothing from a device that is not registered reaches Events.
func TestUnregisteredDropped(t *testing.T) {
	e := newEnv(t, nil)
	d := e.device(t, nil)
	ctx := ctxTimeout(t, 5*time.Second)
	if _, err := d.Unregister(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.Keepalive(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.SendAlarm(ctx, "", gbsimAlarm()); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-e.events.ch:
		t.Errorf("event from an unregistered device: %+v", ev)
	case <-time.After(200 * time.Millisecond):
	}
	if !e.log.contains("gb body from an unregistered device dropped") {
		t.Error("not logged")
	}
}

// Log lines about bad bodies are rate-limited: a device sending garbage in
// a loop costs one line per period.
func TestProblemsRateLimited(t *testing.T) {
	e := newEnv(t, nil)
	for range 50 {
		e.client.HandleMessage(context.Background(), sip.Message{Method: "MESSAGE", DeviceID: gbsim.MakeID(132, 1),
			ContentType: "Application/MANSCDP+xml", Body: []byte("<Response><CmdType>"), Registered: true})
	}
	if n := strings.Count(e.log.String(), "gb undecodable body dropped"); n != 1 {
		t.Errorf("%d log lines for 50 bad bodies", n)
	}
}

// mib returns a 1 MiB body whose root never ends.
func mib(id string) []byte {
	b := []byte("<Response><CmdType>DeviceInfo</CmdType><SN>1</SN><DeviceID>" + id + "</DeviceID><DeviceName>")
	return append(b, bytes.Repeat([]byte("A"), 1<<20-len(b))...)
}
