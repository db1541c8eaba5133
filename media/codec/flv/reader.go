package flv

import (
	"errors"
	"fmt"
	"io"
)

// readChunk is how much of a tag body the Reader allocates ahead of the
// bytes it has actually received, so that a forged DataSize on a short
// stream costs at most this much, not 16 MiB.
const readChunk = 64 << 10

// maxHeaderSkip bounds the bytes between the 9-byte header and DataOffset
// that the Reader skips. Version 1 has none; this leaves room for a future
// version without letting a forged offset stall the reader for 4 GiB.
const maxHeaderSkip = 1 << 20

// Reader parses an FLV byte stream. It never panics on malformed input and
// never allocates much more than the input it has received.
type Reader struct {
	r          io.Reader
	headerDone bool
	hdr        [tagHeaderSize]byte
}

// NewReader returns a Reader of r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: r}
}

// ReadHeader reads the file header and PreviousTagSize0. ReadTag calls it
// itself when it has not been called.
func (r *Reader) ReadHeader() (Header, error) {
	var b [headerSize + prevTagSizeSize]byte
	if _, err := io.ReadFull(r.r, b[:headerSize]); err != nil {
		return Header{}, fmt.Errorf("%w: %w", ErrInvalidHeader, err)
	}
	if b[0] != 'F' || b[1] != 'L' || b[2] != 'V' {
		return Header{}, fmt.Errorf("%w: signature % x", ErrInvalidHeader, b[:3])
	}
	off := uint32(b[5])<<24 | uint32(b[6])<<16 | uint32(b[7])<<8 | uint32(b[8])
	if off < headerSize || off-headerSize > maxHeaderSkip {
		return Header{}, fmt.Errorf("%w: DataOffset %d", ErrInvalidHeader, off)
	}
	if n, err := io.CopyN(io.Discard, r.r, int64(off-headerSize)); err != nil {
		return Header{}, fmt.Errorf("%w: skipped %d of %d bytes: %w", ErrInvalidHeader, n, off-headerSize, err)
	}
	if _, err := io.ReadFull(r.r, b[headerSize:]); err != nil {
		return Header{}, fmt.Errorf("%w: PreviousTagSize0: %w", ErrInvalidHeader, unexpected(err))
	}
	r.headerDone = true
	return Header{HasAudio: b[4]&0x04 != 0, HasVideo: b[4]&0x01 != 0}, nil
}

// ReadTag reads the next tag and the PreviousTagSize after it, and decodes
// the body of audio, video and script tags. The tag owns its bytes.
//
// At the end of the stream, on a tag boundary, it returns io.EOF; a stream
// cut inside a tag gives io.ErrUnexpectedEOF and broken framing
// ErrPreviousTagSize. A body that its type cannot decode is returned as a
// Tag with Body set and the typed field nil, together with the decode
// error: the framing is intact and reading may go on.
func (r *Reader) ReadTag() (*Tag, error) {
	if !r.headerDone {
		if _, err := r.ReadHeader(); err != nil {
			return nil, err
		}
	}
	h := r.hdr[:]
	if _, err := io.ReadFull(r.r, h); err != nil {
		return nil, err // io.EOF on a clean end, io.ErrUnexpectedEOF otherwise
	}
	t := &Tag{
		Type:      TagType(h[0] & 0x1f),
		Filter:    h[0]&0x20 != 0,
		Timestamp: uint32(h[4])<<16 | uint32(h[5])<<8 | uint32(h[6]) | uint32(h[7])<<24,
	}
	size := int(h[1])<<16 | int(h[2])<<8 | int(h[3])
	body, err := readN(r.r, size+prevTagSizeSize)
	if err != nil {
		return nil, unexpected(err)
	}
	p := body[size:]
	prev := uint32(p[0])<<24 | uint32(p[1])<<16 | uint32(p[2])<<8 | uint32(p[3])
	if want := uint32(size + tagHeaderSize); prev != want {
		return nil, fmt.Errorf("%w: %d after a %s tag of %d bytes", ErrPreviousTagSize, prev, t.Type, want)
	}
	t.Body = body[:size:size]
	if t.Filter {
		return t, nil
	}
	return t, t.decode()
}

// decode fills the typed field of the tag from its body.
func (t *Tag) decode() error {
	switch t.Type {
	case TagVideo:
		v := &VideoTag{}
		if err := v.Unmarshal(t.Body); err != nil {
			return err
		}
		t.Video = v
	case TagAudio:
		a := &AudioTag{}
		if err := a.Unmarshal(t.Body); err != nil {
			return err
		}
		t.Audio = a
	case TagScript:
		s := &ScriptTag{}
		if err := s.Unmarshal(t.Body); err != nil {
			return err
		}
		t.Script = s
	}
	return nil
}

// readN reads exactly n bytes, growing the buffer as data arrives.
func readN(r io.Reader, n int) ([]byte, error) {
	buf := make([]byte, 0, min(n, readChunk))
	for len(buf) < n {
		k := min(n-len(buf), readChunk)
		if cap(buf)-len(buf) < k {
			nb := make([]byte, len(buf), min(n, max(2*cap(buf), len(buf)+k)))
			copy(nb, buf)
			buf = nb
		}
		m, err := io.ReadFull(r, buf[len(buf):len(buf)+k])
		buf = buf[:len(buf)+m]
		if err != nil {
			return nil, err
		}
	}
	return buf, nil
}

// unexpected turns io.EOF inside a structure into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
