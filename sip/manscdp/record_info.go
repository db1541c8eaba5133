package manscdp

import "time"

// RecordInfo is a RecordInfo response part (GB/T 28181-2016 A.2.6.7): the
// recordings a device holds for a channel and time range. Like a catalog
// it may be split over many messages (see Assembler).
type RecordInfo struct {
	Name string
	// SumNum is the total number of items over all parts; Decode sets it
	// to len(Items) when the device leaves it out.
	SumNum int
	Items  []RecordItem
}

// RecordItem is one recording of a <RecordList>.
type RecordItem struct {
	DeviceID   string
	Name       string
	FilePath   string
	Address    string
	StartTime  time.Time
	EndTime    time.Time
	Secrecy    int
	Type       string // time, alarm or manual
	RecorderID string
	FileSize   int64 // bytes
}

// RecordQuery is the payload of a RecordInfo query (A.2.4.5).
type RecordQuery struct {
	StartTime time.Time `xml:"-"`
	EndTime   time.Time `xml:"-"`
	FilePath  string    `xml:"FilePath,omitempty"`
	Address   string    `xml:"Address,omitempty"`
	Secrecy   int       `xml:"Secrecy"`
	// Type is all, time, alarm or manual.
	Type       string `xml:"Type,omitempty"`
	RecorderID string `xml:"RecorderID,omitempty"`
	// IndistinctQuery 1 asks for a fuzzy match of FilePath and Address.
	IndistinctQuery int `xml:"IndistinctQuery,omitempty"`
}

// Record types of a RecordQuery.
const (
	RecordAll    = "all"
	RecordTime   = "time"
	RecordAlarm  = "alarm"
	RecordManual = "manual"
)

func (d *decoder) recordInfo(t *tree, root int32) *RecordInfo {
	r := &RecordInfo{SumNum: -1}
	t.children(root, func(i int32, n *node) bool {
		switch n.name {
		case "name":
			r.Name = n.text
		case "sumnum":
			r.SumNum = atoi(n.text)
		case "recordlist":
			d.items(t, i, func(i int32) {
				r.Items = append(r.Items, d.recordItem(t, i))
			})
		}
		return true
	})
	if r.SumNum < 0 {
		r.SumNum = len(r.Items)
	}
	return r
}

func (d *decoder) recordItem(t *tree, item int32) RecordItem {
	var r RecordItem
	t.children(item, func(_ int32, n *node) bool {
		v := n.text
		switch n.name {
		case "deviceid":
			r.DeviceID = v
		case "name":
			r.Name = v
		case "filepath":
			r.FilePath = v
		case "address":
			r.Address = v
		case "starttime":
			r.StartTime = parseTimeOrZero(v, d.loc)
		case "endtime":
			r.EndTime = parseTimeOrZero(v, d.loc)
		case "secrecy":
			r.Secrecy = atoi(v)
		case "type":
			r.Type = v
		case "recorderid":
			r.RecorderID = v
		case "filesize":
			r.FileSize = atoi64(v)
		}
		return true
	})
	return r
}

func (d *decoder) recordQuery(t *tree, root int32) *RecordQuery {
	q := &RecordQuery{}
	t.children(root, func(_ int32, n *node) bool {
		v := n.text
		switch n.name {
		case "starttime":
			q.StartTime = parseTimeOrZero(v, d.loc)
		case "endtime":
			q.EndTime = parseTimeOrZero(v, d.loc)
		case "filepath":
			q.FilePath = v
		case "address":
			q.Address = v
		case "secrecy":
			q.Secrecy = atoi(v)
		case "type":
			q.Type = v
		case "recorderid":
			q.RecorderID = v
		case "indistinctquery":
			q.IndistinctQuery = atoi(v)
		}
		return true
	})
	return q
}
