package flv

// Header is the FLV file header (E.2).
type Header struct {
	// HasAudio and HasVideo are the TypeFlags: which tag types follow.
	HasAudio, HasVideo bool
}

// Append appends the 9-byte file header and PreviousTagSize0 to b.
func (h Header) Append(b []byte) []byte {
	var flags byte
	if h.HasAudio {
		flags |= 0x04
	}
	if h.HasVideo {
		flags |= 0x01
	}
	return append(b,
		'F', 'L', 'V', 1, flags,
		0, 0, 0, headerSize, // DataOffset: the header's own size
		0, 0, 0, 0, // PreviousTagSize0 is always 0 (E.3)
	)
}
