package manscdp

import "time"

// MobilePosition is the payload of a MobilePosition notification (GB/T
// 28181-2016 A.2.5.6).
type MobilePosition struct {
	Time      time.Time `xml:"-"`
	Longitude float64   `xml:"Longitude"`
	Latitude  float64   `xml:"Latitude"`
	// Speed is in km/h.
	Speed float64 `xml:"Speed,omitempty"`
	// Direction is degrees clockwise from north.
	Direction float64 `xml:"Direction,omitempty"`
	// Altitude is in metres.
	Altitude float64 `xml:"Altitude,omitempty"`
}

func (d *decoder) mobilePosition(t *tree, root int32) *MobilePosition {
	p := &MobilePosition{}
	t.children(root, func(_ int32, n *node) bool {
		v := n.text
		switch n.name {
		case "time":
			p.Time = parseTimeOrZero(v, d.loc)
		case "longitude":
			p.Longitude = atof(v)
		case "latitude":
			p.Latitude = atof(v)
		case "speed":
			p.Speed = atof(v)
		case "direction":
			p.Direction = atof(v)
		case "altitude":
			p.Altitude = atof(v)
		}
		return true
	})
	return p
}
