package gbsim

import (
	"context"
	"time"

	"github.com/nvr/nvr/sip/manscdp"
)

// SendAlarm sends an Alarm notification (GB/T 28181-2016 A.2.5.3) about
// channelID (or the device itself when empty). A zero AlarmTime is now. The
// platform answers it with a Response MESSAGE, which Received records.
func (d *Device) SendAlarm(ctx context.Context, channelID string, a manscdp.Alarm) error {
	if channelID == "" {
		channelID = d.cfg.DeviceID
	}
	if a.AlarmTime.IsZero() {
		a.AlarmTime = time.Now()
	}
	x := newBody("Notify", manscdp.CmdAlarm, int64(d.sn.Add(1)), channelID)
	x.elInt("AlarmPriority", int64(a.AlarmPriority))
	x.elInt("AlarmMethod", int64(a.AlarmMethod))
	x.el("AlarmTime", d.formatTime(a.AlarmTime))
	if a.AlarmDescription != "" {
		x.el("AlarmDescription", a.AlarmDescription)
	}
	x.elFloat("Longitude", a.Longitude)
	x.elFloat("Latitude", a.Latitude)
	if a.AlarmType != 0 {
		x.open("Info", -1)
		x.elInt("AlarmType", int64(a.AlarmType))
		if a.EventType != 0 {
			x.open("AlarmTypeParam", -1)
			x.elInt("EventType", int64(a.EventType))
			x.close("AlarmTypeParam")
		}
		x.close("Info")
	}
	return d.sendBody(ctx, x)
}

// SendMobilePosition sends a MobilePosition notification (A.2.5.6). A zero
// Time is now.
func (d *Device) SendMobilePosition(ctx context.Context, p manscdp.MobilePosition) error {
	if p.Time.IsZero() {
		p.Time = time.Now()
	}
	x := newBody("Notify", manscdp.CmdMobilePosition, int64(d.sn.Add(1)), d.cfg.DeviceID)
	x.el("Time", d.formatTime(p.Time))
	x.elFloat("Longitude", p.Longitude)
	x.elFloat("Latitude", p.Latitude)
	x.elFloat("Speed", p.Speed)
	x.elFloat("Direction", p.Direction)
	x.elFloat("Altitude", p.Altitude)
	return d.sendBody(ctx, x)
}

// SendMediaStatus sends a MediaStatus notification (A.2.5.5); notifyType
// manscdp.NotifyEndOfFile (121) says a playback reached its end.
func (d *Device) SendMediaStatus(ctx context.Context, notifyType int) error {
	x := newBody("Notify", manscdp.CmdMediaStatus, int64(d.sn.Add(1)), d.cfg.DeviceID)
	x.elInt("NotifyType", int64(notifyType))
	return d.sendBody(ctx, x)
}
