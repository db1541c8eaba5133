package record

import (
	"encoding/binary"
	"math"
)

// movieTimescale is the clock of mvhd, tkhd and elst durations: milliseconds,
// the precision of the time ranges exports are asked for.
const movieTimescale = 1000

// Handler names of hdlr (14496-12 8.4.3).
const (
	videoHandlerName = "VideoHandler"
	soundHandlerName = "SoundHandler"
)

// outSample is a sample of an export track.
type outSample struct {
	dts     int64 // ticks from the export's first video keyframe
	dur     uint32
	size    uint32
	cts     int32
	nonSync bool
}

// outChunk is a run of samples stored together in the export's mdat.
type outChunk struct {
	first, n int   // samples
	sdi      int   // sample description index, from 1
	off      int64 // offset in the mdat payload
}

// editEntry is one entry of an edit list (14496-12 8.6.6), duration in the
// movie timescale, media time in the track's (-1: empty edit).
type editEntry struct {
	dur       uint64
	mediaTime int64
}

// outTrack is a track of an export.
type outTrack struct {
	video         bool
	timescale     uint32
	entries       [][]byte // sample entry boxes, sample description index = i+1
	width, height uint32
	samples       []outSample
	chunks        []outChunk
	edits         []editEntry
}

// buildHead returns ftyp+moov+the mdat header of a progressive MP4 whose
// mdat payload is payload bytes long and holds the tracks' chunks at their
// offsets. Chunk offsets are 32-bit (stco) unless the file is larger than
// 4 GiB (co64).
func buildHead(tracks []*outTrack, duration uint64, payload int64) []byte {
	head := buildHeadWith(tracks, duration, payload, false)
	if int64(len(head))+payload > math.MaxUint32 {
		head = buildHeadWith(tracks, duration, payload, true)
	}
	return head
}

func buildHeadWith(tracks []*outTrack, duration uint64, payload int64, co64 bool) []byte {
	w := &boxWriter{b: make([]byte, 0, headCapacity(tracks))}

	// ftyp: ISO base media, with iso4 for signed composition offsets.
	p := w.start("ftyp")
	w.raw([]byte("isom"))
	w.u32(0x200)
	w.raw([]byte("isomiso2iso4mp41"))
	w.end(p)

	moov := w.start("moov")
	p = w.startFull("mvhd", 1, 0)
	w.u64(0) // creation
	w.u64(0) // modification
	w.u32(movieTimescale)
	w.u64(duration)
	w.u32(0x00010000) // rate 1.0
	w.u16(0x0100)     // volume 1.0
	w.zeros(2 + 8)
	w.matrix()
	w.zeros(24) // pre_defined
	w.u32(uint32(len(tracks) + 1))
	w.end(p)

	var patches []int // positions of chunk offset tables
	for i, t := range tracks {
		patches = append(patches, writeTrak(w, t, uint32(i+1), duration, co64))
	}
	w.end(moov)

	// The mdat header; the chunk offsets are from the file's start.
	hdr := int64(8)
	if payload+8 > math.MaxUint32 {
		hdr = 16
	}
	base := int64(len(w.b)) + hdr
	if hdr == 8 {
		w.u32(uint32(payload + 8))
		w.raw([]byte("mdat"))
	} else {
		w.u32(1)
		w.raw([]byte("mdat"))
		w.u64(uint64(payload + 16))
	}
	for i, t := range tracks {
		pos := patches[i]
		for _, c := range t.chunks {
			if co64 {
				binary.BigEndian.PutUint64(w.b[pos:], uint64(base+c.off))
				pos += 8
			} else {
				binary.BigEndian.PutUint32(w.b[pos:], uint32(base+c.off))
				pos += 4
			}
		}
	}
	return w.b
}

// headCapacity estimates the head's size: stsz takes 4 bytes a sample, stco
// and stsc up to 20 a chunk, run-length tables little with steady streams.
func headCapacity(tracks []*outTrack) int {
	n := 4096
	for _, t := range tracks {
		n += 1024 + 6*len(t.samples) + 20*len(t.chunks)
		for _, e := range t.entries {
			n += len(e)
		}
	}
	return n
}

