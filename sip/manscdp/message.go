package manscdp

import "strconv"

// Kind is the root element of a MANSCDP body (GB/T 28181-2016 A.2.1).
type Kind uint8

// Kinds of message.
const (
	Query Kind = iota + 1
	Control
	Response
	Notify
)

// String returns the root element name.
func (k Kind) String() string {
	switch k {
	case Query:
		return "Query"
	case Control:
		return "Control"
	case Response:
		return "Response"
	case Notify:
		return "Notify"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

func parseKind(lowerName string) (Kind, bool) {
	switch lowerName {
	case "query":
		return Query, true
	case "control":
		return Control, true
	case "response":
		return Response, true
	case "notify":
		return Notify, true
	}
	return 0, false
}

// CmdTypes this package models (GB/T 28181-2016 A.2.2 to A.2.6). Decode
// returns a known CmdType in this spelling whatever case the device used,
// and any other CmdType as sent.
const (
	CmdKeepalive      = "Keepalive"
	CmdCatalog        = "Catalog"
	CmdDeviceInfo     = "DeviceInfo"
	CmdDeviceStatus   = "DeviceStatus"
	CmdRecordInfo     = "RecordInfo"
	CmdAlarm          = "Alarm"
	CmdConfigDownload = "ConfigDownload"
	CmdPresetQuery    = "PresetQuery"
	CmdMobilePosition = "MobilePosition"
	CmdMediaStatus    = "MediaStatus"
	CmdDeviceControl  = "DeviceControl"
	CmdDeviceConfig   = "DeviceConfig"
	CmdBroadcast      = "Broadcast"
)

var knownCmdTypes = [...]string{
	CmdKeepalive, CmdCatalog, CmdDeviceInfo, CmdDeviceStatus, CmdRecordInfo, CmdAlarm,
	CmdConfigDownload, CmdPresetQuery, CmdMobilePosition, CmdMediaStatus, CmdDeviceControl,
	CmdDeviceConfig, CmdBroadcast,
}

// Results of a Response (A.2.6).
const (
	ResultOK    = "OK"
	ResultError = "ERROR"
)

// Message is a decoded MANSCDP body: the header every body has, and the
// payload of its CmdType. At most one payload pointer is set; none is for a
// query without parameters, a response that only carries a Result, or a
// CmdType this package does not model.
type Message struct {
	Kind     Kind
	CmdType  string
	SN       int64
	DeviceID string
	// Result is the <Result> of a Response (OK or ERROR): the answer to a
	// DeviceControl, DeviceConfig or Alarm, and part of DeviceInfo and
	// DeviceStatus responses.
	Result string

	Keepalive      *Keepalive      // Notify Keepalive
	Catalog        *Catalog        // Response or Notify Catalog
	DeviceInfo     *DeviceInfo     // Response DeviceInfo
	DeviceStatus   *DeviceStatus   // Response DeviceStatus
	RecordInfo     *RecordInfo     // Response RecordInfo
	RecordQuery    *RecordQuery    // Query RecordInfo
	Presets        *PresetList     // Response PresetQuery
	Config         *Config         // Query or Response ConfigDownload, Control DeviceConfig
	Alarm          *Alarm          // Notify Alarm
	MobilePosition *MobilePosition // Notify MobilePosition
	MediaStatus    *MediaStatus    // Notify MediaStatus
	Control        *DeviceControl  // Control DeviceControl
}
