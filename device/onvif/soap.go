package onvif

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// XML namespaces of the services this package speaks to.
const (
	nsSOAP12  = "http://www.w3.org/2003/05/soap-envelope"
	nsSchema  = "http://www.onvif.org/ver10/schema"
	nsDevice  = "http://www.onvif.org/ver10/device/wsdl"
	nsMedia   = "http://www.onvif.org/ver10/media/wsdl"
	nsMedia2  = "http://www.onvif.org/ver20/media/wsdl"
	nsPTZ     = "http://www.onvif.org/ver20/ptz/wsdl"
	nsWSSE    = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
	nsWSU     = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
	nsNetwork = "http://www.onvif.org/ver10/network/wsdl"
)

// maxResponseBytes caps a SOAP reply read into memory. The largest ordinary
// reply is GetProfiles of a 64-channel NVR with three profiles each, about
// 1 MB; anything far beyond that is not a reply we can use.
const maxResponseBytes = 8 << 20

// envelopeHead declares the prefixes the request types use: the library's
// structs are tagged with literal "tds:", "trt:", "tptz:" and "onvif:"
// prefixes, so the envelope must bind them; ours for Media2 use "tr2:".
const envelopeHead = `<?xml version="1.0" encoding="UTF-8"?>` +
	`<s:Envelope xmlns:s="` + nsSOAP12 + `"` +
	` xmlns:tds="` + nsDevice + `"` +
	` xmlns:trt="` + nsMedia + `"` +
	` xmlns:tr2="` + nsMedia2 + `"` +
	` xmlns:tptz="` + nsPTZ + `"` +
	` xmlns:tt="` + nsSchema + `"` +
	` xmlns:onvif="` + nsSchema + `">` +
	`<s:Header></s:Header><s:Body>`

const envelopeTail = `</s:Body></s:Envelope>`

// buildEnvelope wraps the XML of one request element in a SOAP 1.2 envelope
// with an empty header, where UsernameToken puts its Security element.
func buildEnvelope(req any) ([]byte, error) {
	body, err := xml.Marshal(req)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 0, len(envelopeHead)+len(body)+len(envelopeTail))
	buf = append(buf, envelopeHead...)
	buf = append(buf, body...)
	buf = append(buf, envelopeTail...)
	return buf, nil
}

// newDecoder returns a decoder that accepts the charsets cameras declare.
func newDecoder(data []byte) *xml.Decoder {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.CharsetReader = charsetReader
	return d
}

// charsetReader accepts UTF-8, ASCII and Latin-1 prologs. Some firmware
// declares another charset while sending UTF-8 (or ASCII-only) bodies; the
// bytes are passed through and invalid UTF-8 fails later, in the parser.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1":
		b, err := io.ReadAll(in)
		if err != nil {
			return nil, err
		}
		if utf8.Valid(b) {
			return bytes.NewReader(b), nil
		}
		out := make([]rune, 0, len(b))
		for _, c := range b {
			out = append(out, rune(c))
		}
		return strings.NewReader(string(out)), nil
	default:
		return in, nil
	}
}

// parseSOAP checks that data is a SOAP envelope whose body holds the element
// want (a local name, e.g. "GetProfilesResponse") and decodes it into v.
//
// It returns ErrNotONVIF when data is not an envelope at all, a *FaultError
// when the body is a fault, and ErrBadResponse when the XML is malformed
// (also after the response element: a truncated reply is not trusted) or
// the body holds something else. A nil v accepts an empty body, which some
// cameras send for operations without output such as Stop.
func parseSOAP(data []byte, want string, v any) error {
	d := newDecoder(data)
	root, err := firstElement(d)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotONVIF, err)
	}
	if root.Name.Local != "Envelope" {
		return fmt.Errorf("%w: root element <%s>", ErrNotONVIF, root.Name.Local)
	}
	found := false
	for {
		tok, err := d.Token()
		if err != nil {
			return fmt.Errorf("%w: %v", ErrBadResponse, err)
		}
		if _, ok := tok.(xml.EndElement); ok {
			break // end of Envelope
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if se.Name.Local != "Body" || found {
			if err := d.Skip(); err != nil {
				return fmt.Errorf("%w: %v", ErrBadResponse, err)
			}
			continue
		}
		found = true
		if err := decodeBody(d, want, v); err != nil {
			return err
		}
	}
	if !found {
		return fmt.Errorf("%w: no Body", ErrBadResponse)
	}
	if err := expectEOF(d); err != nil {
		return err
	}
	return nil
}

