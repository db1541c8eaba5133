package gb

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/nvr/nvr/device"
	"github.com/nvr/nvr/sip"
	"github.com/nvr/nvr/sip/manscdp"
)

// Limits on what a device reports.
const (
	// maxClockSkew is how far a device's alarm time may be from the platform's before the
	// platform's is used: devices with an unset clock report 1970 or 2000, which would bury the
	// alarm at the end of the list.
	maxClockSkew = 24 * time.Hour
	// mergeLookups is the size of a catalog notification up to which the stored channels are
	// read one by one; above it, all the device's channels are read at once.
	mergeLookups = 64
)

// HandleMessage implements sip.MessageHandler: every message goes to the protocol client. A
// device that registered before the platform restarted is registered here too (its
// registration is restored, see StoredRegistrations), so its keepalive counts at once.
func (s *Service) HandleMessage(ctx context.Context, m sip.Message) {
	s.Client.HandleMessage(ctx, m)
}

// Keepalive implements gb.Events: the device's keepalive is recorded, and a device that was
// offline is online again (logged) and asked for its catalog.
func (s *Service) Keepalive(ctx context.Context, gbID string, at time.Time) {
	l := s.lock(gbID)
	l.Lock()
	wasOnline, ok := s.touchLocked(ctx, gbID, at)
	l.Unlock()
	if ok && !wasOnline {
		s.log.Info("device online", "device_id", gbID, "via", "keepalive")
		s.enqueueSync(gbID)
	}
}

// touchLocked records a keepalive received at at and reports whether the device was online
// before and whether it is stored. The device's lock must be held.
func (s *Service) touchLocked(ctx context.Context, gbID string, at time.Time) (wasOnline, ok bool) {
	st, err := s.state(ctx, gbID)
	if err != nil {
		s.log.Error("keepalive not stored", "device_id", gbID, "err", err)
		return false, false
	}
	if st == nil {
		s.log.Debug("keepalive from a device not stored (deleted while registered?)", "device_id", gbID)
		return false, false
	}
	snap := s.snapshot(st)
	if err := s.Store.TouchKeepalive(ctx, snap.id, at); err != nil {
		s.storeFailed(gbID, "store keepalive", err)
		return false, false
	}
	s.update(st, func(st *devState) {
		st.online = true
		st.lastSeen = at
	})
	return snap.online, true
}

// storedID returns the database ID of a device, or false (logged) when it is not stored.
func (s *Service) storedID(ctx context.Context, gbID, what string) (int64, bool) {
	l := s.lock(gbID)
	l.Lock()
	defer l.Unlock()
	st, err := s.state(ctx, gbID)
	switch {
	case err != nil:
		s.log.Error(what+" not stored", "device_id", gbID, "err", err)
		return 0, false
	case st == nil:
		s.log.Info(what+" from a device not stored dropped", "device_id", gbID)
		return 0, false
	}
	return s.snapshot(st).id, true
}

// CatalogEvent implements gb.Events: a catalog notification's items are applied by their
// Event (GB/T 28181-2016 A.2.4.8): ADD and UPDATE add or update channels (as does an item
// without an Event, which some devices send in the full catalog after SUBSCRIBE), DEL removes
// them, ON and OFF set their status (VLOST and DEFECT count as OFF). Nothing is removed for
// being absent: a notification lists changes, not the catalog.
func (s *Service) CatalogEvent(ctx context.Context, gbID string, items []manscdp.CatalogItem) {
	devID, ok := s.storedID(ctx, gbID, "catalog notification")
	if !ok {
		return
	}
	log := s.log.With("device_id", gbID)
	var upsert []manscdp.CatalogItem
	var del, on, off []string
	status := map[string]string{} // the last ON/OFF of each channel wins
	for _, it := range items {
		id := strings.TrimSpace(it.DeviceID)
		if id == "" {
			continue
		}
		switch it.Event {
		case "", manscdp.EventAdd, manscdp.EventUpdate:
			upsert = append(upsert, it)
		case manscdp.EventDel:
			del = append(del, id)
		case manscdp.EventOn:
			status[id] = device.ChannelOn
		case manscdp.EventOff, manscdp.EventVLost, manscdp.EventDefect:
			status[id] = device.ChannelOff
		default:
			log.Warn("catalog notification with an unknown event ignored", "channel_id", id, "event", it.Event)
		}
	}
	for id, st := range status {
		if st == device.ChannelOn {
			on = append(on, id)
		} else {
			off = append(off, id)
		}
	}
	var added, updated, deleted int
	if len(upsert) > 0 {
		chans := channelsFromCatalog(gbID, upsert)
		s.mergeStored(ctx, devID, chans, upsert)
		var err error
		if added, updated, _, err = s.Store.SyncChannels(ctx, devID, chans, false); err != nil {
			log.Error("catalog notification not stored", "err", err)
		}
	}
	if len(del) > 0 {
		var err error
		if deleted, err = s.Store.DeleteChannelsByGBID(ctx, devID, del); err != nil {
			log.Error("catalog DEL not stored", "err", err)
		}
	}
	for _, set := range []struct {
		status string
		ids    []string
	}{{device.ChannelOn, on}, {device.ChannelOff, off}} {
		if len(set.ids) == 0 {
			continue
		}
		if err := s.Store.SetChannelsStatus(ctx, devID, set.ids, set.status); err != nil {
			log.Error("catalog "+set.status+" not stored", "err", err)
		}
	}
	log.Info("catalog notification applied", "items", len(items), "added", added, "updated", updated,
		"deleted", deleted, "on", len(on), "off", len(off))
}

