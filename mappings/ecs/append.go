package ecs

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends the document as compact JSON to dst: the bytes
// encoding/json writes for it with HTML escaping off (keys in field order,
// map keys sorted, empty groups left out), without reflection. It fails
// only on a time outside years 0–9999, as encoding/json does.
func (d *Document) AppendJSON(dst []byte) ([]byte, error) {
	w := writer{b: dst}
	w.b = append(w.b, '{')
	w.time("@timestamp", d.Timestamp)
	w.str("message", d.Message)
	w.strMap("labels", d.Labels)
	w.strs("tags", d.Tags)
	m := w.open("ecs")
	w.strKeep("version", d.ECS.Version)
	w.closeKeep(m)
	m = w.open("data_stream")
	w.str("type", d.DataStream.Type)
	w.str("dataset", d.DataStream.Dataset)
	w.str("namespace", d.DataStream.Namespace)
	w.close(m)
	w.event(&d.Event)
	m = w.open("rule")
	r := &d.Rule
	w.str("id", r.ID)
	w.str("name", r.Name)
	w.str("description", r.Description)
	w.str("category", r.Category)
	w.str("ruleset", r.Ruleset)
	w.close(m)
	w.threat(&d.Threat)
	w.user(&d.User)
	w.endpoint("source", &d.Source)
	w.endpoint("destination", &d.Destination)
	m = w.open("host")
	w.str("name", d.Host.Name)
	w.str("hostname", d.Host.Hostname)
	w.str("domain", d.Host.Domain)
	w.str("ip", d.Host.IP)
	w.close(m)
	m = w.open("service")
	w.str("name", d.Service.Name)
	w.str("type", d.Service.Type)
	w.close(m)
	m = w.open("cloud")
	w.str("provider", d.Cloud.Provider)
	a := w.open("account")
	w.str("id", d.Cloud.Account.ID)
	w.close(a)
	w.close(m)
	m = w.open("user_agent")
	w.str("original", d.UserAgent.Original)
	w.close(m)
	m = w.open("related")
	w.strs("user", d.Related.User)
	w.strs("ip", d.Related.IP)
	w.strs("hosts", d.Related.Hosts)
	w.close(m)
	w.castellan(&d.Castellan)
	w.b = append(w.b, '}')
	return w.b, w.err
}

func (w *writer) event(e *Event) {
	m := w.open("event")
	w.strKeep("kind", e.Kind)
	w.strs("category", e.Category)
	w.strs("type", e.Type)
	w.str("outcome", e.Outcome)
	w.str("action", e.Action)
	w.str("code", e.Code)
	w.str("id", e.ID)
	w.str("reason", e.Reason)
	w.str("provider", e.Provider)
	w.strKeep("module", e.Module)
	w.strKeep("dataset", e.Dataset)
	w.int("severity", e.Severity)
	w.float("risk_score", e.RiskScore)
	w.timePtr("start", e.Start)
	w.timePtr("end", e.End)
	w.timePtr("created", e.Created)
	w.timePtr("ingested", e.Ingested)
	w.closeKeep(m)
}

func (w *writer) threat(t *Threat) {
	m := w.open("threat")
	w.str("framework", t.Framework)
	w.threatRef("tactic", &t.Tactic)
	k := w.open("technique")
	w.strs("id", t.Technique.ID)
	w.strs("name", t.Technique.Name)
	w.strs("reference", t.Technique.Reference)
	w.threatRef("subtechnique", &t.Technique.Subtechnique)
	w.close(k)
	w.close(m)
}

func (w *writer) threatRef(key string, r *ThreatRef) {
	m := w.open(key)
	w.strs("id", r.ID)
	w.strs("name", r.Name)
	w.strs("reference", r.Reference)
	w.close(m)
}

func (w *writer) user(u *User) {
	m := w.open("user")
	w.str("id", u.ID)
	w.str("name", u.Name)
	w.str("domain", u.Domain)
	w.str("email", u.Email)
	w.strs("roles", u.Roles)
	t := w.open("target")
	w.str("id", u.Target.ID)
	w.str("name", u.Target.Name)
	w.str("domain", u.Target.Domain)
	w.str("email", u.Target.Email)
	g := w.open("group")
	w.str("id", u.Target.Group.ID)
	w.str("name", u.Target.Group.Name)
	w.str("domain", u.Target.Group.Domain)
	w.close(g)
	w.close(t)
	w.close(m)
}

func (w *writer) endpoint(key string, e *Endpoint) {
	m := w.open(key)
	w.str("ip", e.IP)
	w.int("port", e.Port)
	w.str("domain", e.Domain)
	g := w.open("geo")
	w.str("country_iso_code", e.Geo.CountryISOCode)
	w.str("city_name", e.Geo.CityName)
	w.close(g)
	w.close(m)
}

func (w *writer) castellanUser(key string, u *CastellanUser) {
	m := w.open(key)
	w.str("upn", u.UPN)
	w.str("logon_id", u.LogonID)
	w.bool("is_machine", u.IsMachine)
	w.bool("is_dc", u.IsDC)
	w.strs("tags", u.Tags)
	w.close(m)
}

