package correlate

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/mappings/mitre"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Options tunes correlation.
type Options struct {
	Window  time.Duration // default 24h
	MaxOpen int           // open incidents kept; the least recently updated is closed past this; default 10000
}

// Stats counts what the correlator did.
type Stats struct {
	Alerts, Duplicates, Incidents, Merged, Closed, Evicted int64
	Open                                                   int
}

// Correlator turns alerts into incidents. Not safe for concurrent use: the
// pipeline serializes calls.
type Correlator struct {
	opts      Options
	open      map[string]*incident // by incident id
	byEntity  map[string]string    // entity key → incident id
	dirty     map[string]bool
	pending   []schema.Incident // closed or merged, to emit once
	watermark time.Time
	lastSweep time.Time
	stats     Stats
}

// incident is the correlator's working state for one incident.
type incident struct {
	Inc    schema.Incident `json:"incident"`
	Keys   []string        `json:"keys"`
	Alerts map[string]bool `json:"-"`
}

// New returns an empty correlator.
func New(o Options) *Correlator {
	if o.Window <= 0 {
		o.Window = 24 * time.Hour
	}
	if o.MaxOpen <= 0 {
		o.MaxOpen = 10000
	}
	return &Correlator{opts: o, open: map[string]*incident{}, byEntity: map[string]string{}, dirty: map[string]bool{}}
}

// Stats returns counters.
func (c *Correlator) Stats() Stats {
	s := c.stats
	s.Open = len(c.open)
	return s
}

// Add correlates one alert.
func (c *Correlator) Add(a schema.Alert) {
	c.stats.Alerts++
	if a.Timestamp.After(c.watermark) {
		c.watermark = a.Timestamp
	}
	c.sweep()

	keys := EntityKeys(a)
	// Open incidents sharing an entity and still inside the window.
	var hits []*incident
	seen := map[string]bool{}
	for _, k := range keys {
		id, ok := c.byEntity[k]
		if !ok || seen[id] {
			continue
		}
		seen[id] = true
		if inc := c.open[id]; inc != nil && !a.Timestamp.After(inc.Inc.LastSeen.Add(c.opts.Window)) {
			hits = append(hits, inc)
		}
	}
	var target *incident
	if len(hits) == 0 {
		target = &incident{Inc: schema.Incident{ID: schema.IncidentID(a.ID), Status: schema.IncidentOpen, FirstSeen: a.FirstSeen}, Alerts: map[string]bool{}}
		c.open[target.Inc.ID] = target
		c.stats.Incidents++
	} else {
		sort.Slice(hits, func(i, j int) bool { return older(hits[i], hits[j]) })
		target = hits[0]
		if len(hits) > 1 && !target.Alerts[a.ID] {
			// The linking alert's actor is listed before the merged
			// incidents' identities, so it stays the primary one whichever
			// part of the attack was seen first.
			addEntities(&target.Inc.Entities, a)
		}
		for _, other := range hits[1:] {
			c.merge(target, other)
		}
	}
	if target.Alerts[a.ID] {
		c.stats.Duplicates++
		return
	}
	target.Alerts[a.ID] = true
	target.Inc.Alerts = append(target.Inc.Alerts, schema.AlertRef{
		ID: a.ID, RuleID: a.Rule.ID, Title: a.Rule.Title, Severity: a.Severity,
		Technique: a.Threat.Technique.ID, Tactic: a.Threat.Tactic.ID, User: actor(a), Timestamp: a.Timestamp,
	})
	for _, k := range keys {
		target.addKey(k)
		c.byEntity[k] = target.Inc.ID
	}
	addEntities(&target.Inc.Entities, a)
	if target.Inc.FirstSeen.IsZero() || a.FirstSeen.Before(target.Inc.FirstSeen) {
		target.Inc.FirstSeen = a.FirstSeen
	}
	if a.LastSeen.After(target.Inc.LastSeen) {
		target.Inc.LastSeen = a.LastSeen
	}
	target.derive()
	c.dirty[target.Inc.ID] = true
	c.evict()
}

func older(a, b *incident) bool {
	if !a.Inc.FirstSeen.Equal(b.Inc.FirstSeen) {
		return a.Inc.FirstSeen.Before(b.Inc.FirstSeen)
	}
	return a.Inc.ID < b.Inc.ID
}

func (inc *incident) addKey(k string) {
	for _, x := range inc.Keys {
		if x == k {
			return
		}
	}
	inc.Keys = append(inc.Keys, k)
}

