package manscdp

// Keepalive is the payload of a Keepalive notification (GB/T 28181-2016
// A.2.5.2).
type Keepalive struct {
	// Status is OK, or ERROR when the device reports faults.
	Status string `xml:"Status"`
	// Faults lists the IDs of faulty channels from <Info><DeviceID>.
	Faults []string `xml:"-"`
}

func (d *decoder) keepalive(t *tree, root int32) *Keepalive {
	k := &Keepalive{}
	t.children(root, func(i int32, n *node) bool {
		switch n.name {
		case "status":
			k.Status = n.text
		case "info":
			d.items(t, i, func(i int32) {
				if c := &t.nodes[i]; c.name == "deviceid" && c.text != "" {
					k.Faults = append(k.Faults, c.text)
				}
			})
		}
		return true
	})
	return k
}
