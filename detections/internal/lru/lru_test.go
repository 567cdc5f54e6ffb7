package lru

import (
	"slices"
	"testing"
)

func keys[V any](l *List[V]) []string {
	var out []string
	for n := l.Front(); n != nil; n = n.Next() {
		out = append(out, n.Key)
	}
	return out
}

// TestUpsertEvictsLeastRecentlyUpdated: a full List evicts from the front,
// and touching a key moves it to the back.
func TestUpsertEvictsLeastRecentlyUpdated(t *testing.T) {
	l := New[int]()
	for _, k := range []string{"a", "b", "c"} {
		if _, created, ev := l.Upsert(k, 3); !created || ev != 0 {
			t.Fatalf("Upsert(%s) created=%v evicted=%d", k, created, ev)
		}
	}
	if n, created, _ := l.Upsert("a", 3); created || n.Key != "a" {
		t.Fatalf("Upsert(a) again: created=%v key=%q", created, n.Key)
	}
	if _, _, ev := l.Upsert("d", 3); ev != 1 {
		t.Fatalf("evicted = %d, want 1", ev)
	}
	if got := keys(l); !slices.Equal(got, []string{"c", "a", "d"}) {
		t.Fatalf("order = %v, want [c a d]", got)
	}
	if l.Get("b") != nil || l.Len() != 3 {
		t.Fatalf("b still present or Len = %d", l.Len())
	}
}

// TestSweepStopsAtFirstFresh: Sweep removes stale keys from the front only.
func TestSweepStopsAtFirstFresh(t *testing.T) {
	l := New[int]()
	for i, k := range []string{"a", "b", "c", "d"} {
		n, _, _ := l.Upsert(k, 10)
		n.V = []int{1, 5, 1, 1}[i]
	}
	l.Sweep(func(v *int) bool { return *v < 3 })
	if got := keys(l); !slices.Equal(got, []string{"b", "c", "d"}) {
		t.Fatalf("after sweep = %v, want [b c d]", got)
	}
}

// TestRecycleReusesResetNodes: removed nodes are reset, kept up to the cap
// and handed out again by Insert.
func TestRecycleReusesResetNodes(t *testing.T) {
	l := New[[]int]()
	l.Recycle(1, func(v *[]int) { *v = (*v)[:0] })
	a, _, _ := l.Upsert("a", 10)
	a.V = append(a.V, 1, 2, 3)
	b, _, _ := l.Upsert("b", 10)
	l.Remove(a)
	l.Remove(b)
	if sp := l.Spare(); len(sp) != 1 || sp[0] != a || sp[0].Key != "" || len(a.V) != 0 || cap(a.V) < 3 {
		t.Fatalf("spare = %+v, want a reset with its buffer", sp)
	}
	n, ev := l.Insert("c", 10)
	if n != a || n.Key != "c" || ev != 0 || len(l.Spare()) != 0 || l.Get("c") != a {
		t.Fatalf("Insert did not reuse the spare node: %+v", n)
	}
}

// TestGetLower finds lower-cased keys for ASCII, non-ASCII and long input.
func TestGetLower(t *testing.T) {
	l := New[int]()
	long := string(make([]byte, 200))
	for _, k := range []string{"jdoe", "élodie", long} {
		l.Upsert(k, 10)
	}
	for _, v := range []string{"JDoe", "ÉLODIE", long} {
		if l.GetLower(v) == nil {
			t.Errorf("GetLower(%.10q) = nil", v)
		}
	}
	if l.GetLower("other") != nil {
		t.Error("GetLower(other) found a key")
	}
}

// TestGroupKey: lower-cased values joined by 0x1f, values as read, empty
// only when every value is.
func TestGroupKey(t *testing.T) {
	for _, c := range []struct {
		in    []string
		key   string
		empty bool
	}{
		{nil, "", false},
		{[]string{"JDoe"}, "jdoe", false},
		{[]string{""}, "", true},
		{[]string{"JDoe", "10.0.0.1"}, "jdoe\x1f10.0.0.1", false},
		{[]string{"", ""}, "\x1f", true},
	} {
		key, vals, empty := GroupKey(len(c.in), func(i int) string { return c.in[i] })
		if key != c.key || empty != c.empty || !slices.Equal(vals, c.in) {
			t.Errorf("GroupKey(%q) = %q %q %v, want %q %v", c.in, key, vals, empty, c.key, c.empty)
		}
	}
}
