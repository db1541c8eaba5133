package manscdp

import "time"

// Alarm is the payload of an Alarm notification (GB/T 28181-2016
// A.2.5.3). The platform answers it with AlarmResponse.
type Alarm struct {
	// AlarmPriority is 1 (highest) to 4.
	AlarmPriority int `xml:"AlarmPriority"`
	// AlarmMethod is 1 phone, 2 device, 3 SMS, 4 GPS, 5 video, 6 device
	// fault, 7 other.
	AlarmMethod      int       `xml:"AlarmMethod"`
	AlarmTime        time.Time `xml:"-"`
	AlarmDescription string    `xml:"AlarmDescription,omitempty"`
	Longitude        float64   `xml:"Longitude,omitempty"`
	Latitude         float64   `xml:"Latitude,omitempty"`
	// AlarmType is <Info><AlarmType>, whose meaning depends on AlarmMethod
	// (for video alarms: 1 manual, 2 motion, 3 loss, 4 tamper...).
	AlarmType int `xml:"-"`
	// EventType is <Info><AlarmTypeParam><EventType> (1 in, 2 out of an
	// intrusion zone).
	EventType int `xml:"-"`
}

func (d *decoder) alarm(t *tree, root int32) *Alarm {
	a := &Alarm{}
	t.children(root, func(i int32, n *node) bool {
		v := n.text
		switch n.name {
		case "alarmpriority":
			a.AlarmPriority = atoi(v)
		case "alarmmethod":
			a.AlarmMethod = atoi(v)
		case "alarmtime":
			a.AlarmTime = parseTimeOrZero(v, d.loc)
		case "alarmdescription":
			a.AlarmDescription = v
		case "longitude":
			a.Longitude = atof(v)
		case "latitude":
			a.Latitude = atof(v)
		case "alarmtype": // outside <Info> on some devices
			a.AlarmType = atoi(v)
		case "info":
			t.children(i, func(i int32, n *node) bool {
				switch n.name {
				case "alarmtype":
					a.AlarmType = atoi(n.text)
				case "alarmtypeparam":
					t.children(i, func(_ int32, n *node) bool {
						if n.name == "eventtype" {
							a.EventType = atoi(n.text)
						}
						return true
					})
				}
				return true
			})
		}
		return true
	})
	return a
}
