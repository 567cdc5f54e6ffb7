package engine

import "github.com/castellan-itdr/castellan/detections/internal/lru"

// keyed is what the sequence, new_value, missing_predecessor and travel
// evaluators share: the rule, its tuning, and the bounded per-key state
// (keys in update order, the cap on their number, when they were last
// swept).
type keyed[V any] struct {
	r         *Rule
	tune      *ruleTune
	keys      *lru.List[V]
	maxKeys   int
	lastSweep int64
}

func newKeyed[V any](r *Rule, tune *ruleTune, maxKeys int) keyed[V] {
	return keyed[V]{r: r, tune: tune, keys: lru.New[V](), maxKeys: maxKeys}
}

// size reports the number of keys (and no other held state).
func (s *keyed[V]) size() (int, int) { return s.keys.Len(), 0 }

// key returns the node of key, created when absent (after evicting the
// least recently updated keys beyond maxKeys, counted in c.Evictions), and
// moved to the recently updated end; created reports a new key.
func (s *keyed[V]) key(key string, c *RuleStats) (n *lru.Node[V], created bool) {
	n, created, evicted := s.keys.Upsert(key, s.maxKeys)
	c.Evictions += uint64(evicted)
	return n, created
}

// sweepEvery removes the stale keys from the least recently updated end,
// at most once per every (event time, nanoseconds).
func (s *keyed[V]) sweepEvery(now, every int64, stale func(*V) bool) {
	if s.lastSweep != 0 && now-s.lastSweep < every {
		return
	}
	s.lastSweep = now
	s.keys.Sweep(stale)
}