// merge moves other's alerts and entities into target and retires other.
func (c *Correlator) merge(target, other *incident) {
	for _, r := range other.Inc.Alerts {
		if !target.Alerts[r.ID] {
			target.Alerts[r.ID] = true
			target.Inc.Alerts = append(target.Inc.Alerts, r)
		}
	}
	for _, k := range other.Keys {
		target.addKey(k)
		c.byEntity[k] = target.Inc.ID
	}
	e := &target.Inc.Entities
	for _, u := range other.Inc.Entities.Users {
		if _, short, _ := strings.Cut(entityKey("user", u), ":"); !hasUser(e.Users, short) {
			e.Users = append(e.Users, u)
		}
	}
	e.Hosts = union(e.Hosts, other.Inc.Entities.Hosts)
	e.IPs = union(e.IPs, other.Inc.Entities.IPs)
	if other.Inc.FirstSeen.Before(target.Inc.FirstSeen) {
		target.Inc.FirstSeen = other.Inc.FirstSeen
	}
	if other.Inc.LastSeen.After(target.Inc.LastSeen) {
		target.Inc.LastSeen = other.Inc.LastSeen
	}
	delete(c.open, other.Inc.ID)
	delete(c.dirty, other.Inc.ID)
	other.Inc.Status = schema.IncidentMerged
	other.Inc.MergedInto = target.Inc.ID
	other.Inc.Version++
	other.Inc.Timestamp = c.watermark
	c.pending = append(c.pending, other.Inc)
	c.stats.Merged++
}

// sweep closes incidents whose window has passed the watermark. It runs at
// most once per event-time minute.
func (c *Correlator) sweep() {
	if c.watermark.Sub(c.lastSweep) < time.Minute {
		return
	}
	c.lastSweep = c.watermark
	for id, inc := range c.open {
		if inc.Inc.LastSeen.Add(c.opts.Window).Before(c.watermark) {
			c.close(id, inc)
			c.stats.Closed++
		}
	}
}

func (c *Correlator) close(id string, inc *incident) {
	delete(c.open, id)
	delete(c.dirty, id)
	for _, k := range inc.Keys {
		if c.byEntity[k] == id {
			delete(c.byEntity, k)
		}
	}
	inc.Inc.Status = schema.IncidentClosed
	inc.Inc.Version++
	inc.Inc.Timestamp = c.watermark
	c.pending = append(c.pending, inc.Inc)
}

// evict closes the least recently updated incidents past MaxOpen.
func (c *Correlator) evict() {
	for len(c.open) > c.opts.MaxOpen {
		var oldest *incident
		for _, inc := range c.open {
			if oldest == nil || inc.Inc.LastSeen.Before(oldest.Inc.LastSeen) ||
				(inc.Inc.LastSeen.Equal(oldest.Inc.LastSeen) && inc.Inc.ID < oldest.Inc.ID) {
				oldest = inc
			}
		}
		c.close(oldest.Inc.ID, oldest)
		c.stats.Evicted++
	}
}

// Flush returns every incident changed since the last Flush — closed and
// merged ones first, then open ones by first-seen — each with its version
// bumped. The caller emits them.
func (c *Correlator) Flush() []schema.Incident {
	out := c.pending
	c.pending = nil
	ids := make([]*incident, 0, len(c.dirty))
	for id := range c.dirty {
		ids = append(ids, c.open[id])
	}
	sort.Slice(ids, func(i, j int) bool { return older(ids[i], ids[j]) })
	for _, inc := range ids {
		inc.Inc.Version++
		inc.Inc.Timestamp = inc.Inc.LastSeen
		out = append(out, cloneIncident(inc.Inc))
	}
	clear(c.dirty)
	return out
}

// Open returns the open incidents ordered by first-seen.
func (c *Correlator) Open() []schema.Incident {
	list := make([]*incident, 0, len(c.open))
	for _, inc := range c.open {
		list = append(list, inc)
	}
	sort.Slice(list, func(i, j int) bool { return older(list[i], list[j]) })
	out := make([]schema.Incident, len(list))
	for i, inc := range list {
		out[i] = cloneIncident(inc.Inc)
	}
	return out
}

func cloneIncident(i schema.Incident) schema.Incident {
	i.Alerts = append([]schema.AlertRef(nil), i.Alerts...)
	i.Threat.Tactics = append([]schema.Tactic(nil), i.Threat.Tactics...)
	i.Threat.Techniques = append([]schema.Technique(nil), i.Threat.Techniques...)
	i.Entities.Users = append([]string(nil), i.Entities.Users...)
	i.Entities.Hosts = append([]string(nil), i.Entities.Hosts...)
	i.Entities.IPs = append([]string(nil), i.Entities.IPs...)
	return i
}