func (w *writer) castellan(c *Castellan) {
	m := w.open("castellan")
	w.strKeep("kind", c.Kind)

	e := w.open("event")
	w.str("kind", c.Event.Kind)
	w.str("channel", c.Event.Channel)
	w.str("record_id", c.Event.RecordID)
	w.str("source", c.Event.Source)
	w.close(e)

	w.castellanUser("user", &c.User)

	t := w.open("target")
	w.str("service", c.Target.Service)
	w.bool("is_machine", c.Target.IsMachine)
	w.castellanUser("user", &c.Target.User)
	w.close(t)

	a := &c.Auth
	o := w.open("auth")
	w.str("protocol", a.Protocol)
	w.int("logon_type", a.LogonType)
	w.str("package", a.Package)
	w.str("process", a.Process)
	w.str("failure_code", a.FailureCode)
	k := w.open("kerberos")
	w.str("etype", a.Kerberos.Etype)
	w.str("preauth_type", a.Kerberos.PreauthType)
	w.str("ticket_options", a.Kerberos.TicketOptions)
	w.str("status", a.Kerberos.Status)
	w.close(k)
	k = w.open("ntlm")
	w.str("version", a.NTLM.Version)
	w.str("workstation", a.NTLM.Workstation)
	w.close(k)
	w.close(o)

	d := &c.Directory
	o = w.open("directory")
	k = w.open("object")
	w.str("dn", d.Object.DN)
	w.str("class", d.Object.Class)
	w.str("guid", d.Object.GUID)
	w.str("name", d.Object.Name)
	w.close(k)
	w.str("attribute", d.Attribute)
	w.str("operation", d.Operation)
	w.str("old_value", d.OldValue)
	w.str("new_value", d.NewValue)
	w.str("properties", d.Properties)
	w.str("access_mask", d.AccessMask)
	w.close(o)

	o = w.open("service")
	w.str("file", c.Service.File)
	w.str("start_type", c.Service.StartType)
	w.str("account", c.Service.Account)
	w.close(o)

	cl := &c.Cloud
	o = w.open("cloud")
	w.str("app", cl.App)
	w.str("app_id", cl.AppID)
	w.str("client_app", cl.ClientApp)
	w.str("risk_level", cl.RiskLevel)
	w.str("risk_state", cl.RiskState)
	w.str("risk_event_type", cl.RiskEventType)
	w.str("ca_status", cl.CAStatus)
	w.str("category", cl.Category)
	w.str("operation", cl.Operation)
	w.str("correlation_id", cl.CorrelationID)
	w.bool("is_interactive", cl.IsInteractive)
	w.str("on_prem_sid", cl.OnPremSID)
	w.int("error_code", cl.ErrorCode)
	w.str("device_id", cl.DeviceID)
	w.bool("device_compliant", cl.DeviceCompliant)
	w.close(o)

	w.strMap("original", c.Original)

	al := &c.Alert
	o = w.open("alert")
	w.str("rule_kind", al.RuleKind)
	w.ints("mdi", al.MDI)
	w.str("severity", al.Severity)
	w.int("count", al.Count)
	w.strs("event_ids", al.EventIDs)
	w.strs("values", al.Values)
	w.strMap("group_key", al.GroupKey)
	w.close(o)

	in := &c.Incident
	o = w.open("incident")
	w.str("id", in.ID)
	w.int("version", in.Version)
	w.str("status", in.Status)
	w.str("merged_into", in.MergedInto)
	w.str("severity", in.Severity)
	w.int("alert_count", in.AlertCount)
	w.objects("alerts", len(in.Alerts), func(i int) {
		ia := &in.Alerts[i]
		w.strKeep("id", ia.ID)
		w.str("rule_id", ia.RuleID)
		w.str("title", ia.Title)
		w.str("severity", ia.Severity)
		w.str("technique", ia.Technique)
		w.str("tactic", ia.Tactic)
		w.str("user", ia.User)
		w.time("@timestamp", ia.Timestamp)
	})
	k = w.open("entities")
	w.strs("users", in.Entities.Users)
	w.strs("hosts", in.Entities.Hosts)
	w.strs("ips", in.Entities.IPs)
	w.close(k)
	w.strs("tactics", in.Tactics)
	w.strs("techniques", in.Techniques)
	w.objects("priority", len(in.Priority), func(i int) {
		p := &in.Priority[i]
		w.strKeep("identity", p.Identity)
		w.int("score", p.Score)
		w.int("percentile", p.Percentile)
		w.objects("factors", len(p.Factors), func(j int) {
			f := &p.Factors[j]
			w.str("kind", f.Kind)
			w.str("rule_id", f.RuleID)
			w.str("severity", f.Severity)
			w.str("technique", f.Technique)
			w.int("count", f.Count)
			w.int("points", f.Points)
		})
	})
	w.close(o)

	f := &c.Finding
	o = w.open("finding")
	w.str("assessment_id", f.AssessmentID)
	w.str("status", f.Status)
	w.str("severity", f.Severity)
	w.str("evidence", f.Evidence)
	w.strs("entities", f.Entities)
	w.str("remediation", f.Remediation)
	w.close(o)

	ac := &c.Action
	o = w.open("action")
	w.str("type", ac.Type)
	w.str("mode", ac.Mode)
	w.str("trigger", ac.Trigger)
	w.str("incident_id", ac.IncidentID)
	w.str("result", ac.Result)
	w.str("reason", ac.Reason)
	w.str("before", ac.Before)
	w.str("after", ac.After)
	w.close(o)

	if c.Kind == "" && string(w.b[m:]) == `,"castellan":{"kind":""` {
		w.b = w.b[:m] // a zero Castellan group, omitted as omitzero does
		return
	}
	w.closeKeep(m)
}

