package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// fakeSink is a component config as a sink package would define it.
type fakeSink struct {
	Path      string `yaml:"path"`
	Token     Secret `yaml:"token"`
	BatchSize int    `yaml:"batch_size"`
	TLS       struct {
		CAFile string `yaml:"ca_file"`
	} `yaml:"tls"`
}

func newFakeSink() Validator { return &fakeSink{BatchSize: 100} }

func (c *fakeSink) Validate() error {
	var errs []error
	if c.Path == "" {
		errs = append(errs, errors.New("path: required"))
	}
	if c.BatchSize <= 0 {
		errs = append(errs, errors.New("batch_size: must be > 0"))
	}
	return errors.Join(errs...)
}

// fakeSource is a component config as a source package would define it,
// reporting through *FieldError.
type fakeSource struct {
	Paths     []string      `yaml:"paths"`
	Listen    string        `yaml:"listen"`
	BatchSize int           `yaml:"batch_size"`
	Poll      time.Duration `yaml:"poll"`
}

func newFakeSource() Validator { return &fakeSource{BatchSize: 500, Poll: time.Second} }

func (c *fakeSource) Validate() error {
	var errs []error
	if len(c.Paths) == 0 && c.Listen == "" {
		errs = append(errs, errors.New("either paths or listen is required"))
	}
	if c.BatchSize <= 0 {
		errs = append(errs, &FieldError{Path: "batch_size", Err: errors.New("must be > 0")})
	}
	return errors.Join(errs...)
}

// emptySink has no settings.
type emptySink struct{}

func (emptySink) Validate() error { return nil }

func testRegistry() Registry {
	return Registry{
		Sources: map[string]func() Validator{"winjson": newFakeSource, "evtx": newFakeSource},
		Sinks: map[string]func() Validator{
			"file":   newFakeSink,
			"splunk": newFakeSink,
			"stdout": func() Validator { return &emptySink{} },
		},
	}
}

func TestDefault(t *testing.T) {
	c := Default()
	if c.State.Path != "castellan.db" || c.Log.Level != "info" || c.Log.Format != "text" ||
		!reflect.DeepEqual(c.Detections.Rules, []string{"builtin"}) || c.Correlation.Window != 24*time.Hour ||
		c.Correlation.MaxOpenIncidents != 10000 || c.Detections.MaxKeysPerRule != 100000 {
		t.Errorf("Default() = %+v", c)
	}
	if c.Sources == nil || c.Sinks == nil {
		t.Error("Default() maps must be non-nil")
	}
	c.Sinks["stdout"] = Component{ID: "stdout", Type: "stdout", Config: &emptySink{}}
	if err := c.Validate(); err != nil {
		t.Errorf("Default() + a sink: Validate() = %v", err)
	}
}

