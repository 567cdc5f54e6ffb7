package entities

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/castellan-itdr/castellan/mappings/samba"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// DefaultMaxLearnedDCs bounds the domain controllers a Store learns from
// events. Real estates have a handful to a few hundred.
const DefaultMaxLearnedDCs = 4096

// providerSecurity is event.provider of the Windows Security log.
const providerSecurity = "Microsoft-Windows-Security-Auditing"

// DCStats counts what DC learning did.
type DCStats struct {
	// Learned counts hosts learned as DCs from their events (restores
	// excluded); Evicted those forgotten at MaxLearnedDCs; Held the
	// learned DCs held now (configured DCs not included).
	Learned uint64 `json:"learned"`
	Evicted uint64 `json:"evicted"`
	Held    int    `json:"held"`
}

// dcLearner is the bookkeeping of learned DCs: which keys of Store.dcs were
// learned (configured ones never are), oldest first.
type dcLearner struct {
	max   int
	held  map[string]bool
	order []string // may hold keys since evicted; skipped
	stats DCStats
}

// IsDCOnlyEvent reports whether only a domain controller logs ev, so its
// host is a DC:
//
//   - Windows Security 4768-4773, the KDC's authentication and service
//     ticket operations;
//   - 4741-4743, computer account management ("generated only on domain
//     controllers");
//   - 5136-5139 and 5141, directory service changes;
//   - 4661 and 4662 whose ObjectServer is "DS" (directory service access;
//     a member server's 4661 names the SAM);
//   - Samba AD DC audit records from the KDC (kerberos_tgt) or the
//     directory database (dsdbChange, dsdbTransaction, passwordChange,
//     groupChange).
//
// Member servers and workstations log none of these, and a forwarded
// event keeps the Computer that logged it.
func IsDCOnlyEvent(ev *schema.Event) bool {
	switch ev.Event.Code {
	case "4768", "4769", "4770", "4771", "4772", "4773",
		"4741", "4742", "4743",
		"5136", "5137", "5138", "5139", "5141":
		return ev.Event.Provider == providerSecurity || isSambaDC(ev)
	case "4661", "4662":
		return ev.Event.Provider == providerSecurity && strings.EqualFold(ev.Original["ObjectServer"], "DS")
	}
	return ev.Event.Dataset == samba.Dataset && isSambaDC(ev)
}

// isSambaDC reports whether a Samba audit record comes from the AD DC's
// KDC or directory database (a member server logs only Authentication and
// Authorization, and no KDC exchanges).
func isSambaDC(ev *schema.Event) bool {
	if ev.Event.Dataset != samba.Dataset {
		return false
	}
	switch ev.Event.Channel {
	case samba.TypeDSDBChange, samba.TypeDSDBTransaction, samba.TypePasswordChange, samba.TypeGroupChange:
		return true
	}
	return ev.Event.Kind == schema.KindKerberosTGT
}

// learnDC records host as a domain controller unless it is known, and
// reports whether it is one now (false for an empty or "-" name).
// Allocates only for a new DC.
func (s *Store) learnDC(host string) bool {
	if has(s.dcs, host) {
		return true
	}
	k := key(host)
	if k == "" || k == "-" {
		return false
	}
	s.hold(k)
	s.learn.stats.Learned++
	return true
}

// hold adds a learned DC key, forgetting the oldest learned at the bound.
func (s *Store) hold(k string) {
	l := s.learn
	for len(l.held) >= l.max && len(l.order) > 0 {
		old := l.order[0]
		l.order = l.order[1:]
		if l.held[old] {
			delete(l.held, old)
			delete(s.dcs, old)
			l.stats.Evicted++
		}
	}
	l.held[k] = true
	l.order = append(l.order, k)
	s.dcs[k] = true
}

// DCStats returns the DC learning counters (zero without LearnDCs).
func (s *Store) DCStats() DCStats {
	if s.learn == nil {
		return DCStats{}
	}
	st := s.learn.stats
	st.Held = len(s.learn.held)
	return st
}

// LearnedDCs returns the learned DCs' short lower-case names, oldest first.
func (s *Store) LearnedDCs() []string {
	if s.learn == nil {
		return nil
	}
	out := make([]string, 0, len(s.learn.held))
	seen := make(map[string]bool, len(s.learn.held))
	for _, k := range s.learn.order {
		if s.learn.held[k] && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// storeSnapshot is the serialized run-time knowledge of a Store.
type storeSnapshot struct {
	// DCs are the learned domain controllers, oldest first.
	DCs []string `json:"dcs,omitempty"`
}

// Snapshot serializes what the Store learned at run time (the learned
// DCs), so a restart does not wait for each DC's next DC-only event.
// Configured entities are not included.
func (s *Store) Snapshot() ([]byte, error) {
	return json.Marshal(storeSnapshot{DCs: s.LearnedDCs()})
}

// Restore loads a Snapshot into a Store built with LearnDCs (without it,
// the snapshot is ignored), within MaxLearnedDCs (what exceeds it is
// counted in Evicted). DCs configured since are not held twice.
func (s *Store) Restore(data []byte) error {
	var snap storeSnapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return fmt.Errorf("restore entities: %w", err)
	}
	if s.learn == nil {
		return nil
	}
	for _, n := range snap.DCs {
		if k := key(n); k == "" || k != n {
			return fmt.Errorf("restore entities: learned DC %q is not a short lower-case name", n)
		}
		if !s.dcs[n] {
			s.hold(n)
		}
	}
	return nil
}