// writer appends JSON members. A member needs a comma unless it is the
// first of its object, which is when the last byte written is '{' (no
// value ends with one).
type writer struct {
	b   []byte
	err error
}

func (w *writer) key(k string) {
	if w.b[len(w.b)-1] != '{' {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

// open starts an object member and returns the mark close needs.
func (w *writer) open(k string) int {
	mark := len(w.b)
	w.key(k)
	w.b = append(w.b, '{')
	return mark
}

// close ends an object opened at mark, removing the whole member when the
// object is empty (omitzero of a group with no values).
func (w *writer) close(mark int) {
	if w.b[len(w.b)-1] == '{' {
		w.b = w.b[:mark]
		return
	}
	w.b = append(w.b, '}')
}

// objects writes an array member of n objects (nothing when n is 0); elem
// writes the members of object i.
func (w *writer) objects(k string, n int, elem func(i int)) {
	if n == 0 {
		return
	}
	w.key(k)
	w.b = append(w.b, '[')
	for i := range n {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = append(w.b, '{')
		elem(i)
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, ']')
}

// closeKeep ends an object that is written even when empty.
func (w *writer) closeKeep(int) { w.b = append(w.b, '}') }

func (w *writer) str(k, v string) {
	if v != "" {
		w.strKeep(k, v)
	}
}

func (w *writer) strKeep(k, v string) {
	w.key(k)
	w.b = appendString(w.b, v)
}

func (w *writer) strs(k string, v []string) {
	if len(v) == 0 {
		return
	}
	w.key(k)
	w.b = append(w.b, '[')
	for i, s := range v {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = appendString(w.b, s)
	}
	w.b = append(w.b, ']')
}

func (w *writer) ints(k string, v []int) {
	if len(v) == 0 {
		return
	}
	w.key(k)
	w.b = append(w.b, '[')
	for i, n := range v {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = strconv.AppendInt(w.b, int64(n), 10)
	}
	w.b = append(w.b, ']')
}

// strMap writes a map with its keys sorted, as encoding/json does.
func (w *writer) strMap(k string, m map[string]string) {
	if len(m) == 0 {
		return
	}
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	w.key(k)
	w.b = append(w.b, '{')
	for i, key := range keys {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = appendString(w.b, key)
		w.b = append(w.b, ':')
		w.b = appendString(w.b, m[key])
	}
	w.b = append(w.b, '}')
}

func (w *writer) int(k string, v int) {
	if v != 0 {
		w.key(k)
		w.b = strconv.AppendInt(w.b, int64(v), 10)
	}
}

func (w *writer) bool(k string, v bool) {
	if v {
		w.key(k)
		w.b = append(w.b, "true"...)
	}
}

// float writes a non-zero float as encoding/json does.
func (w *writer) float(k string, f float64) {
	if f == 0 {
		return
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		w.fail(errors.New("ecs: unsupported float value " + strconv.FormatFloat(f, 'g', -1, 64)))
		return
	}
	w.key(k)
	fmt := byte('f')
	if abs := math.Abs(f); abs < 1e-6 || abs >= 1e21 {
		fmt = 'e'
	}
	w.b = strconv.AppendFloat(w.b, f, fmt, -1, 64)
	if fmt == 'e' { // e-09 → e-9, as encoding/json writes it
		if n := len(w.b); n >= 4 && w.b[n-4] == 'e' && w.b[n-3] == '-' && w.b[n-2] == '0' {
			w.b[n-2] = w.b[n-1]
			w.b = w.b[:n-1]
		}
	}
}

func (w *writer) time(k string, t time.Time) {
	w.key(k)
	if y := t.Year(); y < 0 || y > 9999 {
		w.fail(errors.New("ecs: time " + k + " year outside of range [0,9999]"))
		w.b = append(w.b, `""`...)
		return
	}
	w.b = append(w.b, '"')
	w.b = t.AppendFormat(w.b, time.RFC3339Nano)
	w.b = append(w.b, '"')
}

func (w *writer) timePtr(k string, t *time.Time) {
	if t != nil {
		w.time(k, *t)
	}
}

func (w *writer) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string the way encoding/json does with
// HTML escaping off: \" \\ \b \f \n \r \t, other control characters as
// \u00XX, invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
