package engine

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Tuning is per-rule configuration layered over the rule library:
// exclusions, threshold overrides and disabling. It is data the operator
// owns (detections.tuning in the config file), validated against the loaded
// rules with Validate.
type Tuning struct {
	// Rules maps a rule id, or "*" for every rule, to its tuning. A rule's
	// effective tuning is the "*" entry merged with its own: exclusion lists
	// add up, its own Threshold wins over "*", either may disable it.
	Rules map[string]RuleTuning `json:"rules,omitempty" yaml:"rules,omitempty"`
}

// RuleTuning tunes one rule. Excluded events do not count toward any state
// of the rule (they are not merely suppressed at alert time); they are
// counted in RuleStats.Excluded. For missing_predecessor rules exclusions
// apply to the judged events, never to predecessors.
type RuleTuning struct {
	// ExcludeAccounts matches user.name or target.user.name, ignoring case:
	// "svc", `CORP\svc` or "svc@corp.example"; * matches any run of
	// characters ("svc-*", `CORP\*$`).
	ExcludeAccounts []string `json:"exclude_accounts,omitempty" yaml:"exclude_accounts,omitempty"`
	// ExcludeHosts matches host.name or source.hostname, short or fully
	// qualified, ignoring case; * globs ("ws-*", "*.lab.corp.example").
	ExcludeHosts []string `json:"exclude_hosts,omitempty" yaml:"exclude_hosts,omitempty"`
	// ExcludeIPs matches source.ip: addresses or CIDR ranges.
	ExcludeIPs []string `json:"exclude_ips,omitempty" yaml:"exclude_ips,omitempty"`
	// Threshold overrides the threshold of a threshold or distinct rule, or
	// the count of a sequence rule's first step; 0 leaves it unchanged.
	Threshold int `json:"threshold,omitempty" yaml:"threshold,omitempty"`
	// Disabled turns the rule off.
	Disabled bool `json:"disabled,omitempty" yaml:"disabled,omitempty"`
}

// AllRules is the Tuning.Rules key that applies to every rule.
const AllRules = "*"

// Validate checks the tuning against the loaded rules: every rule id must
// exist, patterns and CIDR ranges must parse, and a threshold may only be
// set on rules that have one. All problems are returned together, each
// naming its rule id.
func (t Tuning) Validate(rules []*Rule) error {
	byID := make(map[string]*Rule, len(rules))
	for _, r := range rules {
		if r != nil {
			byID[r.ID] = r
		}
	}
	ids := make([]string, 0, len(t.Rules))
	for id := range t.Rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var errs []error
	for _, id := range ids {
		rt := t.Rules[id]
		r, ok := byID[id]
		if !ok && id != AllRules {
			errs = append(errs, fmt.Errorf("tuning.rules.%s: unknown rule id %q", id, id))
		}
		if _, err := compileTune(rt); err != nil {
			errs = append(errs, fmt.Errorf("tuning.rules.%s: %w", id, err))
		}
		switch {
		case rt.Threshold < 0 || rt.Threshold > maxThresholdOverride:
			errs = append(errs, fmt.Errorf("tuning.rules.%s.threshold: %d: want 0 to %d", id, rt.Threshold, maxThresholdOverride))
		case rt.Threshold > 0 && ok && !hasThreshold(r):
			errs = append(errs, fmt.Errorf("tuning.rules.%s.threshold: rule kind %s has no threshold", id, r.Kind))
		}
	}
	return errors.Join(errs...)
}

func hasThreshold(r *Rule) bool {
	switch r.Kind {
	case KindThreshold, KindDistinct, KindSequence:
		return true
	}
	return false
}

// ruleTune is a compiled RuleTuning.
type ruleTune struct {
	accounts  []acctPattern
	hosts     []string // lower-case globs
	addrs     []netip.Prefix
	threshold int
	disabled  bool
}

// acctPattern is one account exclusion: name glob and optional domain glob.
// upn is set for "name@domain" patterns, which also match user.upn whole.
type acctPattern struct {
	name, domain, upn string
}

