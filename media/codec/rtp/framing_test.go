package rtp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// rtpPacket builds an RTP packet of n payload bytes carrying PS.
func rtpPacket(seq uint16, ssrc uint32, n int) []byte {
	p := header(0x80, 96, seq, uint32(seq)*3600, ssrc)
	for i := range n {
		p = append(p, byte(seq)+byte(i))
	}
	return p
}

func frame4571(pkt []byte) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(pkt))), pkt...)
}

func frameDollar(ch byte, pkt []byte) []byte {
	return append(binary.BigEndian.AppendUint16([]byte{'$', ch}, uint16(len(pkt))), pkt...)
}

// readAll reads frames until an error and returns their sequence numbers
// (-1 for a frame that is not RTP).
func readAll(t *testing.T, f *FrameReader) ([]int, error) {
	t.Helper()
	var got []int
	for {
		pkt, err := f.Next()
		if err != nil {
			return got, err
		}
		var p Packet
		if p.Unmarshal(pkt) != nil {
			got = append(got, -1)
			continue
		}
		got = append(got, int(p.SequenceNumber))
	}
}

// framingCases drive TestFrameReader and seed FuzzFraming.
var framingCases = []struct {
	name    string
	stream  []byte
	want    []int
	err     error
	skipped uint64
}{
	{
		name:   "rfc4571",
		stream: cat(frame4571(rtpPacket(1, 7, 100)), frame4571(rtpPacket(2, 7, 1400)), frame4571(rtpPacket(3, 7, 0))),
		want:   []int{1, 2, 3},
		err:    io.EOF,
	},
	{
		name:   "interleaved",
		stream: cat(frameDollar(0, rtpPacket(1, 7, 100)), frameDollar(1, []byte{0x80, 201, 0, 1, 0, 0, 0, 7}), frameDollar(0, rtpPacket(2, 7, 9300))),
		want:   []int{1, -1, 2},
		err:    io.EOF,
	},
	{
		// A 4571 frame of 9216+ bytes starts with "$": the version byte
		// tells the two framings apart.
		name:   "rfc4571_dollar_length",
		stream: cat(frame4571(rtpPacket(1, 7, 9300)), frame4571(rtpPacket(2, 7, 9300-12+0x2400-9300+12)), frame4571(rtpPacket(3, 7, 10))),
		want:   []int{1, 2, 3},
		err:    io.EOF,
	},
	{
		name:    "garbage_first",
		stream:  cat([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"), frame4571(rtpPacket(1, 7, 50)), frame4571(rtpPacket(2, 7, 50))),
		want:    []int{1, 2},
		err:     io.EOF,
		skipped: 28,
	},
	{
		name:    "garbage_between",
		stream:  cat(frame4571(rtpPacket(1, 7, 50)), bytes.Repeat([]byte{0x80, 0x00, 0x81}, 33), frame4571(rtpPacket(2, 7, 50)), frame4571(rtpPacket(3, 7, 50))),
		want:    []int{1, 2, 3},
		err:     io.EOF,
		skipped: 99,
	},
	{
		// A device wrote 30 bytes of a packet and started over.
		name:   "partial_packet",
		stream: cat(frame4571(rtpPacket(1, 7, 50)), frame4571(rtpPacket(2, 7, 200))[:30], frame4571(rtpPacket(3, 7, 500)), frame4571(rtpPacket(4, 7, 50))),
		// Packet 2 is taken with the first 184 bytes of frame 3 (its SSRC is
		// right); the rest of frame 3 is skipped.
		want:    []int{1, 2, 4},
		err:     io.EOF,
		skipped: 514 - 184,
	},
	{
		name:    "switch_framing",
		stream:  cat(frame4571(rtpPacket(1, 7, 50)), frameDollar(0, rtpPacket(2, 7, 50)), frameDollar(0, rtpPacket(3, 7, 50))),
		want:    []int{1, 2, 3},
		err:     io.EOF,
		skipped: 0,
	},
	{
		name:   "truncated_end",
		stream: cat(frame4571(rtpPacket(1, 7, 50)), frame4571(rtpPacket(2, 7, 50))[:40]),
		want:   []int{1},
		err:    io.ErrUnexpectedEOF,
	},
	{
		name:    "only_garbage",
		stream:  bytes.Repeat([]byte("garbage!"), 100),
		err:     io.ErrUnexpectedEOF,
		skipped: 796,
	},
	{name: "empty", stream: nil, err: io.EOF},
}

func TestFrameReader(t *testing.T) {
	readers := map[string]func(io.Reader) io.Reader{
		"whole":   func(r io.Reader) io.Reader { return r },
		"onebyte": iotest.OneByteReader,
		"half":    iotest.HalfReader,
	}
	for _, c := range framingCases {
		for rname, wrap := range readers {
			t.Run(c.name+"/"+rname, func(t *testing.T) {
				f := NewFrameReader(wrap(bytes.NewReader(c.stream)))
				got, err := readAll(t, f)
				if !errors.Is(err, c.err) {
					t.Errorf("err = %v, want %v", err, c.err)
				}
				if !equalInts(got, c.want) {
					t.Errorf("frames %v, want %v", got, c.want)
				}
				if c.skipped != 0 && f.Skipped() != c.skipped {
					t.Errorf("skipped %d, want %d", f.Skipped(), c.skipped)
				}
				if c.skipped == 0 && c.err == io.EOF && f.Skipped() != 0 {
					t.Errorf("skipped %d", f.Skipped())
				}
			})
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// timeoutReader returns errTimeout every other read, like a connection
// with a read deadline on a slow device.
type timeoutReader struct {
	r     io.Reader
	calls int
}

var errTimeout = errors.New("i/o timeout")

func (r *timeoutReader) Read(p []byte) (int, error) {
	r.calls++
	if r.calls%2 == 0 {
		return 0, errTimeout
	}
	return r.r.Read(p[:min(len(p), 7)])
}

func TestFrameReaderKeepsPlaceAcrossErrors(t *testing.T) {
	stream := cat(frame4571(rtpPacket(1, 7, 50)), []byte("xx"), frame4571(rtpPacket(2, 7, 50)), frameDollar(0, rtpPacket(3, 7, 50)))
	f := NewFrameReader(&timeoutReader{r: bytes.NewReader(stream)})
	var got []int
	for range 1000 {
		pkt, err := f.Next()
		if errors.Is(err, errTimeout) {
			continue
		}
		if err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
		var p Packet
		if err := p.Unmarshal(pkt); err != nil {
			t.Fatal(err)
		}
		got = append(got, int(p.SequenceNumber))
	}
	if !equalInts(got, []int{1, 2, 3}) {
		t.Fatalf("frames %v", got)
	}
}

// TestFrameReaderMaxFrame: the largest frame a 16-bit length allows fits,
// with a resynchronisation right before it.
func TestFrameReaderMaxFrame(t *testing.T) {
	big := rtpPacket(2, 7, 0xffff-12)
	stream := cat(frame4571(rtpPacket(1, 7, 10)), []byte{0xff}, frame4571(big), frame4571(rtpPacket(3, 7, 10)))
	got, err := readAll(t, NewFrameReader(iotest.HalfReader(bytes.NewReader(stream))))
	if err != io.EOF || !equalInts(got, []int{1, 2, 3}) {
		t.Fatalf("frames %v, err %v", got, err)
	}
}
