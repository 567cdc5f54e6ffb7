package windows

import (
	"bufio"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// NormalizeOwned gives exactly what Normalize gives, for every test input.
func TestNormalizeOwnedEqualsNormalize(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	more, _ := filepath.Glob(filepath.Join("testdata", "events", "*.json*"))
	files = append(files, more...)
	n := 0
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, MaxLineBytes+2)
		for sc.Scan() {
			r, err := DecodeJSON(sc.Bytes())
			if err != nil {
				continue
			}
			want := Normalize(&r, "x")
			owned := r
			owned.Data = maps.Clone(r.Data)
			got := NormalizeOwned(&owned, "x")
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: NormalizeOwned differs:\n got %+v\nwant %+v", f, got, want)
			}
			n++
		}
		fh.Close()
	}
	if n < 20 {
		t.Fatalf("only %d records compared", n)
	}
}
