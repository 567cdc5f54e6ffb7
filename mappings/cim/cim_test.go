package cim

import (
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// modelFields are the CIM 6.x field names of each data model we populate
// (shared/reference/siem-and-graph-apis.md §3.5; help.splunk.com Common
// Information Model data models Alerts, Authentication, Change).
var modelFields = map[string][]string{
	Authentication: {"action", "app", "authentication_method", "authentication_service", "dest", "dest_nt_domain",
		"duration", "reason", "response_time", "signature", "signature_id", "src", "src_user", "src_user_id",
		"src_user_type", "tag", "user", "user_id", "user_agent", "user_role", "user_type", "vendor_account"},
	Alerts: {"app", "description", "dest", "dest_type", "id", "mitre_technique_id", "severity", "severity_id",
		"signature", "signature_id", "src", "src_type", "type", "user", "user_name", "vendor_account", "vendor_region",
		// Splunk Enterprise Security's ATT&CK annotation object.
		"annotations"},
	Change: {"action", "change_type", "command", "dest", "object", "object_attrs", "object_category", "object_id",
		"object_path", "result", "result_id", "src", "status", "user", "user_name", "user_type", "vendor_account"},
	"": {"app"},
}

// enums are the CIM value lists of the enumerated fields, per model.
var enums = map[string]map[string][]string{
	Authentication: {"action": {"success", "failure", "pending", "error"}},
	Alerts: {"severity": {"critical", "high", "medium", "low", "informational", "unknown"},
		"type": {"alarm", "alert", "event", "task", "warning"}},
	Change: {"action": {"created", "deleted", "modified", "updated", "read", "acl_modified", "cleared", "stopped"},
		"status": {"success", "failure"}},
}

var ts = time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)

func samples() []schema.Record {
	alice := schema.User{Name: "alice", Domain: "CONTOSO", ID: "S-1-5-21-1-2-3-1104", UPN: "alice@contoso.com"}
	var recs []schema.Record
	for _, k := range schema.EventKinds {
		e := schema.Event{ID: "e-" + string(k), Timestamp: ts,
			Event:  schema.EventMeta{Kind: k, Code: "4769", Action: "act", Outcome: schema.OutcomeFailure, Reason: "bad password"},
			Host:   schema.Host{Name: "dc01.contoso.local", Domain: "contoso.local"},
			User:   alice,
			Source: schema.Endpoint{IP: "10.0.0.5"}, Destination: schema.Endpoint{Hostname: "srv01"},
			Target:    schema.Target{User: schema.User{Name: "bob", Domain: "CONTOSO"}, Service: "MSSQLSvc/sql01"},
			Auth:      schema.Auth{Protocol: "kerberos"},
			Directory: schema.Directory{Object: schema.DirObject{DN: "CN=bob,DC=contoso", Class: "user"}, Attribute: "servicePrincipalName", Operation: "modify"},
			Cloud:     schema.Cloud{App: "Azure Portal", TenantID: "t1", UserAgent: "curl", Operation: "Update user"},
		}
		recs = append(recs, e)
	}
	recs = append(recs,
		schema.Alert{ID: "a1", Rule: schema.RuleRef{ID: "kerberoasting-rc4-burst", Title: "Kerberoasting"}, Severity: schema.SeverityHigh,
			Message: "m", User: alice, Source: schema.Endpoint{IP: "10.0.0.5"}, Host: schema.Host{Name: "dc01"},
			Threat: schema.Threat{Technique: schema.Technique{ID: "T1558.003"}}},
		schema.Incident{ID: "i1", Title: "chain", Severity: schema.SeverityCritical,
			Entities: schema.Entities{Users: []string{`CONTOSO\alice`}, Hosts: []string{"ws1"}, IPs: []string{"10.0.0.5"}},
			Threat:   schema.IncidentThreat{Techniques: []schema.Technique{{ID: "T1558.003"}, {ID: "T1003.006"}}}},
		schema.Finding{ID: "f1", AssessmentID: "unconstrained-delegation", Title: "Unconstrained delegation", Severity: schema.SeverityMedium,
			Status: "failed", Evidence: "userAccountControl has TRUSTED_FOR_DELEGATION", Entities: []string{"CN=srv01"}},
		schema.Action{ID: "x1", Type: "disable_user", Mode: "enforce", Trigger: "operator:jane", Target: alice, Result: "succeeded"},
	)
	return recs
}

