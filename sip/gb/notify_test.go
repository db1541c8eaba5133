package gb_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nvr/nvr/sip/gbsim"
	"github.com/nvr/nvr/sip/manscdp"
)

func TestNotifications(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			e := newEnv(t, nil)
			d := e.device(t, func(c *gbsim.Config) { c.Transport = tr; c.Channels = 2 })
			ctx := ctxTimeout(t, 5*time.Second)

			if err := d.Keepalive(ctx); err != nil {
				t.Fatal(err)
			}
			if ev := e.events.next(t, "keepalive", time.Second); ev.deviceID != d.ID() {
				t.Errorf("keepalive from %s", ev.deviceID)
			}

			at := time.Date(2024, 3, 18, 10, 22, 31, 0, time.Local)
			alarm := manscdp.Alarm{AlarmPriority: 1, AlarmMethod: 5, AlarmTime: at, AlarmDescription: "一楼大厅 移动侦测报警",
				AlarmType: 2, Longitude: 118.5, Latitude: 31.25}
			if err := d.SendAlarm(ctx, d.ChannelID(2), alarm); err != nil {
				t.Fatal(err)
			}
			ev := e.events.next(t, "alarm", time.Second)
			if ev.deviceID != d.ID() || ev.channelID != d.ChannelID(2) || ev.alarm == nil || *ev.alarm != alarm {
				t.Errorf("alarm event %+v %+v", ev, ev.alarm)
			}
			// The platform answered the alarm with a Response MESSAGE
			// (A.2.6.2) carrying its SN.
			var answer *gbsim.Incoming
			deadline := time.Now().Add(2 * time.Second)
			for answer == nil && time.Now().Before(deadline) {
				for _, in := range d.Received() {
					if bytes.Contains(in.Body, []byte("<CmdType>Alarm</CmdType>")) {
						answer = &in
					}
				}
				time.Sleep(5 * time.Millisecond)
			}
			if answer == nil {
				t.Fatal("alarm not answered")
			}
			m, _, err := manscdp.Decode(answer.Body, manscdp.GB2312)
			if err != nil || m.Kind != manscdp.Response || m.Result != manscdp.ResultOK || m.DeviceID != d.ChannelID(2) {
				t.Errorf("alarm answer %+v, %v\n%s", m, err, answer.Body)
			}

			pos := manscdp.MobilePosition{Time: at, Longitude: 118.123456, Latitude: 31.654321, Speed: 42.5, Direction: 90, Altitude: 12}
			if err := d.SendMobilePosition(ctx, pos); err != nil {
				t.Fatal(err)
			}
			if ev := e.events.next(t, "position", time.Second); ev.position == nil || *ev.position != pos || ev.channelID != d.ID() {
				t.Errorf("position %+v", ev.position)
			}

			if err := d.SendMediaStatus(ctx, manscdp.NotifyEndOfFile); err != nil {
				t.Fatal(err)
			}
			if ev := e.events.next(t, "media", time.Second); ev.notifyType != "121" || ev.deviceID != d.ID() || ev.callID == "" {
				t.Errorf("media status %+v", ev)
			}
		})
	}
}

// Catalog SUBSCRIBE: the device's NOTIFYs with ADD, DEL, ON and OFF reach
// Events; the subscription is refreshed before it expires, in its dialog;
// Unsubscribe ends it on the device.
func TestSubscribeCatalog(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			e := newEnv(t, nil)
			d := e.device(t, func(c *gbsim.Config) { c.Transport = tr; c.Channels = 3 })
			ctx := ctxTimeout(t, 10*time.Second)
			const expires = time.Second
			if err := e.client.SubscribeCatalog(ctx, d.ID(), expires); err != nil {
				t.Fatal(err)
			}
			if !d.Subscribed("Catalog") {
				t.Fatal("device holds no subscription")
			}

			added := gbsim.MakeID(131, 900)
			if err := d.NotifyCatalog(ctx,
				gbsim.CatalogEvent{Event: manscdp.EventAdd, ChannelID: added, Name: "新增 通道"},
				gbsim.CatalogEvent{Event: manscdp.EventDel, ChannelID: d.ChannelID(3)},
			); err != nil {
				t.Fatal(err)
			}
			ev := e.events.next(t, "catalog", time.Second)
			if len(ev.items) != 2 || ev.items[0].Event != manscdp.EventAdd || ev.items[0].DeviceID != added ||
				ev.items[0].Name != "新增 通道" || ev.items[1].Event != manscdp.EventDel || ev.items[1].DeviceID != d.ChannelID(3) {
				t.Errorf("catalog event %+v", ev.items)
			}
			if err := d.NotifyCatalog(ctx,
				gbsim.CatalogEvent{Event: manscdp.EventOff, ChannelID: d.ChannelID(1)},
				gbsim.CatalogEvent{Event: manscdp.EventOn, ChannelID: added},
			); err != nil {
				t.Fatal(err)
			}
			ev = e.events.next(t, "catalog", time.Second)
			if len(ev.items) != 2 || ev.items[0].Event != manscdp.EventOff || ev.items[0].Status != manscdp.StatusOff ||
				ev.items[1].Event != manscdp.EventOn || ev.items[1].DeviceID != added {
				t.Errorf("catalog event %+v", ev.items)
			}

			// Past the first lifetime, the subscription is still alive:
			// it was refreshed, in the same dialog.
			time.Sleep(expires + 500*time.Millisecond)
			if !d.Subscribed("Catalog") {
				t.Fatal("subscription expired: not refreshed")
			}
			var subs []gbsim.Incoming
			for _, in := range d.Received() {
				if in.Method == "SUBSCRIBE" {
					subs = append(subs, in)
				}
			}
			if len(subs) < 2 {
				t.Fatalf("%d SUBSCRIBEs", len(subs))
			}
			for _, s := range subs {
				if s.CallID != subs[0].CallID || s.Event != subs[0].Event || s.Expires != "1" ||
					!strings.HasPrefix(s.Event, "Catalog;id=") || !bytes.Contains(s.Body, []byte("<CmdType>Catalog</CmdType>")) {
					t.Errorf("SUBSCRIBE %+v", s)
				}
			}
			if err := d.NotifyCatalog(ctx, gbsim.CatalogEvent{Event: manscdp.EventUpdate, ChannelID: d.ChannelID(2), Name: "改名"}); err != nil {
				t.Fatalf("after refresh: %v", err)
			}
			if ev := e.events.next(t, "catalog", time.Second); ev.items[0].Name != "改名" {
				t.Errorf("update %+v", ev.items)
			}
			// The device's catalog changed too.
			names := []string{}
			for _, it := range d.Catalog() {
				names = append(names, it.Name)
			}
			if !slices.Equal(names, []string{"通道1 大门", "改名", "新增 通道"}) {
				t.Errorf("device catalog names %q", names)
			}

			e.client.Unsubscribe(d.ID())
			deadline := time.Now().Add(2 * time.Second)
			for d.Subscribed("Catalog") && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if d.Subscribed("Catalog") {
				t.Error("still subscribed after Unsubscribe")
			}
			last := d.Received()[len(d.Received())-1]
			if last.Method != "SUBSCRIBE" || last.Expires != "0" || last.CallID != subs[0].CallID {
				t.Errorf("last request %+v", last)
			}
		})
	}
}

