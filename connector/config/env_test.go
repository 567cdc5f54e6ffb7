package config

import (
	"reflect"
	"testing"
)

func TestExpandEnv(t *testing.T) {
	env := map[string]string{"TOKEN": "s3cr3t", "EMPTY": "", "N": "42", "YAML": "a: [b]\nc: {d: e}"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tests := []struct {
		in, want string
		errs     []string
	}{
		{"${env:TOKEN}", "s3cr3t", nil},
		{"Bearer ${env:TOKEN}!", "Bearer s3cr3t!", nil},
		{"${env:TOKEN}${env:N}", "s3cr3t42", nil},
		{"${env:EMPTY}", "", nil},
		{"$${env:TOKEN}", "${env:TOKEN}", nil},
		{"a$${env:TOKEN}b${env:N}", "a${env:TOKEN}b42", nil},
		{"$$ and $HOME and ${HOME} and ${env:N}", "$$ and $HOME and ${HOME} and 42", nil},
		{"${env:MISSING}", "", []string{"environment variable MISSING is not set"}},
		{"x${env:MISSING}y${env:ALSO}", "xy", []string{"environment variable MISSING is not set", "environment variable ALSO is not set"}},
		{"${env:}", "", []string{`invalid environment variable name "" in ${env:...}`}},
		{"${env:A-B}", "", []string{`invalid environment variable name "A-B" in ${env:...}`}},
		{"${env:TOKEN", "${env:TOKEN", []string{"unterminated ${env:...} reference"}},
		{"$${env:TOKEN", "${env:TOKEN", nil},
	}
	for _, tt := range tests {
		got, errs := expandEnv(tt.in, lookup)
		var msgs []string
		for _, e := range errs {
			msgs = append(msgs, e.Error())
		}
		if got != tt.want || !reflect.DeepEqual(msgs, tt.errs) {
			t.Errorf("expandEnv(%q) = %q, %q; want %q, %q", tt.in, got, msgs, tt.want, tt.errs)
		}
	}
}

func TestParseEnv(t *testing.T) {
	t.Setenv("CASTELLAN_TEST_TOKEN", "s3cr3t")
	t.Setenv("CASTELLAN_TEST_BATCH", "250")
	t.Setenv("CASTELLAN_TEST_WINDOW", "2h")
	t.Setenv("CASTELLAN_TEST_INJECT", "x\nsinks: {evil: {}}")
	t.Setenv("CASTELLAN_TEST_NULL", "~")
	in := `correlation:
  window: ${env:CASTELLAN_TEST_WINDOW}
detections:
  honeytokens: ["${env:CASTELLAN_TEST_INJECT}", "$${env:LITERAL}"]
sinks:
  file:
    path: ${env:CASTELLAN_TEST_NULL}
    token: ${env:CASTELLAN_TEST_TOKEN}
    batch_size: ${env:CASTELLAN_TEST_BATCH}
  splunk: {path: x, token: "${env:CASTELLAN_TEST_BATCH}", batch_size: '${env:CASTELLAN_TEST_BATCH}'}
`
	c, err := Parse([]byte(in), "c.yaml", testRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if c.Correlation.Window.String() != "2h0m0s" {
		t.Errorf("window = %v", c.Correlation.Window)
	}
	f := c.Sinks["file"].Config.(*fakeSink)
	if f.Token.Value() != "s3cr3t" || f.BatchSize != 250 || f.Path != "~" {
		t.Errorf("file sink = %#v (token %q)", f, f.Token.Value())
	}
	if got := c.Sinks["splunk"].Config.(*fakeSink); got.Token.Value() != "250" || got.BatchSize != 250 {
		t.Errorf("quoted references: secret = %q, batch_size = %d", got.Token.Value(), got.BatchSize)
	}
	want := []string{"x\nsinks: {evil: {}}", "${env:LITERAL}"}
	if !reflect.DeepEqual(c.Detections.Honeytokens, want) {
		t.Errorf("honeytokens = %q, want %q", c.Detections.Honeytokens, want)
	}
	if len(c.Sinks) != 2 {
		t.Errorf("an env value injected structure: sinks = %v", c.Sinks)
	}
}

func TestParseEnvMissing(t *testing.T) {
	in := `log:
  level: info
sinks:
  file:
    path: /x
    token: ${env:CASTELLAN_TEST_SURELY_UNSET}
detections:
  rules: [builtin, "${env:CASTELLAN_TEST_ALSO_UNSET}/rules"]
`
	_, err := Parse([]byte(in), "c.yaml", testRegistry())
	want := []string{
		"c.yaml:6: sinks.file.token: environment variable CASTELLAN_TEST_SURELY_UNSET is not set",
		"c.yaml:8: detections.rules[1]: environment variable CASTELLAN_TEST_ALSO_UNSET is not set",
	}
	if got := Problems(err); !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n got %q\nwant %q", got, want)
	}
}
