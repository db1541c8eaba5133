package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/codecparams"
	hlscodecs "github.com/bluenviron/gohlslib/v2/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	mp4codecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
)

// A closed segment ends with its sample index in a 'free' box (which every
// MP4 reader skips), so that an export or a playlist learns the layout of a
// segment from two small reads, its head (ftyp+moov) and its tail, instead of
// walking sixty moof boxes spread over the file. The box is:
//
//	size(4) "free" "NVRIDX" version(1) body size(4) "nvrx"
//
// The last 8 bytes of the file thus give the box's size and a magic. The body
// is varints: the reference track, then per fragment its offset (as the
// distance from the previous fragment's end), moof size, total size and runs;
// per run its track, base decode time, data offset (from the fragment's
// start) and samples; per sample a flags byte, then the duration (when it
// differs from the previous one), size and composition offset (when not 0).
const (
	indexMagic   = "NVRIDX"
	indexVersion = 1
	footerMagic  = "nvrx"
	footerSize   = 8
)

// Sample flag bits of the index.
const (
	idxNonSync = 1 << iota
	idxCTS
	idxSameDur
)

// Limits that keep a corrupt file from making us allocate without bound.
const (
	// maxHeadSize bounds ftyp+moov. Ours are about 1 KiB.
	maxHeadSize = 1 << 20
	// headRead is how much of a file's head is read at once.
	headRead = 8 << 10
	// tailRead is how much of a file's tail is read at once: the index of a
	// 60 s segment of 25 fps video with AAC is about 16 KiB.
	tailRead = 64 << 10
	// maxIndexSize bounds the index box.
	maxIndexSize = 64 << 20
)

// Errors about segment files.
var (
	// ErrNotSegment is returned for a file that does not start with an fMP4
	// initialization segment (ftyp, moov) we can read.
	ErrNotSegment = errors.New("not an fMP4 segment")
	// errNoIndex is returned when a file has no valid index box at its end.
	errNoIndex = errors.New("no index at the end of the segment")
)

// sampleInfo describes one sample.
type sampleInfo struct {
	dur, size uint32
	cts       int32
	nonSync   bool
}

// run is a track's samples in one fragment, stored one after another.
type run struct {
	track   int    // index into segIndex.tracks
	base    uint64 // decode time of the first sample (tfdt)
	dataOff int64  // file offset of the first sample (in a fragment: from its start)
	samples []sampleInfo
}

// bytes returns the payload size of the run.
func (r *run) bytes() int64 {
	var n int64
	for _, s := range r.samples {
		n += int64(s.size)
	}
	return n
}

// fragInfo is one moof+mdat of a file.
type fragInfo struct {
	off, moofSize, size int64
	runs                []run
}

// trackInfo is what the init segment says about a track.
type trackInfo struct {
	id            uint32
	timescale     uint32
	video         bool
	entry         []byte // the sample entry box (stsd's first child)
	width, height uint32 // tkhd, 16.16 fixed point
	// Defaults from trex, for fragments that rely on them.
	defDur, defSize, defFlags uint32
}

// segIndex is the layout of one segment file.
type segIndex struct {
	path     string
	stream   string
	start    time.Time // from the file name
	size     int64     // of the file
	init     []byte    // ftyp+moov
	mediaEnd int64     // end of the last fragment
	tracks   []trackInfo
	ref      int // the timeline reference track: video, else the first
	frags    []fragInfo
}

// refSpan returns the decode times bounding the reference track's samples.
func (x *segIndex) refSpan() (first, end uint64, ok bool) {
	for _, f := range x.frags {
		for _, r := range f.runs {
			if r.track != x.ref || len(r.samples) == 0 {
				continue
			}
			if !ok {
				first, ok = r.base, true
			}
			e := r.base
			for _, s := range r.samples {
				e += uint64(s.dur)
			}
			end = max(end, e)
		}
	}
	return first, end, ok
}

// duration returns the media duration of the reference track.
func (x *segIndex) duration() time.Duration {
	first, end, ok := x.refSpan()
	if !ok {
		return 0
	}
	return ticksToDuration(int64(end-first), x.tracks[x.ref].timescale)
}

