// Package lru is the bounded per-key store that the stateful detection
// evaluators share (detections/engine's keyed kinds and detections/sigma's
// correlation rules): a map of keys to values plus an intrusive list in
// update order (front = least recently updated), so the oldest keys are
// evicted first and a sweep by event time stops at the first fresh key.
package lru

import (
	"strings"
	"unicode/utf8"
)

// List maps keys to values and keeps them in update order. The zero value
// is not usable; call New.
type List[V any] struct {
	m          map[string]*Node[V]
	head, tail *Node[V]
	spare      []*Node[V] // removed nodes kept for reuse (see Recycle)
	maxSpare   int
	reset      func(*V)
}

// Node is one key and its value in a List.
type Node[V any] struct {
	// Key is the node's key in its List; do not change it.
	Key        string
	prev, next *Node[V]
	// V is the key's value, updated in place.
	V V
}

// New returns an empty List.
func New[V any]() *List[V] { return &List[V]{m: map[string]*Node[V]{}} }

// Recycle makes Remove keep up to max removed nodes for reuse by the keys
// created next, after reset has emptied their value (reset may keep its
// buffers, e.g. a slice cut to [:0] or a cleared map): keys come and go
// with every window, and reusing one saves its allocations.
func (l *List[V]) Recycle(max int, reset func(*V)) { l.maxSpare, l.reset = max, reset }

// Spare returns the removed nodes kept for reuse (for tests).
func (l *List[V]) Spare() []*Node[V] { return l.spare }

// Len reports the number of keys.
func (l *List[V]) Len() int { return len(l.m) }

// Get returns the node of key, or nil.
func (l *List[V]) Get(key string) *Node[V] { return l.m[key] }

// Front returns the least recently updated node, or nil.
func (l *List[V]) Front() *Node[V] { return l.head }

// Next returns the node updated after n, or nil.
func (n *Node[V]) Next() *Node[V] { return n.next }

func (l *List[V]) unlink(n *Node[V]) {
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

func (l *List[V]) pushBack(n *Node[V]) {
	n.prev, n.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = n
	} else {
		l.head = n
	}
	l.tail = n
}

// Touch moves n to the most recently updated end.
func (l *List[V]) Touch(n *Node[V]) {
	if l.tail != n {
		l.unlink(n)
		l.pushBack(n)
	}
}

// Remove deletes n from the List (keeping it for reuse under Recycle).
func (l *List[V]) Remove(n *Node[V]) {
	l.unlink(n)
	delete(l.m, n.Key)
	if len(l.spare) < l.maxSpare {
		n.Key = ""
		l.reset(&n.V)
		l.spare = append(l.spare, n)
	}
}

// Upsert returns the node of key, created (after evicting least recently
// updated keys down to max-1) when absent, and moved to the recent end.
// evicted counts the keys evicted.
func (l *List[V]) Upsert(key string, max int) (n *Node[V], created bool, evicted int) {
	if n = l.m[key]; n != nil {
		l.Touch(n)
		return n, false, 0
	}
	n, evicted = l.Insert(key, max)
	return n, true, evicted
}

// Insert adds key, which must be absent, at the recently updated end
// after evicting least recently updated keys down to max-1, and returns
// its node (with an empty value) and the number of keys evicted.
func (l *List[V]) Insert(key string, max int) (n *Node[V], evicted int) {
	for len(l.m) >= max && l.head != nil {
		l.Remove(l.head)
		evicted++
	}
	if k := len(l.spare); k > 0 {
		n = l.spare[k-1]
		l.spare[k-1] = nil
		l.spare = l.spare[:k-1]
		n.Key = key
	} else {
		n = &Node[V]{Key: key}
	}
	l.m[key] = n
	l.pushBack(n)
	return n, evicted
}

// GetLower returns the node of strings.ToLower(v), or nil, without
// allocating when v is ASCII and short.
func (l *List[V]) GetLower(v string) *Node[V] {
	var buf [128]byte
	if len(v) > len(buf) {
		return l.m[strings.ToLower(v)]
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= utf8.RuneSelf {
			return l.m[strings.ToLower(v)]
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return l.m[string(buf[:len(v)])]
}

// Sweep removes nodes from the least recently updated end while stale
// reports them stale; it stops at the first fresh one.
func (l *List[V]) Sweep(stale func(*V) bool) {
	for n := l.head; n != nil; {
		if !stale(&n.V) {
			return
		}
		next := n.next
		l.Remove(n)
		n = next
	}
}

// GroupKey builds the key of n group_by values, value(i) reading the i-th:
// the lower-cased values joined by a unit separator (0x1f), the values as
// read, and whether all of them are empty. No values give an empty key
// that is not reported empty.
func GroupKey(n int, value func(i int) string) (key string, vals []string, empty bool) {
	switch n {
	case 0:
		return "", nil, false
	case 1:
		v := value(0)
		return strings.ToLower(v), []string{v}, v == ""
	}
	vals = make([]string, n)
	empty = true
	var b strings.Builder
	for i := range n {
		v := value(i)
		vals[i] = v
		if v != "" {
			empty = false
		}
		if i > 0 {
			b.WriteByte(0x1f)
		}
		b.WriteString(strings.ToLower(v))
	}
	return b.String(), vals, empty
}
