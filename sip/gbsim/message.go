package gbsim

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nvr/nvr/sip/transport"
)

// errNotSIP is returned by parseMessage for input without a SIP start line.
var errNotSIP = errors.New("gbsim: not a SIP message")

// message is a SIP message as the simulator sees it: a start line, headers
// in order with their raw values, and a body. The simulator has its own
// small parser, independent of gosip, so that it checks the platform the way
// a device's own stack would.
type message struct {
	method string // request method, "" for a response
	uri    string
	code   int
	reason string
	hdrs   []header
	body   []byte
}

type header struct{ name, value string }

// compact header forms (RFC 3261 §7.3.3).
var compact = map[string]string{
	"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
	"l": "content-length", "c": "content-type", "k": "supported", "e": "content-encoding",
}

func canonical(name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	if long, ok := compact[n]; ok {
		return long
	}
	return n
}

// parseMessage parses one datagram or framed stream message.
func parseMessage(data []byte) (*message, error) {
	head, body, err := transport.SplitDatagram(data)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSuffix(string(head), "\r\n"), "\r\n")
	if len(lines) == 0 {
		return nil, errNotSIP
	}
	m := &message{body: bytes.Clone(body)}
	start := strings.SplitN(lines[0], " ", 3)
	if len(start) < 3 {
		return nil, fmt.Errorf("%w: start line %q", errNotSIP, lines[0])
	}
	if strings.HasPrefix(start[0], "SIP/") {
		m.code, err = strconv.Atoi(start[1])
		if err != nil || m.code < 100 || m.code > 699 {
			return nil, fmt.Errorf("%w: status %q", errNotSIP, start[1])
		}
		m.reason = start[2]
	} else {
		if !strings.HasPrefix(start[2], "SIP/") {
			return nil, fmt.Errorf("%w: start line %q", errNotSIP, lines[0])
		}
		m.method, m.uri = start[0], start[1]
	}
	for _, line := range lines[1:] {
		if line != "" && (line[0] == ' ' || line[0] == '\t') && len(m.hdrs) > 0 {
			m.hdrs[len(m.hdrs)-1].value += " " + strings.TrimSpace(line) // folded line
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		m.hdrs = append(m.hdrs, header{canonical(name), strings.TrimSpace(value)})
	}
	return m, nil
}

// get returns the first value of a header ("" when absent).
func (m *message) get(name string) string {
	name = canonical(name)
	for _, h := range m.hdrs {
		if h.name == name {
			return h.value
		}
	}
	return ""
}

// all returns every value of a header, in order.
func (m *message) all(name string) []string {
	name = canonical(name)
	var out []string
	for _, h := range m.hdrs {
		if h.name == name {
			out = append(out, h.value)
		}
	}
	return out
}

// branch returns the branch parameter of the top Via.
func (m *message) branch() string {
	via := m.get("via")
	if i := strings.IndexByte(via, ','); i >= 0 {
		via = via[:i]
	}
	return param(via, "branch")
}

// cseqMethod returns the method of the CSeq header.
func (m *message) cseqMethod() string {
	_, method, _ := strings.Cut(m.get("cseq"), " ")
	return strings.TrimSpace(method)
}

// param returns the value of ;name=value in a header value.
func param(v, name string) string {
	for _, p := range strings.Split(v, ";")[1:] {
		k, val, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.Trim(strings.TrimSpace(val), `"`)
		}
	}
	return ""
}

// userOf returns the user part of the URI in a From/To value.
func userOf(v string) string {
	if i := strings.IndexByte(v, '<'); i >= 0 {
		v = v[i+1:]
		if j := strings.IndexByte(v, '>'); j >= 0 {
			v = v[:j]
		}
	}
	v = strings.TrimPrefix(strings.TrimPrefix(v, "sip:"), "sips:")
	user, _, ok := strings.Cut(v, "@")
	if !ok {
		return ""
	}
	return user
}

// response builds the response to a request (RFC 3261 §8.2.6): Via, From,
// Call-ID and CSeq copied, a tag added to To (none when toTag is empty).
func (m *message) response(code int, reason, toTag string, extra ...header) []byte {
	return m.responseBody(code, reason, toTag, "", nil, extra...)
}

// responseBody is response with a body of contentType.
func (m *message) responseBody(code int, reason, toTag, contentType string, body []byte, extra ...header) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", code, reason)
	for _, v := range m.all("via") {
		fmt.Fprintf(&b, "Via: %s\r\n", v)
	}
	fmt.Fprintf(&b, "From: %s\r\n", m.get("from"))
	to := m.get("to")
	if param(to, "tag") == "" && toTag != "" {
		to += ";tag=" + toTag
	}
	fmt.Fprintf(&b, "To: %s\r\n", to)
	fmt.Fprintf(&b, "Call-ID: %s\r\n", m.get("call-id"))
	fmt.Fprintf(&b, "CSeq: %s\r\n", m.get("cseq"))
	for _, h := range extra {
		fmt.Fprintf(&b, "%s: %s\r\n", h.name, h.value)
	}
	b.WriteString("User-Agent: gbsim\r\n")
	if contentType != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", contentType)
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(body))
	b.Write(body)
	return []byte(b.String())
}

// uriOf returns the URI inside <> of a From/To/Contact value, or the value
// up to its parameters.
func uriOf(v string) string {
	if i := strings.IndexByte(v, '<'); i >= 0 {
		v = v[i+1:]
		if j := strings.IndexByte(v, '>'); j >= 0 {
			return v[:j]
		}
		return v
	}
	u, _, _ := strings.Cut(strings.TrimSpace(v), ";")
	return u
}
