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
	score   int       // sum of the alerts' points
}

// Tracker holds the scored alerts per identity.
type Tracker struct {
	opts       Options
	ids        map[string]*identity // correlation user key ("user:jdoe") → alerts
	watermark  time.Time
	lastExpire time.Time
	sorted     []int // every identity's score, ascending; nil when stale
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
		id.score += Points(a.Severity)
		if len(id.Alerts) > MaxAlertsPerIdentity {
			oldest := 0
			for i, s := range id.Alerts {
				if s.At.Before(id.Alerts[oldest].At) {
					oldest = i
				}
			}
			id.score -= Points(id.Alerts[oldest].Severity)
			id.Alerts = append(id.Alerts[:oldest], id.Alerts[oldest+1:]...)
		}
		t.sorted = nil
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
	t.lastExpire = t.watermark
	from := t.watermark.Add(-t.opts.Window)
	for k, id := range t.ids {
		if !anyBefore(id.Alerts, from) {
			continue
		}
		kept := id.Alerts[:0]
		id.score = 0
		for _, s := range id.Alerts {
			if !s.At.Before(from) {
				kept = append(kept, s)
				id.score += Points(s.Severity)
			}
		}
		id.Alerts = kept
		t.sorted = nil
		if len(kept) == 0 {
			delete(t.ids, k)
		}
	}
}

func anyBefore(ss []scored, from time.Time) bool {
	for _, s := range ss {
		if s.At.Before(from) {
			return true
		}
	}
	return false
}

// expireDue expires at most once per minute of event time.
func (t *Tracker) expireDue() {
	if t.watermark.Sub(t.lastExpire) >= time.Minute {
		t.expire()
	}
}

// percentile is the share of identities scoring at most score, 0–100.
func (t *Tracker) percentile(score int) int {
	if t.sorted == nil {
		t.sorted = make([]int, 0, len(t.ids))
		for _, id := range t.ids {
			t.sorted = append(t.sorted, id.score)
		}
		sort.Ints(t.sorted)
	}
	if len(t.sorted) == 0 {
		return 0
	}
	return sort.SearchInts(t.sorted, score+1) * 100 / len(t.sorted)
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

// Top returns the n identities with the highest scores (all when n <= 0),
// highest first, with percentiles and factors.
func (t *Tracker) Top(n int) []schema.IdentityPriority {
	t.expire()
	out := make([]schema.IdentityPriority, 0, len(t.ids))
	for _, id := range t.ids {
		p := explain(id)
		p.Percentile = t.percentile(p.Score)
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
	t.expireDue()
	for i := range incs {
		var ps []schema.IdentityPriority
		for _, u := range incs[i].Entities.Users {
			if id, ok := t.ids["user:"+shortName(u)]; ok {
				p := explain(id)
				p.Percentile = t.percentile(p.Score)
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
	t.sorted = nil
	for k, id := range s.IDs {
		if id != nil && strings.HasPrefix(k, "user:") {
			for _, a := range id.Alerts {
				id.score += Points(a.Severity)
			}
			t.ids[k] = id
		}
	}
	return nil
}
