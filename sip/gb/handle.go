package gb

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/nvr/nvr/sip"
	"github.com/nvr/nvr/sip/manscdp"
)

// HandleMessage implements sip.MessageHandler: it decodes the body of a
// MESSAGE or NOTIFY in the device's remembered charset (and remembers the
// one it turned out to be in), hands answers to the queries waiting for
// them, and reports notifications to Events. A body that does not decode,
// an answer nobody waits for and anything from an unregistered device are
// logged at a limited rate and dropped.
func (c *Client) HandleMessage(ctx context.Context, m sip.Message) {
	id := m.DeviceID
	if !m.Registered {
		// The device must register first: a body from anyone else could
		// inject alarms or answers.
		c.problems.report(slog.LevelWarn, "gb body from an unregistered device dropped",
			"device_id", id, "remote", m.RemoteAddr, "method", m.Method)
		return
	}
	if !isMANSCDP(m.ContentType) {
		c.problems.report(slog.LevelWarn, "gb body of an unexpected content type dropped",
			"device_id", id, "remote", m.RemoteAddr, "method", m.Method, "content_type", m.ContentType)
		return
	}
	hint := c.Charset(id)
	msg, cs, err := c.dec.Decode(m.Body, hint)
	if err != nil {
		c.problems.report(slog.LevelWarn, "gb undecodable body dropped", "device_id", id,
			"remote", m.RemoteAddr, "method", m.Method, "bytes", len(m.Body), "err", err)
		return
	}
	if cs != hint {
		c.rememberCharset(id, cs)
	}
	switch {
	case m.Method == "NOTIFY" || msg.Kind == manscdp.Notify:
		c.onNotify(ctx, m, msg)
	case msg.Kind == manscdp.Response:
		c.onResponse(ctx, id, msg)
	default:
		c.problems.report(slog.LevelDebug, "gb request from a device ignored", "device_id", id,
			"kind", msg.Kind, "cmd_type", msg.CmdType)
	}
}

// isMANSCDP accepts the content types devices put on MANSCDP bodies:
// Application/MANSCDP+xml in any case, and plain XML types; an absent one
// is accepted too, the body decides.
func isMANSCDP(ct string) bool {
	ct = strings.ToLower(ct)
	return ct == "" || strings.Contains(ct, "manscdp") || strings.Contains(ct, "xml")
}

func (c *Client) onResponse(ctx context.Context, deviceID string, msg *manscdp.Message) {
	if c.deliver(deviceID, msg) {
		return
	}
	switch {
	case msg.CmdType == manscdp.CmdDeviceControl || msg.CmdType == manscdp.CmdDeviceConfig:
		level := slog.LevelDebug
		if strings.EqualFold(msg.Result, manscdp.ResultError) {
			level = slog.LevelWarn
		}
		c.log.Log(ctx, level, "device answered a control", "device_id", deviceID,
			"cmd_type", msg.CmdType, "sn", msg.SN, "target", msg.DeviceID, "result", msg.Result)
	case msg.Catalog != nil && c.subscribedSN(deviceID, msg.SN):
		// Some devices answer a catalog SUBSCRIBE with their catalog as a
		// Response MESSAGE carrying the SUBSCRIBE's SN.
		c.catalogEvent(ctx, deviceID, msg.Catalog.Items)
	default:
		c.problems.report(slog.LevelDebug, "gb answer nobody waits for dropped (late or unsolicited)",
			"device_id", deviceID, "cmd_type", msg.CmdType, "sn", msg.SN)
	}
}

func (c *Client) onNotify(ctx context.Context, m sip.Message, msg *manscdp.Message) {
	id := m.DeviceID
	switch {
	case msg.CmdType == manscdp.CmdKeepalive:
		if c.Events != nil {
			c.Events.Keepalive(ctx, id, time.Now())
		}
	case msg.Catalog != nil:
		c.catalogEvent(ctx, id, msg.Catalog.Items)
	case msg.Alarm != nil:
		if c.Events != nil {
			c.Events.Alarm(ctx, id, msg.DeviceID, msg.Alarm)
		}
		if m.Method == "MESSAGE" {
			// A.2.6.2 / §9.4: the platform answers an alarm MESSAGE with
			// a Response; a NOTIFY of an alarm subscription needs only
			// its 200.
			c.answerAlarm(ctx, id, msg)
		}
	case msg.MobilePosition != nil:
		if c.Events != nil {
			c.Events.MobilePosition(ctx, id, msg.DeviceID, msg.MobilePosition)
		}
	case msg.MediaStatus != nil:
		if c.Events != nil {
			c.Events.MediaStatus(ctx, id, m.CallID, strconv.Itoa(msg.MediaStatus.NotifyType))
		}
	default:
		c.problems.report(slog.LevelDebug, "gb notification ignored", "device_id", id,
			"cmd_type", msg.CmdType, "kind", msg.Kind, "method", m.Method)
	}
}

func (c *Client) catalogEvent(ctx context.Context, deviceID string, items []manscdp.CatalogItem) {
	if c.Events != nil && len(items) > 0 {
		c.Events.CatalogEvent(ctx, deviceID, items)
	}
}

// answerAlarm sends the Response to an Alarm notification. It runs on the
// request's goroutine, which the device's 200 has already released.
func (c *Client) answerAlarm(ctx context.Context, deviceID string, msg *manscdp.Message) {
	ctx, cancel := context.WithTimeout(ctx, c.QueryTimeout)
	defer cancel()
	if err := c.sendBody(ctx, deviceID, manscdp.AlarmResponse(msg)); err != nil {
		c.problems.report(slog.LevelWarn, "gb alarm answer not delivered", "device_id", deviceID,
			"sn", msg.SN, "err", err)
	}
}