// A device that forgot the subscription (a reboot) answers the refresh
// 481; the client subscribes afresh in a new dialog.
func TestSubscribeAfterDeviceReboot(t *testing.T) {
	e := newEnv(t, nil)
	d := e.device(t, nil)
	ctx := ctxTimeout(t, 10*time.Second)
	if err := e.client.SubscribeCatalog(ctx, d.ID(), time.Second); err != nil {
		t.Fatal(err)
	}
	// The "rebooted" device: same ID and address family, new process.
	_ = d.Close()
	d2 := e.device(t, nil)
	deadline := time.Now().Add(3 * time.Second)
	for !d2.Subscribed("Catalog") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !d2.Subscribed("Catalog") {
		t.Fatalf("not subscribed again; received %+v", d2.Received())
	}
	// First the refresh in the old dialog (answered 481), then a new one.
	var subs []gbsim.Incoming
	for _, in := range d2.Received() {
		if in.Method == "SUBSCRIBE" {
			subs = append(subs, in)
		}
	}
	if len(subs) < 2 || subs[0].CallID == subs[len(subs)-1].CallID {
		t.Errorf("SUBSCRIBEs after the reboot: %+v", subs)
	}
	if err := d2.NotifyCatalog(ctx, gbsim.CatalogEvent{Event: manscdp.EventOff, ChannelID: d2.ChannelID(1)}); err != nil {
		t.Fatal(err)
	}
	e.events.next(t, "catalog", time.Second)
}

// A device that unregisters ends its subscription's refreshes.
func TestSubscriptionEndsWhenUnregistered(t *testing.T) {
	e := newEnv(t, nil)
	d := e.device(t, nil)
	ctx := ctxTimeout(t, 10*time.Second)
	if err := e.client.SubscribeCatalog(ctx, d.ID(), time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Unregister(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for !e.log.contains("catalog subscription ended: device not registered") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !e.log.contains("catalog subscription ended: device not registered") {
		t.Error("refreshes did not stop")
	}
}

// Many devices' subscriptions are refreshed before they expire, over real
// SIP, and Unsubscribe ends each on its device.
func TestSubscribeCatalogMany(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			e := newEnv(t, nil)
			const n, expires = 20, time.Second
			devs := make([]*gbsim.Device, n)
			for i := range devs {
				devs[i] = e.device(t, func(c *gbsim.Config) { c.Transport = tr; c.DeviceID = gbsim.MakeID(132, i+1) })
			}
			ctx := ctxTimeout(t, 10*time.Second)
			for _, d := range devs {
				if err := e.client.SubscribeCatalog(ctx, d.ID(), expires); err != nil {
					t.Fatal(err)
				}
			}
			// Two lifetimes and a half: each device was refreshed at least
			// twice, and never let the subscription lapse.
			for end := time.Now().Add(5 * expires / 2); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
				for _, d := range devs {
					if !d.Subscribed("Catalog") {
						t.Fatalf("%s: subscription lapsed", d.ID())
					}
				}
			}
			for _, d := range devs {
				subs := 0
				for _, in := range d.Received() {
					if in.Method == "SUBSCRIBE" {
						subs++
					}
				}
				if subs < 3 {
					t.Errorf("%s: %d SUBSCRIBEs, want the first and 2 refreshes", d.ID(), subs)
				}
			}
			for _, d := range devs {
				e.client.Unsubscribe(d.ID())
			}
			deadline := time.Now().Add(2 * time.Second)
			for _, d := range devs {
				for d.Subscribed("Catalog") && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				if d.Subscribed("Catalog") {
					t.Errorf("%s: still subscribed after Unsubscribe", d.ID())
				}
			}
		})
	}
}
