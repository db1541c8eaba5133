package manscdp

// DeviceInfo is the payload of a DeviceInfo response (GB/T 28181-2016
// A.2.6.5). Its <Result> is Message.Result.
type DeviceInfo struct {
	DeviceName   string `xml:"DeviceName,omitempty"`
	Manufacturer string `xml:"Manufacturer,omitempty"`
	Model        string `xml:"Model,omitempty"`
	Firmware     string `xml:"Firmware,omitempty"`
	// Channel is the number of video inputs.
	Channel int `xml:"Channel"`
}

func deviceInfo(t *tree, root int32) *DeviceInfo {
	v := &DeviceInfo{}
	t.children(root, func(_ int32, n *node) bool {
		switch n.name {
		case "devicename":
			v.DeviceName = n.text
		case "manufacturer":
			v.Manufacturer = n.text
		case "model":
			v.Model = n.text
		case "firmware":
			v.Firmware = n.text
		case "channel":
			v.Channel = atoi(n.text)
		}
		return true
	})
	return v
}