// derive recomputes the fields that follow from the member alerts: order,
// tactics (kill-chain order), techniques, severity, title.
func (inc *incident) derive() {
	i := &inc.Inc
	sort.SliceStable(i.Alerts, func(a, b int) bool {
		if !i.Alerts[a].Timestamp.Equal(i.Alerts[b].Timestamp) {
			return i.Alerts[a].Timestamp.Before(i.Alerts[b].Timestamp)
		}
		return i.Alerts[a].ID < i.Alerts[b].ID
	})
	tactics := map[string]bool{}
	techniques := map[string]bool{}
	sev := schema.SeverityInformational
	for _, r := range i.Alerts {
		tactics[r.Tactic] = true
		techniques[r.Technique] = true
		sev = max(sev, r.Severity)
	}
	i.Threat.Framework = schema.FrameworkATTACK
	i.Threat.Tactics = i.Threat.Tactics[:0]
	for id := range tactics {
		t := schema.Tactic{ID: id}
		if m, ok := mitre.LookupTactic(id); ok {
			t.Name = m.Name
		}
		i.Threat.Tactics = append(i.Threat.Tactics, t)
	}
	sort.Slice(i.Threat.Tactics, func(a, b int) bool {
		oa, ob := mitre.TacticOrder(i.Threat.Tactics[a].ID), mitre.TacticOrder(i.Threat.Tactics[b].ID)
		if oa != ob {
			return oa < ob
		}
		return i.Threat.Tactics[a].ID < i.Threat.Tactics[b].ID
	})
	i.Threat.Techniques = i.Threat.Techniques[:0]
	for id := range techniques {
		t := schema.Technique{ID: id}
		if m, ok := mitre.LookupTechnique(id); ok {
			t.Name = m.Name
		}
		i.Threat.Techniques = append(i.Threat.Techniques, t)
	}
	sort.Slice(i.Threat.Techniques, func(a, b int) bool { return i.Threat.Techniques[a].ID < i.Threat.Techniques[b].ID })
	if len(tactics) >= 3 {
		sev = sev.Raise()
	}
	i.Severity = sev
	i.RiskScore = sev.RiskScore()
	names := make([]string, len(i.Threat.Tactics))
	for k, t := range i.Threat.Tactics {
		names[k] = cmpOr(t.Name, t.ID)
	}
	i.Title = fmt.Sprintf("%s: %d alert(s) — %s", Primary(*i), len(i.Alerts), strings.Join(names, " → "))
}

// Primary is the identity an incident is about: the acting identity of most
// of its alerts (the earliest of those tied), else its first user, else its
// first IP, else its first host. Victims (a sprayed or Kerberoasted account)
// are entities of the incident but act in none of its alerts, so the attacker
// stays primary whichever part of the attack was seen first.
func Primary(i schema.Incident) string {
	best, bestN := "", 0
	counts := map[string]int{}
	for _, a := range i.Alerts {
		if a.User == "" {
			continue
		}
		k := entityKey("user", a.User)
		counts[k]++
		if counts[k] > bestN {
			best, bestN = a.User, counts[k]
		}
	}
	switch {
	case best != "":
		return best
	case len(i.Entities.Users) > 0:
		return i.Entities.Users[0]
	case len(i.Entities.IPs) > 0:
		return i.Entities.IPs[0]
	case len(i.Entities.Hosts) > 0:
		return i.Entities.Hosts[0]
	}
	return "unknown identity"
}