func compileTune(rt RuleTuning) (*ruleTune, error) {
	var errs []error
	t := &ruleTune{threshold: rt.Threshold, disabled: rt.Disabled}
	for _, a := range rt.ExcludeAccounts {
		s := strings.ToLower(strings.TrimSpace(a))
		var p acctPattern
		switch {
		case s == "":
			errs = append(errs, errors.New("exclude_accounts: empty entry"))
			continue
		case strings.Contains(s, `\`):
			p.domain, p.name, _ = strings.Cut(s, `\`)
		case strings.Contains(s, "@"):
			p.name, p.domain, _ = strings.Cut(s, "@")
			p.upn = s
		default:
			p.name = s
		}
		if p.name == "" || strings.ContainsAny(p.name, `\@`) || strings.ContainsAny(p.domain, `\@`) {
			errs = append(errs, fmt.Errorf("exclude_accounts: %q: want name, DOMAIN\\name or name@domain", a))
			continue
		}
		t.accounts = append(t.accounts, p)
	}
	for _, h := range rt.ExcludeHosts {
		s := strings.ToLower(strings.TrimSpace(h))
		if s == "" || strings.ContainsAny(s, `\/ `) {
			errs = append(errs, fmt.Errorf("exclude_hosts: %q: want a host name, short or fully qualified", h))
			continue
		}
		t.hosts = append(t.hosts, s)
	}
	for _, ip := range rt.ExcludeIPs {
		s := strings.TrimSpace(ip)
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("exclude_ips: bad CIDR range %q: %v", ip, err))
				continue
			}
			t.addrs = append(t.addrs, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("exclude_ips: bad address %q: %v", ip, err))
			continue
		}
		a = a.Unmap()
		t.addrs = append(t.addrs, netip.PrefixFrom(a, a.BitLen()))
	}
	return t, errors.Join(errs...)
}

// tuneFor merges the "*" entry and the rule's own entry; nil when neither
// exists.
func (t Tuning) tuneFor(id string) (*ruleTune, error) {
	all, okAll := t.Rules[AllRules]
	own, okOwn := t.Rules[id]
	if !okAll && !okOwn {
		return nil, nil
	}
	m := RuleTuning{
		ExcludeAccounts: slices.Concat(all.ExcludeAccounts, own.ExcludeAccounts),
		ExcludeHosts:    slices.Concat(all.ExcludeHosts, own.ExcludeHosts),
		ExcludeIPs:      slices.Concat(all.ExcludeIPs, own.ExcludeIPs),
		Threshold:       all.Threshold,
		Disabled:        all.Disabled || own.Disabled,
	}
	if own.Threshold > 0 {
		m.Threshold = own.Threshold
	}
	return compileTune(m)
}

// excludes reports whether tuning excludes the event. A nil tune excludes
// nothing.
func (t *ruleTune) excludes(ev *schema.Event) bool {
	if t == nil {
		return false
	}
	if len(t.addrs) > 0 && ev.Source.IP != "" {
		if a, err := netip.ParseAddr(ev.Source.IP); err == nil {
			a = a.Unmap()
			for _, p := range t.addrs {
				if p.Contains(a) {
					return true
				}
			}
		}
	}
	for _, p := range t.accounts {
		if p.matches(&ev.User) || p.matches(&ev.Target.User) {
			return true
		}
	}
	for _, h := range t.hosts {
		if hostMatches(h, ev.Host.Name) || hostMatches(h, ev.Source.Hostname) {
			return true
		}
	}
	return false
}

func (p acctPattern) matches(u *schema.User) bool {
	if u.Name == "" && u.UPN == "" {
		return false
	}
	name, domain := strings.ToLower(u.Name), strings.ToLower(u.Domain)
	if d, n, ok := strings.Cut(name, `\`); ok {
		name, domain = n, d
	} else if n, d, ok := strings.Cut(name, "@"); ok {
		name = n
		if domain == "" {
			domain = d
		}
	}
	upn := strings.ToLower(u.UPN)
	if p.upn != "" && upn != "" && glob(p.upn, upn) {
		return true
	}
	if name == "" {
		if n, d, ok := strings.Cut(upn, "@"); ok {
			name, domain = n, d
		}
	}
	if !glob(p.name, name) {
		return false
	}
	if p.domain == "" {
		return true
	}
	if domain == "" {
		if _, d, ok := strings.Cut(upn, "@"); ok {
			domain = d
		}
	}
	return domainMatches(p.domain, domain)
}

// domainMatches compares a domain pattern with a domain, treating a NetBIOS
// name and the first label of a DNS name as the same domain.
func domainMatches(pat, d string) bool {
	if d == "" {
		return false
	}
	if glob(pat, d) {
		return true
	}
	pShort, _, pDot := strings.Cut(pat, ".")
	dShort, _, dDot := strings.Cut(d, ".")
	return (pDot != dDot) && glob(pShort, dShort)
}

// hostMatches compares a lower-case host pattern with a host name: whole
// names first; when either side is a short name, the short forms.
func hostMatches(pat, host string) bool {
	if host == "" {
		return false
	}
	h := strings.ToLower(strings.TrimSuffix(host, "$"))
	if glob(pat, h) {
		return true
	}
	pShort, _, pDot := strings.Cut(pat, ".")
	hShort, _, hDot := strings.Cut(h, ".")
	if pDot && hDot {
		return false
	}
	return glob(pShort, hShort)
}

// glob matches s against pattern p where * matches any run of characters
// (both lower case).
func glob(p, s string) bool {
	star := strings.IndexByte(p, '*')
	if star < 0 {
		return p == s
	}
	if !strings.HasPrefix(s, p[:star]) {
		return false
	}
	s = s[star:]
	p = p[star+1:]
	for {
		next := strings.IndexByte(p, '*')
		if next < 0 {
			return strings.HasSuffix(s, p) && len(s) >= len(p)
		}
		i := strings.Index(s, p[:next])
		if i < 0 {
			return false
		}
		s = s[i+next:]
		p = p[next+1:]
	}
}

// DiffAlerts compares two replays of the same input, keyed by alert id:
// suppressed are the alerts of before missing from after, added those of
// after missing from before. Order follows the inputs.
func DiffAlerts(before, after []schema.Alert) (suppressed, added []schema.Alert) {
	inBefore := make(map[string]bool, len(before))
	for _, a := range before {
		inBefore[a.ID] = true
	}
	inAfter := make(map[string]bool, len(after))
	for _, a := range after {
		inAfter[a.ID] = true
	}
	for _, a := range before {
		if !inAfter[a.ID] {
			suppressed = append(suppressed, a)
		}
	}
	for _, a := range after {
		if !inBefore[a.ID] {
			added = append(added, a)
		}
	}
	return suppressed, added
}

// withThreshold returns a copy of the rule with its threshold (or first
// step count) replaced. The original is left untouched: rules are shared.
func (r *Rule) withThreshold(n int) *Rule {
	cp := *r
	switch r.Kind {
	case KindThreshold, KindDistinct:
		cp.Threshold = n
		if cp.distinctGet != nil {
			cp.distinctCap = distinctCap(n)
		}
	case KindSequence:
		cp.Steps = slices.Clone(r.Steps)
		cp.Steps[0].Count = n
		if cp.Steps[0].distinctGet != nil {
			cp.Steps[0].distinctCap = distinctCap(n)
		}
	}
	return &cp
}
