package flv

import (
	"errors"
	"fmt"
)

// ErrConfigRecord is returned for a decoder configuration record that
// cannot be decoded or encoded.
var ErrConfigRecord = errors.New("flv: invalid decoder configuration record")

// AVCDecoderConfigurationRecord is the H.264 configuration carried by the
// AVC sequence header (ISO/IEC 14496-15, 5.3.3.1). mediacommon v2.9.5 has no
// encoder for it (its fMP4 writer goes through go-mp4's avcC box), hence this.
type AVCDecoderConfigurationRecord struct {
	ProfileIndication    uint8
	ProfileCompatibility uint8
	LevelIndication      uint8
	// LengthSizeMinusOne is the NAL unit length prefix size minus one; the
	// muxer always writes 3 (4-byte prefixes).
	LengthSizeMinusOne uint8
	SPS, PPS           [][]byte
}

// NewAVCDecoderConfigurationRecord builds the record of one SPS and one PPS
// (NAL units without start codes), with 4-byte length prefixes.
func NewAVCDecoderConfigurationRecord(sps, pps []byte) (*AVCDecoderConfigurationRecord, error) {
	if len(sps) < 4 || len(pps) < 1 {
		return nil, fmt.Errorf("%w: SPS of %d bytes, PPS of %d", ErrConfigRecord, len(sps), len(pps))
	}
	// profile_idc, the constraint flags and level_idc are the 3 bytes after
	// the NAL header (H.264 7.3.2.1.1). profile_idc is never 0, so no
	// emulation prevention byte can fall among them.
	return &AVCDecoderConfigurationRecord{
		ProfileIndication:    sps[1],
		ProfileCompatibility: sps[2],
		LevelIndication:      sps[3],
		LengthSizeMinusOne:   3,
		SPS:                  [][]byte{sps},
		PPS:                  [][]byte{pps},
	}, nil
}

// Append appends the encoded record to b.
func (r *AVCDecoderConfigurationRecord) Append(b []byte) ([]byte, error) {
	if len(r.SPS) > 31 || len(r.PPS) > 255 {
		return b, fmt.Errorf("%w: %d SPS and %d PPS", ErrConfigRecord, len(r.SPS), len(r.PPS))
	}
	b = append(b, 1, // configurationVersion
		r.ProfileIndication, r.ProfileCompatibility, r.LevelIndication,
		0xfc|r.LengthSizeMinusOne&0x03, // reserved '111111'b
		0xe0|byte(len(r.SPS)),          // reserved '111'b
	)
	var err error
	for _, p := range r.SPS {
		if b, err = appendU16Bytes(b, p); err != nil {
			return b, err
		}
	}
	b = append(b, byte(len(r.PPS)))
	for _, p := range r.PPS {
		if b, err = appendU16Bytes(b, p); err != nil {
			return b, err
		}
	}
	return b, nil
}

// Unmarshal decodes a record. The parameter sets alias buf. The extension
// for high profiles (chroma_format and bit depths) is ignored.
func (r *AVCDecoderConfigurationRecord) Unmarshal(buf []byte) error {
	*r = AVCDecoderConfigurationRecord{}
	if len(buf) < 6 {
		return fmt.Errorf("%w: %d bytes", ErrConfigRecord, len(buf))
	}
	if buf[0] != 1 {
		return fmt.Errorf("%w: configurationVersion %d", ErrConfigRecord, buf[0])
	}
	r.ProfileIndication, r.ProfileCompatibility, r.LevelIndication = buf[1], buf[2], buf[3]
	r.LengthSizeMinusOne = buf[4] & 0x03
	var err error
	var pos int
	if r.SPS, pos, err = readU16List(buf, 6, int(buf[5]&0x1f)); err != nil {
		return fmt.Errorf("SPS: %w", err)
	}
	if pos >= len(buf) {
		return fmt.Errorf("%w: no PPS count", ErrConfigRecord)
	}
	if r.PPS, _, err = readU16List(buf, pos+1, int(buf[pos])); err != nil {
		return fmt.Errorf("PPS: %w", err)
	}
	return nil
}

// appendU16Bytes appends p with a UI16 length prefix.
func appendU16Bytes(b, p []byte) ([]byte, error) {
	if len(p) > 0xffff {
		return b, fmt.Errorf("%w: parameter set of %d bytes", ErrConfigRecord, len(p))
	}
	b = append(b, byte(len(p)>>8), byte(len(p)))
	return append(b, p...), nil
}

// readU16List reads n UI16-length-prefixed byte strings from pos and
// returns the position after the last one. The list grows as entries are
// read, so a hostile count allocates nothing extra.
func readU16List(buf []byte, pos, n int) ([][]byte, int, error) {
	var list [][]byte
	for range n {
		if len(buf)-pos < 2 {
			return nil, pos, fmt.Errorf("%w: truncated length", ErrConfigRecord)
		}
		l := int(buf[pos])<<8 | int(buf[pos+1])
		pos += 2
		if len(buf)-pos < l {
			return nil, pos, fmt.Errorf("%w: parameter set of %d bytes with %d left", ErrConfigRecord, l, len(buf)-pos)
		}
		list = append(list, buf[pos:pos+l:pos+l])
		pos += l
	}
	return list, pos, nil
}
