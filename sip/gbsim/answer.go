package gbsim

import (
	"context"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/nvr/nvr/sip/manscdp"
)

// maxRecords bounds the synthetic recordings of one RecordInfo answer: a
// query for a year must not make the simulator write 17,000 items.
const maxRecords = 1000

// intake reads the body of a MESSAGE from the platform before it is
// answered 200: a DeviceControl is recorded (so that it is visible once the
// platform has its 200), and the message is returned when it wants an
// answer MESSAGE of its own.
func (d *Device) intake(body []byte) *manscdp.Message {
	m, _, err := manscdp.Decoder{Location: d.cfg.Location}.Decode(body, d.charset())
	if err != nil || m == nil {
		d.log.Debug("gbsim ignored an unreadable body", "err", err)
		return nil
	}
	switch m.Kind {
	case manscdp.Control:
		if m.Control != nil {
			d.recordControl(m)
		}
		if !d.needsResult(m) {
			return nil
		}
	case manscdp.Query:
	default:
		return nil // a Response (e.g. to an Alarm) needs no answer
	}
	if d.Quirks().NoAnswer {
		return nil
	}
	return m
}

// needsResult reports whether a control is answered with a Response
// carrying <Result> (A.2.6.1): record, guard and alarm commands and
// DeviceConfig are; PTZ, TeleBoot and IFameCmd are not.
func (d *Device) needsResult(m *manscdp.Message) bool {
	if m.CmdType == manscdp.CmdDeviceConfig {
		return true
	}
	c := m.Control
	return c != nil && (c.RecordCmd != "" || c.GuardCmd != "" || c.AlarmCmd != "")
}

// answer sends the response of a query or control.
func (d *Device) answer(ctx context.Context, m *manscdp.Message) {
	var err error
	if m.Kind == manscdp.Control {
		x := newBody("Response", m.CmdType, m.SN, m.DeviceID)
		x.el("Result", manscdp.ResultOK)
		err = d.sendBody(ctx, x)
	} else {
		switch m.CmdType {
		case manscdp.CmdCatalog:
			d.answerCatalog(ctx, m)
		case manscdp.CmdDeviceInfo:
			err = d.sendBody(ctx, d.deviceInfo(m))
		case manscdp.CmdDeviceStatus:
			err = d.sendBody(ctx, d.deviceStatus(m))
		case manscdp.CmdRecordInfo:
			d.answerRecordInfo(ctx, m)
		case manscdp.CmdPresetQuery:
			err = d.sendBody(ctx, d.presetList(m))
		case manscdp.CmdConfigDownload:
			err = d.sendBody(ctx, d.configDownload(m))
		default:
			d.log.Debug("gbsim does not answer this query", "cmd_type", m.CmdType)
		}
	}
	if err != nil && ctx.Err() == nil {
		d.log.Warn("gbsim response not delivered", "cmd_type", m.CmdType, "sn", m.SN, "err", err)
	}
}

func (d *Device) deviceInfo(m *manscdp.Message) *xmlBody {
	x := newBody("Response", manscdp.CmdDeviceInfo, m.SN, d.cfg.DeviceID)
	x.el("DeviceName", d.cfg.Name)
	x.el("Result", manscdp.ResultOK)
	x.el("Manufacturer", d.cfg.Manufacturer)
	x.el("Model", d.cfg.Model)
	x.el("Firmware", d.cfg.Firmware)
	x.elInt("Channel", int64(d.channelCount()))
	return x
}

func (d *Device) deviceStatus(m *manscdp.Message) *xmlBody {
	d.mu.Lock()
	rec, guard := d.rec, d.guard
	d.mu.Unlock()
	onOff := map[bool]string{true: "ON", false: "OFF"}
	duty := map[bool]string{true: "ONDUTY", false: "OFFDUTY"}
	x := newBody("Response", manscdp.CmdDeviceStatus, m.SN, d.cfg.DeviceID)
	x.el("Result", manscdp.ResultOK)
	x.el("Online", "ONLINE")
	x.el("Status", "OK")
	x.el("Encode", "ON")
	x.el("Record", onOff[rec])
	x.el("DeviceTime", d.formatTime(time.Now()))
	x.open("Alarmstatus", 1)
	x.open("Item", -1)
	x.el("DeviceID", d.cfg.DeviceID)
	x.el("DutyStatus", duty[guard])
	x.close("Item")
	x.close("Alarmstatus")
	return x
}

func (d *Device) presetList(m *manscdp.Message) *xmlBody {
	d.mu.Lock()
	presets := slices.Clone(d.presets)
	d.mu.Unlock()
	x := newBody("Response", manscdp.CmdPresetQuery, m.SN, m.DeviceID)
	x.open("PresetList", len(presets))
	for _, p := range presets {
		x.open("Item", -1)
		x.elInt("PresetID", int64(p.ID))
		x.el("PresetName", p.Name)
		x.close("Item")
	}
	x.close("PresetList")
	return x
}

