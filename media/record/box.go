package record

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// errTruncated is returned by the box parsers for a box that runs past the
// end of its container or of the file.
var errTruncated = errors.New("truncated box")

// boxHeader is the header of an ISO BMFF box (ISO/IEC 14496-12 4.2).
type boxHeader struct {
	typ  string
	size int64 // whole box, header included
	hdr  int   // header length: 8, or 16 with a 64-bit size
}

// parseBoxHeader reads a box header at the start of b. A size of 0 ("to the
// end of the file") is refused: we never write it and cannot bound it.
func parseBoxHeader(b []byte) (boxHeader, error) {
	if len(b) < 8 {
		return boxHeader{}, errTruncated
	}
	h := boxHeader{typ: string(b[4:8]), size: int64(binary.BigEndian.Uint32(b)), hdr: 8}
	switch h.size {
	case 0:
		return h, fmt.Errorf("box %q: size 0 not supported", h.typ)
	case 1:
		if len(b) < 16 {
			return boxHeader{}, errTruncated
		}
		u := binary.BigEndian.Uint64(b[8:])
		if u > 1<<62 {
			return h, fmt.Errorf("box %q: size %d too large", h.typ, u)
		}
		h.size, h.hdr = int64(u), 16
	}
	if h.size < int64(h.hdr) {
		return h, fmt.Errorf("box %q: size %d smaller than its header", h.typ, h.size)
	}
	return h, nil
}

// children calls fn for each box inside b (the payload of a container box),
// with the box's type and payload. It stops at the first error.
func children(b []byte, fn func(typ string, payload []byte) error) error {
	for len(b) > 0 {
		h, err := parseBoxHeader(b)
		if err != nil {
			return err
		}
		if h.size > int64(len(b)) {
			return fmt.Errorf("box %q: %w", h.typ, errTruncated)
		}
		if err := fn(h.typ, b[h.hdr:h.size]); err != nil {
			return err
		}
		b = b[h.size:]
	}
	return nil
}

// boxWriter builds boxes in a byte slice.
type boxWriter struct {
	b []byte
}

// start opens a box; end(pos) closes it by writing its size.
func (w *boxWriter) start(typ string) int {
	pos := len(w.b)
	w.b = append(w.b, 0, 0, 0, 0)
	w.b = append(w.b, typ...)
	return pos
}

// startFull opens a full box (with version and flags).
func (w *boxWriter) startFull(typ string, version byte, flags uint32) int {
	pos := w.start(typ)
	w.u32(uint32(version)<<24 | flags&0xffffff)
	return pos
}

func (w *boxWriter) end(pos int) {
	binary.BigEndian.PutUint32(w.b[pos:], uint32(len(w.b)-pos))
}

func (w *boxWriter) u8(v uint8)   { w.b = append(w.b, v) }
func (w *boxWriter) u16(v uint16) { w.b = binary.BigEndian.AppendUint16(w.b, v) }
func (w *boxWriter) u32(v uint32) { w.b = binary.BigEndian.AppendUint32(w.b, v) }
func (w *boxWriter) u64(v uint64) { w.b = binary.BigEndian.AppendUint64(w.b, v) }
func (w *boxWriter) raw(v []byte) { w.b = append(w.b, v...) }
func (w *boxWriter) zeros(n int) {
	for range n {
		w.b = append(w.b, 0)
	}
}

// unityMatrix is the identity transformation of mvhd and tkhd (14496-12 8.2.2).
var unityMatrix = [9]uint32{0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000}

func (w *boxWriter) matrix() {
	for _, v := range unityMatrix {
		w.u32(v)
	}
}