func TestLoadExample(t *testing.T) {
	c, err := Load(filepath.Join("testdata", "example.yaml"), testRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	src := c.Sources["winjson/dc01"]
	if src.Type != "winjson" || src.Name != "dc01" || src.ID != "winjson/dc01" {
		t.Errorf("source = %+v", src)
	}
	if got := src.Config.(*fakeSource); !reflect.DeepEqual(got.Paths, []string{"/var/log/dc01/*.jsonl"}) ||
		got.Listen != "127.0.0.1:5514" || got.BatchSize != 500 {
		t.Errorf("source config = %+v", got)
	}
	if f := c.Sinks["file"]; f.Type != "file" || f.Name != "" || f.Config.(*fakeSink).Path != "./castellan.jsonl" {
		t.Errorf("file sink = %+v", f)
	}
	if _, ok := c.Sinks["stdout"].Config.(*emptySink); !ok {
		t.Errorf("stdout sink = %+v", c.Sinks["stdout"])
	}
	if c.State.Path != "/var/lib/castellan/state.db" ||
		!reflect.DeepEqual(c.Detections.Rules, []string{"builtin", "./my-rules"}) ||
		!reflect.DeepEqual(c.Detections.DomainControllers, []string{"DC01", "DC02"}) ||
		c.Correlation.Window != 24*time.Hour {
		t.Errorf("config = %+v", c)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), testRegistry())
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want ErrNotExist", err)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		check func(t *testing.T, c *Config)
	}{
		{"empty file", "", func(t *testing.T, c *Config) {
			if !reflect.DeepEqual(c, Default()) {
				t.Errorf("got %+v", c)
			}
		}},
		{"comments only", "# nothing\n", func(t *testing.T, c *Config) {
			if !reflect.DeepEqual(c, Default()) {
				t.Errorf("got %+v", c)
			}
		}},
		{"defaults kept for omitted keys", "log: {level: debug}\ncorrelation: {max_open_incidents: 5}\n", func(t *testing.T, c *Config) {
			if c.Log.Level != "debug" || c.Log.Format != "text" || c.Correlation.Window != 24*time.Hour || c.Correlation.MaxOpenIncidents != 5 {
				t.Errorf("got %+v", c)
			}
		}},
		{"durations as strings", "correlation: {window: 90m}\n", func(t *testing.T, c *Config) {
			if c.Correlation.Window != 90*time.Minute {
				t.Errorf("window = %v", c.Correlation.Window)
			}
		}},
		{"rules list replaces the default", "detections: {rules: [./a, ./b]}\n", func(t *testing.T, c *Config) {
			if !reflect.DeepEqual(c.Detections.Rules, []string{"./a", "./b"}) {
				t.Errorf("rules = %v", c.Detections.Rules)
			}
		}},
		{"component defaults kept", "sinks:\n  file: {path: x}\n  file/b: {path: y, batch_size: 7}\n  stdout:\n", func(t *testing.T, c *Config) {
			if c.Sinks["file"].Config.(*fakeSink).BatchSize != 100 || c.Sinks["file/b"].Config.(*fakeSink).BatchSize != 7 {
				t.Errorf("sinks = %+v", c.Sinks)
			}
			if c.Sinks["file"].Config == c.Sinks["file/b"].Config {
				t.Error("components share one config value")
			}
			if _, ok := c.Sinks["stdout"]; !ok {
				t.Error("stdout with null value missing")
			}
		}},
		{"nested component struct", "sinks:\n  file: {path: x, tls: {ca_file: /ca.pem}}\n", func(t *testing.T, c *Config) {
			if got := c.Sinks["file"].Config.(*fakeSink).TLS.CAFile; got != "/ca.pem" {
				t.Errorf("ca_file = %q", got)
			}
		}},
		{"anchors and aliases", "x-common: &p /data\nsinks:\n  file: {path: *p}\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.in), "castellan.yaml", testRegistry())
			if tt.name == "anchors and aliases" {
				// Top-level extension keys are not allowed: strictness wins.
				if err == nil || !strings.Contains(err.Error(), `unknown field "x-common"`) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestParseAlias(t *testing.T) {
	in := "sinks:\n  file: &f {path: /data}\n  file/copy: *f\n"
	c, err := Parse([]byte(in), "c.yaml", testRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if c.Sinks["file/copy"].Config.(*fakeSink).Path != "/data" {
		t.Errorf("alias not followed: %+v", c.Sinks["file/copy"].Config)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // Problems(err), exactly
	}{
		{"unknown top-level key", "state: {path: x}\nsink:\n  stdout: {}\n",
			[]string{`c.yaml:2: unknown field "sink" (did you mean "sinks"?)`}},
		{"unknown nested key", "log:\n  level: info\n  formt: json\n",
			[]string{`c.yaml:3: log: unknown field "formt" (did you mean "format"?)`}},
		{"unknown component key", "sinks:\n  stdout: {}\n\n  file:\n    path: x\n\n    pth: y\n",
			[]string{`c.yaml:7: sinks.file: unknown field "pth" (did you mean "path"?)`}},
		{"unknown key in a component's nested struct", "sinks:\n  file:\n    tls:\n      ca: x\n",
			[]string{`c.yaml:4: sinks.file.tls: unknown field "ca"`}},
		{"unknown key in empty component", "sinks:\n  stdout: {verbose: true}\n",
			[]string{`c.yaml:2: sinks.stdout: unknown field "verbose"`}},
		{"every unknown key reported", "log: {lvl: x}\ncorrelation:\n  windw: 1h\nsinks:\n  file: {path: x, size: 3}\n",
			[]string{
				`c.yaml:1: log: unknown field "lvl"`,
				`c.yaml:3: correlation: unknown field "windw" (did you mean "window"?)`,
				`c.yaml:5: sinks.file: unknown field "size"`,
			}},
		{"unknown sink type", "sinks:\n  kafka: {}\n",
			[]string{`c.yaml:2: sinks: unknown sink type "kafka" (known: file, splunk, stdout)`}},
		{"unknown source type", "sources:\n  pcap/x: {}\n",
			[]string{`c.yaml:2: sources: unknown source type "pcap" (known: evtx, winjson)`}},
		{"malformed component name", "sinks:\n  file/Prod: {}\n  file/: {}\n  /x: {}\n",
			[]string{
				`c.yaml:2: sinks: sink id "file/Prod": want "type" or "type/name" with name matching [a-z0-9][a-z0-9_.-]*`,
				`c.yaml:3: sinks: sink id "file/": want "type" or "type/name" with name matching [a-z0-9][a-z0-9_.-]*`,
				`c.yaml:4: sinks: sink id "/x": want "type" or "type/name"`,
			}},
		{"duplicate key", "log: {level: info}\nlog: {level: debug}\n",
			[]string{`c.yaml:2: duplicate key "log" (first at line 1)`}},
		{"duplicate component", "sinks:\n  file: {path: a}\n  file: {path: b}\n",
			[]string{`c.yaml:3: sinks: duplicate key "file" (first at line 2)`}},
		{"bad duration", "correlation: {window: soon}\n",
			[]string{`c.yaml:1: correlation.window: invalid duration "soon" (want e.g. "90s", "10m", "24h")`}},
		{"integer duration", "correlation: {window: 3600}\n",
			[]string{`c.yaml:1: correlation.window: invalid duration "3600" (want e.g. "90s", "10m", "24h")`}},
		{"bad int", "detections:\n  max_keys_per_rule: lots\n",
			[]string{`c.yaml:2: detections.max_keys_per_rule: invalid value "lots": must be an integer`}},
		{"bad int in component", "sinks:\n  file: {path: x, batch_size: 1.5}\n",
			[]string{`c.yaml:2: sinks.file.batch_size: invalid value "1.5": must be an integer`}},
		{"list instead of string", "state:\n  path: [a, b]\n",
			[]string{`c.yaml:2: state.path: must be a string, got a list`}},
		{"scalar instead of list", "detections: {rules: builtin}\n",
			[]string{`c.yaml:1: detections.rules: must be a list, got a scalar`}},
		{"scalar instead of section", "log: debug\n",
			[]string{`c.yaml:1: log: must be a mapping, got a scalar`}},
		{"secret must be a string", "sinks:\n  file: {path: x, token: {a: b}}\n",
			[]string{`c.yaml:2: sinks.file.token: must be a string, got a mapping`}},
		{"sinks not a mapping", "sinks: [file]\n",
			[]string{`c.yaml:1: sinks: must be a mapping of component id to settings, got a list`}},
		{"root not a mapping", "- a\n- b\n",
			[]string{`c.yaml:1: the configuration must be a mapping, got a list`}},
		{"syntax error", "log:\n  level: info\n   format: [\n",
			[]string{`c.yaml:3: mapping values are not allowed in this context`}},
		{"two documents", "log: {level: info}\n---\nlog: {level: debug}\n",
			[]string{`c.yaml:2: the file holds more than one YAML document`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.in), "c.yaml", testRegistry())
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", c)
			}
			if c != nil {
				t.Error("Parse returned a config with an error")
			}
			if got := Problems(err); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems:\n got %q\nwant %q", got, tt.want)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Errorf("error is not a *DecodeError: %T", err)
			}
		})
	}
}

