package ecs

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/mappings/mitre"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Options are the per-write parts of a document.
type Options struct {
	// Namespace fills data_stream.* for documents bound to a data stream
	// (every kind except incidents). Empty leaves data_stream out.
	Namespace string
	// Ingested is event.ingested, the time the connector hands the document
	// to Elasticsearch. The External Alerts rule windows on it. Zero omits it.
	Ingested time.Time
}

// DataStreamName is the data stream a dataset is written to in a namespace:
// logs-<dataset>-<namespace>.
func DataStreamName(dataset, namespace string) string {
	return "logs-" + dataset + "-" + namespace
}

// IncidentIndex is the plain index incidents are written to with op
// "index" and _id = incident id, so each new version overwrites the last
// and the index always shows the latest one. Data streams are append-only
// (op "create" only), which is why incidents are not in one.
func IncidentIndex(namespace string) string { return "castellan-incidents-" + namespace }

// SeverityNumber maps a severity onto event.severity: 21, 47, 73, 99, the
// values the External Alerts rule maps to low, medium, high and critical.
// Informational maps to 21 (Elastic Security has no lower level).
func SeverityNumber(s schema.Severity) int {
	return [...]int{21, 21, 47, 73, 99}[max(0, min(int(s), 4))]
}

func riskScore(score int, s schema.Severity) float64 {
	if score > 0 {
		return float64(min(score, 100))
	}
	return float64(s.RiskScore())
}

