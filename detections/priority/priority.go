package priority

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/detections/correlate"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Defaults and bounds.
const (
	DefaultWindow        = 7 * 24 * time.Hour
	DefaultMaxIdentities = 100_000
	// MaxAlertsPerIdentity bounds the alerts remembered per identity (the
	// oldest are dropped first; their points with them).
	MaxAlertsPerIdentity = 256
)

// Factor kinds.
const (
	KindAlert    = "alert"
	KindActivity = "activity"
)

// Points returns the points an alert of severity s is worth.
func Points(s schema.Severity) int {
	switch s {
	case schema.SeverityCritical:
		return 50
	case schema.SeverityHigh:
		return 30
	case schema.SeverityMedium:
		return 10
	case schema.SeverityLow:
		return 5
	}
	return 1
}

// activityKinds are rule kinds that flag abnormal activity rather than a
// known attack pattern.
func factorKind(ruleKind string) string {
	switch ruleKind {
	case "new_value", "travel":
		return KindActivity
	}
	return KindAlert
}

// Options tune a Tracker.
type Options struct {
	Window        time.Duration // default DefaultWindow
	MaxIdentities int           // default DefaultMaxIdentities; least recently alerted evicted
}

// scored is one alert as remembered for an identity.
type scored struct {
	ID        string          `json:"id"`
	RuleID    string          `json:"rule_id"`
	Title     string          `json:"title"`
	Kind      string          `json:"kind"`
	Technique string          `json:"technique,omitempty"`
	Severity  schema.Severity `json:"severity"`
	At        time.Time       `json:"at"`
}

type identity struct {
	Display string    `json:"display"`
	Last    time.Time `json:"last"`
	Alerts  []scored  `json:"alerts"`
}

// Tracker holds the scored alerts per identity.
type Tracker struct {
	opts      Options
	ids       map[string]*identity // correlation user key ("user:jdoe") → alerts
	watermark time.Time
}

// New returns an empty tracker.
func New(o Options) *Tracker {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.MaxIdentities <= 0 {
		o.MaxIdentities = DefaultMaxIdentities
	}
	return &Tracker{opts: o, ids: map[string]*identity{}}
}

