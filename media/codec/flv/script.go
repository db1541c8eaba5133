package flv

import "fmt"

// ScriptTag is the body of a script data tag (E.4.4): a name, such as
// "onMetaData", and one AMF0 value, usually an ECMAArray.
type ScriptTag struct {
	Name  string
	Value any
}

// Append appends the tag body to b.
func (s *ScriptTag) Append(b []byte) ([]byte, error) {
	b = append(b, amfString)
	b = appendAMFString(b, s.Name)
	return appendAMF0(b, s.Value)
}

// Unmarshal decodes a script tag body. Bytes after the value are ignored.
func (s *ScriptTag) Unmarshal(body []byte) error {
	*s = ScriptTag{}
	d := amfDecoder{buf: body}
	name, err := d.value(0)
	if err != nil {
		return fmt.Errorf("script name: %w", err)
	}
	var ok bool
	if s.Name, ok = name.(string); !ok {
		return fmt.Errorf("%w: script name is %T, not a string", ErrAMF, name)
	}
	if d.remaining() == 0 {
		return nil
	}
	if s.Value, err = d.value(0); err != nil {
		return fmt.Errorf("script value: %w", err)
	}
	return nil
}