// segment returns the Segment the file holds.
func (x *segIndex) segment() Segment {
	return Segment{
		Stream:    x.stream,
		Path:      x.path,
		Start:     x.start,
		End:       x.start.Add(x.duration()).Round(time.Millisecond),
		Bytes:     x.size,
		Codecs:    codecsOfInit(x.init),
		Fragments: len(x.frags),
	}
}

// openIndex reads the layout of a closed segment: its init from the head and
// its index from the tail, or, for a file without an index, by walking its
// fragments.
func openIndex(path string) (*segIndex, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	x := &segIndex{path: path, size: st.Size()}
	if x.stream, x.start, err = parseSegmentPath(path); err != nil {
		return nil, err
	}
	if err := x.readHead(f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := x.readTail(f); err != nil {
		if !errors.Is(err, errNoIndex) {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		end, err := x.scan(f, x.size)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		x.mediaEnd = end
	}
	return x, nil
}

// readHead reads ftyp and moov and the tracks they describe.
func (x *segIndex) readHead(r io.ReaderAt) error {
	buf := make([]byte, min(headRead, x.size))
	if _, err := r.ReadAt(buf, 0); err != nil {
		return err
	}
	h, err := parseBoxHeader(buf)
	if err != nil || h.typ != "ftyp" {
		return ErrNotSegment
	}
	if int64(len(buf)) < h.size+16 {
		return ErrNotSegment
	}
	m, err := parseBoxHeader(buf[h.size:])
	if err != nil || m.typ != "moov" {
		return ErrNotSegment
	}
	n := h.size + m.size
	if n > maxHeadSize || n > x.size {
		return ErrNotSegment
	}
	if n > int64(len(buf)) {
		buf = make([]byte, n)
		if _, err := r.ReadAt(buf, 0); err != nil {
			return err
		}
	}
	x.init = buf[:n:n]
	x.tracks, err = parseMoov(buf[h.size+int64(m.hdr) : n])
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotSegment, err)
	}
	x.ref = 0
	for i, t := range x.tracks {
		if t.video {
			x.ref = i
			break
		}
	}
	return nil
}

// readTail reads the index box at the end of the file.
func (x *segIndex) readTail(r io.ReaderAt) error {
	initSize := int64(len(x.init))
	if x.size < initSize+footerSize+8 {
		return errNoIndex
	}
	n := min(tailRead, x.size-initSize)
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, x.size-n); err != nil {
		return err
	}
	foot := buf[len(buf)-footerSize:]
	if string(foot[4:]) != footerMagic {
		return errNoIndex
	}
	boxSize := int64(binary.BigEndian.Uint32(foot))
	if boxSize < 8+int64(len(indexMagic))+1+footerSize || boxSize > maxIndexSize || boxSize > x.size-initSize {
		return errNoIndex
	}
	if boxSize > n {
		buf = make([]byte, boxSize)
		if _, err := r.ReadAt(buf, x.size-boxSize); err != nil {
			return err
		}
	} else {
		buf = buf[n-boxSize:]
	}
	if err := x.decodeIndex(buf); err != nil {
		return fmt.Errorf("%w: %w", errNoIndex, err)
	}
	x.mediaEnd = x.size - boxSize
	for _, f := range x.frags {
		if f.off < initSize || f.off+f.size > x.mediaEnd {
			x.frags = nil
			return fmt.Errorf("%w: fragment at %d outside the media", errNoIndex, f.off)
		}
	}
	return nil
}