// configDownload answers BasicParam; other configuration types are
// answered with Result ERROR, as devices do for what they lack.
func (d *Device) configDownload(m *manscdp.Message) *xmlBody {
	x := newBody("Response", manscdp.CmdConfigDownload, m.SN, d.cfg.DeviceID)
	want := ""
	if m.Config != nil {
		want = m.Config.ConfigType
	}
	basic := false
	for t := range strings.SplitSeq(want, "/") {
		basic = basic || strings.EqualFold(strings.TrimSpace(t), manscdp.ConfigTypeBasicParam)
	}
	if !basic {
		x.el("Result", manscdp.ResultError)
		return x
	}
	host, port, _ := net.SplitHostPort(d.cfg.Server)
	keepalive := int64(d.cfg.Keepalive / time.Second)
	if keepalive <= 0 {
		keepalive = 60
	}
	x.el("Result", manscdp.ResultOK)
	x.open("BasicParam", -1)
	x.el("Name", d.cfg.Name)
	x.el("DeviceID", d.cfg.DeviceID)
	x.el("SIPServerID", d.cfg.PlatformID)
	x.el("SIPServerIP", host)
	x.el("SIPServerPort", port)
	x.el("DomainName", d.cfg.Domain)
	x.elInt("Expiration", int64(d.cfg.Expires/time.Second))
	x.elInt("HeartBeatInterval", keepalive)
	x.elInt("HeartBeatCount", 3)
	x.close("BasicParam")
	return x
}

// answerCatalog sends the catalog in parts of PerMessage items, each with
// the total in SumNum (A.2.6.3).
func (d *Device) answerCatalog(ctx context.Context, m *manscdp.Message) {
	items := d.Catalog()
	d.sendParts(ctx, len(items), func(from, to int) *xmlBody {
		x := newBody("Response", manscdp.CmdCatalog, m.SN, d.cfg.DeviceID)
		x.elInt("SumNum", int64(len(items)))
		x.open("DeviceList", to-from)
		for _, it := range items[from:to] {
			d.writeCatalogItem(x, it, "")
		}
		x.close("DeviceList")
		return x
	})
}

// answerRecordInfo reports synthetic recordings of RecordSpan each, back
// to back over the range asked, for a channel of the catalog (or the
// device itself); anything else has no recordings.
func (d *Device) answerRecordInfo(ctx context.Context, m *manscdp.Message) {
	channel := m.DeviceID
	name, known := "", channel == d.cfg.DeviceID
	if known {
		name = d.cfg.Name
	}
	for _, it := range d.Catalog() {
		if it.DeviceID == channel && isChannelID(channel) {
			name, known = it.Name, true
		}
	}
	var start, end time.Time
	typ := manscdp.RecordTime
	if q := m.RecordQuery; q != nil {
		start, end = q.StartTime, q.EndTime
		if q.Type != "" && !strings.EqualFold(q.Type, manscdp.RecordAll) {
			typ = q.Type
		}
	}
	var recs [][2]time.Time
	for t := start; known && !start.IsZero() && t.Before(end) && len(recs) < maxRecords; t = t.Add(d.cfg.RecordSpan) {
		recs = append(recs, [2]time.Time{t, minTime(t.Add(d.cfg.RecordSpan), end)})
	}
	d.sendParts(ctx, len(recs), func(from, to int) *xmlBody {
		x := newBody("Response", manscdp.CmdRecordInfo, m.SN, channel)
		x.el("Name", name)
		x.elInt("SumNum", int64(len(recs)))
		x.open("RecordList", to-from)
		for _, r := range recs[from:to] {
			x.open("Item", -1)
			x.el("DeviceID", channel)
			x.el("Name", name)
			x.el("FilePath", "/record/"+channel+"/"+r[0].In(d.cfg.Location).Format("20060102T150405")+".mp4")
			x.el("Address", "Address")
			x.el("StartTime", d.formatTime(r[0]))
			x.el("EndTime", d.formatTime(r[1]))
			x.elInt("Secrecy", 0)
			x.el("Type", typ)
			x.el("RecorderID", d.cfg.DeviceID)
			// 4 Mbit/s.
			x.elInt("FileSize", int64(r[1].Sub(r[0])/time.Second)*512*1024)
			x.close("Item")
		}
		x.close("RecordList")
		return x
	})
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// sendParts sends n items split in parts of PerMessage, one MESSAGE each
// (one empty part when n is 0), in the order partOrder gives. build writes
// the part of items [from, to).
func (d *Device) sendParts(ctx context.Context, n int, build func(from, to int) *xmlBody) {
	per := d.cfg.PerMessage
	parts := max((n+per-1)/per, 1)
	q := d.Quirks()
	for i, p := range partOrder(parts, q) {
		if i > 0 && q.PartDelay > 0 {
			select {
			case <-time.After(q.PartDelay):
			case <-ctx.Done():
				return
			}
		}
		from := p * per
		to := min(from+per, n)
		if err := d.sendBody(ctx, build(from, to)); err != nil {
			if ctx.Err() != nil {
				return
			}
			d.log.Warn("gbsim response part not delivered", "part", p+1, "parts", parts, "err", err)
		}
	}
}

// partOrder returns the 0-based parts of a response of n parts in the order
// they are sent, the quirks applied: swaps first, then the dropped parts
// left out, then the duplicated part sent twice in a row.
func partOrder(n int, q Quirks) []int {
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	for _, sw := range q.SwapParts {
		a, b := sw[0]-1, sw[1]-1
		if a >= 0 && a < n && b >= 0 && b < n {
			order[a], order[b] = order[b], order[a]
		}
	}
	out := order[:0:0]
	for _, p := range order {
		if slices.Contains(q.DropParts, p+1) {
			continue
		}
		out = append(out, p)
		if q.DuplicatePart == p+1 {
			out = append(out, p)
		}
	}
	return out
}
