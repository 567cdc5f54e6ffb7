package ecs

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

var update = flag.Bool("update", false, "rewrite golden files")

var (
	t0       = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	ingested = time.Date(2026, 3, 2, 10, 0, 5, 0, time.UTC)
	opts     = Options{Namespace: "default", Ingested: ingested}
)

func sampleEvent() schema.Event {
	return schema.Event{
		ID:        "ev-4769-1",
		Timestamp: t0,
		Event: schema.EventMeta{Kind: schema.KindKerberosServiceTicket, Code: "4769", Action: "service-ticket-requested",
			Outcome: "success", Provider: "Microsoft-Windows-Security-Auditing", Channel: "Security", Dataset: "winjson", RecordID: "88412"},
		Host:   schema.Host{Name: "dc01.contoso.local", Domain: "contoso.local", IP: "10.0.0.10"},
		User:   schema.User{Name: "alice", Domain: "CONTOSO", ID: "S-1-5-21-1-2-3-1104", Tags: []string{"sensitive"}},
		Source: schema.Endpoint{IP: "10.0.1.25", Port: 50123},
		Target: schema.Target{Service: "MSSQLSvc/sql01.contoso.local:1433", User: schema.User{Name: "svc_sql"}},
		Auth:   schema.Auth{Protocol: "kerberos", Kerberos: schema.Kerberos{Etype: "rc4-hmac", TicketOptions: "0x40810000", Status: "0x0"}},
		Original: map[string]string{
			"ServiceName": "svc_sql", "TicketEncryptionType": "0x17",
		},
	}
}

func sampleAlert() schema.Alert {
	return schema.Alert{
		ID:        "al-1",
		Timestamp: t0,
		Rule: schema.RuleRef{ID: "kerberoasting-rc4-burst", Title: "Kerberoasting — burst of RC4 service tickets",
			Description: "One account requests RC4 service tickets for many SPNs.\n", Kind: "distinct", MDI: []int{2410}},
		Severity:  schema.SeverityHigh,
		RiskScore: 73,
		Message:   `Kerberoasting by CONTOSO\alice: 6 RC4 service tickets`,
		Threat: schema.Threat{Framework: schema.FrameworkATTACK,
			Tactic: schema.Tactic{ID: "TA0006", Name: "Credential Access"}, Technique: schema.Technique{ID: "T1558.003"}},
		User:      schema.User{Name: "alice", Domain: "CONTOSO", ID: "S-1-5-21-1-2-3-1104"},
		Source:    schema.Endpoint{IP: "10.0.1.25"},
		Host:      schema.Host{Name: "dc01.contoso.local"},
		GroupKey:  map[string]string{"actor.user.id": "S-1-5-21-1-2-3-1104"},
		FirstSeen: t0.Add(-4 * time.Minute),
		LastSeen:  t0,
		Count:     6,
		EventIDs:  []string{"ev-1", "ev-2"},
		Values:    []string{"MSSQLSvc/sql01", "HTTP/web01"},
	}
}

func sampleIncident() schema.Incident {
	return schema.Incident{
		ID: "inc-1", Version: 3, Timestamp: t0, Status: schema.IncidentOpen,
		Title: `Credential access then lateral movement by CONTOSO\alice`, Severity: schema.SeverityCritical, RiskScore: 95,
		FirstSeen: t0.Add(-time.Hour), LastSeen: t0,
		Threat: schema.IncidentThreat{Framework: schema.FrameworkATTACK,
			Tactics:    []schema.Tactic{{ID: "TA0006", Name: "Credential Access"}, {ID: "TA0008", Name: "Lateral Movement"}},
			Techniques: []schema.Technique{{ID: "T1558.003", Name: "Kerberoasting"}, {ID: "T1550.002", Name: "Pass the Hash"}, {ID: "T1110"}}},
		Entities: schema.Entities{Users: []string{`CONTOSO\alice`}, Hosts: []string{"ws01"}, IPs: []string{"10.0.1.25", "not-an-ip"}},
		Alerts: []schema.AlertRef{
			{ID: "al-1", RuleID: "kerberoasting-rc4-burst", Title: "Kerberoasting", Severity: schema.SeverityHigh, Technique: "T1558.003", Tactic: "TA0006", User: `CONTOSO\alice`, Timestamp: t0.Add(-time.Hour)},
			{ID: "al-2", RuleID: "pth", Title: "Pass the hash", Severity: schema.SeverityCritical, Technique: "T1550.002", Tactic: "TA0008", Timestamp: t0},
		},
		Priority: []schema.IdentityPriority{{Identity: `CONTOSO\alice`, Score: 80, Percentile: 100, Factors: []schema.PriorityFactor{
			{Kind: "alert", RuleID: "pth", Title: "Pass the hash", Severity: schema.SeverityCritical, Technique: "T1550.002", Count: 1, Points: 50, LastSeen: t0},
			{Kind: "alert", RuleID: "kerberoasting-rc4-burst", Title: "Kerberoasting", Severity: schema.SeverityHigh, Technique: "T1558.003", Count: 1, Points: 30, LastSeen: t0.Add(-time.Hour)},
		}}},
	}
}