// encodeIndex returns the index box of a file with these fragments (offsets
// absolute).
func encodeIndex(ref int, frags []fragInfo) []byte {
	b := make([]byte, 0, 64+len(frags)*(16+60*4))
	b = append(b, 0, 0, 0, 0, 'f', 'r', 'e', 'e')
	b = append(b, indexMagic...)
	b = append(b, indexVersion)
	b = binary.AppendUvarint(b, uint64(ref))
	b = binary.AppendUvarint(b, uint64(len(frags)))
	var prevEnd int64
	for i, f := range frags {
		gap := f.off - prevEnd
		if i == 0 {
			gap = f.off
		}
		b = binary.AppendUvarint(b, uint64(gap))
		b = binary.AppendUvarint(b, uint64(f.moofSize))
		b = binary.AppendUvarint(b, uint64(f.size))
		b = binary.AppendUvarint(b, uint64(len(f.runs)))
		for _, r := range f.runs {
			b = binary.AppendUvarint(b, uint64(r.track))
			b = binary.AppendUvarint(b, r.base)
			b = binary.AppendUvarint(b, uint64(r.dataOff-f.off))
			b = binary.AppendUvarint(b, uint64(len(r.samples)))
			prevDur := uint32(0)
			for j, s := range r.samples {
				var fl byte
				if s.nonSync {
					fl |= idxNonSync
				}
				if s.cts != 0 {
					fl |= idxCTS
				}
				if j > 0 && s.dur == prevDur {
					fl |= idxSameDur
				}
				b = append(b, fl)
				if fl&idxSameDur == 0 {
					b = binary.AppendUvarint(b, uint64(s.dur))
				}
				b = binary.AppendUvarint(b, uint64(s.size))
				if s.cts != 0 {
					b = binary.AppendVarint(b, int64(s.cts))
				}
				prevDur = s.dur
			}
		}
		prevEnd = f.off + f.size
	}
	size := len(b) + footerSize
	b = binary.BigEndian.AppendUint32(b, uint32(size))
	b = append(b, footerMagic...)
	binary.BigEndian.PutUint32(b, uint32(size))
	return b
}

// indexDecoder reads varints, remembering the first error.
type indexDecoder struct {
	b   []byte
	err error
}

func (d *indexDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errTruncated
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *indexDecoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errTruncated
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *indexDecoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.err = errTruncated
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

// count reads a count of items that take at least minBytes each, refusing
// counts the rest of the data cannot hold.
func (d *indexDecoder) count(minBytes int) int {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)/minBytes) {
		d.err = fmt.Errorf("count %d exceeds the data", n)
		return 0
	}
	return int(n)
}

// decodeIndex parses an index box (the whole box, footer included).
func (x *segIndex) decodeIndex(box []byte) error {
	h, err := parseBoxHeader(box)
	if err != nil || h.typ != "free" || h.size != int64(len(box)) {
		return errors.New("not an index box")
	}
	body := box[h.hdr : len(box)-footerSize]
	if !bytes.HasPrefix(body, []byte(indexMagic)) || len(body) < len(indexMagic)+1 {
		return errors.New("bad index magic")
	}
	if v := body[len(indexMagic)]; v != indexVersion {
		return fmt.Errorf("index version %d not supported", v)
	}
	d := &indexDecoder{b: body[len(indexMagic)+1:]}
	ref := int(d.uvarint())
	nf := d.count(4)
	frags := make([]fragInfo, 0, nf)
	var prevEnd int64
	for i := 0; i < nf && d.err == nil; i++ {
		var f fragInfo
		f.off = prevEnd + int64(d.uvarint())
		f.moofSize = int64(d.uvarint())
		f.size = int64(d.uvarint())
		nr := d.count(4)
		for j := 0; j < nr && d.err == nil; j++ {
			r := run{track: int(d.uvarint()), base: d.uvarint()}
			r.dataOff = f.off + int64(d.uvarint())
			ns := d.count(2)
			if d.err == nil && r.track >= len(x.tracks) {
				d.err = fmt.Errorf("run of unknown track %d", r.track)
			}
			r.samples = make([]sampleInfo, ns)
			var prevDur uint32
			for k := 0; k < ns && d.err == nil; k++ {
				fl := d.byte()
				s := sampleInfo{nonSync: fl&idxNonSync != 0, dur: prevDur}
				if fl&idxSameDur == 0 {
					s.dur = uint32(d.uvarint())
				}
				s.size = uint32(d.uvarint())
				if fl&idxCTS != 0 {
					s.cts = int32(d.varint())
				}
				prevDur = s.dur
				r.samples[k] = s
			}
			if d.err == nil && r.dataOff+r.bytes() > f.off+f.size {
				d.err = errors.New("run data outside its fragment")
			}
			f.runs = append(f.runs, r)
		}
		prevEnd = f.off + f.size
		frags = append(frags, f)
	}
	if d.err != nil {
		return d.err
	}
	if ref >= len(x.tracks) {
		return fmt.Errorf("reference track %d unknown", ref)
	}
	x.ref, x.frags = ref, frags
	return nil
}

