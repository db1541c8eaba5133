package manscdp

// DeviceControl is the payload of a DeviceControl command (GB/T 28181-2016
// A.2.3.1). One command is set per message.
type DeviceControl struct {
	// PTZCmd is 16 hex digits (Annex A.3; see package sip/ptz).
	PTZCmd string `xml:"PTZCmd,omitempty"`
	// TeleBoot is "Boot": restart the device.
	TeleBoot string `xml:"TeleBoot,omitempty"`
	// RecordCmd is "Record" or "StopRecord".
	RecordCmd string `xml:"RecordCmd,omitempty"`
	// GuardCmd is "SetGuard" or "ResetGuard" (arm, disarm).
	GuardCmd string `xml:"GuardCmd,omitempty"`
	// AlarmCmd is "ResetAlarm".
	AlarmCmd string `xml:"AlarmCmd,omitempty"`
	// IFameCmd is "Send": emit a key frame now. The 2016 standard spells
	// the element IFameCmd; Decode also reads the 2022 IFrameCmd.
	IFameCmd string `xml:"IFameCmd,omitempty"`
	// ControlPriority is <Info><ControlPriority> of a PTZ command, 1
	// (highest) to 5.
	ControlPriority int `xml:"-"`
}

// DeviceControl command values.
const (
	TeleBootBoot       = "Boot"
	RecordCmdStart     = "Record"
	RecordCmdStop      = "StopRecord"
	GuardCmdSet        = "SetGuard"
	GuardCmdReset      = "ResetGuard"
	AlarmCmdReset      = "ResetAlarm"
	IFameCmdSend       = "Send"
	PTZControlPriority = 5
)

func deviceControl(t *tree, root int32) *DeviceControl {
	c := &DeviceControl{}
	t.children(root, func(i int32, n *node) bool {
		v := n.text
		switch n.name {
		case "ptzcmd":
			c.PTZCmd = squeeze(v)
		case "teleboot":
			c.TeleBoot = v
		case "recordcmd":
			c.RecordCmd = v
		case "guardcmd":
			c.GuardCmd = v
		case "alarmcmd":
			c.AlarmCmd = v
		case "ifamecmd", "iframecmd":
			c.IFameCmd = v
		case "info":
			t.children(i, func(_ int32, n *node) bool {
				if n.name == "controlpriority" {
					c.ControlPriority = atoi(n.text)
				}
				return true
			})
		}
		return true
	})
	return c
}