func sampleFinding() schema.Finding {
	return schema.Finding{ID: "fi-1", Timestamp: t0, AssessmentID: "unconstrained-delegation", Title: "Computers trusted for unconstrained delegation",
		Severity: schema.SeverityMedium, Status: "failed", Evidence: "userAccountControl has TRUSTED_FOR_DELEGATION",
		Entities: []string{"CONTOSO\\SRV01$"}, Remediation: "Use constrained delegation.",
		Threat: schema.Threat{Framework: schema.FrameworkATTACK, Tactic: schema.Tactic{ID: "TA0004"}, Technique: schema.Technique{ID: "T1134"}}}
}

func sampleAction() schema.Action {
	return schema.Action{ID: "ac-1", Timestamp: t0, Type: "disable_user", Mode: "enforce", Trigger: "operator:bob", IncidentID: "inc-1",
		Target: schema.User{Name: "alice", Domain: "CONTOSO", ID: "S-1-5-21-1-2-3-1104"}, Result: "succeeded", Before: "enabled", After: "disabled"}
}

func golden(t *testing.T, name string, doc Document) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	file := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (run go test -update and review the diff):\n%s", name, file, got)
	}
}

func TestGoldenDocuments(t *testing.T) {
	ev, al, in, fi, ac := sampleEvent(), sampleAlert(), sampleIncident(), sampleFinding(), sampleAction()
	golden(t, "event", FromEvent(&ev, opts))
	golden(t, "alert", FromAlert(&al, opts))
	golden(t, "incident", FromIncident(&in, opts))
	golden(t, "finding", FromFinding(&fi, opts))
	golden(t, "action", FromAction(&ac, opts))
}

// The fields Elastic Security's External Alerts rule reads are present and
// have the values it maps.
func TestAlertIsAnExternalAlert(t *testing.T) {
	al := sampleAlert()
	d := FromAlert(&al, opts)
	if d.Event.Kind != "alert" || d.Message != al.Message || d.Event.Severity != 73 || d.Event.RiskScore != 73 ||
		d.Event.Ingested == nil || !d.Event.Ingested.Equal(ingested) || d.Event.Module != "castellan" {
		t.Fatalf("external-alert fields: %+v message %q", d.Event, d.Message)
	}
	if d.DataStream != (DataStream{Type: "logs", Dataset: "castellan.alert", Namespace: "default"}) {
		t.Errorf("data_stream = %+v", d.DataStream)
	}
	for _, excluded := range []string{"endpoint", "endgame", "cloud_defend"} {
		if d.Event.Module == excluded {
			t.Errorf("event.module %q is excluded by the rule", excluded)
		}
	}
	in := sampleIncident()
	di := FromIncident(&in, opts)
	if di.Event.Kind != "alert" || di.DataStream != (DataStream{}) || di.Labels["incident_id"] != "inc-1" || di.Castellan.Incident.Version != 3 {
		t.Errorf("incident: kind %q data_stream %+v labels %v", di.Event.Kind, di.DataStream, di.Labels)
	}
}

func TestSeverityNumbers(t *testing.T) {
	want := map[schema.Severity]int{schema.SeverityInformational: 21, schema.SeverityLow: 21, schema.SeverityMedium: 47, schema.SeverityHigh: 73, schema.SeverityCritical: 99}
	for s, n := range want {
		if got := SeverityNumber(s); got != n {
			t.Errorf("%s → %d, want %d", s, got, n)
		}
	}
}