// scan walks the fragments after the init up to limit and returns the end of
// the last complete moof+mdat pair. It stops without error at the first
// incomplete or unreadable pair (what a crash leaves) and at a top-level box
// other than moof, mdat and free.
func (x *segIndex) scan(r io.ReaderAt, limit int64) (end int64, err error) {
	off := int64(len(x.init))
	end = off
	x.frags = nil
	var hdr [16 + 8]byte
	for off+8 <= limit {
		n := min(int64(len(hdr)), limit-off)
		if _, err := r.ReadAt(hdr[:n], off); err != nil && !errors.Is(err, io.EOF) {
			return end, err
		}
		h, err := parseBoxHeader(hdr[:n])
		if err != nil {
			return end, nil
		}
		switch h.typ {
		case "free", "skip":
			if off+h.size > limit {
				return end, nil
			}
			off += h.size
			continue
		case "moof":
		default:
			return end, nil
		}
		if h.size > maxHeadSize || off+h.size+8 > limit {
			return end, nil
		}
		moof := make([]byte, h.size+16)
		m := min(int64(len(moof)), limit-off)
		if _, err := r.ReadAt(moof[:m], off); err != nil && !errors.Is(err, io.EOF) {
			return end, err
		}
		mh, err := parseBoxHeader(moof[h.size:m])
		if err != nil || mh.typ != "mdat" || off+h.size+mh.size > limit {
			return end, nil
		}
		f, err := x.parseMoof(moof[h.hdr:h.size], off)
		if err != nil {
			return end, nil
		}
		f.moofSize = h.size
		f.size = h.size + mh.size
		mdatStart, mdatEnd := off+h.size+int64(mh.hdr), off+f.size
		ok := true
		for _, r := range f.runs {
			if r.dataOff < mdatStart || r.dataOff+r.bytes() > mdatEnd {
				ok = false
			}
		}
		if !ok {
			return end, nil
		}
		x.frags = append(x.frags, f)
		off += f.size
		end = off
	}
	return end, nil
}

// ISO/IEC 14496-12 8.8.7 and 8.8.8 flags.
const (
	tfhdBaseDataOffset    = 0x000001
	tfhdSampleDescIndex   = 0x000002
	tfhdDefaultDuration   = 0x000008
	tfhdDefaultSize       = 0x000010
	tfhdDefaultFlags      = 0x000020
	tfhdDefaultBaseIsMoof = 0x020000

	trunDataOffset       = 0x000001
	trunFirstSampleFlags = 0x000004
	trunDuration         = 0x000100
	trunSize             = 0x000200
	trunFlags            = 0x000400
	trunCTS              = 0x000800

	sampleIsNonSync = 0x00010000
)

