package manscdp

// MediaStatus is the payload of a MediaStatus notification (GB/T
// 28181-2016 A.2.5.5).
type MediaStatus struct {
	// NotifyType 121 (NotifyEndOfFile) says a playback or download reached
	// the end of the recording.
	NotifyType int `xml:"NotifyType"`
}

// NotifyEndOfFile is the MediaStatus NotifyType of a finished playback.
const NotifyEndOfFile = 121

func mediaStatus(t *tree, root int32) *MediaStatus {
	m := &MediaStatus{}
	t.children(root, func(_ int32, n *node) bool {
		if n.name == "notifytype" {
			m.NotifyType = atoi(n.text)
		}
		return true
	})
	return m
}
