package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const secretValue = "hunter2-very-secret"

func TestSecretRedaction(t *testing.T) {
	t.Setenv("CASTELLAN_TEST_SECRET", secretValue)
	c, err := Parse([]byte("sinks:\n  splunk/prod: {path: /x, token: \"${env:CASTELLAN_TEST_SECRET}\"}\n"), "c.yaml", testRegistry())
	if err != nil {
		t.Fatal(err)
	}
	sink := c.Sinks["splunk/prod"].Config.(*fakeSink)
	if sink.Token.Value() != secretValue {
		t.Fatalf("Value() = %q", sink.Token.Value())
	}
	s := sink.Token

	var outputs = map[string]string{}
	for _, verb := range []string{"%v", "%s", "%+v", "%#v", "%q", "%x", "%10s"} {
		outputs["secret "+verb] = fmt.Sprintf(verb, s)
		outputs["sink "+verb] = fmt.Sprintf(verb, sink)
		outputs["sink value "+verb] = fmt.Sprintf(verb, *sink)
	}
	outputs["String"] = s.String()
	outputs["Sprint"] = fmt.Sprint(s, sink, *sink)
	outputs["Sprintln"] = fmt.Sprintln(s)

	text, _ := s.MarshalText()
	outputs["text"] = string(text)
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs["json config"] = string(js)
	js, _ = json.Marshal(s)
	outputs["json secret"] = string(js)
	y, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs["yaml config"] = string(y)

	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "token", s, "sink", sink, "cfg", *sink)
	outputs["slog text"] = buf.String()
	buf.Reset()
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "token", s, "sink", sink, "config", c)
	outputs["slog json"] = buf.String()

	for name, out := range outputs {
		if strings.Contains(out, secretValue) {
			t.Errorf("%s leaks the secret: %s", name, out)
		}
	}
	for _, name := range []string{"secret %v", "secret %s", "secret %+v", "sink %v", "sink %+v", "json config", "yaml config", "slog text", "slog json", "text"} {
		if !strings.Contains(outputs[name], "[REDACTED]") {
			t.Errorf("%s does not show [REDACTED]: %s", name, outputs[name])
		}
	}
	if outputs["secret %q"] != `"[REDACTED]"` || outputs["json secret"] != `"[REDACTED]"` {
		t.Errorf("%%q = %s, json = %s", outputs["secret %q"], outputs["json secret"])
	}
}

func TestSecretEmpty(t *testing.T) {
	var s Secret
	if got := fmt.Sprintf("%v|%s|%q", s, s, s); got != `||""` {
		t.Errorf("empty secret prints %s", got)
	}
}

func TestSecretUnmarshal(t *testing.T) {
	var v struct {
		S Secret `yaml:"s"`
	}
	if err := yaml.Unmarshal([]byte("s: 12345\n"), &v); err != nil || v.S.Value() != "12345" {
		t.Errorf("got %q, %v", v.S.Value(), err)
	}
	if err := yaml.Unmarshal([]byte("s: [a]\n"), &v); err == nil {
		t.Error("list accepted as a secret")
	}
}