// parseMoof reads the runs of a moof (its payload) found at file offset off.
func (x *segIndex) parseMoof(moof []byte, off int64) (fragInfo, error) {
	f := fragInfo{off: off}
	prevEnd := off // where the next run's data starts when nothing says
	err := children(moof, func(typ string, traf []byte) error {
		if typ != "traf" {
			return nil
		}
		var (
			ti                        = -1
			base                      = off
			baseSet                   bool
			defDur, defSize, defFlags uint32
			tfdt                      uint64
			haveTfdt                  bool
		)
		return children(traf, func(typ string, b []byte) error {
			switch typ {
			case "tfhd":
				if len(b) < 8 {
					return errTruncated
				}
				flags := binary.BigEndian.Uint32(b) & 0xffffff
				id := binary.BigEndian.Uint32(b[4:])
				for i, t := range x.tracks {
					if t.id == id {
						ti = i
					}
				}
				if ti < 0 {
					return fmt.Errorf("fragment of unknown track %d", id)
				}
				t := x.tracks[ti]
				defDur, defSize, defFlags = t.defDur, t.defSize, t.defFlags
				p := b[8:]
				take := func() (uint32, error) {
					if len(p) < 4 {
						return 0, errTruncated
					}
					v := binary.BigEndian.Uint32(p)
					p = p[4:]
					return v, nil
				}
				if flags&tfhdBaseDataOffset != 0 {
					if len(p) < 8 {
						return errTruncated
					}
					base, baseSet = int64(binary.BigEndian.Uint64(p)), true
					p = p[8:]
				} else if flags&tfhdDefaultBaseIsMoof != 0 {
					base, baseSet = off, true
				}
				var err error
				if flags&tfhdSampleDescIndex != 0 {
					if _, err = take(); err != nil {
						return err
					}
				}
				if flags&tfhdDefaultDuration != 0 {
					if defDur, err = take(); err != nil {
						return err
					}
				}
				if flags&tfhdDefaultSize != 0 {
					if defSize, err = take(); err != nil {
						return err
					}
				}
				if flags&tfhdDefaultFlags != 0 {
					if defFlags, err = take(); err != nil {
						return err
					}
				}
				if !baseSet {
					// 8.8.7.1: without either flag, the first traf's base is
					// the moof and the next ones follow the previous data.
					base = prevEnd
				}
			case "tfdt":
				if len(b) < 8 {
					return errTruncated
				}
				if b[0] == 1 {
					if len(b) < 12 {
						return errTruncated
					}
					tfdt = binary.BigEndian.Uint64(b[4:])
				} else {
					tfdt = uint64(binary.BigEndian.Uint32(b[4:]))
				}
				haveTfdt = true
			case "trun":
				if ti < 0 || !haveTfdt {
					return errors.New("trun before tfhd or tfdt")
				}
				r, err := parseTrun(b, defDur, defSize, defFlags)
				if err != nil {
					return err
				}
				r.track = ti
				r.base = tfdt
				if r.dataOff == noDataOffset {
					r.dataOff = prevEnd
				} else {
					r.dataOff += base
				}
				for _, s := range r.samples {
					tfdt += uint64(s.dur)
				}
				prevEnd = r.dataOff + r.bytes()
				f.runs = append(f.runs, r)
			}
			return nil
		})
	})
	return f, err
}

// noDataOffset marks a trun without a data offset.
const noDataOffset = -1 << 62

// parseTrun reads a trun box (its payload).
func parseTrun(b []byte, defDur, defSize, defFlags uint32) (run, error) {
	if len(b) < 8 {
		return run{}, errTruncated
	}
	version := b[0]
	flags := binary.BigEndian.Uint32(b) & 0xffffff
	n := binary.BigEndian.Uint32(b[4:])
	p := b[8:]
	r := run{dataOff: noDataOffset}
	if flags&trunDataOffset != 0 {
		if len(p) < 4 {
			return r, errTruncated
		}
		r.dataOff = int64(int32(binary.BigEndian.Uint32(p)))
		p = p[4:]
	}
	firstFlags, hasFirst := uint32(0), false
	if flags&trunFirstSampleFlags != 0 {
		if len(p) < 4 {
			return r, errTruncated
		}
		firstFlags, hasFirst = binary.BigEndian.Uint32(p), true
		p = p[4:]
	}
	per := 0
	for _, f := range []uint32{trunDuration, trunSize, trunFlags, trunCTS} {
		if flags&f != 0 {
			per += 4
		}
	}
	if uint64(n)*uint64(per) > uint64(len(p)) || (per == 0 && n > 1<<20) {
		return r, errTruncated
	}
	r.samples = make([]sampleInfo, n)
	for i := range r.samples {
		s := sampleInfo{dur: defDur, size: defSize}
		sf := defFlags
		if i == 0 && hasFirst {
			sf = firstFlags
		}
		if flags&trunDuration != 0 {
			s.dur = binary.BigEndian.Uint32(p)
			p = p[4:]
		}
		if flags&trunSize != 0 {
			s.size = binary.BigEndian.Uint32(p)
			p = p[4:]
		}
		if flags&trunFlags != 0 {
			sf = binary.BigEndian.Uint32(p)
			p = p[4:]
		}
		if flags&trunCTS != 0 {
			v := binary.BigEndian.Uint32(p)
			if version == 0 {
				s.cts = int32(min(v, 1<<31-1))
			} else {
				s.cts = int32(v)
			}
			p = p[4:]
		}
		s.nonSync = sf&sampleIsNonSync != 0
		r.samples[i] = s
	}
	return r, nil
}

