package gb

import (
	"strings"

	"github.com/nvr/nvr/device"
	"github.com/nvr/nvr/sip"
	"github.com/nvr/nvr/sip/manscdp"
)

// channelsFromCatalog turns catalog items into channels of the device deviceGBID, skipping
// items without an ID. Which items are tree nodes is decided over the whole list: an item that
// other items name as their parent is a node, whatever its type digits say. (An item naming
// itself does not count: IPCs list themselves with their own ID as parent.)
func channelsFromCatalog(deviceGBID string, items []manscdp.CatalogItem) []*device.Channel {
	parents := make(map[string]bool, 8)
	for _, it := range items {
		if p := parentOf(it); p != "" && p != strings.TrimSpace(it.DeviceID) {
			parents[p] = true
		}
	}
	out := make([]*device.Channel, 0, len(items))
	for _, it := range items {
		id := strings.TrimSpace(it.DeviceID)
		if id == "" {
			continue
		}
		out = append(out, channelFromItem(deviceGBID, it, parents[id]))
	}
	return out
}

// channelFromItem turns one catalog item into a channel. hasChildren says whether other items
// name it as their parent.
func channelFromItem(deviceGBID string, it manscdp.CatalogItem, hasChildren bool) *device.Channel {
	id := strings.TrimSpace(it.DeviceID)
	name := strings.TrimSpace(it.Name)
	if name == "" {
		name = id
	}
	return &device.Channel{
		GBID:         id,
		Name:         name,
		ParentID:     parentOf(it),
		Manufacturer: strings.TrimSpace(it.Manufacturer),
		Model:        strings.TrimSpace(it.Model),
		Status:       itemStatus(it.Status),
		PTZType:      it.PTZType,
		CivilCode:    strings.TrimSpace(it.CivilCode),
		Address:      strings.TrimSpace(it.Address),
		Longitude:    it.Longitude,
		Latitude:     it.Latitude,
		Kind:         itemKind(deviceGBID, it, hasChildren),
	}
}

// parentOf returns the ID of the node above an item. Some lower platforms write the whole
// path ("a/b/c") in ParentID; the last element is the parent. A virtual organisation without
// a parent hangs under its business group (GB/T 28181-2016 A.2.4.4 BusinessGroupID).
func parentOf(it manscdp.CatalogItem) string {
	p := strings.TrimSpace(it.ParentID)
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		p = strings.TrimSpace(p[i+1:])
	}
	if p == "" && device.KindFromID(strings.TrimSpace(it.DeviceID)) == device.KindVirtualOrg {
		p = strings.TrimSpace(it.BusinessGroupID)
	}
	return p
}

// itemKind decides what a catalog item is. Civil codes, business groups and virtual
// organisations are told by their IDs (device.KindFromID). An item that other items hang
// under is a sub-device node (an NVR under a lower platform, or an NVR listing itself above its
// cameras). An item with the type digits of a recorder or platform (111-130, 200) that says it
// has children (Parental 1) is one too, unless it is the device itself. Everything else is a
// playable channel, including the device's own ID: an IPC lists itself as its only channel.
func itemKind(deviceGBID string, it manscdp.CatalogItem, hasChildren bool) string {
	id := strings.TrimSpace(it.DeviceID)
	if k := device.KindFromID(id); k != device.KindChannel {
		return k
	}
	if hasChildren {
		return device.KindDevice
	}
	if t := sip.DeviceType(id); it.Parental == 1 && id != deviceGBID && (t >= 111 && t <= 130 || t == 200) {
		return device.KindDevice
	}
	return device.KindChannel
}

// itemStatus maps a catalog Status onto device.ChannelOn or device.ChannelOff. The decoder
// already folds the usual spellings (ON, OK, ONLINE…); a missing status is taken as ON, since
// devices that leave it out list only what works, and anything else (VLOST, DEFECT, junk) as
// OFF.
func itemStatus(s string) string {
	switch s {
	case "", manscdp.StatusOn:
		return device.ChannelOn
	}
	return device.ChannelOff
}
