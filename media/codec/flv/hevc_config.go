package flv

import (
	"fmt"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
)

// HEVCNALUArray is one array of a HEVCDecoderConfigurationRecord: the NAL
// units of one type (VPS, SPS, PPS, SEI).
type HEVCNALUArray struct {
	// Complete is array_completeness: all NAL units of this type are here,
	// none in the stream.
	Complete bool
	NALUType uint8
	NALUs    [][]byte
}

// HEVCDecoderConfigurationRecord is the H.265 configuration carried by the
// enhanced sequence start (ISO/IEC 14496-15, 8.3.3.1).
type HEVCDecoderConfigurationRecord struct {
	GeneralProfileSpace              uint8
	GeneralTierFlag                  uint8
	GeneralProfileIdc                uint8
	GeneralProfileCompatibilityFlags uint32
	GeneralConstraintIndicatorFlags  uint64 // 48 bits
	GeneralLevelIdc                  uint8
	MinSpatialSegmentationIdc        uint16 // 12 bits
	ParallelismType                  uint8  // 2 bits
	ChromaFormatIdc                  uint8  // 2 bits
	BitDepthLumaMinus8               uint8  // 3 bits
	BitDepthChromaMinus8             uint8  // 3 bits
	AvgFrameRate                     uint16
	ConstantFrameRate                uint8 // 2 bits
	NumTemporalLayers                uint8 // 3 bits
	TemporalIDNested                 bool
	LengthSizeMinusOne               uint8 // 2 bits
	Arrays                           []HEVCNALUArray
}

// hevcRecordFixedSize is the size of the record before its arrays.
const hevcRecordFixedSize = 23

// NewHEVCDecoderConfigurationRecord builds the record of one VPS, SPS and
// PPS (NAL units without start codes), with 4-byte length prefixes.
//
// The general profile, tier and level are copied from the SPS's
// profile_tier_level (H.265 7.3.3), as FFmpeg's hvcc writer does; chroma
// format and bit depths come from the SPS when mediacommon can parse it, and
// default to 4:2:0 8-bit (Main) otherwise.
func NewHEVCDecoderConfigurationRecord(vps, sps, pps []byte) (*HEVCDecoderConfigurationRecord, error) {
	if len(vps) < 2 || len(pps) < 2 {
		return nil, fmt.Errorf("%w: VPS of %d bytes, PPS of %d", ErrConfigRecord, len(vps), len(pps))
	}
	// RBSP after the 2-byte NAL header: sps_video_parameter_set_id(4),
	// sps_max_sub_layers_minus1(3), sps_temporal_id_nesting_flag(1), then
	// the 12 bytes of the general profile_tier_level.
	if len(sps) < 2 {
		return nil, fmt.Errorf("%w: SPS of %d bytes", ErrConfigRecord, len(sps))
	}
	rbsp := h264.EmulationPreventionRemove(sps[2:])
	if len(rbsp) < 13 {
		return nil, fmt.Errorf("%w: SPS of %d bytes", ErrConfigRecord, len(sps))
	}
	ptl := rbsp[1:13]
	r := &HEVCDecoderConfigurationRecord{
		GeneralProfileSpace:              ptl[0] >> 6,
		GeneralTierFlag:                  ptl[0] >> 5 & 0x01,
		GeneralProfileIdc:                ptl[0] & 0x1f,
		GeneralProfileCompatibilityFlags: uint32(ptl[1])<<24 | uint32(ptl[2])<<16 | uint32(ptl[3])<<8 | uint32(ptl[4]),
		GeneralConstraintIndicatorFlags: uint64(ptl[5])<<40 | uint64(ptl[6])<<32 | uint64(ptl[7])<<24 |
			uint64(ptl[8])<<16 | uint64(ptl[9])<<8 | uint64(ptl[10]),
		GeneralLevelIdc:    ptl[11],
		ChromaFormatIdc:    1,
		NumTemporalLayers:  (rbsp[0]>>1)&0x07 + 1,
		TemporalIDNested:   rbsp[0]&0x01 != 0,
		LengthSizeMinusOne: 3,
		Arrays: []HEVCNALUArray{
			{Complete: true, NALUType: uint8(h265.NALUType_VPS_NUT), NALUs: [][]byte{vps}},
			{Complete: true, NALUType: uint8(h265.NALUType_SPS_NUT), NALUs: [][]byte{sps}},
			{Complete: true, NALUType: uint8(h265.NALUType_PPS_NUT), NALUs: [][]byte{pps}},
		},
	}
	var s h265.SPS
	if s.Unmarshal(sps) == nil {
		r.ChromaFormatIdc = uint8(s.ChromaFormatIdc & 0x03)
		r.BitDepthLumaMinus8 = uint8(s.BitDepthLumaMinus8 & 0x07)
		r.BitDepthChromaMinus8 = uint8(s.BitDepthChromaMinus8 & 0x07)
	}
	return r, nil
}