func TestFieldsAreFromTheDataModel(t *testing.T) {
	for _, r := range samples() {
		model := DataModel(r)
		allowed := map[string]bool{}
		for _, f := range modelFields[model] {
			allowed[f] = true
		}
		got := Fields(r)
		if len(got) == 0 {
			t.Errorf("%s %s: no CIM fields", r.RecordKind(), r.RecordID())
		}
		for k, v := range got {
			if !allowed[k] {
				t.Errorf("%s %s (%s): %q is not a %q data model field", r.RecordKind(), r.RecordID(), model, k, model)
			}
			if vals, ok := enums[model][k]; ok {
				s, _ := v.(string)
				if !contains(vals, s) {
					t.Errorf("%s %s: %s=%v is not one of %v", r.RecordKind(), r.RecordID(), k, v, vals)
				}
			}
		}
	}
}

func TestMappingValues(t *testing.T) {
	recs := samples()
	byID := map[string]map[string]any{}
	for _, r := range recs {
		byID[r.RecordID()] = Fields(r)
	}
	checks := []struct{ id, field, want string }{
		{"e-kerberos_service_ticket", "action", "failure"},
		{"e-kerberos_service_ticket", "user", "alice"},
		{"e-kerberos_service_ticket", "src", "10.0.0.5"},
		{"e-kerberos_service_ticket", "dest", "MSSQLSvc/sql01"},
		{"e-kerberos_service_ticket", "app", "win:kerberos"},
		{"e-cloud_signin", "app", "Azure Portal"},
		{"e-cloud_signin", "authentication_service", "Microsoft Entra ID"},
		{"e-account_change", "object", `CONTOSO\bob`},
		{"e-account_change", "object_category", "user"},
		{"e-directory_change", "action", "modified"},
		{"e-cloud_audit", "command", "Update user"},
		{"a1", "signature", "Kerberoasting"},
		{"a1", "signature_id", "kerberoasting-rc4-burst"},
		{"a1", "severity", "high"},
		{"a1", "mitre_technique_id", "T1558.003"},
		{"a1", "user", `CONTOSO\alice`},
		{"a1", "app", "castellan"},
		{"a1", "type", "alert"},
		{"f1", "type", "warning"},
		{"x1", "status", "success"},
		{"x1", "object", `CONTOSO\alice`},
	}
	for _, c := range checks {
		if got := byID[c.id][c.field]; got != c.want {
			t.Errorf("%s.%s = %v; want %q", c.id, c.field, got, c.want)
		}
	}
	if got := byID["i1"]["mitre_technique_id"]; strings.Join(got.([]string), ",") != "T1558.003,T1003.006" {
		t.Errorf("incident techniques %v", got)
	}
	if _, ok := byID["e-other"]["action"]; ok {
		t.Error("events of other kinds map to no data model")
	}
}

