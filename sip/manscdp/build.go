package manscdp

// Builders for the bodies the platform sends (GB/T 28181-2016 A.2.3,
// A.2.4, A.2.6). The caller owns the SN sequence and passes the next value;
// deviceID is the device or channel addressed. Encode the result with Encode
// in the device's charset.

// NewQuery returns a query without parameters: CmdCatalog, CmdDeviceInfo,
// CmdDeviceStatus or CmdPresetQuery.
func NewQuery(cmdType string, sn int64, deviceID string) *Message {
	return &Message{Kind: Query, CmdType: cmdType, SN: sn, DeviceID: deviceID}
}

// NewRecordInfoQuery asks a channel for its recordings in q's time range.
// An empty q.Type is sent as RecordAll, which most devices require.
func NewRecordInfoQuery(sn int64, channelID string, q RecordQuery) *Message {
	if q.Type == "" {
		q.Type = RecordAll
	}
	return &Message{Kind: Query, CmdType: CmdRecordInfo, SN: sn, DeviceID: channelID, RecordQuery: &q}
}

// NewConfigDownloadQuery asks for a device's configuration of configType,
// e.g. ConfigTypeBasicParam.
func NewConfigDownloadQuery(sn int64, deviceID, configType string) *Message {
	return &Message{Kind: Query, CmdType: CmdConfigDownload, SN: sn, DeviceID: deviceID,
		Config: &Config{ConfigType: configType}}
}

// NewDeviceControl returns a DeviceControl command carrying c.
func NewDeviceControl(sn int64, deviceID string, c DeviceControl) *Message {
	return &Message{Kind: Control, CmdType: CmdDeviceControl, SN: sn, DeviceID: deviceID, Control: &c}
}

// NewPTZControl sends a PTZCmd (see package sip/ptz) to a channel, with the
// <Info><ControlPriority>5</ControlPriority></Info> that Hikvision and
// Dahua firmware expect (A.2.3.1.2).
func NewPTZControl(sn int64, channelID, ptzCmd string) *Message {
	return NewDeviceControl(sn, channelID, DeviceControl{PTZCmd: ptzCmd, ControlPriority: PTZControlPriority})
}

// NewTeleBoot asks a device to restart.
func NewTeleBoot(sn int64, deviceID string) *Message {
	return NewDeviceControl(sn, deviceID, DeviceControl{TeleBoot: TeleBootBoot})
}

// NewRecordControl starts or stops recording on a channel.
func NewRecordControl(sn int64, channelID string, start bool) *Message {
	cmd := RecordCmdStop
	if start {
		cmd = RecordCmdStart
	}
	return NewDeviceControl(sn, channelID, DeviceControl{RecordCmd: cmd})
}

// NewGuardControl arms (set) or disarms a device or channel.
func NewGuardControl(sn int64, deviceID string, set bool) *Message {
	cmd := GuardCmdReset
	if set {
		cmd = GuardCmdSet
	}
	return NewDeviceControl(sn, deviceID, DeviceControl{GuardCmd: cmd})
}

// NewIFrameControl asks a channel for a key frame now.
func NewIFrameControl(sn int64, channelID string) *Message {
	return NewDeviceControl(sn, channelID, DeviceControl{IFameCmd: IFameCmdSend})
}

// NewKeepalive returns the keepalive a device (the simulator, or the
// platform registered to a higher one) sends every interval.
func NewKeepalive(sn int64, deviceID string) *Message {
	return &Message{Kind: Notify, CmdType: CmdKeepalive, SN: sn, DeviceID: deviceID,
		Keepalive: &Keepalive{Status: ResultOK}}
}

// NewResult returns a Response carrying only <Result>: the answer to an
// Alarm notification, a DeviceControl or a DeviceConfig. sn and deviceID are
// those of the message answered. A Keepalive needs no body in return: the
// SIP 200 OK is the answer.
func NewResult(cmdType string, sn int64, deviceID string, ok bool) *Message {
	r := ResultError
	if ok {
		r = ResultOK
	}
	return &Message{Kind: Response, CmdType: cmdType, SN: sn, DeviceID: deviceID, Result: r}
}

// AlarmResponse answers an Alarm notification with OK (A.2.6.2).
func AlarmResponse(alarm *Message) *Message {
	return NewResult(CmdAlarm, alarm.SN, alarm.DeviceID, true)
}
