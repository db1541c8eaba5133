package gb

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nvr/nvr/sip"
	"github.com/nvr/nvr/sip/manscdp"
)

// checkingEvents fails the fuzz run on an event that breaks a promise of
// Events: nil payloads, invalid UTF-8 names.
type checkingEvents struct{ t *testing.T }

func (e checkingEvents) Keepalive(context.Context, string, time.Time) {}

func (e checkingEvents) CatalogEvent(_ context.Context, _ string, items []manscdp.CatalogItem) {
	if len(items) == 0 {
		e.t.Fatal("empty catalog event")
	}
	for _, it := range items {
		if !utf8.ValidString(it.Name) {
			e.t.Fatalf("invalid UTF-8 name %q", it.Name)
		}
	}
}

func (e checkingEvents) Alarm(_ context.Context, _, _ string, a *manscdp.Alarm) {
	if a == nil {
		e.t.Fatal("nil alarm")
	}
}

func (e checkingEvents) MobilePosition(_ context.Context, _, _ string, p *manscdp.MobilePosition) {
	if p == nil {
		e.t.Fatal("nil position")
	}
}

func (e checkingEvents) MediaStatus(context.Context, string, string, string) {}

// FuzzHandleMessage feeds bodies to HandleMessage as MESSAGE and NOTIFY,
// with a query waiting for the body's (CmdType, SN) so that the answer
// paths run too. No network: sending is a stub. It must never panic and
// never block.
func FuzzHandleMessage(f *testing.F) {
	files, err := filepath.Glob("../manscdp/testdata/*.xml")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds: %v", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Add([]byte("<Response><CmdType>Catalog</CmdType><SN>1</SN><SumNum>2</SumNum><DeviceList><Item><DeviceID>1</DeviceID></Item></DeviceList></Response>"), false)
	f.Add([]byte("<Response><CmdType>DeviceInfo</CmdType><SN>1</SN><Result>ERROR</Result></Response>"), false)
	f.Add([]byte("<Notify><CmdType>Alarm</CmdType><SN>1</SN><AlarmTime>x</AlarmTime></Notify>"), false)
	f.Add([]byte("\xEF\xBB\xBF<Notify><CmdType>MediaStatus</CmdType><NotifyType>121"), true)
	const deviceID = "34020000001320000001"
	f.Fuzz(func(t *testing.T, body []byte, notify bool) {
		sent := 0
		c := &Client{Events: checkingEvents{t}, QueryTimeout: time.Second, CatalogTimeout: time.Second}
		c.send = func(context.Context, string, []byte) error { sent++; return nil }
		c.Initialize()
		defer c.Close()
		if m, _, err := manscdp.Decode(body, manscdp.GB2312); err == nil && m != nil {
			key := manscdp.Key{DeviceID: deviceID, CmdType: m.CmdType, SN: m.SN}
			multi := m.CmdType == manscdp.CmdCatalog || m.CmdType == manscdp.CmdRecordInfo
			c.addWaiter(key, &waiter{multi: multi, ch: make(chan *manscdp.Message, 1)})
		}
		method := "MESSAGE"
		if notify {
			method = "NOTIFY"
		}
		msg := sip.Message{Method: method, DeviceID: deviceID, RemoteAddr: "127.0.0.1:5060", Transport: "UDP",
			ContentType: sip.ContentTypeMANSCDP, Body: body, Registered: true}
		c.HandleMessage(context.Background(), msg)
		c.HandleMessage(context.Background(), msg) // a retransmission, with the charset now remembered
		if sent > 2 {
			t.Fatalf("%d messages sent for two bodies", sent)
		}
		if cs := c.Charset(deviceID); cs > manscdp.UTF8 {
			t.Fatalf("charset %v", cs)
		}
	})
}