// TestSplunkApp checks the app files against the mapping: one props stanza
// per sourcetype, eventtypes that cover exactly the event kinds of each data
// model, and tags that name existing eventtypes and CIM tags.
func TestSplunkApp(t *testing.T) {
	read := func(name string) map[string]map[string]string {
		b, err := SplunkApp.ReadFile("splunk/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return Stanzas(string(b))
	}
	props, evtypes, tags := read("props.conf"), read("eventtypes.conf"), read("tags.conf")

	var want, got []string
	for _, k := range Sourcetypes {
		want = append(want, "castellan:"+k)
	}
	for st, kv := range props {
		got = append(got, st)
		if kv["KV_MODE"] != "json" || kv["TIME_PREFIX"] == "" || kv["TIME_FORMAT"] == "" {
			t.Errorf("props [%s]: want KV_MODE=json, TIME_PREFIX and TIME_FORMAT: %v", st, kv)
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("props.conf sourcetypes %v; want %v", got, want)
	}

	// Event kinds listed per eventtype must match DataModel.
	kindRE := regexp.MustCompile(`"([a-z_]+)"`)
	modelOf := map[string]string{}
	for name, kv := range evtypes {
		search := kv["search"]
		if search == "" {
			t.Errorf("eventtype %s has no search", name)
		}
		if !strings.Contains(search, `event.kind IN`) {
			continue
		}
		_, list, _ := strings.Cut(search, "IN")
		for _, m := range kindRE.FindAllStringSubmatch(list, -1) {
			if prev, dup := modelOf[m[1]]; dup {
				t.Errorf("event kind %s in eventtypes %s and %s", m[1], prev, name)
			}
			modelOf[m[1]] = name
		}
	}
	tagModel := map[string]string{"authentication": Authentication, "change": Change, "alert": Alerts}
	for _, k := range schema.EventKinds {
		model := DataModel(schema.Event{Event: schema.EventMeta{Kind: k}})
		et := modelOf[string(k)]
		if (model == "") != (et == "") {
			t.Errorf("event kind %s: data model %q but eventtype %q", k, model, et)
			continue
		}
		if et != "" && tagModel[firstModelTag(tags["eventtype="+et])] != model {
			t.Errorf("event kind %s: eventtype %s is tagged %v; want the %s tag", k, et, tags["eventtype="+et], model)
		}
	}
	for stanza, kv := range tags {
		et := strings.TrimPrefix(stanza, "eventtype=")
		if _, ok := evtypes[et]; !ok {
			t.Errorf("tags.conf [%s]: no such eventtype", stanza)
		}
		for tag, v := range kv {
			if v != "enabled" || !contains([]string{"authentication", "change", "account", "alert"}, tag) {
				t.Errorf("tags.conf [%s] %s = %s", stanza, tag, v)
			}
		}
	}
	// Every sourcetype other than castellan:event is covered by an eventtype.
	for _, k := range Sourcetypes[1:] {
		found := false
		for _, kv := range evtypes {
			found = found || strings.Contains(kv["search"], `sourcetype="castellan:`+k+`"`)
		}
		if !found {
			t.Errorf("no eventtype covers castellan:%s", k)
		}
	}
}

func firstModelTag(kv map[string]string) string {
	for _, t := range []string{"authentication", "alert", "change"} {
		if kv[t] == "enabled" {
			return t
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// AppendFields is sorted by name, names are unique, and it appends after
// what dst holds.
func TestAppendFieldsSortedAndUnique(t *testing.T) {
	for _, r := range samples() {
		pre := []Field{{Name: "zz-existing"}}
		got := AppendFields(pre, r)
		if got[0].Name != "zz-existing" {
			t.Fatalf("%s: dst overwritten", r.RecordID())
		}
		fs := got[1:]
		if len(fs) == 0 || len(fs) != len(Fields(r)) {
			t.Errorf("%s: %d fields, Fields has %d", r.RecordID(), len(fs), len(Fields(r)))
		}
		for i := 1; i < len(fs); i++ {
			if fs[i-1].Name >= fs[i].Name {
				t.Errorf("%s: %q before %q: not sorted or not unique", r.RecordID(), fs[i-1].Name, fs[i].Name)
			}
		}
	}
	if Fields(struct{ schema.Record }{}) != nil {
		t.Error("an unknown record type has no fields")
	}
}

func BenchmarkAppendFieldsAlert(b *testing.B) {
	var a schema.Record
	for _, r := range samples() {
		if r.RecordKind() == schema.RecordAlert {
			a = r
		}
	}
	buf := make([]Field, 0, 32)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendFields(buf[:0], a)
	}
}