// ECS: a sub-technique goes to threat.technique.subtechnique.*, its parent
// to threat.technique.*; names come from the catalog when missing.
func TestThreatSubtechnique(t *testing.T) {
	th := threat([]schema.Tactic{{ID: "TA0006"}}, []schema.Technique{{ID: "T1558.003", Name: "Steal or Forge Kerberos Tickets: Kerberoasting"}, {ID: "T1558.004"}, {ID: "T1110"}})
	want := Threat{
		Framework: "MITRE ATT&CK",
		Tactic:    ThreatRef{ID: []string{"TA0006"}, Name: []string{"Credential Access"}, Reference: []string{"https://attack.mitre.org/tactics/TA0006/"}},
		Technique: ThreatTechnique{
			ID:        []string{"T1558", "T1110"},
			Name:      []string{"Steal or Forge Kerberos Tickets", "Brute Force"},
			Reference: []string{"https://attack.mitre.org/techniques/T1558/", "https://attack.mitre.org/techniques/T1110/"},
			Subtechnique: ThreatRef{
				ID:        []string{"T1558.003", "T1558.004"},
				Name:      []string{"Kerberoasting", "AS-REP Roasting"},
				Reference: []string{"https://attack.mitre.org/techniques/T1558/003/", "https://attack.mitre.org/techniques/T1558/004/"},
			},
		},
	}
	if !reflect.DeepEqual(th, want) {
		t.Fatalf("got  %+v\nwant %+v", th, want)
	}
	if th := threat(nil, nil); th.Framework != "" {
		t.Error("framework set without tactics or techniques")
	}
}

// ecsAllowed is the ECS 8.x table of event.type values allowed with each
// event.category (the categories used here).
var ecsAllowed = map[string][]string{
	"authentication":      {"start", "end", "info"},
	"iam":                 {"admin", "change", "creation", "deletion", "group", "info", "user"},
	"configuration":       {"access", "change", "creation", "deletion", "info"},
	"intrusion_detection": {"allowed", "denied", "info"},
	"host":                {"access", "change", "end", "info", "start"},
	"network":             {"access", "allowed", "connection", "denied", "end", "info", "protocol", "start"},
}

func TestEventCategoriesAreECS(t *testing.T) {
	for _, k := range schema.EventKinds {
		if _, ok := eventCategories[k]; !ok {
			t.Errorf("event kind %s has no ECS categorization", k)
		}
	}
	check := func(what string, cats, types []string) {
		for _, c := range cats {
			allowed, ok := ecsAllowed[c]
			if !ok {
				t.Errorf("%s: category %q not in the checked ECS table", what, c)
			}
			for _, ty := range types {
				if !slices.Contains(allowed, ty) {
					t.Errorf("%s: type %q not allowed with category %q", what, ty, c)
				}
			}
		}
	}
	for k, c := range eventCategories {
		check(string(k), c.category, c.typ)
	}
	ev, al, in, fi, ac := sampleEvent(), sampleAlert(), sampleIncident(), sampleFinding(), sampleAction()
	for name, d := range map[string]Document{"event": FromEvent(&ev, opts), "alert": FromAlert(&al, opts),
		"incident": FromIncident(&in, opts), "finding": FromFinding(&fi, opts), "action": FromAction(&ac, opts)} {
		check(name, d.Event.Category, d.Event.Type)
		switch d.Event.Kind {
		case "alert", "event", "state":
		default:
			t.Errorf("%s: event.kind %q", name, d.Event.Kind)
		}
	}
}

func TestInvalidIPsAreDropped(t *testing.T) {
	ev := sampleEvent()
	ev.Source.IP, ev.Host.IP = "-", "dc01"
	d := FromEvent(&ev, opts)
	if d.Source.IP != "" || d.Host.IP != "" || slices.Contains(d.Related.IP, "-") {
		t.Fatalf("invalid IPs kept: %+v %+v %v", d.Source, d.Host, d.Related.IP)
	}
}

func TestFromJSON(t *testing.T) {
	al := sampleAlert()
	body, _ := json.Marshal(al)
	d, err := FromJSON(schema.RecordAlert, body, opts)
	if err != nil {
		t.Fatal(err)
	}
	if want := FromAlert(&al, opts); !reflect.DeepEqual(d, want) {
		t.Fatalf("decoded alert maps differently:\n%+v\n%+v", d, want)
	}
	if _, err := FromJSON("bogus", body, opts); err == nil {
		t.Error("unknown kind accepted")
	}
	if _, err := FromJSON(schema.RecordEvent, []byte(`{"id":`), opts); err == nil {
		t.Error("bad JSON accepted")
	}
}

// fillAll sets every leaf of v to a non-zero value that is valid for its
// field (IP strings for IP fields, times for times).
func fillAll(v reflect.Value, name string) {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(t0))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			fillAll(v.Field(i), v.Type().Field(i).Name)
		}
	case reflect.String:
		if name == "IP" {
			v.SetString("10.1.2.3")
		} else {
			v.SetString("x")
		}
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int:
		v.SetInt(2)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := 0; i < 2; i++ {
			fillAll(s.Index(i), name)
		}
		v.Set(s)
	case reflect.Map:
		v.Set(reflect.ValueOf(map[string]string{"a.b": "x"}))
	}
}

