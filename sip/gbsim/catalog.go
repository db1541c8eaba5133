package gbsim

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/nvr/nvr/sip/manscdp"
)

// Type digits of the IDs the simulator makes (GB/T 28181 Appendix D).
const (
	typeCamera        = "131"
	typeBusinessGroup = "215"
	typeVirtualOrg    = "216"
	typeWrong         = "000" // Quirks.WrongTypeDigits
)

// places name the channels, so that names carry GB2312 characters of
// several rows: "通道1 大门", "通道2 停车场"...
var places = [...]string{"大门", "停车场", "仓库", "走廊", "前台", "机房", "电梯厅", "后门"}

// ChannelName is the name the simulator gives channel i (1-based).
func ChannelName(i int) string {
	return fmt.Sprintf("通道%d %s", i, places[(i-1+len(places))%len(places)])
}

// applyContentDefaults fills in what the device answers with.
func applyContentDefaults(cfg *Config) {
	if cfg.Channels == 0 {
		cfg.Channels = 1
	}
	cfg.Channels = max(cfg.Channels, 0)
	if cfg.PerMessage <= 0 {
		cfg.PerMessage = 10
	}
	if cfg.Name == "" {
		cfg.Name = "模拟设备 " + serialOf(cfg.DeviceID)
	}
	if cfg.Manufacturer == "" {
		cfg.Manufacturer = "gbsim"
	}
	if cfg.Model == "" {
		cfg.Model = "GBSIM-IPC"
		if cfg.Channels > 1 {
			cfg.Model = "GBSIM-NVR"
		}
	}
	if cfg.Firmware == "" {
		cfg.Firmware = "V1.0.0"
	}
	if cfg.Presets == nil {
		cfg.Presets = []manscdp.Preset{{ID: 1, Name: "预置位1 大门"}, {ID: 2, Name: "预置位2 停车场"}, {ID: 3, Name: "预置位3 仓库"}}
	}
	if cfg.RecordSpan <= 0 {
		cfg.RecordSpan = 30 * time.Minute
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
}

// serialOf returns the 6-digit serial of an ID ("" for a malformed ID).
func serialOf(id string) string {
	if len(id) != 20 {
		return ""
	}
	return id[14:]
}

// idWith returns an ID in the device's area, industry and network with
// the type digits typ and the serial n (mod 10^6).
func (d *Device) idWith(typ string, n int) string {
	id := d.cfg.DeviceID
	if len(id) != 20 {
		id = MakeID(0, 0)
	}
	return id[:10] + typ + id[13:14] + fmt.Sprintf("%06d", n%1000000)
}

// ChannelID returns the ID of channel i (1-based). Channels of devices with
// consecutive serials do not collide: device serial s numbers its channels
// from (s-1)*Channels+1 (while the total stays under 10^6).
func (d *Device) ChannelID(i int) string {
	typ := typeCamera
	if d.Quirks().WrongTypeDigits {
		typ = typeWrong
	}
	s, _ := strconv.Atoi(serialOf(d.cfg.DeviceID))
	base := max(s-1, 0) * d.cfg.Channels
	return d.idWith(typ, base+i)
}

// buildCatalog makes the catalog the device starts with.
func (d *Device) buildCatalog() []manscdp.CatalogItem {
	id := d.cfg.DeviceID
	area := "34020000"
	if len(id) == 20 {
		area = id[:8]
	}
	s, _ := strconv.Atoi(serialOf(id))
	parent, group := id, ""
	var items []manscdp.CatalogItem
	if d.cfg.Tree {
		group = d.idWith(typeBusinessGroup, s)
		vo := d.idWith(typeVirtualOrg, s)
		items = append(items,
			manscdp.CatalogItem{DeviceID: area, Name: "芜湖市"},
			manscdp.CatalogItem{DeviceID: group, Name: "业务分组 园区", CivilCode: area},
			manscdp.CatalogItem{DeviceID: vo, Name: "一号楼", ParentID: group, BusinessGroupID: group},
		)
		parent = vo
	}
	for i := 1; i <= d.cfg.Channels; i++ {
		items = append(items, d.channelItem(i, d.ChannelID(i), area, parent, group))
	}
	return items
}

// channelItem describes channel i with ID id. It does not take d.mu.
func (d *Device) channelItem(i int, id, area, parent, group string) manscdp.CatalogItem {
	ptzType := 3 // fixed
	if i%2 == 1 {
		ptzType = 1 // dome
	}
	return manscdp.CatalogItem{
		DeviceID:        id,
		Name:            ChannelName(i),
		Manufacturer:    d.cfg.Manufacturer,
		Model:           "GBSIM-CAM",
		Owner:           "Owner",
		CivilCode:       area,
		Address:         places[(i-1)%len(places)],
		ParentID:        parent,
		RegisterWay:     1,
		Status:          manscdp.StatusOn,
		Longitude:       math.Round((118.38+float64(i)*0.0001)*1e6) / 1e6, // as written: 6 decimals
		Latitude:        31.33,
		BusinessGroupID: group,
		PTZType:         ptzType,
	}
}

// Catalog returns the device's current catalog, in the order it is sent:
// the tree nodes (with Config.Tree) then the channels.
func (d *Device) Catalog() []manscdp.CatalogItem {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]manscdp.CatalogItem(nil), d.catalog...)
}

// channelCount returns the number of video channels in the catalog.
func (d *Device) channelCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, it := range d.catalog {
		if isChannelID(it.DeviceID) {
			n++
		}
	}
	return n
}

// isChannelID reports whether a catalog ID names a channel rather than a
// civil area (2 to 8 digits), a business group or a virtual organisation.
func isChannelID(id string) bool {
	return len(id) == 20 && id[10:13] != typeBusinessGroup && id[10:13] != typeVirtualOrg
}

// writeCatalogItem writes one <Item> of a <DeviceList>, with <Event> when
// event is set (a NOTIFY). A deleted item carries its ID alone.
func (d *Device) writeCatalogItem(x *xmlBody, it manscdp.CatalogItem, event string) {
	x.open("Item", -1)
	x.el("DeviceID", it.DeviceID)
	if event == manscdp.EventDel {
		x.el("Event", event)
		x.close("Item")
		return
	}
	x.el("Name", it.Name)
	isChannel := isChannelID(it.DeviceID)
	if isChannel {
		x.el("Manufacturer", it.Manufacturer)
		x.el("Model", it.Model)
		x.el("Owner", it.Owner)
		x.el("CivilCode", it.CivilCode)
		x.el("Address", it.Address)
		x.elInt("Parental", int64(it.Parental))
	} else if it.CivilCode != "" {
		x.el("CivilCode", it.CivilCode)
	}
	if it.ParentID != "" {
		x.el("ParentID", it.ParentID)
	}
	if it.BusinessGroupID != "" {
		x.el("BusinessGroupID", it.BusinessGroupID)
	}
	if isChannel {
		x.elInt("SafetyWay", int64(it.SafetyWay))
		x.elInt("RegisterWay", int64(it.RegisterWay))
		x.elInt("Secrecy", int64(it.Secrecy))
		x.el("Status", it.Status)
		x.elFloat("Longitude", it.Longitude)
		x.elFloat("Latitude", it.Latitude)
	}
	if event != "" {
		x.el("Event", event)
	}
	if it.PTZType != 0 {
		x.open("Info", -1)
		x.elInt("PTZType", int64(it.PTZType))
		x.close("Info")
	}
	x.close("Item")
}
