package manscdp

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// node is one element of a parsed body. Names are lower-cased so that the
// payload decoders match them regardless of how a device spells them.
type node struct {
	name        string
	text        string
	first, last int32 // children, -1 when none
	next        int32 // next sibling, -1 when none
	closed      bool  // the end tag was seen (or implied by an enclosing one)
}

// tree is a parsed body: nodes[0] is the root element.
type tree struct {
	nodes []node
}

// children iterates over the children of element i.
func (t *tree) children(i int32, yield func(c int32, n *node) bool) {
	for c := t.nodes[i].first; c >= 0; c = t.nodes[c].next {
		if !yield(c, &t.nodes[c]) {
			return
		}
	}
}

// parseTree reads the root element of data, which is valid UTF-8 without an
// XML declaration. It tolerates what devices send: mismatched case in end
// tags, unclosed inner elements, HTML entities and trailing bytes after the
// root (NULs, a second body). It stops at maxElements elements or maxDepth
// levels. The returned error wraps ErrTruncated when the data ends inside
// the root, ErrMalformed for other faults; the tree is returned with what was
// read before the fault, or nil when no root element was found.
func parseTree(data []byte) (*tree, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = false
	d.AutoClose = nil
	d.Entity = xml.HTMLEntity
	// The declaration was cut already; a second one must not make the
	// decoder look for a charset converter.
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }

	// Every element has a '<': sizing the slab once spares its regrowth.
	t := &tree{nodes: make([]node, 0, min(bytes.Count(data, []byte("<")), maxElements)+1)}
	stack := make([]int32, 0, 8)
	names := make(map[string]string, 32)
	lower := func(s string) string {
		if v, ok := names[s]; ok {
			return v
		}
		v := strings.ToLower(s)
		names[s] = v
		return v
	}
	var text strings.Builder

	for {
		tok, err := d.RawToken()
		if err != nil {
			if len(t.nodes) == 0 {
				return nil, fmt.Errorf("%w: no root element", ErrUnknownRoot)
			}
			if err == io.EOF || d.InputOffset() >= int64(len(data)) {
				return t, fmt.Errorf("%w: body ends inside <%s>", ErrTruncated, t.nodes[stack[len(stack)-1]].name)
			}
			return t, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if len(t.nodes) >= maxElements {
				return t, fmt.Errorf("%w: more than %d elements", ErrMalformed, maxElements)
			}
			if len(stack) >= maxDepth {
				return t, fmt.Errorf("%w: nested deeper than %d", ErrMalformed, maxDepth)
			}
			if len(stack) > 0 {
				t.setText(stack[len(stack)-1], &text)
			}
			i := int32(len(t.nodes))
			t.nodes = append(t.nodes, node{name: lower(tok.Name.Local), first: -1, last: -1, next: -1})
			if len(stack) > 0 {
				p := &t.nodes[stack[len(stack)-1]]
				if p.last >= 0 {
					t.nodes[p.last].next = i
				} else {
					p.first = i
				}
				p.last = i
			}
			stack = append(stack, i)
		case xml.EndElement:
			if len(stack) == 0 {
				continue
			}
			// Close up to the innermost open element of that name; an end
			// tag that matches nothing open is ignored.
			name := tok.Name.Local
			k := len(stack) - 1
			for k >= 0 && !strings.EqualFold(t.nodes[stack[k]].name, name) {
				k--
			}
			if k < 0 {
				continue
			}
			t.setText(stack[len(stack)-1], &text)
			for _, i := range stack[k:] {
				t.nodes[i].closed = true
			}
			stack = stack[:k]
			if len(stack) == 0 {
				return t, nil // trailing bytes after the root are ignored
			}
		case xml.CharData:
			// Whitespace between tags, the commonest text, is dropped
			// without a copy.
			if len(stack) > 0 && (text.Len() > 0 || !isSpace(tok)) {
				text.Write(tok)
			}
		}
	}
}

func isSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// setText gives element i the character data collected since the last tag,
// trimmed; whitespace between child elements is dropped.
func (t *tree) setText(i int32, text *strings.Builder) {
	if text.Len() == 0 {
		return
	}
	s := strings.TrimSpace(text.String())
	text.Reset()
	if s == "" {
		return
	}
	n := &t.nodes[i]
	if n.text == "" {
		n.text = s
	} else {
		n.text += " " + s
	}
}