// Add scores one alert for every identity it is about.
func (t *Tracker) Add(a schema.Alert) {
	if a.Timestamp.After(t.watermark) {
		t.watermark = a.Timestamp
	}
	for _, k := range correlate.EntityKeys(a) {
		if !strings.HasPrefix(k, "user:") {
			continue
		}
		id := t.ids[k]
		if id == nil {
			t.evict()
			id = &identity{Display: strings.TrimPrefix(k, "user:")}
			t.ids[k] = id
		}
		if a.User.Name != "" && "user:"+shortName(a.User.Name) == k {
			id.Display = a.User.Identity()
		}
		dup := false
		for _, s := range id.Alerts {
			if s.ID == a.ID {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		id.Alerts = append(id.Alerts, scored{ID: a.ID, RuleID: a.Rule.ID, Title: a.Rule.Title, Kind: factorKind(a.Rule.Kind),
			Technique: a.Threat.Technique.ID, Severity: a.Severity, At: a.Timestamp})
		if len(id.Alerts) > MaxAlertsPerIdentity {
			sort.SliceStable(id.Alerts, func(i, j int) bool { return id.Alerts[i].At.Before(id.Alerts[j].At) })
			id.Alerts = id.Alerts[len(id.Alerts)-MaxAlertsPerIdentity:]
		}
		if a.Timestamp.After(id.Last) {
			id.Last = a.Timestamp
		}
	}
}

// shortName is the correlation form of an account name (see
// correlate.EntityKeys): lower case, no domain, no UPN suffix.
func shortName(n string) string {
	n = strings.ToLower(strings.TrimSpace(n))
	if i := strings.LastIndexByte(n, '\\'); i >= 0 {
		n = n[i+1:]
	}
	if i := strings.IndexByte(n, '@'); i >= 0 {
		n = n[:i]
	}
	return n
}

// evict drops identities whose alerts all left the window, then the least
// recently alerted ones while the tracker is full.
func (t *Tracker) evict() {
	if len(t.ids) < t.opts.MaxIdentities {
		return
	}
	t.expire()
	for len(t.ids) >= t.opts.MaxIdentities {
		var oldest string
		for k, id := range t.ids {
			if oldest == "" || id.Last.Before(t.ids[oldest].Last) || id.Last.Equal(t.ids[oldest].Last) && k < oldest {
				oldest = k
			}
		}
		delete(t.ids, oldest)
	}
}

// expire drops alerts older than the window (event time) and identities
// left without any.
func (t *Tracker) expire() {
	from := t.watermark.Add(-t.opts.Window)
	for k, id := range t.ids {
		kept := id.Alerts[:0]
		for _, s := range id.Alerts {
			if !s.At.Before(from) {
				kept = append(kept, s)
			}
		}
		id.Alerts = kept
		if len(kept) == 0 {
			delete(t.ids, k)
		}
	}
}

// scores returns every identity's priority (without percentile), expired
// alerts dropped.
func (t *Tracker) scores() map[string]schema.IdentityPriority {
	t.expire()
	out := make(map[string]schema.IdentityPriority, len(t.ids))
	for k, id := range t.ids {
		out[k] = explain(id)
	}
	return out
}

// explain sums an identity's alerts into factors: one per rule, kind and
// severity, largest contribution first.
func explain(id *identity) schema.IdentityPriority {
	type fk struct {
		rule, kind string
		sev        schema.Severity
	}
	byKey := map[fk]*schema.PriorityFactor{}
	p := schema.IdentityPriority{Identity: id.Display}
	for _, s := range id.Alerts {
		k := fk{s.RuleID, s.Kind, s.Severity}
		f := byKey[k]
		if f == nil {
			f = &schema.PriorityFactor{Kind: s.Kind, RuleID: s.RuleID, Title: s.Title, Severity: s.Severity, Technique: s.Technique}
			byKey[k] = f
		}
		pts := Points(s.Severity)
		f.Count++
		f.Points += pts
		p.Score += pts
		if s.At.After(f.LastSeen) {
			f.LastSeen = s.At
		}
	}
	for _, f := range byKey {
		p.Factors = append(p.Factors, *f)
	}
	sort.Slice(p.Factors, func(i, j int) bool {
		a, b := p.Factors[i], p.Factors[j]
		if a.Points != b.Points {
			return a.Points > b.Points
		}
		return a.RuleID < b.RuleID
	})
	return p
}

// percentiles fills each priority's percentile: the share of identities
// scoring lower or equal, 0–100.
func percentiles(all map[string]schema.IdentityPriority) {
	scores := make([]int, 0, len(all))
	for _, p := range all {
		scores = append(scores, p.Score)
	}
	sort.Ints(scores)
	for k, p := range all {
		atOrBelow := sort.SearchInts(scores, p.Score+1)
		p.Percentile = atOrBelow * 100 / len(scores)
		all[k] = p
	}
}

// Top returns the n identities with the highest scores (all when n <= 0),
// highest first, with percentiles and factors.
func (t *Tracker) Top(n int) []schema.IdentityPriority {
	all := t.scores()
	percentiles(all)
	out := make([]schema.IdentityPriority, 0, len(all))
	for _, p := range all {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].Identity < out[j].Identity
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// Annotate sets each incident's Priority to the priorities of its users
// (entities.users), highest first, in one scoring pass. Users without a
// score are left out.
func (t *Tracker) Annotate(incs []schema.Incident) {
	if len(incs) == 0 {
		return
	}
	all := t.scores()
	percentiles(all)
	for i := range incs {
		var ps []schema.IdentityPriority
		for _, u := range incs[i].Entities.Users {
			if p, ok := all["user:"+shortName(u)]; ok {
				ps = append(ps, p)
			}
		}
		sort.SliceStable(ps, func(a, b int) bool { return ps[a].Score > ps[b].Score })
		incs[i].Priority = ps
	}
}

type snapshot struct {
	Watermark time.Time            `json:"watermark"`
	IDs       map[string]*identity `json:"identities"`
}

// Snapshot serializes the tracker (deterministic: map keys are sorted by
// encoding/json).
func (t *Tracker) Snapshot() ([]byte, error) {
	return json.Marshal(snapshot{Watermark: t.watermark, IDs: t.ids})
}

// Restore replaces the tracker's state with a Snapshot.
func (t *Tracker) Restore(data []byte) error {
	var s snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("priority: restore: %w", err)
	}
	t.watermark = s.Watermark
	t.ids = map[string]*identity{}
	for k, id := range s.IDs {
		if id != nil && strings.HasPrefix(k, "user:") {
			t.ids[k] = id
		}
	}
	return nil
}
