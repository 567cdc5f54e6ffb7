package engine

// lru is a map of keys to values plus an intrusive list in update order
// (head = least recently updated), the bounded key store of the sequence,
// new_value, missing_predecessor and travel kinds (see keyed).
type lru[V any] struct {
	m          map[string]*lnode[V]
	head, tail *lnode[V]
}

type lnode[V any] struct {
	key        string
	prev, next *lnode[V]
	v          V
}

func newLRU[V any]() *lru[V] { return &lru[V]{m: map[string]*lnode[V]{}} }

func (l *lru[V]) len() int { return len(l.m) }

func (l *lru[V]) unlink(n *lnode[V]) {
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		l.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		l.tail = n.prev
	}
	n.prev, n.next = nil, nil
}

func (l *lru[V]) pushBack(n *lnode[V]) {
	n.prev, n.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = n
	} else {
		l.head = n
	}
	l.tail = n
}

// touch moves n to the most recently updated end.
func (l *lru[V]) touch(n *lnode[V]) {
	if l.tail != n {
		l.unlink(n)
		l.pushBack(n)
	}
}

func (l *lru[V]) remove(n *lnode[V]) {
	l.unlink(n)
	delete(l.m, n.key)
}

// upsert returns the node of key, created (after evicting least recently
// updated keys down to max-1) when absent, and moved to the recent end.
// evicted counts the keys evicted.
func (l *lru[V]) upsert(key string, max int) (n *lnode[V], created bool, evicted int) {
	if n = l.m[key]; n != nil {
		l.touch(n)
		return n, false, 0
	}
	for len(l.m) >= max && l.head != nil {
		l.remove(l.head)
		evicted++
	}
	n = &lnode[V]{key: key}
	l.m[key] = n
	l.pushBack(n)
	return n, true, evicted
}

// sweep removes nodes from the least recently updated end while stale
// reports them stale; it stops at the first fresh one.
func (l *lru[V]) sweep(stale func(*V) bool) {
	for n := l.head; n != nil; {
		if !stale(&n.v) {
			return
		}
		next := n.next
		l.remove(n)
		n = next
	}
}

// keyed is what the sequence, new_value, missing_predecessor and travel
// evaluators share: the rule, its tuning, and the bounded per-key state
// (keys in update order, the cap on their number, when they were last
// swept).
type keyed[V any] struct {
	r         *Rule
	tune      *ruleTune
	keys      *lru[V]
	maxKeys   int
	lastSweep int64
}

func newKeyed[V any](r *Rule, tune *ruleTune, maxKeys int) keyed[V] {
	return keyed[V]{r: r, tune: tune, keys: newLRU[V](), maxKeys: maxKeys}
}

// size reports the number of keys (and no other held state).
func (s *keyed[V]) size() (int, int) { return s.keys.len(), 0 }

// key returns the node of key, created when absent (after evicting the
// least recently updated keys beyond maxKeys, counted in c.Evictions), and
// moved to the recently updated end; created reports a new key.
func (s *keyed[V]) key(key string, c *RuleStats) (n *lnode[V], created bool) {
	n, created, evicted := s.keys.upsert(key, s.maxKeys)
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
	s.keys.sweep(stale)
}
