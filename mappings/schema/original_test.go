package schema

import (
	"strconv"
	"testing"
)

func TestCapOriginal(t *testing.T) {
	f := map[string]string{"a": "ééé", "b.c": "x", "b.c.d": "y"}
	for i := 0; i < 5; i++ {
		f["z"+strconv.Itoa(i)] = "v"
	}
	got := CapOriginal(f, 6, 4)
	if got["a"] != "éé" { // 4 bytes, no split rune
		t.Errorf("a = %q", got["a"])
	}
	if _, ok := got["b.c.d"]; ok {
		t.Error("deepest key kept")
	}
	if got["original_truncated"] != "2" || len(got) != 7 {
		t.Errorf("truncated %q, %d keys: %v", got["original_truncated"], len(got), got)
	}
}
