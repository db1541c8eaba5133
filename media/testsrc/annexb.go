package testsrc

import "bytes"

// splitAnnexB returns the NAL units of a whole Annex-B byte stream, without
// start codes and without trailing_zero_8bits (ITU-T H.264 / H.265 Annex B.2).
//
// mediacommon's AnnexB.Unmarshal decodes one access unit and refuses more than
// 50 NAL units, so it cannot take a whole clip; this splits the file first.
// The returned slices alias buf.
func splitAnnexB(buf []byte) [][]byte {
	startCode := []byte{0, 0, 1}

	var nalus [][]byte
	start := -1
	for pos := 0; ; {
		i := bytes.Index(buf[pos:], startCode)
		end := len(buf)
		if i >= 0 {
			end = pos + i
		}
		if start >= 0 {
			// A NAL unit never ends with a zero byte (it ends with the RBSP
			// stop bit), so zeros before a start code belong to the next
			// 4-byte start code or are trailing_zero_8bits.
			nalu := bytes.TrimRight(buf[start:end], "\x00")
			if len(nalu) > 0 {
				nalus = append(nalus, nalu)
			}
		}
		if i < 0 {
			return nalus
		}
		pos = end + len(startCode)
		start = pos
	}
}
