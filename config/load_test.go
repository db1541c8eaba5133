package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// noEnv is an empty environment, so tests do not see NVR_* variables of the machine.
func noEnv(string) (string, bool) { return "", false }

// writeFile writes a YAML file named nvr.yaml in a fresh directory and returns its path.
func writeFile(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "nvr.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadNoFile(t *testing.T) {
	c, err := load("", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("Load(\"\") = %+v, want defaults", c)
	}
}

func TestLoadOverlaysDefaults(t *testing.T) {
	path := writeFile(t, `
http:
  addr: 127.0.0.1:9000
media:
  idle_timeout: 1m30s
  ring_size: 4096
rtsp:
  read_timeout: 20   # seconds
sip:
  id: "44010000002000000001"
  auto_accept: false
  allow_list: ["44010000001320000001", "44010000001320000002"]
  keepalive_misses: 5
rtp:
  single_port: 30000
`)
	c, err := load(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.HTTP.Addr = "127.0.0.1:9000"
	want.Media.IdleTimeout = Duration(90 * time.Second)
	want.Media.RingSize = 4096
	want.RTSP.ReadTimeout = Duration(20 * time.Second)
	want.SIP.ID, want.SIP.AutoAccept, want.SIP.KeepaliveMisses = "44010000002000000001", false, 5
	want.SIP.AllowList = []string{"44010000001320000001", "44010000001320000002"}
	want.RTP.SinglePort = 30000
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v\nwant %+v", c, want)
	}
}

func TestLoadEmptyFiles(t *testing.T) {
	for name, body := range map[string]string{
		"empty":         "",
		"comments only": "# nothing configured yet\n",
		// A section whose keys are all commented out must keep its defaults, not zero them.
		"empty section": "http:\nmedia:\n  # idle_timeout: 5s\n",
	} {
		t.Run(name, func(t *testing.T) {
			c, err := load(writeFile(t, body), noEnv)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c, Default()) {
				t.Errorf("got %+v, want defaults", c)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string // one line per problem, after "config: <path> "
	}{
		{"unknown key in section", "http:\n  addr: \":80\"\n  foo: 1\n",
			[]string{`line 3: unknown key "foo" in http`}},
		{"unknown top-level key", "data_dir: /tmp\ndatadir: /x\n",
			[]string{`line 2: unknown key "datadir"`}},
		{"every problem reported", "log:\n  levle: debug\nmedia:\n  idle_timeout: soon\n  ringsize: 1\n",
			[]string{
				`line 2: unknown key "levle" in log`,
				`line 4: "soon" is not a duration such as 10s or 1m30s`,
				`line 5: unknown key "ringsize" in media`,
			}},
		{"wrong type", "media:\n  ring_size: big\n",
			[]string{"line 2: cannot unmarshal !!str `big` into int"}},
		{"syntax", "http:\n  addr: [\n", []string{"line 2: did not find expected node content"}},
		{"two documents", "data_dir: /a\n---\ndata_dir: /b\n",
			[]string{"line 2: a second YAML document; the file must hold one"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.body)
			_, err := load(path, noEnv)
			if err == nil {
				t.Fatal("no error")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("error:\n%v\nwant %d lines", err, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(lines[i], "config: "+path+" "+w) {
					t.Errorf("line %d: %q, want prefix %q", i, lines[i], "config: "+path+" "+w)
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := load(path, noEnv)
	if err == nil || !strings.HasPrefix(err.Error(), "config: open "+path) {
		t.Errorf("error %v", err)
	}
}

func TestLoadAppliesEnvLast(t *testing.T) {
	path := writeFile(t, "http:\n  addr: \":9000\"\nlog:\n  level: warn\n")
	env := map[string]string{"NVR_HTTP_ADDR": ":7000"}
	c, err := load(path, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Addr != ":7000" || c.Log.Level != "warn" {
		t.Errorf("addr %q level %q, want the environment's :7000 and the file's warn", c.HTTP.Addr, c.Log.Level)
	}
}

func TestYAMLRoundTrip(t *testing.T) {
	in := Default()
	in.HTTP.CORSOrigins = []string{"https://a.example", "http://b.example:8080"}
	in.Admin.Password = "s3cret: with # yaml chars"
	in.Media.IdleTimeout = Duration(90 * time.Second)
	in.Auth.TokenTTL = Duration(1500 * time.Millisecond)
	in.SIP.AllowList = []string{"34020000001320000001"}
	in.SIP.Password = "0123" // digits only: must come back as a string
	in.SIP.AutoAccept = false
	in.RTP.SinglePort = 31000
	out, err := yaml.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	back, err := load(writeFile(t, string(out)), noEnv)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !reflect.DeepEqual(back, in) {
		t.Errorf("round trip changed the config:\n%s\ngot  %+v\nwant %+v", out, back, in)
	}
}

// TestExampleFile keeps nvr.example.yaml honest: it loads, its values are the defaults, and it
// lists every key with a comment.
func TestExampleFile(t *testing.T) {
	const path = "nvr.example.yaml"
	c, err := load(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("example differs from Default():\ngot  %+v\nwant %+v", c, Default())
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	var walk func(prefix string, n *yaml.Node)
	walk = func(prefix string, n *yaml.Node) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			key := prefix + k.Value
			if v.Kind == yaml.MappingNode {
				walk(key+".", v)
				continue
			}
			documented[key] = true
			if k.HeadComment == "" && k.LineComment == "" {
				t.Errorf("%s has no comment", key)
			}
		}
	}
	walk("", doc.Content[0])

	want := leafKeys()
	for _, k := range want {
		if !documented[k] {
			t.Errorf("%s is missing from %s", k, path)
		}
	}
	if len(documented) != len(want) {
		t.Errorf("%s has %d keys, Config has %d", path, len(documented), len(want))
	}
}

// leafKeys lists the dotted YAML key of every value in Config, from the struct itself.
func leafKeys() []string {
	var out []string
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for f := range t.Fields() {
			key := prefix + yamlKey(f)
			if f.Type.Kind() == reflect.Struct {
				walk(key+".", f.Type)
				continue
			}
			out = append(out, key)
		}
	}
	walk("", reflect.TypeFor[Config]())
	slices.Sort(out)
	return out
}