// writeTrak writes one trak and returns the position of its first chunk
// offset, to be patched once the moov size is known.
func writeTrak(w *boxWriter, t *outTrack, id uint32, duration uint64, co64 bool) int {
	trak := w.start("trak")

	p := w.startFull("tkhd", 1, 3) // enabled, in movie
	w.u64(0)
	w.u64(0)
	w.u32(id)
	w.u32(0)
	w.u64(duration)
	w.zeros(8)
	w.u16(0) // layer
	if t.video {
		w.u16(0) // alternate group
		w.u16(0) // volume
	} else {
		w.u16(1)
		w.u16(0x0100)
	}
	w.u16(0)
	w.matrix()
	w.u32(t.width)
	w.u32(t.height)
	w.end(p)

	edts := w.start("edts")
	p = w.startFull("elst", 1, 0)
	w.u32(uint32(len(t.edits)))
	for _, e := range t.edits {
		w.u64(e.dur)
		w.u64(uint64(e.mediaTime))
		w.u16(1) // rate 1.0
		w.u16(0)
	}
	w.end(p)
	w.end(edts)

	mdia := w.start("mdia")
	var mediaDur uint64
	for _, s := range t.samples {
		mediaDur += uint64(s.dur)
	}
	p = w.startFull("mdhd", 1, 0)
	w.u64(0)
	w.u64(0)
	w.u32(t.timescale)
	w.u64(mediaDur)
	w.u16(0x55c4) // "und", ISO 639-2/T packed
	w.u16(0)
	w.end(p)

	p = w.startFull("hdlr", 0, 0)
	w.u32(0)
	name := soundHandlerName
	if t.video {
		w.raw([]byte("vide"))
		name = videoHandlerName
	} else {
		w.raw([]byte("soun"))
	}
	w.zeros(12)
	w.raw([]byte(name))
	w.u8(0)
	w.end(p)

	minf := w.start("minf")
	if t.video {
		p = w.startFull("vmhd", 0, 1)
		w.zeros(8)
	} else {
		p = w.startFull("smhd", 0, 0)
		w.zeros(4)
	}
	w.end(p)
	dinf := w.start("dinf")
	p = w.startFull("dref", 0, 0)
	w.u32(1)
	u := w.startFull("url ", 0, 1) // media in this file
	w.end(u)
	w.end(p)
	w.end(dinf)

	stbl := w.start("stbl")
	p = w.startFull("stsd", 0, 0)
	w.u32(uint32(len(t.entries)))
	for _, e := range t.entries {
		w.raw(e)
	}
	w.end(p)
	writeSTTS(w, t.samples)
	writeCTTS(w, t.samples)
	writeSTSS(w, t.samples)
	writeSTSC(w, t.chunks)
	p = w.startFull("stsz", 0, 0)
	w.u32(0)
	w.u32(uint32(len(t.samples)))
	for _, s := range t.samples {
		w.u32(s.size)
	}
	w.end(p)
	var pos int
	if co64 {
		p = w.startFull("co64", 0, 0)
		w.u32(uint32(len(t.chunks)))
		pos = len(w.b)
		w.zeros(8 * len(t.chunks))
	} else {
		p = w.startFull("stco", 0, 0)
		w.u32(uint32(len(t.chunks)))
		pos = len(w.b)
		w.zeros(4 * len(t.chunks))
	}
	w.end(p)
	w.end(stbl)
	w.end(minf)
	w.end(mdia)
	w.end(trak)
	return pos
}

// writeSTTS writes the decoding time-to-sample table, run-length coded.
func writeSTTS(w *boxWriter, samples []outSample) {
	p := w.startFull("stts", 0, 0)
	cnt := len(w.b)
	w.u32(0)
	n := uint32(0)
	for i := 0; i < len(samples); {
		j := i + 1
		for j < len(samples) && samples[j].dur == samples[i].dur {
			j++
		}
		w.u32(uint32(j - i))
		w.u32(samples[i].dur)
		n++
		i = j
	}
	binary.BigEndian.PutUint32(w.b[cnt:], n)
	w.end(p)
}

// writeCTTS writes composition offsets when a sample has one: version 1
// (signed) when one is negative.
func writeCTTS(w *boxWriter, samples []outSample) {
	any, neg := false, false
	for _, s := range samples {
		any = any || s.cts != 0
		neg = neg || s.cts < 0
	}
	if !any {
		return
	}
	v := byte(0)
	if neg {
		v = 1
	}
	p := w.startFull("ctts", v, 0)
	cnt := len(w.b)
	w.u32(0)
	n := uint32(0)
	for i := 0; i < len(samples); {
		j := i + 1
		for j < len(samples) && samples[j].cts == samples[i].cts {
			j++
		}
		w.u32(uint32(j - i))
		w.u32(uint32(samples[i].cts))
		n++
		i = j
	}
	binary.BigEndian.PutUint32(w.b[cnt:], n)
	w.end(p)
}

// writeSTSS lists the sync samples, unless all are (then the box is left
// out: 14496-12 8.6.2.1).
func writeSTSS(w *boxWriter, samples []outSample) {
	n := 0
	for _, s := range samples {
		if !s.nonSync {
			n++
		}
	}
	if n == len(samples) {
		return
	}
	p := w.startFull("stss", 0, 0)
	w.u32(uint32(n))
	for i, s := range samples {
		if !s.nonSync {
			w.u32(uint32(i + 1))
		}
	}
	w.end(p)
}

// writeSTSC writes the sample-to-chunk table: an entry where the samples per
// chunk or the sample description change.
func writeSTSC(w *boxWriter, chunks []outChunk) {
	p := w.startFull("stsc", 0, 0)
	cnt := len(w.b)
	w.u32(0)
	n := uint32(0)
	for i, c := range chunks {
		if i > 0 && c.n == chunks[i-1].n && c.sdi == chunks[i-1].sdi {
			continue
		}
		w.u32(uint32(i + 1))
		w.u32(uint32(c.n))
		w.u32(uint32(c.sdi))
		n++
	}
	binary.BigEndian.PutUint32(w.b[cnt:], n)
	w.end(p)
}
