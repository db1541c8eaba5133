package gb

import (
	"context"
	"fmt"

	"github.com/nvr/nvr/sip/manscdp"
	"github.com/nvr/nvr/sip/ptz"
)

// control sends a DeviceControl and returns when the device answered the
// MESSAGE 200 (A.2.3.1: PTZ, TeleBoot and IFameCmd have no answer body;
// the <Result> a device may send for the others is logged, not awaited).
func (c *Client) control(ctx context.Context, deviceID string, m *manscdp.Message) error {
	ctx, cancel := context.WithTimeout(ctx, c.QueryTimeout)
	defer cancel()
	return c.closedOr(c.sendBody(ctx, deviceID, m))
}

// PTZ sends a PTZCmd (Annex A.3) built from cmd and args to a channel:
// pan, tilt, zoom, focus, iris, presets, cruises, scans. An invalid
// command or operand is refused with ptz.ErrCommand or ptz.ErrRange
// before anything is sent.
func (c *Client) PTZ(ctx context.Context, deviceID, channelID string, cmd ptz.Command, args ptz.Args) error {
	f, err := ptz.Build(cmd, args)
	if err != nil {
		return fmt.Errorf("gb: PTZ %s: %w", cmd, err)
	}
	return c.control(ctx, deviceID, manscdp.NewPTZControl(c.nextSN(), channelID, f.String()))
}

// TeleBoot asks a device to restart.
func (c *Client) TeleBoot(ctx context.Context, deviceID string) error {
	return c.control(ctx, deviceID, manscdp.NewTeleBoot(c.nextSN(), deviceID))
}

// IFrame asks a channel for a key frame now (IFameCmd).
func (c *Client) IFrame(ctx context.Context, deviceID, channelID string) error {
	return c.control(ctx, deviceID, manscdp.NewIFrameControl(c.nextSN(), channelID))
}

// Record starts or stops recording on a channel (RecordCmd).
func (c *Client) Record(ctx context.Context, deviceID, channelID string, start bool) error {
	return c.control(ctx, deviceID, manscdp.NewRecordControl(c.nextSN(), channelID, start))
}

// Guard arms (set) or disarms a device (GuardCmd).
func (c *Client) Guard(ctx context.Context, deviceID string, set bool) error {
	return c.control(ctx, deviceID, manscdp.NewGuardControl(c.nextSN(), deviceID, set))
}