// actor is the alert's acting identity, "" when it has none.
func actor(a schema.Alert) string {
	if a.User.Name == "" && a.User.UPN == "" && a.User.ID == "" {
		return ""
	}
	return a.User.Identity()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// EntityKeys returns the join keys of an alert ("user:jdoe", "ip:10.0.0.5",
// "host:ws01"), as described in the package doc.
func EntityKeys(a schema.Alert) []string {
	var keys []string
	add := func(prefix, v string) {
		if k := entityKey(prefix, v); k != "" {
			for _, x := range keys {
				if x == k {
					return
				}
			}
			keys = append(keys, k)
		}
	}
	if len(a.GroupKey) == 0 {
		add("user", a.User.Name)
		add("ip", a.Source.IP)
		add("host", a.Source.Hostname)
		return keys
	}
	fields := make([]string, 0, len(a.GroupKey))
	for f := range a.GroupKey {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	userKeyed := false
	for _, f := range fields {
		v := a.GroupKey[f]
		switch f {
		case "user.name", "target.user.name", "user.upn", "target.user.upn":
			add("user", v)
			userKeyed = true
		case "user.id", "target.user.id":
			add("sid", v)
			userKeyed = true
		case "source.ip":
			add("ip", v)
		case "source.hostname":
			add("host", v)
		}
	}
	if userKeyed {
		add("ip", a.Source.IP)
		add("host", a.Source.Hostname)
	}
	// The accounts a distinct-count rule counted as targets are victims of
	// the same attack (the service accounts a Kerberoasting burst asked
	// tickets for): a later alert on one of them — its password cracked
	// and used, on-prem or, joined by identity, in the cloud — belongs to
	// this incident. Sprayed accounts (distinct user.name) are not joined.
	if victimField(a.Rule.Distinct) {
		for _, v := range a.Values {
			add("user", v)
		}
	}
	return keys
}

func victimField(f string) bool {
	switch f {
	case "target.service", "target.user.name", "target.user.upn":
		return true
	}
	return false
}

func entityKey(prefix, v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	switch v {
	case "", "-", "::1", "127.0.0.1", "0.0.0.0", "::", "anonymous logon", "localhost":
		return ""
	}
	if prefix == "user" {
		if i := strings.LastIndexByte(v, '\\'); i >= 0 {
			v = v[i+1:]
		}
		if i := strings.IndexByte(v, '@'); i >= 0 {
			v = v[:i]
		}
	}
	if prefix == "host" {
		if i := strings.IndexByte(v, '.'); i >= 0 {
			v = v[:i]
		}
	}
	return prefix + ":" + v
}

// addEntities records an alert's entities in display form.
func addEntities(e *schema.Entities, a schema.Alert) {
	keys := EntityKeys(a)
	for _, k := range keys {
		kind, v, _ := strings.Cut(k, ":")
		switch kind {
		case "user", "sid":
			name := v
			if a.User.Name != "" && strings.EqualFold(entityKey("user", a.User.Name), k) {
				name = a.User.Identity()
			}
			if !hasUser(e.Users, v) {
				e.Users = append(e.Users, name)
			}
		case "ip":
			e.IPs = union(e.IPs, []string{v})
		case "host":
			e.Hosts = union(e.Hosts, []string{v})
		}
	}
}

// hasUser reports whether users holds an identity with this short name
// (CORP\jdoe and CORP.EXAMPLE\jdoe are one account).
func hasUser(users []string, short string) bool {
	for _, u := range users {
		if entityKey("user", u) == "user:"+short {
			return true
		}
	}
	return false
}

// union appends the new values not present (case-insensitively), keeping order.
func union(have, add []string) []string {
next:
	for _, a := range add {
		for _, h := range have {
			if strings.EqualFold(h, a) {
				continue next
			}
		}
		have = append(have, a)
	}
	return have
}

type snapshot struct {
	Watermark time.Time   `json:"watermark"`
	LastSweep time.Time   `json:"last_sweep"`
	Open      []*incident `json:"open"`
	Stats     Stats       `json:"stats"`
}

// Snapshot serializes the open incidents (and pending emissions are not
// kept: call Flush first).
func (c *Correlator) Snapshot() ([]byte, error) {
	s := snapshot{Watermark: c.watermark, LastSweep: c.lastSweep, Stats: c.stats}
	for _, inc := range c.open {
		s.Open = append(s.Open, inc)
	}
	sort.Slice(s.Open, func(i, j int) bool { return s.Open[i].Inc.ID < s.Open[j].Inc.ID })
	return json.Marshal(s)
}

// Restore replaces the state with a snapshot.
func (c *Correlator) Restore(data []byte) error {
	var s snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("correlate: restore: %w", err)
	}
	c.open = map[string]*incident{}
	c.byEntity = map[string]string{}
	c.dirty = map[string]bool{}
	c.pending = nil
	c.watermark, c.lastSweep, c.stats = s.Watermark, s.LastSweep, s.Stats
	for _, inc := range s.Open {
		inc.Alerts = map[string]bool{}
		for _, r := range inc.Inc.Alerts {
			inc.Alerts[r.ID] = true
		}
		c.open[inc.Inc.ID] = inc
		for _, k := range inc.Keys {
			c.byEntity[k] = inc.Inc.ID
		}
	}
	return nil
}