func base(ts time.Time, dataset, kind string, o Options, stream bool) Document {
	d := Document{
		Timestamp: ts.UTC(),
		ECS:       ECSMeta{Version: Version},
		Event:     Event{Module: Module, Dataset: dataset},
		Castellan: Castellan{Kind: kind},
	}
	if stream && o.Namespace != "" {
		d.DataStream = DataStream{Type: "logs", Dataset: dataset, Namespace: o.Namespace}
	}
	if !o.Ingested.IsZero() {
		t := o.Ingested.UTC()
		d.Event.Ingested = &t
	}
	return d
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// FromAlert maps an alert onto an External-Alerts-ready document.
func FromAlert(a *schema.Alert, o Options) Document {
	d := base(a.Timestamp, DatasetAlert, schema.RecordAlert, o, true)
	d.Message = a.Message
	if d.Message == "" {
		d.Message = a.Rule.Title
	}
	d.Event.Kind = "alert"
	d.Event.Category = []string{"intrusion_detection"}
	d.Event.Type = []string{"info"}
	d.Event.ID = a.ID
	d.Event.Action = a.Rule.ID
	d.Event.Severity = SeverityNumber(a.Severity)
	d.Event.RiskScore = riskScore(a.RiskScore, a.Severity)
	d.Event.Start, d.Event.End = timePtr(a.FirstSeen), timePtr(a.LastSeen)
	d.Rule = Rule{ID: a.Rule.ID, Name: a.Rule.Title, Description: strings.TrimSpace(a.Rule.Description), Ruleset: Module}
	d.Threat = threat([]schema.Tactic{a.Threat.Tactic}, []schema.Technique{a.Threat.Technique})
	if len(d.Threat.Tactic.Name) > 0 {
		d.Rule.Category = d.Threat.Tactic.Name[0]
	}
	d.User, d.Castellan.User = user(a.User)
	d.User.Target, d.Castellan.Target = target(a.Target)
	d.Source = endpoint(a.Source)
	d.Host = host(a.Host)
	d.Related = related([]schema.User{a.User, a.Target.User}, []string{a.Source.IP, a.Host.IP}, []string{a.Host.Name, a.Source.Hostname})
	if len(a.GroupKey) > 0 {
		d.Labels = make(map[string]string, len(a.GroupKey))
		for k, v := range a.GroupKey {
			d.Labels[labelKey(k)] = v
		}
	}
	d.Castellan.Alert = CastellanAlert{
		RuleKind: a.Rule.Kind, MDI: a.Rule.MDI, Severity: a.Severity.String(),
		Count: a.Count, EventIDs: a.EventIDs, Values: a.Values, GroupKey: a.GroupKey,
	}
	return d
}

// labelKey makes a group-by path a valid ECS label key (no dots).
func labelKey(k string) string { return strings.ReplaceAll(k, ".", "_") }

// FromIncident maps one version of an incident. It is an alert (event.kind
// "alert") about several alerts; the version, status and member alerts sit
// under castellan.incident.
func FromIncident(in *schema.Incident, o Options) Document {
	d := base(in.Timestamp, DatasetIncident, schema.RecordIncident, o, false)
	d.Message = in.Title
	d.Event.Kind = "alert"
	d.Event.Category = []string{"intrusion_detection"}
	d.Event.Type = []string{"info"}
	d.Event.ID = in.ID
	d.Event.Severity = SeverityNumber(in.Severity)
	d.Event.RiskScore = riskScore(in.RiskScore, in.Severity)
	d.Event.Start, d.Event.End = timePtr(in.FirstSeen), timePtr(in.LastSeen)
	d.Threat = threat(in.Threat.Tactics, in.Threat.Techniques)
	d.Labels = map[string]string{"incident_id": in.ID, "incident_status": in.Status}
	d.Related = related(nil, in.Entities.IPs, in.Entities.Hosts)
	d.Related.User = in.Entities.Users
	ci := CastellanIncident{
		ID: in.ID, Version: in.Version, Status: in.Status, MergedInto: in.MergedInto,
		Severity: in.Severity.String(), AlertCount: len(in.Alerts),
		Entities: IncidentEntities{Users: in.Entities.Users, Hosts: in.Entities.Hosts, IPs: in.Entities.IPs},
	}
	for _, t := range in.Threat.Tactics {
		ci.Tactics = append(ci.Tactics, t.ID)
	}
	for _, t := range in.Threat.Techniques {
		ci.Techniques = append(ci.Techniques, t.ID)
	}
	for _, a := range in.Alerts {
		ci.Alerts = append(ci.Alerts, IncidentAlert{
			ID: a.ID, RuleID: a.RuleID, Title: a.Title, Severity: a.Severity.String(),
			Technique: a.Technique, Tactic: a.Tactic, User: a.User, Timestamp: a.Timestamp.UTC(),
		})
	}
	for _, p := range in.Priority {
		ip := IncidentPriority{Identity: p.Identity, Score: p.Score, Percentile: p.Percentile}
		for _, f := range p.Factors {
			ip.Factors = append(ip.Factors, PriorityFactor{Kind: f.Kind, RuleID: f.RuleID, Severity: f.Severity.String(),
				Technique: f.Technique, Count: f.Count, Points: f.Points})
		}
		ci.Priority = append(ci.Priority, ip)
	}
	d.Castellan.Incident = ci
	return d
}

// FromFinding maps a posture finding: event.kind "state", category
// configuration, outcome failure for a failed assessment.
func FromFinding(f *schema.Finding, o Options) Document {
	d := base(f.Timestamp, DatasetFinding, schema.RecordFinding, o, true)
	d.Message = f.Title
	d.Event.Kind = "state"
	d.Event.Category = []string{"configuration"}
	d.Event.Type = []string{"info"}
	d.Event.ID = f.ID
	d.Event.Action = f.AssessmentID
	d.Event.Severity = SeverityNumber(f.Severity)
	d.Event.RiskScore = float64(f.Severity.RiskScore())
	switch f.Status {
	case "failed":
		d.Event.Outcome = schema.OutcomeFailure
	case "passed":
		d.Event.Outcome = schema.OutcomeSuccess
	default:
		d.Event.Outcome = schema.OutcomeUnknown
	}
	d.Rule = Rule{ID: f.AssessmentID, Name: f.Title, Ruleset: Module + "-posture"}
	if f.Threat.Tactic.ID != "" || f.Threat.Technique.ID != "" {
		d.Threat = threat([]schema.Tactic{f.Threat.Tactic}, []schema.Technique{f.Threat.Technique})
	}
	d.Castellan.Finding = CastellanFinding{
		AssessmentID: f.AssessmentID, Status: f.Status, Severity: f.Severity.String(),
		Evidence: f.Evidence, Entities: f.Entities, Remediation: f.Remediation,
	}
	return d
}

// FromAction maps a response action: event.kind "event", category iam,
// type change, with the account acted upon in user.target.
func FromAction(a *schema.Action, o Options) Document {
	d := base(a.Timestamp, DatasetAction, schema.RecordAction, o, true)
	d.Message = "castellan response " + a.Type + " on " + a.Target.Identity() + ": " + a.Result
	d.Event.Kind = "event"
	d.Event.Category = []string{"iam"}
	d.Event.Type = []string{"user", "change"}
	d.Event.ID = a.ID
	d.Event.Action = a.Type
	d.Event.Reason = a.Reason
	switch a.Result {
	case "succeeded":
		d.Event.Outcome = schema.OutcomeSuccess
	case "failed", "refused":
		d.Event.Outcome = schema.OutcomeFailure
	default:
		d.Event.Outcome = schema.OutcomeUnknown
	}
	var tu UserTarget
	tu, d.Castellan.Target = target(schema.Target{User: a.Target})
	d.User.Target = tu
	d.Related = related([]schema.User{a.Target}, nil, nil)
	d.Castellan.Action = CastellanAction{
		Type: a.Type, Mode: a.Mode, Trigger: a.Trigger, IncidentID: a.IncidentID,
		Result: a.Result, Reason: a.Reason, Before: a.Before, After: a.After,
	}
	return d
}

// threat builds threat.* from tactics and techniques. Sub-techniques go to
// threat.technique.subtechnique.* and their parent technique to
// threat.technique.*, as ECS requires. Names missing from the record come
// from the ATT&CK catalog.
func threat(tactics []schema.Tactic, techniques []schema.Technique) Threat {
	var th Threat
	for _, t := range tactics {
		if t.ID == "" || slices.Contains(th.Tactic.ID, t.ID) {
			continue
		}
		name := t.Name
		if name == "" {
			if ct, ok := mitre.LookupTactic(t.ID); ok {
				name = ct.Name
			}
		}
		th.Tactic.ID = append(th.Tactic.ID, t.ID)
		th.Tactic.Name = append(th.Tactic.Name, name)
		th.Tactic.Reference = append(th.Tactic.Reference, "https://attack.mitre.org/tactics/"+t.ID+"/")
	}
	addTechnique := func(id, name string) {
		if slices.Contains(th.Technique.ID, id) {
			return
		}
		if name == "" {
			if ct, ok := mitre.LookupTechnique(id); ok {
				name = ct.Name
			}
		}
		th.Technique.ID = append(th.Technique.ID, id)
		th.Technique.Name = append(th.Technique.Name, name)
		th.Technique.Reference = append(th.Technique.Reference, "https://attack.mitre.org/techniques/"+id+"/")
	}
	for _, t := range techniques {
		if t.ID == "" {
			continue
		}
		parent, sub, isSub := strings.Cut(t.ID, ".")
		if !isSub {
			addTechnique(t.ID, t.Name)
			continue
		}
		addTechnique(parent, "")
		if slices.Contains(th.Technique.Subtechnique.ID, t.ID) {
			continue
		}
		name := t.Name
		if ct, ok := mitre.LookupTechnique(t.ID); ok && (name == "" || strings.Contains(name, ": ")) {
			name = ct.Name // "Kerberoasting", not "Steal or Forge Kerberos Tickets: Kerberoasting"
		}
		st := &th.Technique.Subtechnique
		st.ID = append(st.ID, t.ID)
		st.Name = append(st.Name, name)
		st.Reference = append(st.Reference, "https://attack.mitre.org/techniques/"+parent+"/"+sub+"/")
	}
	if len(th.Tactic.ID) > 0 || len(th.Technique.ID) > 0 {
		th.Framework = schema.FrameworkATTACK
	}
	return th
}

// user maps the acting identity. user.name is the account name, or the UPN
// for a cloud-only identity; user.email carries the UPN.
func user(u schema.User) (User, CastellanUser) {
	name := u.Name
	if name == "" {
		name = u.UPN
	}
	return User{ID: u.ID, Name: name, Domain: u.Domain, Email: u.UPN, Roles: roles(u)},
		CastellanUser{UPN: u.UPN, LogonID: u.LogonID, IsMachine: u.IsMachine, IsDC: u.IsDC, Tags: u.Tags}
}

// roles exposes "domain_controller" for DC accounts so analysts can filter.
func roles(u schema.User) []string {
	if u.IsDC {
		return []string{"domain_controller"}
	}
	return nil
}

func target(t schema.Target) (UserTarget, CastellanTarget) {
	name := t.User.Name
	if name == "" {
		name = t.User.UPN
	}
	ut := UserTarget{
		ID: t.User.ID, Name: name, Domain: t.User.Domain, Email: t.User.UPN,
		Group: Group{ID: t.Group.ID, Name: t.Group.Name, Domain: t.Group.Domain},
	}
	_, cu := user(t.User)
	return ut, CastellanTarget{Service: t.Service, IsMachine: t.IsMachine, User: cu}
}

func endpoint(e schema.Endpoint) Endpoint {
	return Endpoint{IP: validIP(e.IP), Port: e.Port, Domain: e.Hostname}
}

func host(h schema.Host) Host {
	return Host{Name: h.Name, Hostname: h.Name, Domain: h.Domain, IP: validIP(h.IP)}
}

// validIP keeps only what an ECS "ip" field accepts: a value such as "-" or
// a host name would make Elasticsearch reject the whole document.
func validIP(s string) string {
	if _, err := netip.ParseAddr(s); err != nil {
		return ""
	}
	return s
}

// related collects distinct non-empty pivots, in order.
func related(users []schema.User, ips, hosts []string) Related {
	var r Related
	add := func(list *[]string, v string) {
		if v != "" && !slices.Contains(*list, v) {
			*list = append(*list, v)
		}
	}
	for _, u := range users {
		add(&r.User, u.Name)
		add(&r.User, u.UPN)
		add(&r.User, u.ID)
	}
	for _, ip := range ips {
		add(&r.IP, validIP(ip))
	}
	for _, h := range hosts {
		add(&r.Hosts, h)
	}
	return r
}
