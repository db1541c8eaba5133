package flv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// AMF0 values (Adobe "Action Message Format -- AMF 0", section 2) are
// represented by these Go types:
//
//	number        float64
//	boolean       bool
//	string        string (long strings too)
//	null          nil
//	undefined     Undefined
//	object        Object
//	ECMA array    ECMAArray
//	strict array  StrictArray
//	date          Date
//	reference     Reference
//	XML document  XMLDocument
//	typed object  TypedObject
//	unsupported   Unsupported

// Property is one key/value pair of an Object or ECMAArray.
type Property struct {
	Key   string
	Value any
}

// Object is an AMF0 anonymous object: properties in their written order.
type Object []Property

// ECMAArray is an AMF0 ECMA (associative) array, the usual onMetaData value.
type ECMAArray []Property

// StrictArray is an AMF0 strict (ordinal) array.
type StrictArray []any

// Undefined is the AMF0 undefined value.
type Undefined struct{}

// Unsupported is the AMF0 unsupported marker.
type Unsupported struct{}

// Reference is an AMF0 reference to an earlier complex value, by index.
type Reference uint16

// XMLDocument is an AMF0 XML document, kept as text.
type XMLDocument string

// Date is an AMF0 date: milliseconds since the Unix epoch, and a time zone
// field that the spec reserves (should be 0).
type Date struct {
	Millis   float64
	TimeZone int16
}

// TypedObject is an AMF0 typed object: a class name and its properties.
type TypedObject struct {
	ClassName  string
	Properties []Property
}

// Get returns the value of the first property named key.
func (o Object) Get(key string) (any, bool) { return getProp(o, key) }

// Get returns the value of the first property named key.
func (a ECMAArray) Get(key string) (any, bool) { return getProp(a, key) }

func getProp(props []Property, key string) (any, bool) {
	for _, p := range props {
		if p.Key == key {
			return p.Value, true
		}
	}
	return nil, false
}

// AMF0 type markers (AMF0 section 2.1).
const (
	amfNumber      = 0x00
	amfBoolean     = 0x01
	amfString      = 0x02
	amfObject      = 0x03
	amfNull        = 0x05
	amfUndefined   = 0x06
	amfReference   = 0x07
	amfECMAArray   = 0x08
	amfObjectEnd   = 0x09
	amfStrictArray = 0x0a
	amfDate        = 0x0b
	amfLongString  = 0x0c
	amfUnsupported = 0x0d
	amfXMLDocument = 0x0f
	amfTypedObject = 0x10
)

// maxAMFDepth bounds the nesting of objects and arrays the decoder follows,
// so that hostile input cannot exhaust the stack. Real metadata nests at
// most two or three levels (keyframes index).
const maxAMFDepth = 32

// Errors of the AMF0 codec.
var (
	// ErrAMF is returned for AMF0 data that cannot be decoded.
	ErrAMF = errors.New("flv: invalid AMF0 data")
	// ErrAMFType is returned when encoding a Go value with no AMF0 form.
	ErrAMFType = errors.New("flv: value has no AMF0 encoding")
)

// appendAMF0 appends the AMF0 encoding of v.
func appendAMF0(b []byte, v any) ([]byte, error) {
	var err error
	switch v := v.(type) {
	case float64:
		b = append(b, amfNumber)
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(v))
	case int:
		return appendAMF0(b, float64(v))
	case bool:
		var n byte
		if v {
			n = 1
		}
		b = append(b, amfBoolean, n)
	case string:
		if len(v) > math.MaxUint16 {
			b = append(b, amfLongString)
			b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
			b = append(b, v...)
		} else {
			b = append(b, amfString)
			b = appendAMFString(b, v)
		}
	case nil:
		b = append(b, amfNull)
	case Undefined:
		b = append(b, amfUndefined)
	case Unsupported:
		b = append(b, amfUnsupported)
	case Reference:
		b = append(b, amfReference)
		b = binary.BigEndian.AppendUint16(b, uint16(v))
	case Object:
		b = append(b, amfObject)
		b, err = appendAMFProps(b, v)
	case ECMAArray:
		b = append(b, amfECMAArray)
		b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
		b, err = appendAMFProps(b, v)
	case TypedObject:
		b = append(b, amfTypedObject)
		b = appendAMFString(b, v.ClassName)
		b, err = appendAMFProps(b, v.Properties)
	case StrictArray:
		b = append(b, amfStrictArray)
		b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
		for _, e := range v {
			if b, err = appendAMF0(b, e); err != nil {
				return b, err
			}
		}
	case Date:
		b = append(b, amfDate)
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(v.Millis))
		b = binary.BigEndian.AppendUint16(b, uint16(v.TimeZone))
	case XMLDocument:
		b = append(b, amfXMLDocument)
		b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
		b = append(b, v...)
	default:
		return b, fmt.Errorf("%w: %T", ErrAMFType, v)
	}
	return b, err
}