func fullDocuments(t *testing.T) map[string]Document {
	t.Helper()
	var ev schema.Event
	var al schema.Alert
	var in schema.Incident
	var fi schema.Finding
	var ac schema.Action
	for _, p := range []any{&ev, &al, &in, &fi, &ac} {
		fillAll(reflect.ValueOf(p).Elem(), "")
	}
	ev.Event.Kind = schema.KindLogon
	in.Entities.IPs = []string{"10.1.2.3"}
	al.Severity, in.Severity, fi.Severity = schema.SeverityHigh, schema.SeverityHigh, schema.SeverityHigh
	al.Threat.Technique.ID, fi.Threat.Technique.ID = "T1558.003", "T1558.003"
	in.Threat.Techniques = []schema.Technique{{ID: "T1558.003"}, {ID: "T1110"}}
	ev.User.IsDC = true
	return map[string]Document{
		"event": FromEvent(&ev, opts), "alert": FromAlert(&al, opts), "incident": FromIncident(&in, opts),
		"finding": FromFinding(&fi, opts), "action": FromAction(&ac, opts),
	}
}

// mapping is the subset of an Elasticsearch mapping the test reads.
type mapping struct {
	Type       string             `json:"type"`
	Properties map[string]mapping `json:"properties"`
}

func componentMappings(t *testing.T) (props map[string]mapping, dynamic []map[string]struct {
	PathMatch string `json:"path_match"`
	Mapping   mapping
}) {
	t.Helper()
	for _, tpl := range Templates() {
		if tpl.Kind != ComponentTemplate || tpl.Name != "castellan@mappings" {
			continue
		}
		var c struct {
			Template struct {
				Mappings struct {
					Properties       map[string]mapping `json:"properties"`
					DynamicTemplates []map[string]struct {
						PathMatch string `json:"path_match"`
						Mapping   mapping
					} `json:"dynamic_templates"`
				} `json:"mappings"`
			} `json:"template"`
		}
		if err := json.Unmarshal(tpl.Body, &c); err != nil {
			t.Fatal(err)
		}
		return c.Template.Mappings.Properties, c.Template.Mappings.DynamicTemplates
	}
	t.Fatal("component template castellan@mappings missing")
	return nil, nil
}

// leaves flattens a JSON document into dotted paths → values (arrays of
// scalars and of objects are walked element-wise).
func leaves(prefix string, v any, out map[string][]any) {
	switch x := v.(type) {
	case map[string]any:
		for k, sub := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			leaves(p, sub, out)
		}
	case []any:
		for _, e := range x {
			leaves(prefix, e, out)
		}
	default:
		out[prefix] = append(out[prefix], x)
	}
}

