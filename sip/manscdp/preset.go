package manscdp

// PresetList is the payload of a PresetQuery response (GB/T 28181-2016
// A.2.6.10).
type PresetList struct {
	Items []Preset
}

// Preset is one <Item> of a <PresetList>.
type Preset struct {
	ID   int    `xml:"PresetID"`
	Name string `xml:"PresetName"`
}

func (d *decoder) presets(t *tree, root int32) *PresetList {
	p := &PresetList{}
	t.children(root, func(i int32, n *node) bool {
		if n.name == "presetlist" {
			d.items(t, i, func(i int32) {
				var v Preset
				t.children(i, func(_ int32, n *node) bool {
					switch n.name {
					case "presetid":
						v.ID = atoi(n.text)
					case "presetname":
						v.Name = n.text
					}
					return true
				})
				p.Items = append(p.Items, v)
			})
		}
		return true
	})
	return p
}