// mergeStored fills what a notification leaves out from the stored channels: an UPDATE may
// carry the changed fields only, and must not blank the others or turn an OFF channel ON for
// want of a Status.
func (s *Service) mergeStored(ctx context.Context, devID int64, chans []*device.Channel, items []manscdp.CatalogItem) {
	hasStatus := make(map[string]bool, len(items))
	for _, it := range items {
		if it.Status != "" {
			hasStatus[strings.TrimSpace(it.DeviceID)] = true
		}
	}
	lookup := func(gbID string) *device.Channel {
		ch, err := s.Store.ChannelByGBID(ctx, devID, gbID)
		if err != nil {
			return nil
		}
		return ch
	}
	if len(chans) > mergeLookups {
		all, err := s.Store.Channels(ctx, devID)
		if err != nil {
			return
		}
		byID := make(map[string]*device.Channel, len(all))
		for _, ch := range all {
			byID[ch.GBID] = ch
		}
		lookup = func(gbID string) *device.Channel { return byID[gbID] }
	}
	for _, c := range chans {
		old := lookup(c.GBID)
		if old == nil {
			continue
		}
		if c.Name == c.GBID { // no name given
			c.Name = old.Name
		}
		fill := func(dst *string, v string) {
			if *dst == "" {
				*dst = v
			}
		}
		fill(&c.ParentID, old.ParentID)
		fill(&c.Manufacturer, old.Manufacturer)
		fill(&c.Model, old.Model)
		fill(&c.CivilCode, old.CivilCode)
		fill(&c.Address, old.Address)
		if c.PTZType == device.PTZUnknown {
			c.PTZType = old.PTZType
		}
		if c.Longitude == 0 && c.Latitude == 0 {
			c.Longitude, c.Latitude = old.Longitude, old.Latitude
		}
		if !hasStatus[c.GBID] {
			c.Status = old.Status
		}
		if c.Kind == device.KindChannel && old.Kind != "" {
			c.Kind = old.Kind
		}
	}
}

// Alarm implements gb.Events: the alarm is stored as an event of kind alarm.
func (s *Service) Alarm(ctx context.Context, gbID, channelID string, a *manscdp.Alarm) {
	devID, ok := s.storedID(ctx, gbID, "alarm")
	if !ok {
		return
	}
	e := &device.Event{
		DeviceID: devID, Kind: device.EventAlarm, Priority: a.AlarmPriority, Method: a.AlarmMethod,
		Description: a.AlarmDescription, Longitude: a.Longitude, Latitude: a.Latitude, Time: a.AlarmTime,
	}
	if channelID != gbID {
		e.ChannelGBID = channelID
	}
	if a.AlarmType != 0 {
		e.AlarmType = strconv.Itoa(a.AlarmType)
	}
	if now := time.Now(); !e.Time.IsZero() && (e.Time.Before(now.Add(-maxClockSkew)) || e.Time.After(now.Add(maxClockSkew))) {
		s.log.Info("alarm time far from the platform's clock; stored with the time received",
			"device_id", gbID, "device_time", e.Time.Format(time.RFC3339))
		e.Time = now
	}
	if err := s.Store.CreateEvent(ctx, e); err != nil {
		s.storeFailed(gbID, "store alarm", err)
		return
	}
	s.log.Info("alarm", "device_id", gbID, "channel_id", e.ChannelGBID, "priority", e.Priority,
		"method", e.Method, "alarm_type", e.AlarmType, "description", e.Description)
}

// MobilePosition implements gb.Events: the device's last position is stored.
func (s *Service) MobilePosition(ctx context.Context, gbID, channelID string, p *manscdp.MobilePosition) {
	devID, ok := s.storedID(ctx, gbID, "mobile position")
	if !ok {
		return
	}
	at := p.Time
	if at.IsZero() {
		at = time.Now()
	}
	if err := s.Store.SetDevicePosition(ctx, devID, p.Longitude, p.Latitude, at); err != nil {
		s.storeFailed(gbID, "store position", err)
		return
	}
	s.log.Debug("mobile position", "device_id", gbID, "channel_id", channelID, "longitude", p.Longitude, "latitude", p.Latitude)
}

// MediaStatus implements gb.Events: NotifyType 121 ends the playback or download session of
// the dialog the notification names (OnMediaStatus).
func (s *Service) MediaStatus(_ context.Context, gbID, callID, notifyType string) {
	s.log.Info("media status", "device_id", gbID, "call_id", callID, "notify_type", notifyType)
	if s.OnMediaStatus != nil {
		s.OnMediaStatus(gbID, callID, notifyType)
	}
}