// parseMoov reads the tracks of a moov (its payload).
func parseMoov(moov []byte) ([]trackInfo, error) {
	var tracks []trackInfo
	var trex [][4]uint32 // track ID, default duration, size, flags
	err := children(moov, func(typ string, b []byte) error {
		switch typ {
		case "trak":
			t, err := parseTrak(b)
			if err != nil {
				return err
			}
			tracks = append(tracks, t)
		case "mvex":
			return children(b, func(typ string, b []byte) error {
				if typ == "trex" && len(b) >= 24 {
					trex = append(trex, [4]uint32{
						binary.BigEndian.Uint32(b[4:]), binary.BigEndian.Uint32(b[12:]),
						binary.BigEndian.Uint32(b[16:]), binary.BigEndian.Uint32(b[20:]),
					})
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(tracks) == 0 {
		return nil, errors.New("no tracks")
	}
	for _, d := range trex {
		for i := range tracks {
			if tracks[i].id == d[0] {
				tracks[i].defDur, tracks[i].defSize, tracks[i].defFlags = d[1], d[2], d[3]
			}
		}
	}
	return tracks, nil
}

// parseTrak reads what we need of a trak: ID, size, timescale, handler and
// the first sample entry.
func parseTrak(trak []byte) (trackInfo, error) {
	var t trackInfo
	var handler string
	var walk func(b []byte) error
	walk = func(b []byte) error {
		return children(b, func(typ string, b []byte) error {
			switch typ {
			case "mdia", "minf", "stbl":
				return walk(b)
			case "tkhd":
				// 14496-12 8.3.2: the ID follows the times, whose width
				// depends on the version; width and height end the box.
				if len(b) < 84 {
					return errTruncated
				}
				if b[0] == 1 {
					if len(b) < 96 {
						return errTruncated
					}
					t.id = binary.BigEndian.Uint32(b[20:])
				} else {
					t.id = binary.BigEndian.Uint32(b[12:])
				}
				t.width = binary.BigEndian.Uint32(b[len(b)-8:])
				t.height = binary.BigEndian.Uint32(b[len(b)-4:])
			case "mdhd":
				if len(b) < 4 {
					return errTruncated
				}
				if b[0] == 1 {
					if len(b) < 24 {
						return errTruncated
					}
					t.timescale = binary.BigEndian.Uint32(b[20:])
				} else {
					if len(b) < 16 {
						return errTruncated
					}
					t.timescale = binary.BigEndian.Uint32(b[12:])
				}
			case "hdlr":
				if len(b) < 12 {
					return errTruncated
				}
				handler = string(b[8:12])
			case "stsd":
				if len(b) < 16 {
					return errTruncated
				}
				h, err := parseBoxHeader(b[8:])
				if err != nil {
					return err
				}
				if h.size > int64(len(b)-8) {
					return errTruncated
				}
				t.entry = bytes.Clone(b[8 : 8+h.size])
			}
			return nil
		})
	}
	if err := walk(trak); err != nil {
		return t, err
	}
	if t.id == 0 || t.timescale == 0 || t.entry == nil {
		return t, errors.New("incomplete trak")
	}
	switch handler {
	case "vide":
		t.video = true
	case "soun":
	default:
		return t, fmt.Errorf("track handler %q not supported", handler)
	}
	return t, nil
}

// codecsOfInit returns the RFC 6381 codec strings of an init segment, as the
// recorder names them.
func codecsOfInit(init []byte) string {
	var in fmp4.Init
	if err := in.Unmarshal(bytes.NewReader(init)); err != nil {
		return ""
	}
	var s []string
	for _, t := range in.Tracks {
		switch c := t.Codec.(type) {
		case *mp4codecs.H264:
			s = append(s, codecparams.Marshal(&hlscodecs.H264{SPS: c.SPS, PPS: c.PPS}))
		case *mp4codecs.H265:
			s = append(s, codecparams.Marshal(&hlscodecs.H265{VPS: c.VPS, SPS: c.SPS, PPS: c.PPS}))
		case *mp4codecs.MPEG4Audio:
			s = append(s, codecparams.Marshal(&hlscodecs.MPEG4Audio{Config: c.Config}))
		case *mp4codecs.LPCM:
			s = append(s, "ipcm")
		}
	}
	return strings.Join(s, ",")
}
