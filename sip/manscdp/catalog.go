package manscdp

import "strings"

// Catalog is a Catalog response part or a catalog NOTIFY (GB/T 28181-2016
// A.2.6.3 and A.2.4.8). A device splits a long catalog over many messages
// with the same SN; SumNum is the total over all of them and Items holds
// this part's <DeviceList> (see Assembler).
type Catalog struct {
	// SumNum is the total number of items. When a device leaves it out,
	// Decode sets it to len(Items): such a device sends its whole catalog in
	// one message.
	SumNum int
	Items  []CatalogItem
}

// Catalog events of a NOTIFY (A.2.4.8).
const (
	EventAdd    = "ADD"
	EventDel    = "DEL"
	EventUpdate = "UPDATE"
	EventOn     = "ON"
	EventOff    = "OFF"
	EventVLost  = "VLOST"
	EventDefect = "DEFECT"
)

// CatalogItem is one <Item> of a <DeviceList>: a device, channel, civil
// area, business group (type 215) or virtual organisation (type 216).
// Items other than channels carry few of these fields.
type CatalogItem struct {
	DeviceID     string  `xml:"DeviceID"`
	Name         string  `xml:"Name"`
	Manufacturer string  `xml:"Manufacturer,omitempty"`
	Model        string  `xml:"Model,omitempty"`
	Owner        string  `xml:"Owner,omitempty"`
	CivilCode    string  `xml:"CivilCode,omitempty"`
	Block        string  `xml:"Block,omitempty"`
	Address      string  `xml:"Address,omitempty"`
	Parental     int     `xml:"Parental"`
	ParentID     string  `xml:"ParentID,omitempty"`
	SafetyWay    int     `xml:"SafetyWay,omitempty"`
	RegisterWay  int     `xml:"RegisterWay,omitempty"`
	Secrecy      int     `xml:"Secrecy"`
	IPAddress    string  `xml:"IPAddress,omitempty"`
	Port         int     `xml:"Port,omitempty"`
	Status       string  `xml:"Status,omitempty"` // StatusOn or StatusOff after Decode
	Longitude    float64 `xml:"Longitude,omitempty"`
	Latitude     float64 `xml:"Latitude,omitempty"`
	// BusinessGroupID links a virtual organisation to its business group.
	// GB/T 28181-2016 puts it in <Info>; devices put it either there or on
	// the item, and Decode reads both. It is written on the item.
	BusinessGroupID string `xml:"BusinessGroupID,omitempty"`
	// Event is set in a catalog NOTIFY: EventAdd, EventDel...
	Event string `xml:"Event,omitempty"`
	// PTZType is <Info><PTZType>: 1 dome, 2 half-dome, 3 fixed, 4 remote
	// controlled; 0 when unknown.
	PTZType int `xml:"-"`
}

func (d *decoder) catalog(t *tree, root int32) *Catalog {
	c := &Catalog{SumNum: -1}
	t.children(root, func(i int32, n *node) bool {
		switch n.name {
		case "sumnum":
			c.SumNum = atoi(n.text)
		case "devicelist":
			d.items(t, i, func(i int32) {
				c.Items = append(c.Items, catalogItem(t, i))
			})
		}
		return true
	})
	if c.SumNum < 0 {
		c.SumNum = len(c.Items)
	}
	return c
}

func catalogItem(t *tree, item int32) CatalogItem {
	var c CatalogItem
	t.children(item, func(i int32, n *node) bool {
		v := n.text
		switch n.name {
		case "deviceid":
			c.DeviceID = v
		case "name":
			c.Name = v
		case "manufacturer":
			c.Manufacturer = v
		case "model":
			c.Model = v
		case "owner":
			c.Owner = v
		case "civilcode":
			c.CivilCode = v
		case "block":
			c.Block = v
		case "address":
			c.Address = v
		case "parental":
			c.Parental = atoi(v)
		case "parentid":
			c.ParentID = v
		case "safetyway":
			c.SafetyWay = atoi(v)
		case "registerway":
			c.RegisterWay = atoi(v)
		case "secrecy":
			c.Secrecy = atoi(v)
		case "ipaddress":
			c.IPAddress = v
		case "port":
			c.Port = atoi(v)
		case "status":
			c.Status = normStatus(v)
		case "longitude":
			c.Longitude = atof(v)
		case "latitude":
			c.Latitude = atof(v)
		case "businessgroupid":
			c.BusinessGroupID = v
		case "event":
			c.Event = strings.ToUpper(squeeze(v))
		case "ptztype": // on the item instead of in <Info>
			c.PTZType = atoi(v)
		case "info":
			t.children(i, func(_ int32, n *node) bool {
				switch n.name {
				case "ptztype":
					c.PTZType = atoi(n.text)
				case "businessgroupid":
					if c.BusinessGroupID == "" {
						c.BusinessGroupID = n.text
					}
				}
				return true
			})
		}
		return true
	})
	return c
}
