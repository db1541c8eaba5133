package manscdp

// Config is the payload of a ConfigDownload query (ConfigType) or response
// (BasicParam), and of a DeviceConfig control (BasicParam), GB/T
// 28181-2016 A.2.3.2, A.2.4.7 and A.2.6.9.
type Config struct {
	// ConfigType names what a query asks for, e.g. "BasicParam"; several
	// types are separated by "/".
	ConfigType string      `xml:"ConfigType,omitempty"`
	BasicParam *BasicParam `xml:"BasicParam,omitempty"`
}

// ConfigTypeBasicParam asks ConfigDownload for the basic parameters.
const ConfigTypeBasicParam = "BasicParam"

// BasicParam is the <BasicParam> of a device configuration.
type BasicParam struct {
	Name          string `xml:"Name,omitempty"`
	DeviceID      string `xml:"DeviceID,omitempty"`
	SIPServerID   string `xml:"SIPServerID,omitempty"`
	SIPServerIP   string `xml:"SIPServerIP,omitempty"`
	SIPServerPort int    `xml:"SIPServerPort,omitempty"`
	DomainName    string `xml:"DomainName,omitempty"`
	// Expiration is the registration expiry in seconds.
	Expiration int `xml:"Expiration,omitempty"`
	// HeartBeatInterval is the keepalive interval in seconds.
	HeartBeatInterval int `xml:"HeartBeatInterval,omitempty"`
	// HeartBeatCount is the number of missed keepalives after which the
	// device counts as offline.
	HeartBeatCount int `xml:"HeartBeatCount,omitempty"`
}

func config(t *tree, root int32) *Config {
	c := &Config{}
	t.children(root, func(i int32, n *node) bool {
		switch n.name {
		case "configtype":
			c.ConfigType = n.text
		case "basicparam":
			c.BasicParam = basicParam(t, i)
		}
		return true
	})
	return c
}

func basicParam(t *tree, i int32) *BasicParam {
	b := &BasicParam{}
	t.children(i, func(_ int32, n *node) bool {
		v := n.text
		switch n.name {
		case "name":
			b.Name = v
		case "deviceid":
			b.DeviceID = v
		case "sipserverid":
			b.SIPServerID = v
		case "sipserverip":
			b.SIPServerIP = v
		case "sipserverport":
			b.SIPServerPort = atoi(v)
		case "domainname":
			b.DomainName = v
		case "expiration":
			b.Expiration = atoi(v)
		case "heartbeatinterval":
			b.HeartBeatInterval = atoi(v)
		case "heartbeatcount":
			b.HeartBeatCount = atoi(v)
		}
		return true
	})
	return b
}
