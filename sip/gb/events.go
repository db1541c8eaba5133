package gb

import (
	"context"
	"time"

	"github.com/nvr/nvr/sip/manscdp"
)

// Events receives what devices report on their own. Calls are made from
// the goroutine of the SIP request that carried the report, after the
// device was answered 200 OK; implementations must be safe for concurrent
// use and should not block for long.
type Events interface {
	// Keepalive is called for each Keepalive notification (A.2.5.2).
	Keepalive(ctx context.Context, deviceID string, at time.Time)
	// CatalogEvent is called for a catalog NOTIFY (A.2.4.8), from a
	// subscription or sent as a MESSAGE. Each item carries its Event (ADD,
	// DEL, UPDATE, ON, OFF, VLOST, DEFECT); some devices leave it empty in
	// the first NOTIFY after SUBSCRIBE, which lists the whole catalog.
	CatalogEvent(ctx context.Context, deviceID string, items []manscdp.CatalogItem)
	// Alarm is called for an Alarm notification (A.2.5.3). channelID is
	// the body's DeviceID: the alarm input or channel that raised it, or
	// the device itself. The Client answers the alarm (A.2.6.2) on its own.
	Alarm(ctx context.Context, deviceID, channelID string, a *manscdp.Alarm)
	// MobilePosition is called for a MobilePosition notification
	// (A.2.5.6); channelID is the body's DeviceID.
	MobilePosition(ctx context.Context, deviceID, channelID string, p *manscdp.MobilePosition)
	// MediaStatus is called for a MediaStatus notification (A.2.5.5);
	// notifyType "121" says a playback or download reached its end.
	// callID is the MESSAGE's Call-ID: devices send it in the media
	// session's dialog, so sip.Server.Dialog(callID) finds the session;
	// some send it with a Call-ID of its own, and then only the device
	// is known (sip.Server.Dialogs).
	MediaStatus(ctx context.Context, deviceID, callID, notifyType string)
}