func TestDecodeHostileInput(t *testing.T) {
	// An alias bomb into a type that could hold it must stay bounded.
	bomb := `a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: [*e,*e,*e,*e,*e,*e,*e,*e,*e]
`
	var out struct {
		A, B, C, D, E yaml.Node
		F             [][][][][][]string
	}
	if err := decodeForTest(bomb, &out); err == nil || !strings.Contains(err.Error(), "too many alias expansions") {
		t.Errorf("alias bomb: err = %v", err)
	}
	if n := len(Problems(decodeForTest(bomb, &out))); n != 1 {
		t.Errorf("alias bomb: %d problems, want 1", n)
	}

	// A self-referencing anchor must not loop.
	var loop any
	if err := decodeForTest("&a [*a]\n", &loop); err == nil {
		t.Log("self-reference decoded without error") // bounded either way
	}
	type rec struct {
		Next *rec `yaml:"next"`
	}
	var r rec
	if err := decodeForTest("&a {next: *a}\n", &r); err == nil {
		t.Error("self-referencing mapping accepted")
	}

	type deepT struct {
		L []deepT `yaml:"l"`
	}
	var dt deepT
	in := strings.Repeat("{l: [", 100) + strings.Repeat("]}", 100)
	if err := decodeForTest(in, &dt); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Errorf("deep nesting: err = %v", err)
	}
}

// decodeForTest runs the strict decoder on in into out (a pointer).
func decodeForTest(in string, out any) error {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(in), &doc); err != nil {
		return err
	}
	d := &decoder{file: "t.yaml"}
	d.decode(doc.Content[0], "", reflect.ValueOf(out).Elem(), 0)
	return d.err()
}

func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join("testdata", "example.yaml")); err == nil {
		f.Add(data)
	}
	f.Add([]byte("sinks: {file: {path: ${env:HOME}}}\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		c, err := Parse(data, "fuzz.yaml", testRegistry())
		if (c == nil) == (err == nil) {
			t.Fatalf("Parse = %v, %v", c, err)
		}
		if c != nil {
			_ = c.Validate()
		}
	})
}
