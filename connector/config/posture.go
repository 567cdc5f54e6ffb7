package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/castellan-itdr/castellan/detections/posture/cron"
)

// Posture configures identity posture assessment: the directory
// collectors, the daemon's schedule, the report and the sinks findings go
// to.
type Posture struct {
	// LDAP is the Active Directory collector's config, decoded through
	// Registry.Posture["ldap"]; required when the section is present.
	LDAP Validator `yaml:"ldap,omitempty"`
	// Entra is the optional Entra ID collector's config, decoded through
	// Registry.Posture["entra"].
	Entra Validator `yaml:"entra,omitempty"`
	// Schedule is a five-field cron expression (minute hour day-of-month
	// month day-of-week, or @daily …) on which the daemon collects,
	// assesses and exports, in local time; empty: only "castellan posture
	// run" assesses.
	Schedule string `yaml:"schedule,omitempty"`
	// Report is the path the HTML report is written to after each run;
	// empty: no report file (posture run --report still writes one).
	Report string `yaml:"report,omitempty"`
	// Sinks lists the sink ids findings go to; default every configured
	// sink whose selection takes findings.
	Sinks []string `yaml:"sinks,omitempty"`
}

// Enabled reports the file has a posture section with content.
func (p Posture) Enabled() bool {
	return p.LDAP != nil || p.Entra != nil || p.Schedule != "" || p.Report != "" || len(p.Sinks) > 0
}

// posture decodes the posture section: its collectors through the
// registry, the other keys as plain values.
func (d *decoder) posture(n *yaml.Node, out *Posture, ctors map[string]func() Validator) {
	const path = "posture"
	n = d.deref(n, path)
	if n == nil || isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, path, "must be a mapping, got %s", kindName(n.Kind))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key, ok := d.key(k, path, seen)
		if !ok {
			continue
		}
		switch key {
		case "ldap", "entra":
			ctor := ctors[key]
			if ctor == nil {
				d.errorf(k.Line, path, "no %s collector is registered", key)
				continue
			}
			c := ctor()
			d.decode(v, path+"."+key, reflect.ValueOf(c).Elem(), 0)
			if key == "ldap" {
				out.LDAP = c
			} else {
				out.Entra = c
			}
		case "schedule":
			d.decode(v, path+".schedule", reflect.ValueOf(&out.Schedule).Elem(), 0)
		case "report":
			d.decode(v, path+".report", reflect.ValueOf(&out.Report).Elem(), 0)
		case "sinks":
			d.decode(v, path+".sinks", reflect.ValueOf(&out.Sinks).Elem(), 0)
		default:
			d.unknown(k, path, key, []string{"ldap", "entra", "schedule", "report", "sinks"})
		}
	}
}

func (p Posture) validate(v *validation, sinks map[string]Component) {
	if !p.Enabled() {
		return
	}
	if p.LDAP == nil || isNilPointer(p.LDAP) {
		v.add("posture.ldap", ErrRequired)
	} else {
		for _, err := range leaves(p.LDAP.Validate()) {
			v.errs = append(v.errs, prefixed("posture.ldap", err))
		}
	}
	if p.Entra != nil && !isNilPointer(p.Entra) {
		for _, err := range leaves(p.Entra.Validate()) {
			v.errs = append(v.errs, prefixed("posture.entra", err))
		}
	}
	if p.Schedule != "" {
		if _, err := cron.Parse(p.Schedule); err != nil {
			v.add("posture.schedule", errors.New(strings.TrimPrefix(err.Error(), "cron: ")))
		}
	}
	for i, id := range p.Sinks {
		if _, ok := sinks[id]; !ok {
			v.add(fmt.Sprintf("posture.sinks[%d]", i), fmt.Errorf("no sink %q is configured", id))
		}
	}
}
