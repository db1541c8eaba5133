package manscdp

import "time"

// DeviceStatus is the payload of a DeviceStatus response (GB/T 28181-2016
// A.2.6.6). Its <Result> is Message.Result.
type DeviceStatus struct {
	Online     string        `xml:"Online,omitempty"` // ONLINE or OFFLINE
	Status     string        `xml:"Status,omitempty"` // OK or ERROR
	Reason     string        `xml:"Reason,omitempty"`
	Encode     string        `xml:"Encode,omitempty"` // ON or OFF
	Record     string        `xml:"Record,omitempty"` // ON or OFF
	DeviceTime time.Time     `xml:"-"`
	Alarms     []AlarmStatus `xml:"-"`
}

// AlarmStatus is one <Item> of <Alarmstatus>.
type AlarmStatus struct {
	DeviceID string `xml:"DeviceID"`
	// DutyStatus is ONDUTY, OFFDUTY or ALARM.
	DutyStatus string `xml:"DutyStatus"`
}

func (d *decoder) deviceStatus(t *tree, root int32) *DeviceStatus {
	v := &DeviceStatus{}
	t.children(root, func(i int32, n *node) bool {
		switch n.name {
		case "online":
			v.Online = n.text
		case "status":
			v.Status = n.text
		case "reason":
			v.Reason = n.text
		case "encode":
			v.Encode = n.text
		case "record":
			v.Record = n.text
		case "devicetime":
			v.DeviceTime = parseTimeOrZero(n.text, d.loc)
		case "alarmstatus":
			d.items(t, i, func(i int32) {
				var a AlarmStatus
				t.children(i, func(_ int32, n *node) bool {
					switch n.name {
					case "deviceid":
						a.DeviceID = n.text
					case "dutystatus":
						a.DutyStatus = n.text
					}
					return true
				})
				v.Alarms = append(v.Alarms, a)
			})
		}
		return true
	})
	return v
}