// decodeBody decodes the children of a Body element; the decoder is just
// past the Body start tag and is left just past its end tag.
func decodeBody(d *xml.Decoder, want string, v any) error {
	got := false
	for {
		tok, err := d.Token()
		if err != nil {
			return fmt.Errorf("%w: %v", ErrBadResponse, err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if !got && v != nil {
				return fmt.Errorf("%w: empty Body, want %s", ErrBadResponse, want)
			}
			return nil
		case xml.StartElement:
			switch {
			case t.Name.Local == "Fault":
				var f faultXML
				if err := d.DecodeElement(&f, &t); err != nil {
					return fmt.Errorf("%w: fault: %v", ErrBadResponse, err)
				}
				// Read to the end so a truncated fault is not reported as a fault.
				if err := skipToEOF(d); err != nil {
					return err
				}
				return f.toError()
			case got:
				if err := d.Skip(); err != nil {
					return fmt.Errorf("%w: %v", ErrBadResponse, err)
				}
			case t.Name.Local != want:
				return fmt.Errorf("%w: got <%s>, want <%s>", ErrBadResponse, t.Name.Local, want)
			default:
				got = true
				if v == nil {
					err = d.Skip()
				} else {
					err = d.DecodeElement(v, &t)
				}
				if err != nil {
					return fmt.Errorf("%w: %s: %v", ErrBadResponse, want, err)
				}
			}
		}
	}
}

// skipToEOF reads the rest of the document after a fault and fails when it
// is malformed.
func skipToEOF(d *xml.Decoder) error {
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrBadResponse, err)
		}
	}
}

// expectEOF reads what follows the root element: only comments, processing
// instructions and white space may.
func expectEOF(d *xml.Decoder) error {
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrBadResponse, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return fmt.Errorf("%w: element <%s> after the envelope", ErrBadResponse, t.Name.Local)
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return fmt.Errorf("%w: text after the envelope", ErrBadResponse)
			}
		}
	}
}

// firstElement returns the root start element, skipping the prolog.
func firstElement(d *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return xml.StartElement{}, errors.New("no XML element")
			}
			return xml.StartElement{}, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return xml.StartElement{}, errors.New("text before the root element")
			}
		}
	}
}

// faultXML matches SOAP 1.2 and SOAP 1.1 faults by local names.
type faultXML struct {
	// SOAP 1.2
	Code   faultCodeXML `xml:"Code"`
	Reason struct {
		Text []string `xml:"Text"`
	} `xml:"Reason"`
	// SOAP 1.1
	FaultCode   string `xml:"faultcode"`
	FaultString string `xml:"faultstring"`
}

type faultCodeXML struct {
	Value   string        `xml:"Value"`
	Subcode *faultCodeXML `xml:"Subcode"`
}

// maxSubcodes bounds the subcode chain taken from a fault; ONVIF uses two.
const maxSubcodes = 8

func (f *faultXML) toError() *FaultError {
	e := &FaultError{Code: localName(f.Code.Value)}
	for s, n := f.Code.Subcode, 0; s != nil && n < maxSubcodes; s, n = s.Subcode, n+1 {
		if v := localName(s.Value); v != "" {
			e.Subcodes = append(e.Subcodes, v)
		}
	}
	if len(e.Subcodes) > 0 {
		e.Subcode = e.Subcodes[len(e.Subcodes)-1]
	}
	for _, t := range f.Reason.Text {
		if t = strings.TrimSpace(t); t != "" {
			e.Reason = t
			break
		}
	}
	if e.Code == "" {
		e.Code = localName(f.FaultCode)
		e.Reason = strings.TrimSpace(f.FaultString)
	}
	return e
}

// localName strips the namespace prefix of a QName value ("ter:NoProfile").
func localName(qname string) string {
	qname = strings.TrimSpace(qname)
	if i := strings.LastIndexByte(qname, ':'); i >= 0 {
		return qname[i+1:]
	}
	return qname
}
