package config

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

// TestValidateThreeMistakes is the acceptance case: a file with exactly
// three mistakes yields exactly three problems, each with its path.
func TestValidateThreeMistakes(t *testing.T) {
	in := `log:
  level: verbose
sources:
  winjson/dc01: { paths: ["/var/log/dc01/*.jsonl"] }
correlation:
  window: -1h
sinks:
  file: { batch_size: 10 }
`
	c, err := Parse([]byte(in), "castellan.yaml", testRegistry())
	if err != nil {
		t.Fatal(err)
	}
	err = c.Validate()
	want := []string{
		`log.level: must be one of debug, info, warn, error (got "verbose")`,
		`correlation.window: must be positive`,
		`sinks.file.path: required`,
	}
	if got := Problems(err); !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n got %q\nwant %q", got, want)
	}
	var paths []string
	for _, e := range leaves(err) {
		var fe *FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("%v is not a *FieldError", e)
		}
		paths = append(paths, fe.Path)
	}
	if want := []string{"log.level", "correlation.window", "sinks.file.path"}; !reflect.DeepEqual(paths, want) {
		t.Errorf("paths = %q, want %q", paths, want)
	}
}

func validConfig() *Config {
	c := Default()
	c.Sources["winjson/dc01"] = Component{ID: "winjson/dc01", Type: "winjson", Name: "dc01", Config: &fakeSource{Paths: []string{"/x"}, BatchSize: 1}}
	c.Sinks["file"] = Component{ID: "file", Type: "file", Config: &fakeSink{Path: "/out", BatchSize: 1}}
	return c
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   []string
	}{
		{"valid", func(*Config) {}, nil},
		{"no sources is fine", func(c *Config) { clear(c.Sources) }, nil},
		{"duplicate domain controllers are fine", func(c *Config) { c.Detections.DomainControllers = []string{"DC01", "DC01"} }, nil},
		{"empty rules list is allowed", func(c *Config) { c.Detections.Rules = nil }, nil},
		{"state path", func(c *Config) { c.State.Path = " " }, []string{"state.path: required"}},
		{"log", func(c *Config) { c.Log = Log{Level: "", Format: "xml"} }, []string{
			"log.level: required",
			`log.format: must be one of text, json (got "xml")`,
		}},
		{"detections", func(c *Config) {
			c.Detections.Rules = []string{"builtin", ""}
			c.Detections.Disabled = []string{""}
			c.Detections.DomainControllers = []string{"DC01", " "}
			c.Detections.Honeytokens = []string{""}
			c.Detections.MaxKeysPerRule = -5
		}, []string{
			"detections.rules[1]: must not be empty",
			"detections.disabled[0]: must not be empty",
			"detections.domain_controllers[1]: must not be empty",
			"detections.honeytokens[0]: must not be empty",
			"detections.max_keys_per_rule: must be > 0 (got -5)",
		}},
		{"correlation", func(c *Config) { c.Correlation = Correlation{Window: 0, MaxOpenIncidents: -1} }, []string{
			"correlation.window: must be positive",
			"correlation.max_open_incidents: must be > 0 (got -1)",
		}},
		{"no sinks", func(c *Config) { clear(c.Sinks) }, []string{"sinks: at least one sink is required"}},
		{"component problems are prefixed", func(c *Config) {
			c.Sources["winjson/dc01"] = Component{ID: "winjson/dc01", Type: "winjson", Name: "dc01", Config: &fakeSource{BatchSize: 0}}
			c.Sinks["file/b"] = Component{ID: "file/b", Type: "file", Name: "b", Config: &fakeSink{BatchSize: -1}}
			c.Sinks["x"] = Component{ID: "x", Type: "x"}
			c.Sinks["y"] = Component{ID: "y", Type: "y", Config: (*fakeSink)(nil)}
		}, []string{
			"sources.winjson/dc01: either paths or listen is required",
			"sources.winjson/dc01.batch_size: must be > 0",
			"sinks.file/b.path: required",
			"sinks.file/b.batch_size: must be > 0",
			"sinks.x: no configuration",
			"sinks.y: no configuration",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mutate(c)
			err := c.Validate()
			if got := Problems(err); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems:\n got %q\nwant %q", got, tt.want)
			}
			if (err == nil) != (tt.want == nil) {
				t.Errorf("err = %v", err)
			}
		})
	}
}

var errSentinel = errors.New("sentinel")

type nestedValidator struct{}

func (nestedValidator) Validate() error {
	return errors.Join(
		errors.Join(
			fmt.Errorf("tls.ca_file: %w", errSentinel),
			&FieldError{Path: "endpoint", Err: ErrRequired},
		),
		errors.New("endpoint and path are mutually exclusive: pick one"),
	)
}

func TestValidateComponentErrorShapes(t *testing.T) {
	c := validConfig()
	c.Sinks["splunk/prod"] = Component{ID: "splunk/prod", Type: "splunk", Name: "prod", Config: nestedValidator{}}
	err := c.Validate()
	want := []string{
		"sinks.splunk/prod.tls.ca_file: sentinel",
		"sinks.splunk/prod.endpoint: required",
		"sinks.splunk/prod: endpoint and path are mutually exclusive: pick one",
	}
	if got := Problems(err); !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n got %q\nwant %q", got, want)
	}
	if !errors.Is(err, errSentinel) || !errors.Is(err, ErrRequired) {
		t.Error("wrapped errors lost their identity")
	}
}

func TestProblems(t *testing.T) {
	if got := Problems(nil); got != nil {
		t.Errorf("Problems(nil) = %q", got)
	}
	err := errors.Join(errors.New("a"), errors.Join(errors.New("b\nc"), nil), &FieldError{Path: "p", Err: errors.New("d")})
	if got, want := Problems(err), []string{"a", "b", "c", "p: d"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Problems = %q, want %q", got, want)
	}
}

func TestFieldError(t *testing.T) {
	e := &FieldError{Path: "sinks.file.path", Err: ErrRequired}
	if e.Error() != "sinks.file.path: required" || !errors.Is(e, ErrRequired) {
		t.Errorf("FieldError = %q", e.Error())
	}
}

func TestLogSlogLevel(t *testing.T) {
	for lvl, want := range map[string]string{"debug": "DEBUG", "info": "INFO", "warn": "WARN", "error": "ERROR", "": "INFO"} {
		if got := (Log{Level: lvl}).SlogLevel().String(); got != want {
			t.Errorf("SlogLevel(%q) = %s", lvl, got)
		}
	}
}
