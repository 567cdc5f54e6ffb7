// Package entities is what detection knows about the estate: domain
// controllers, honeytoken and sensitive accounts. The connector fills it from
// config (and later from directory snapshots) and learns domain controllers
// from the events only a DC logs; Enrich stamps events with it before rules
// see them.
package entities

import (
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Tags set on users by enrichment.
const (
	TagHoneytoken = "honeytoken"
	TagSensitive  = "sensitive"
	// TagDCLookalike marks a non-machine account whose name equals a domain
	// controller's (sAMAccountName spoofing, CVE-2021-42287 / noPac).
	TagDCLookalike = "dc-lookalike"
)

// Store holds the known entities. Without LearnDCs it is read-only after
// New and safe for concurrent reads; with LearnDCs, Enrich learns and the
// caller serializes it (the pipeline does).
type Store struct {
	dcs         map[string]bool // lower-case short names, no "$": configured and learned
	dcAddrs     map[netip.Addr]bool
	honeytokens map[string]bool
	sensitive   map[string]bool
	learn       *dcLearner // nil unless Options.LearnDCs
}

// Options lists the entities known from configuration.
type Options struct {
	// DomainControllers are DC host or account names ("DC01", "DC01$",
	// "dc01.corp.example"): all forms match the DC's machine account;
	// and DC IP addresses ("10.0.0.10"), which mark source, destination
	// and host of network events.
	DomainControllers []string
	Honeytokens       []string
	Sensitive         []string
	// LearnDCs makes Enrich learn domain controllers from the events only
	// a DC logs (see IsDCOnlyEvent), by the event's host name, in
	// addition to DomainControllers. A DC is known from its first DC-only
	// event on, that event included; what it logged before (a logon at
	// the head of its log) is not marked. A DC's Security log has KDC
	// events within seconds, so in practice only the first few events of a
	// DC never seen before are affected; the learned DCs are part of the
	// Snapshot, so a restart does not re-learn. Names are taken from the
	// event as logged (a forwarded event keeps the Computer that logged it).
	LearnDCs bool
	// MaxLearnedDCs bounds the learned DCs; past it the oldest learned is
	// forgotten (counted). 0 means DefaultMaxLearnedDCs.
	MaxLearnedDCs int
}

// New builds a store.
func New(o Options) *Store {
	s := &Store{dcs: map[string]bool{}, dcAddrs: map[netip.Addr]bool{}, honeytokens: set(o.Honeytokens), sensitive: set(o.Sensitive)}
	for _, n := range o.DomainControllers {
		if a, err := netip.ParseAddr(strings.TrimSpace(n)); err == nil {
			s.dcAddrs[a.Unmap()] = true
		} else if k := key(n); k != "" {
			s.dcs[k] = true
		}
	}
	if o.LearnDCs {
		s.learn = &dcLearner{max: o.MaxLearnedDCs, held: map[string]bool{}}
		if s.learn.max <= 0 {
			s.learn.max = DefaultMaxLearnedDCs
		}
	}
	return s
}

func set(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		if k := key(n); k != "" {
			m[k] = true
		}
	}
	return m
}

// key reduces an account or host name to its lower-case short form:
// "CORP\DC01$" and "dc01.corp.example" both give "dc01".
func key(name string) string { return short(strings.ToLower(strings.TrimSpace(name))) }

// short cuts a name to its short form, case kept: after the last '\',
// before '@' and the first '.', without a trailing '$'.
func short(n string) string {
	if i := strings.LastIndexByte(n, '\\'); i >= 0 {
		n = n[i+1:]
	}
	if i := strings.IndexByte(n, '@'); i >= 0 {
		n = n[:i]
	}
	if i := strings.IndexByte(n, '.'); i >= 0 {
		n = n[:i]
	}
	return strings.TrimSuffix(n, "$")
}

// has reports whether name's key is in m. Enrich runs on every event, so
// an ASCII key (all real account and host names) is lower-cased on the
// stack instead of allocated.
func has(m map[string]bool, name string) bool {
	n := short(strings.TrimSpace(name))
	var buf [64]byte
	if len(n) > len(buf) {
		return m[key(name)]
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c >= utf8.RuneSelf {
			return m[key(name)] // lower-casing may change lengths
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return m[string(buf[:len(n)])]
}

// IsDC reports whether an account or host name is a known domain
// controller (configured or learned).
func (s *Store) IsDC(name string) bool { return has(s.dcs, name) }

// Enrich sets host.is_dc for events logged by known DCs (by name, or by
// address for network events, whose host is the server), source.is_dc and
// destination.is_dc for DC addresses and host names, user.is_dc and
// target.user.is_dc on DC machine accounts, and tags honeytoken, sensitive
// and DC look-alike accounts on user and target.user. With LearnDCs, a
// DC-only event first teaches its host as a DC, so the event that teaches
// is itself enriched with it.
func (s *Store) Enrich(ev *schema.Event) {
	if ev.Host.Name != "" {
		if s.learn != nil && IsDCOnlyEvent(ev) {
			ev.Host.IsDC = s.learnDC(ev.Host.Name) || ev.Host.IsDC
		} else if len(s.dcs) > 0 && has(s.dcs, ev.Host.Name) {
			ev.Host.IsDC = true
		}
	}
	if len(s.dcAddrs) > 0 && !ev.Host.IsDC && ev.Host.IP != "" && s.isDCAddr(ev.Host.IP) {
		ev.Host.IsDC = true
	}
	if len(s.dcs) > 0 || len(s.dcAddrs) > 0 {
		s.enrichEndpoint(&ev.Source)
		s.enrichEndpoint(&ev.Destination)
	}
	s.enrichUser(&ev.User)
	s.enrichUser(&ev.Target.User)
}

// isDCAddr reports whether a textual address is a configured DC address.
func (s *Store) isDCAddr(ip string) bool {
	a, err := netip.ParseAddr(ip)
	return err == nil && s.dcAddrs[a.Unmap()]
}

// enrichEndpoint sets is_dc on a network party whose address or host name
// is a configured domain controller.
func (s *Store) enrichEndpoint(e *schema.Endpoint) {
	if (e.IP != "" && len(s.dcAddrs) > 0 && s.isDCAddr(e.IP)) || (e.Hostname != "" && len(s.dcs) > 0 && has(s.dcs, e.Hostname)) {
		e.IsDC = true
	}
}

func (s *Store) enrichUser(u *schema.User) {
	if u.Name == "" {
		return
	}
	if len(s.dcs) > 0 {
		machine := u.IsMachine || strings.HasSuffix(u.Name, "$")
		if has(s.dcs, u.Name) {
			if machine {
				u.IsDC = true
			} else {
				u.Tags = appendOnce(u.Tags, TagDCLookalike)
			}
		}
	}
	if len(s.honeytokens) == 0 && len(s.sensitive) == 0 {
		return
	}
	if has(s.honeytokens, u.Name) {
		u.Tags = appendOnce(u.Tags, TagHoneytoken)
	}
	if has(s.sensitive, u.Name) {
		u.Tags = appendOnce(u.Tags, TagSensitive)
	}
}

func appendOnce(tags []string, t string) []string {
	for _, x := range tags {
		if x == t {
			return tags
		}
	}
	return append(tags, t)
}
