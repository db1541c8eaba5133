package gbsim

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/nvr/nvr/sip/manscdp"
	"github.com/nvr/nvr/sip/ptz"
)

// Control is a DeviceControl command the device received (GB/T 28181-2016
// A.2.3.1).
type Control struct {
	// DeviceID is the channel or device addressed (the body's DeviceID).
	DeviceID string
	SN       int64
	// PTZCmd is the PTZCmd as received; PTZ and PTZArgs are what it
	// decodes to with sip/ptz, or PTZErr why it does not.
	PTZCmd  string
	PTZ     ptz.Command
	PTZArgs ptz.Args
	PTZErr  error
	// The other commands, as received.
	TeleBoot, RecordCmd, GuardCmd, AlarmCmd, IFameCmd string
	// ControlPriority is <Info><ControlPriority>.
	ControlPriority int
	At              time.Time
}

// recordControl records a DeviceControl and applies what it changes:
// presets, guard and recording state.
func (d *Device) recordControl(m *manscdp.Message) {
	c := m.Control
	rc := Control{
		DeviceID: m.DeviceID, SN: m.SN, PTZCmd: c.PTZCmd,
		TeleBoot: c.TeleBoot, RecordCmd: c.RecordCmd, GuardCmd: c.GuardCmd, AlarmCmd: c.AlarmCmd,
		IFameCmd: c.IFameCmd, ControlPriority: c.ControlPriority, At: time.Now(),
	}
	if c.PTZCmd != "" {
		rc.PTZ, rc.PTZArgs, rc.PTZErr = ptz.Decode(c.PTZCmd)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if c.PTZCmd != "" && rc.PTZErr == nil {
		switch rc.PTZ {
		case ptz.PresetSet:
			i := slices.IndexFunc(d.presets, func(p manscdp.Preset) bool { return p.ID == int(rc.PTZArgs.Preset) })
			if i < 0 {
				d.presets = append(d.presets, manscdp.Preset{ID: int(rc.PTZArgs.Preset), Name: "预置位" + strconv.Itoa(int(rc.PTZArgs.Preset))})
			}
		case ptz.PresetDelete:
			d.presets = slices.DeleteFunc(d.presets, func(p manscdp.Preset) bool { return p.ID == int(rc.PTZArgs.Preset) })
		}
	}
	switch c.GuardCmd {
	case manscdp.GuardCmdSet:
		d.guard = true
	case manscdp.GuardCmdReset:
		d.guard = false
	}
	switch c.RecordCmd {
	case manscdp.RecordCmdStart:
		d.rec = true
	case manscdp.RecordCmdStop:
		d.rec = false
	}
	d.controls = append(d.controls, rc)
	d.signal()
}

// signal wakes the Wait functions. d.mu is held.
func (d *Device) signal() {
	close(d.notify)
	d.notify = make(chan struct{})
}

// Controls returns the DeviceControl commands received so far, in order.
func (d *Device) Controls() []Control {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.controls)
}

// WaitControls waits until at least n commands were received and returns
// them.
func (d *Device) WaitControls(ctx context.Context, n int) ([]Control, error) {
	for {
		d.mu.Lock()
		if len(d.controls) >= n {
			out := slices.Clone(d.controls)
			d.mu.Unlock()
			return out, nil
		}
		notify := d.notify
		d.mu.Unlock()
		select {
		case <-notify:
		case <-ctx.Done():
			return d.Controls(), ctx.Err()
		}
	}
}
