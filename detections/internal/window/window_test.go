package window

import (
	"slices"
	"testing"
)

type ev struct {
	t  int64
	id string
}

func (e ev) Time() int64 { return e.t }

// TestAddKeepsNewestAndBoundsValues: a value keeps its newest evidence; a
// full window expires old values first, then drops the oldest.
func TestAddKeepsNewestAndBoundsValues(t *testing.T) {
	m := map[string]ev{}
	Add(m, "a", ev{10, "a1"}, 2, 10, 100)
	Add(m, "a", ev{5, "a0"}, 2, 10, 100)
	if m["a"].id != "a1" {
		t.Fatalf("a = %+v, want the newer a1", m["a"])
	}
	Add(m, "b", ev{20, "b1"}, 2, 20, 100)
	Add(m, "c", ev{30, "c1"}, 2, 30, 100) // full, nothing expired: drops a (oldest)
	if _, ok := m["a"]; ok || len(m) != 2 {
		t.Fatalf("m = %v, want b and c", m)
	}
	Add(m, "d", ev{125, "d1"}, 2, 125, 100) // expires b (20+100 <= 125)
	if _, ok := m["b"]; ok || m["c"].id != "c1" || m["d"].id != "d1" {
		t.Fatalf("m = %v, want c and d", m)
	}
}

// TestCollectOrders: values sorted; evidence by time, ties in value order.
func TestCollectOrders(t *testing.T) {
	m := map[string]ev{"z": {1, "z"}, "b": {2, "b"}, "a": {2, "a"}}
	values, evs := Collect(m)
	if !slices.Equal(values, []string{"a", "b", "z"}) {
		t.Fatalf("values = %v", values)
	}
	var ids []string
	for _, e := range evs {
		ids = append(ids, e.id)
	}
	if !slices.Equal(ids, []string{"z", "a", "b"}) {
		t.Fatalf("evidence = %v, want [z a b]", ids)
	}
	Expire(m, 101, 100)
	if len(m) != 2 {
		t.Fatalf("after Expire m = %v, want a and b", m)
	}
}