// NALUs returns the NAL units of the array of type typ, or nil.
func (r *HEVCDecoderConfigurationRecord) NALUs(typ h265.NALUType) [][]byte {
	for _, a := range r.Arrays {
		if a.NALUType == uint8(typ) {
			return a.NALUs
		}
	}
	return nil
}

// Append appends the encoded record to b.
func (r *HEVCDecoderConfigurationRecord) Append(b []byte) ([]byte, error) {
	if len(r.Arrays) > 255 {
		return b, fmt.Errorf("%w: %d arrays", ErrConfigRecord, len(r.Arrays))
	}
	c := r.GeneralConstraintIndicatorFlags
	f := r.GeneralProfileCompatibilityFlags
	nested := byte(0)
	if r.TemporalIDNested {
		nested = 1
	}
	b = append(b,
		1, // configurationVersion
		r.GeneralProfileSpace<<6|(r.GeneralTierFlag&0x01)<<5|r.GeneralProfileIdc&0x1f,
		byte(f>>24), byte(f>>16), byte(f>>8), byte(f),
		byte(c>>40), byte(c>>32), byte(c>>24), byte(c>>16), byte(c>>8), byte(c),
		r.GeneralLevelIdc,
		0xf0|byte(r.MinSpatialSegmentationIdc>>8&0x0f), byte(r.MinSpatialSegmentationIdc),
		0xfc|r.ParallelismType&0x03,
		0xfc|r.ChromaFormatIdc&0x03,
		0xf8|r.BitDepthLumaMinus8&0x07,
		0xf8|r.BitDepthChromaMinus8&0x07,
		byte(r.AvgFrameRate>>8), byte(r.AvgFrameRate),
		(r.ConstantFrameRate&0x03)<<6|(r.NumTemporalLayers&0x07)<<3|nested<<2|r.LengthSizeMinusOne&0x03,
		byte(len(r.Arrays)),
	)
	var err error
	for _, a := range r.Arrays {
		if len(a.NALUs) > 0xffff {
			return b, fmt.Errorf("%w: %d NAL units in one array", ErrConfigRecord, len(a.NALUs))
		}
		complete := byte(0)
		if a.Complete {
			complete = 0x80
		}
		b = append(b, complete|a.NALUType&0x3f, byte(len(a.NALUs)>>8), byte(len(a.NALUs)))
		for _, n := range a.NALUs {
			if b, err = appendU16Bytes(b, n); err != nil {
				return b, err
			}
		}
	}
	return b, nil
}

// Unmarshal decodes a record. The NAL units alias buf.
func (r *HEVCDecoderConfigurationRecord) Unmarshal(buf []byte) error {
	*r = HEVCDecoderConfigurationRecord{}
	if len(buf) < hevcRecordFixedSize {
		return fmt.Errorf("%w: %d bytes", ErrConfigRecord, len(buf))
	}
	if buf[0] != 1 {
		return fmt.Errorf("%w: configurationVersion %d", ErrConfigRecord, buf[0])
	}
	r.GeneralProfileSpace = buf[1] >> 6
	r.GeneralTierFlag = buf[1] >> 5 & 0x01
	r.GeneralProfileIdc = buf[1] & 0x1f
	r.GeneralProfileCompatibilityFlags = uint32(buf[2])<<24 | uint32(buf[3])<<16 | uint32(buf[4])<<8 | uint32(buf[5])
	for _, c := range buf[6:12] {
		r.GeneralConstraintIndicatorFlags = r.GeneralConstraintIndicatorFlags<<8 | uint64(c)
	}
	r.GeneralLevelIdc = buf[12]
	r.MinSpatialSegmentationIdc = uint16(buf[13]&0x0f)<<8 | uint16(buf[14])
	r.ParallelismType = buf[15] & 0x03
	r.ChromaFormatIdc = buf[16] & 0x03
	r.BitDepthLumaMinus8 = buf[17] & 0x07
	r.BitDepthChromaMinus8 = buf[18] & 0x07
	r.AvgFrameRate = uint16(buf[19])<<8 | uint16(buf[20])
	r.ConstantFrameRate = buf[21] >> 6
	r.NumTemporalLayers = buf[21] >> 3 & 0x07
	r.TemporalIDNested = buf[21]&0x04 != 0
	r.LengthSizeMinusOne = buf[21] & 0x03
	n := int(buf[22])
	pos := hevcRecordFixedSize
	for i := range n {
		if len(buf)-pos < 3 {
			return fmt.Errorf("%w: array %d truncated", ErrConfigRecord, i)
		}
		a := HEVCNALUArray{Complete: buf[pos]&0x80 != 0, NALUType: buf[pos] & 0x3f}
		count := int(buf[pos+1])<<8 | int(buf[pos+2])
		var err error
		if a.NALUs, pos, err = readU16List(buf, pos+3, count); err != nil {
			return fmt.Errorf("array %d: %w", i, err)
		}
		r.Arrays = append(r.Arrays, a)
	}
	return nil
}
