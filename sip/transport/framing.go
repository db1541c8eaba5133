package transport

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Limits of what the transport accepts.
const (
	// DefaultMaxBodySize is the largest body accepted: 1 MiB. A 10,000-item
	// catalog arrives split over many MESSAGEs; no single GB/T 28181 body
	// comes near this, and a larger one would be held in memory whole.
	DefaultMaxBodySize = 1 << 20
	// DefaultMaxHeaderSize bounds the header section of a TCP message. Real
	// headers are under 2 KiB; 64 KiB matches the largest UDP datagram.
	DefaultMaxHeaderSize = 64 << 10
)

// Framing errors. ReadStreamMessage returns them wrapped; the stream cannot
// be trusted after any of them.
var (
	// ErrHeaderTooLarge is returned when no blank line ends the header
	// section within the limit.
	ErrHeaderTooLarge = errors.New("sip header section too large")
	// ErrBodyTooLarge is returned when Content-Length exceeds the limit.
	ErrBodyTooLarge = errors.New("sip body too large")
	// ErrBadContentLength is returned for a Content-Length that is not a
	// non-negative number.
	ErrBadContentLength = errors.New("bad Content-Length")
	// ErrTruncated is returned when a datagram holds less body than its
	// Content-Length says (RFC 3261 §18.3).
	ErrTruncated = errors.New("sip message truncated")
)

// ReadStreamMessage reads one SIP message from a stream (TCP, RFC 3261
// §18.3: the body length is the Content-Length, which is mandatory there; a
// missing one counts as 0). Blank lines before a message are skipped: they
// are RFC 5626 keep-alives. The message is returned with its header lines
// ending in CRLF even when the peer sent bare LF.
//
// On ErrBodyTooLarge the header section is returned (without a body) so the
// caller can still answer 413.
func ReadStreamMessage(r *bufio.Reader, maxHeader, maxBody int) ([]byte, error) {
	var head bytes.Buffer
	for {
		line, err := readLine(r, maxHeader-head.Len())
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) || errors.Is(err, ErrHeaderTooLarge) {
				return nil, ErrHeaderTooLarge
			}
			if head.Len() > 0 && errors.Is(err, io.EOF) {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if len(line) == 0 {
			if head.Len() == 0 {
				continue // keep-alive CRLF between messages
			}
			break
		}
		head.Write(line)
		head.WriteString("\r\n")
	}
	n, _, err := ContentLength(head.Bytes())
	if err != nil {
		return nil, err
	}
	head.WriteString("\r\n")
	if n > maxBody {
		return head.Bytes(), fmt.Errorf("%w: Content-Length %d, limit %d", ErrBodyTooLarge, n, maxBody)
	}
	msg := make([]byte, head.Len()+n)
	copy(msg, head.Bytes())
	if _, err := io.ReadFull(r, msg[head.Len():]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return msg, nil
}

// readLine returns the next line without its CRLF or LF. It fails with
// ErrHeaderTooLarge when the line would exceed limit bytes.
func readLine(r *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > limit+2 {
			return nil, ErrHeaderTooLarge
		}
		line = append(line, chunk...)
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return line, nil
}

// ContentLength finds the Content-Length header (or its compact form "l")
// in a header section. ok is false when there is none.
func ContentLength(head []byte) (n int, ok bool, err error) {
	for len(head) > 0 {
		var line []byte
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			line, head = head, nil
		}
		name, value, found := bytes.Cut(line, []byte(":"))
		if !found {
			continue
		}
		name = bytes.TrimSpace(name)
		if !bytes.EqualFold(name, []byte("Content-Length")) && !bytes.EqualFold(name, []byte("l")) {
			continue
		}
		v, perr := strconv.Atoi(string(bytes.TrimSpace(value)))
		if perr != nil || v < 0 {
			return 0, true, fmt.Errorf("%w: %q", ErrBadContentLength, bytes.TrimSpace(value))
		}
		return v, true, nil
	}
	return 0, false, nil
}

// SplitDatagram separates a datagram into its header section, with every
// line ending in CRLF and without the blank line, and its body, cut to the
// Content-Length when one is given (RFC 3261 §18.3: extra bytes are
// discarded). A datagram without a blank line is all header. ErrTruncated
// means the body is shorter than Content-Length.
func SplitDatagram(data []byte) (head, body []byte, err error) {
	rawHead := data
	crlf := bytes.Index(data, []byte("\r\n\r\n"))
	lf := bytes.Index(data, []byte("\n\n"))
	switch {
	case crlf >= 0 && (lf < 0 || crlf < lf):
		rawHead, body = data[:crlf], data[crlf+4:]
	case lf >= 0:
		rawHead, body = data[:lf], data[lf+2:]
	}
	head = normalizeHead(rawHead)
	n, ok, err := ContentLength(head)
	if err != nil {
		return head, nil, err
	}
	if ok {
		if n > len(body) {
			return head, nil, fmt.Errorf("%w: Content-Length %d, %d body bytes", ErrTruncated, n, len(body))
		}
		body = body[:n]
	}
	return head, body, nil
}

// normalizeHead returns the header lines each ending in CRLF, tolerating
// bare LF (seen from some embedded stacks) and dropping empty lines.
func normalizeHead(raw []byte) []byte {
	out := make([]byte, 0, len(raw)+32)
	for len(raw) > 0 {
		var line []byte
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			line, raw = raw, nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			continue
		}
		out = append(out, line...)
		out = append(out, '\r', '\n')
	}
	return out
}