// Every field a fully populated document of each kind emits has a mapping in
// the component template, of a type that accepts the value.
func TestTemplateMapsEveryEmittedField(t *testing.T) {
	props, dyn := componentMappings(t)
	for kind, doc := range fullDocuments(t) {
		body, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		fields := map[string][]any{}
		leaves("", m, fields)
		paths := make([]string, 0, len(fields))
		for p := range fields {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		for _, p := range paths {
			typ := lookup(props, p)
			if typ == "" {
				for _, d := range dyn {
					for _, dt := range d {
						if ok, _ := path.Match(dt.PathMatch, p); ok {
							typ = dt.Mapping.Type
						}
					}
				}
			}
			if typ == "" {
				t.Errorf("%s: field %s has no mapping in castellan@mappings", kind, p)
				continue
			}
			for _, v := range fields[p] {
				if err := accepts(typ, v); err != nil {
					t.Errorf("%s: field %s (%s): %v", kind, p, typ, err)
				}
			}
		}
	}
}

// lookup returns the type mapped at a dotted path; a flattened field covers
// everything below it.
func lookup(props map[string]mapping, p string) string {
	parts := strings.Split(p, ".")
	cur := props
	for i := 0; i < len(parts); i++ {
		m, ok := cur[parts[i]]
		if !ok {
			return ""
		}
		if m.Type == "flattened" {
			return "flattened"
		}
		if i == len(parts)-1 {
			if m.Properties != nil && m.Type == "" {
				return "" // an object, not a leaf
			}
			return m.Type
		}
		cur = m.Properties
	}
	return ""
}

func accepts(typ string, v any) error {
	switch typ {
	case "keyword", "constant_keyword", "match_only_text", "flattened":
		if _, ok := v.(string); !ok && typ != "flattened" {
			return fmt.Errorf("value %v (%T) is not a string", v, v)
		}
	case "date":
		s, ok := v.(string)
		if _, err := time.Parse(time.RFC3339Nano, s); !ok || err != nil {
			return fmt.Errorf("value %v is not an RFC 3339 date", v)
		}
	case "ip":
		s, _ := v.(string)
		if _, err := netip.ParseAddr(s); err != nil {
			return fmt.Errorf("value %v is not an IP", v)
		}
	case "long":
		f, ok := v.(float64)
		if !ok || f != float64(int64(f)) {
			return fmt.Errorf("value %v is not an integer", v)
		}
	case "float":
		if _, ok := v.(float64); !ok {
			return fmt.Errorf("value %v is not a number", v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("value %v is not a boolean", v)
		}
	default:
		return fmt.Errorf("unchecked mapping type %q", typ)
	}
	return nil
}

// The template test above would pass vacuously if the walk found nothing.
func TestTemplateCheckIsNotHollow(t *testing.T) {
	props, _ := componentMappings(t)
	if lookup(props, "event.severity") != "long" || lookup(props, "source.ip") != "ip" ||
		lookup(props, "castellan.original.anything") != "flattened" || lookup(props, "user") != "" ||
		lookup(props, "castellan.incident.alerts.@timestamp") != "date" {
		t.Fatal("lookup does not resolve known mappings")
	}
	if accepts("ip", "x") == nil || accepts("long", 1.5) == nil || accepts("date", "yesterday") == nil {
		t.Fatal("accepts is too lenient")
	}
	fields := map[string][]any{}
	body, _ := json.Marshal(fullDocuments(t)["event"])
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	leaves("", m, fields)
	if len(fields) < 60 {
		t.Fatalf("a full event emits only %d fields", len(fields))
	}
}

func TestTemplates(t *testing.T) {
	tpls := Templates()
	var names []string
	seenIndex := false
	patterns := map[string][]string{}
	for _, tpl := range tpls {
		names = append(names, tpl.Kind+":"+tpl.Name)
		if tpl.Kind == ComponentTemplate && seenIndex {
			t.Error("component template after an index template")
		}
		seenIndex = seenIndex || tpl.Kind == IndexTemplate
		var body struct {
			IndexPatterns []string  `json:"index_patterns"`
			DataStream    *struct{} `json:"data_stream"`
			ComposedOf    []string  `json:"composed_of"`
			Priority      int       `json:"priority"`
		}
		if err := json.Unmarshal(tpl.Body, &body); err != nil {
			t.Fatalf("%s: %v", tpl.Name, err)
		}
		if tpl.Kind == IndexTemplate {
			if !slices.Contains(body.ComposedOf, "castellan@mappings") || body.Priority <= 100 {
				t.Errorf("%s: composed_of %v priority %d", tpl.Name, body.ComposedOf, body.Priority)
			}
			patterns[tpl.Name] = body.IndexPatterns
			if (body.DataStream != nil) != (tpl.Name == "logs-castellan") {
				t.Errorf("%s: data_stream %v", tpl.Name, body.DataStream != nil)
			}
		}
	}
	if got := strings.Join(names, ","); got != "component:castellan@mappings,index:castellan-incidents,index:logs-castellan" {
		t.Fatalf("templates %s", got)
	}
	matches := func(tpl, name string) bool {
		for _, p := range patterns[tpl] {
			if ok, _ := path.Match(p, name); ok {
				return true
			}
		}
		return false
	}
	for _, ds := range []string{DatasetAlert, DatasetEvent, DatasetFinding, DatasetAction} {
		if n := DataStreamName(ds, "prod"); !matches("logs-castellan", n) {
			t.Errorf("%s not covered by logs-castellan", n)
		}
	}
	if !matches("castellan-incidents", IncidentIndex("prod")) || matches("logs-castellan", IncidentIndex("prod")) {
		t.Error("incident index pattern")
	}
	if tp := tpls[0].Path(); tp != "/_component_template/castellan@mappings" {
		t.Errorf("path %s", tp)
	}
}

func BenchmarkFromJSONAlert(b *testing.B) {
	al := sampleAlert()
	body, _ := json.Marshal(al)
	b.ReportAllocs()
	for b.Loop() {
		d, err := FromJSON(schema.RecordAlert, body, opts)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(d); err != nil {
			b.Fatal(err)
		}
	}
}
