package config

import (
	"errors"
	"strings"
	"testing"
)

type fakeCollector struct {
	URL      string `yaml:"url"`
	PageSize int    `yaml:"page_size"`
}

func (c *fakeCollector) Validate() error {
	if c.URL == "" {
		return errors.New("url: required")
	}
	return nil
}

func postureRegistry() Registry {
	r := testRegistry()
	r.Posture = map[string]func() Validator{"ldap": func() Validator { return &fakeCollector{PageSize: 500} }}
	return r
}

func TestPostureSection(t *testing.T) {
	cfg, err := Parse([]byte(`
sinks:
  stdout: {}
posture:
  ldap: { url: "ldaps://dc1.lab.test" }
  schedule: "0 3 * * *"
  report: /var/lib/castellan/posture.html
  sinks: [stdout]
`), "c.yaml", postureRegistry())
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Posture
	l, ok := p.LDAP.(*fakeCollector)
	if !ok || l.URL != "ldaps://dc1.lab.test" || l.PageSize != 500 || p.Schedule != "0 3 * * *" || p.Report == "" || len(p.Sinks) != 1 || !p.Enabled() {
		t.Fatalf("posture = %+v (ldap %+v)", p, p.LDAP)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	none, err := Parse([]byte("sinks: {stdout: {}}\n"), "", postureRegistry())
	if err != nil || none.Posture.Enabled() || none.Validate() != nil {
		t.Errorf("no posture section: %+v %v", none.Posture, err)
	}
}

func TestPostureErrors(t *testing.T) {
	for name, c := range map[string]struct {
		yaml string
		reg  Registry
		want []string // in Parse or Validate errors
	}{
		"unknown key":        {"posture: {ldap: {url: x}, shedule: daily}", postureRegistry(), []string{`c.yaml:2: posture: unknown field "shedule" (did you mean "schedule"?)`}},
		"unknown ldap key":   {"posture: {ldap: {url: x, pagesize: 3}}", postureRegistry(), []string{`posture.ldap: unknown field "pagesize"`}},
		"no collector":       {"posture: {ldap: {url: x}}", testRegistry(), []string{"posture: no ldap collector is registered"}},
		"not a mapping":      {"posture: [1]", postureRegistry(), []string{"posture: must be a mapping, got a list"}},
		"ldap required":      {"posture: {schedule: '@daily'}", postureRegistry(), []string{"posture.ldap: required"}},
		"collector problems": {"posture: {ldap: {page_size: 3}}", postureRegistry(), []string{"posture.ldap.url: required"}},
		"bad schedule":       {"posture: {ldap: {url: x}, schedule: '61 * * * *'}", postureRegistry(), []string{"posture.schedule: minute: \"61\" is not a value in 0-59"}},
		"unknown sink":       {"posture: {ldap: {url: x}, sinks: [stdout, splunk]}", postureRegistry(), []string{`posture.sinks[1]: no sink "splunk" is configured`}},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := Parse([]byte("sinks: {stdout: {}}\n"+c.yaml+"\n"), "c.yaml", c.reg)
			if err == nil {
				err = cfg.Validate()
			}
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
}
