package gbsim

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nvr/nvr/sip/manscdp"
)

// ErrNoSubscription is returned by NotifyCatalog when the platform holds no
// live catalog subscription.
var ErrNoSubscription = errors.New("gbsim: no catalog subscription")

// defaultSubscribeExpires is granted to a SUBSCRIBE without Expires (RFC
// 6665 §4.1.2.1 leaves the default to the event package; devices use 3600).
const defaultSubscribeExpires = 3600

// subscription is a dialog the platform created with SUBSCRIBE.
type subscription struct {
	event     string // the Event header as sent, echoed in NOTIFYs
	callID    string
	remoteTag string // the platform's From tag
	expires   time.Time
}

// onSubscribe answers a SUBSCRIBE (RFC 6665 §4.2.1): a new subscription or
// a refresh in its dialog is granted the Expires asked for, Expires 0 ends
// it, and a refresh for a dialog the device does not hold gets 481.
func (d *Device) onSubscribe(m *message) (int, string, []header) {
	ev := m.get("Event")
	pkg, _, _ := strings.Cut(ev, ";")
	pkg = strings.ToLower(strings.TrimSpace(pkg))
	if pkg == "" {
		return 489, "Bad Event", nil
	}
	secs := defaultSubscribeExpires
	if v, err := strconv.Atoi(strings.TrimSpace(m.get("Expires"))); err == nil && v >= 0 {
		secs = v
	}
	callID := m.get("Call-ID")
	d.mu.Lock()
	defer d.mu.Unlock()
	sub := d.subs[pkg]
	if param(m.get("To"), "tag") != "" && (sub == nil || sub.callID != callID) {
		return 481, "Subscription Does Not Exist", nil
	}
	if secs == 0 {
		delete(d.subs, pkg)
	} else {
		d.subs[pkg] = &subscription{event: ev, callID: callID, remoteTag: param(m.get("From"), "tag"),
			expires: time.Now().Add(time.Duration(secs) * time.Second)}
	}
	return 200, "OK", []header{{"Expires", strconv.Itoa(secs)}}
}

// Subscribed reports whether the platform holds a live subscription to the
// event package (e.g. "Catalog").
func (d *Device) Subscribed(event string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	sub := d.subs[strings.ToLower(event)]
	return sub != nil && time.Now().Before(sub.expires)
}

// CatalogEvent is one change NotifyCatalog reports.
type CatalogEvent struct {
	// Event is manscdp.EventAdd, EventDel, EventUpdate, EventOn, EventOff…
	Event string
	// ChannelID is the channel concerned.
	ChannelID string
	// Name is the channel's name for ADD and UPDATE; ADD of a new channel
	// without one gets a generated name.
	Name string
}

// NotifyCatalog applies the events to the device's catalog and reports
// them in a NOTIFY in the catalog subscription's dialog (A.2.4.8, §9.11.1).
// It returns ErrNoSubscription when there is no live subscription, and a
// *StatusError when the platform answers other than 2xx.
func (d *Device) NotifyCatalog(ctx context.Context, events ...CatalogEvent) error {
	d.mu.Lock()
	sub := d.subs["catalog"]
	if sub == nil || !time.Now().Before(sub.expires) {
		d.mu.Unlock()
		return ErrNoSubscription
	}
	s := *sub
	items := make([]manscdp.CatalogItem, len(events))
	for i, ev := range events {
		items[i] = d.applyCatalogEvent(ev)
	}
	d.mu.Unlock()

	x := newBody("Notify", manscdp.CmdCatalog, int64(d.sn.Add(1)), d.cfg.DeviceID)
	x.elInt("SumNum", int64(len(events)))
	x.open("DeviceList", len(events))
	for i, ev := range events {
		d.writeCatalogItem(x, items[i], strings.ToUpper(ev.Event))
	}
	x.close("DeviceList")
	left := max(int(time.Until(s.expires)/time.Second), 1)
	res, err := d.request(ctx, outRequest{
		method: "NOTIFY", contentType: contentType, body: d.encode(x),
		callID: s.callID, fromTag: d.toTag, toTag: s.remoteTag,
		headers: []header{{"Event", s.event}, {"Subscription-State", "active;expires=" + strconv.Itoa(left)}},
	})
	if err != nil {
		return err
	}
	if res.code/100 != 2 {
		return &StatusError{Code: res.code, Reason: res.reason}
	}
	return nil
}

// applyCatalogEvent changes the catalog and returns the item to report.
// d.mu is held.
func (d *Device) applyCatalogEvent(ev CatalogEvent) manscdp.CatalogItem {
	i := slices.IndexFunc(d.catalog, func(it manscdp.CatalogItem) bool { return it.DeviceID == ev.ChannelID })
	switch strings.ToUpper(ev.Event) {
	case manscdp.EventAdd:
		if i >= 0 {
			if ev.Name != "" {
				d.catalog[i].Name = ev.Name
			}
			return d.catalog[i]
		}
		area, parent, group := "34020000", d.cfg.DeviceID, ""
		if len(d.catalog) > 0 {
			last := d.catalog[len(d.catalog)-1]
			area, parent, group = last.CivilCode, last.ParentID, last.BusinessGroupID
		}
		it := d.channelItem(len(d.catalog)+1, ev.ChannelID, area, parent, group)
		if ev.Name != "" {
			it.Name = ev.Name
		}
		d.catalog = append(d.catalog, it)
		return it
	case manscdp.EventDel:
		if i >= 0 {
			it := d.catalog[i]
			d.catalog = slices.Delete(d.catalog, i, i+1)
			return it
		}
		return manscdp.CatalogItem{DeviceID: ev.ChannelID}
	}
	if i < 0 {
		return manscdp.CatalogItem{DeviceID: ev.ChannelID, Name: ev.Name}
	}
	switch strings.ToUpper(ev.Event) {
	case manscdp.EventOn:
		d.catalog[i].Status = manscdp.StatusOn
	case manscdp.EventOff, manscdp.EventVLost, manscdp.EventDefect:
		d.catalog[i].Status = manscdp.StatusOff
	case manscdp.EventUpdate:
		if ev.Name != "" {
			d.catalog[i].Name = ev.Name
		}
	}
	return d.catalog[i]
}
