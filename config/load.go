package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load returns the defaults, overlaid with the YAML file at path (skipped when path is empty),
// overlaid with NVR_* environment variables. It does not call Validate.
func Load(path string) (Config, error) {
	return load(path, os.LookupEnv)
}

// load is Load with the environment passed in, so tests do not depend on the real one.
func load(path string, lookup func(string) (string, bool)) (Config, error) {
	c := Default()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("config: %w", err)
		}
		if err := decodeYAML(&c, path, data); err != nil {
			return Config{}, err
		}
	}
	if err := c.ApplyEnv(lookup); err != nil {
		return Config{}, err
	}
	return c, nil
}

// decodeYAML overlays the YAML document in data on c; keys absent from data keep their value.
func decodeYAML(c *Config, path string, data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	// A misspelt key would otherwise be ignored silently and leave the default in force.
	dec.KnownFields(true)
	err := dec.Decode(c)
	if errors.Is(err, io.EOF) {
		return nil // an empty file, or one with only comments
	}
	if err != nil {
		return yamlError(path, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return fmt.Errorf("config: %s line %d: a second YAML document; the file must hold one", path, extra.Line)
	case !errors.Is(err, io.EOF):
		return yamlError(path, err)
	}
	return nil
}

var (
	// yamlLine matches yaml.v3 messages that carry a line, as syntax errors ("yaml: line 3: …")
	// and each entry of a *yaml.TypeError ("line 3: …") do.
	yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	// unknownField matches the message of Decoder.KnownFields for a key with no struct field.
	unknownField = regexp.MustCompile(`^field (\S+) not found in type (\S+)$`)
)

// yamlError rewrites a yaml.v3 error into one line per problem, in our own words:
// `config: nvr.yaml line 3: unknown key "foo" in http`.
func yamlError(path string, err error) error {
	msgs := []string{err.Error()}
	if te, ok := errors.AsType[*yaml.TypeError](err); ok {
		msgs = te.Errors
	}
	sections := sectionKeys()
	errs := make([]error, 0, len(msgs))
	for _, msg := range msgs {
		m := yamlLine.FindStringSubmatch(msg)
		if m == nil {
			errs = append(errs, fmt.Errorf("config: %s: %s", path, msg))
			continue
		}
		line, text := m[1], m[2]
		if f := unknownField.FindStringSubmatch(text); f != nil {
			text = fmt.Sprintf("unknown key %q", f[1])
			if section := sections[f[2]]; section != "" {
				text += " in " + section
			}
		}
		errs = append(errs, fmt.Errorf("config: %s line %s: %s", path, line, text))
	}
	return errors.Join(errs...)
}

// sectionKeys maps the Go type of each section, as yaml.v3 prints it ("config.HTTPConfig"),
// to its YAML key ("http"). The top-level Config maps to "". Deriving it from the struct keeps
// it right when sections are added.
func sectionKeys() map[string]string {
	t := reflect.TypeFor[Config]()
	out := map[string]string{t.String(): ""}
	for f := range t.Fields() {
		if f.Type.Kind() == reflect.Struct {
			out[f.Type.String()] = yamlKey(f)
		}
	}
	return out
}

// yamlKey returns the YAML key of a struct field.
func yamlKey(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}