// appendAMFString appends a UTF-8 string with a UI16 length, truncating
// what does not fit (object keys and class names have no long form).
func appendAMFString(b []byte, s string) []byte {
	if len(s) > math.MaxUint16 {
		s = s[:math.MaxUint16]
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// appendAMFProps appends properties and the object end marker. An empty key
// is allowed: the decoder tells it from the end marker by the 0x09 after it,
// which no value starts with.
func appendAMFProps(b []byte, props []Property) ([]byte, error) {
	var err error
	for _, p := range props {
		b = appendAMFString(b, p.Key)
		if b, err = appendAMF0(b, p.Value); err != nil {
			return b, err
		}
	}
	return append(b, 0, 0, amfObjectEnd), nil
}

// amfDecoder decodes AMF0 values from a buffer.
type amfDecoder struct {
	buf []byte
	pos int
}

func (d *amfDecoder) remaining() int { return len(d.buf) - d.pos }

func (d *amfDecoder) need(n int) error {
	if d.remaining() < n {
		return fmt.Errorf("%w: truncated at byte %d", ErrAMF, d.pos)
	}
	return nil
}

func (d *amfDecoder) u16() (uint16, error) {
	if err := d.need(2); err != nil {
		return 0, err
	}
	v := binary.BigEndian.Uint16(d.buf[d.pos:])
	d.pos += 2
	return v, nil
}

func (d *amfDecoder) u32() (uint32, error) {
	if err := d.need(4); err != nil {
		return 0, err
	}
	v := binary.BigEndian.Uint32(d.buf[d.pos:])
	d.pos += 4
	return v, nil
}

func (d *amfDecoder) f64() (float64, error) {
	if err := d.need(8); err != nil {
		return 0, err
	}
	v := math.Float64frombits(binary.BigEndian.Uint64(d.buf[d.pos:]))
	d.pos += 8
	return v, nil
}

// str reads n bytes as a string; n is checked against what is left, so a
// hostile length never allocates more than the input holds.
func (d *amfDecoder) str(n int) (string, error) {
	if err := d.need(n); err != nil {
		return "", err
	}
	s := string(d.buf[d.pos : d.pos+n])
	d.pos += n
	return s, nil
}

func (d *amfDecoder) shortStr() (string, error) {
	n, err := d.u16()
	if err != nil {
		return "", err
	}
	return d.str(int(n))
}

func (d *amfDecoder) longStr() (string, error) {
	n, err := d.u32()
	if err != nil {
		return "", err
	}
	if int64(n) > int64(d.remaining()) {
		return "", fmt.Errorf("%w: string of %d bytes with %d left", ErrAMF, n, d.remaining())
	}
	return d.str(int(n))
}

// value decodes one value. depth counts the enclosing objects and arrays.
func (d *amfDecoder) value(depth int) (any, error) {
	if depth > maxAMFDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", ErrAMF, maxAMFDepth)
	}
	if err := d.need(1); err != nil {
		return nil, err
	}
	marker := d.buf[d.pos]
	d.pos++
	switch marker {
	case amfNumber:
		return d.f64()
	case amfBoolean:
		if err := d.need(1); err != nil {
			return nil, err
		}
		d.pos++
		return d.buf[d.pos-1] != 0, nil
	case amfString:
		return d.shortStr()
	case amfLongString:
		return d.longStr()
	case amfXMLDocument:
		s, err := d.longStr()
		return XMLDocument(s), err
	case amfNull:
		return nil, nil
	case amfUndefined:
		return Undefined{}, nil
	case amfUnsupported:
		return Unsupported{}, nil
	case amfReference:
		n, err := d.u16()
		return Reference(n), err
	case amfObject:
		props, err := d.props(depth)
		return Object(props), err
	case amfECMAArray:
		// The count is a hint that writers often get wrong; the end marker
		// is what ends the array (as in FFmpeg's amf_parse_object).
		if _, err := d.u32(); err != nil {
			return nil, err
		}
		props, err := d.props(depth)
		return ECMAArray(props), err
	case amfTypedObject:
		name, err := d.shortStr()
		if err != nil {
			return nil, err
		}
		props, err := d.props(depth)
		return TypedObject{ClassName: name, Properties: props}, err
	case amfStrictArray:
		n, err := d.u32()
		if err != nil {
			return nil, err
		}
		// Every value takes at least one byte: a count beyond what is left
		// is a lie, and checking it bounds the allocation.
		if int64(n) > int64(d.remaining()) {
			return nil, fmt.Errorf("%w: strict array of %d with %d bytes left", ErrAMF, n, d.remaining())
		}
		arr := make(StrictArray, 0, min(n, 64))
		for range n {
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		return arr, nil
	case amfDate:
		ms, err := d.f64()
		if err != nil {
			return nil, err
		}
		tz, err := d.u16()
		return Date{Millis: ms, TimeZone: int16(tz)}, err
	}
	return nil, fmt.Errorf("%w: unknown marker 0x%02x at byte %d", ErrAMF, marker, d.pos-1)
}

// props decodes properties up to the object end marker (an empty key
// followed by 0x09). Data that ends first ends the object too: some
// writers leave the marker out of a trailing ECMA array.
func (d *amfDecoder) props(depth int) ([]Property, error) {
	var props []Property
	for d.remaining() > 0 {
		key, err := d.shortStr()
		if err != nil {
			return nil, err
		}
		if key == "" {
			if d.remaining() == 0 {
				break
			}
			if d.buf[d.pos] == amfObjectEnd {
				d.pos++
				break
			}
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		props = append(props, Property{Key: key, Value: v})
	}
	return props, nil
}
