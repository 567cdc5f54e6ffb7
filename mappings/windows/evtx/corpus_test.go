package evtx

import (
	"bufio"
	"errors"
	"github.com/castellan-itdr/castellan/internal/corpus"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// corpusDir is the third-party EVTX corpus (internal/corpus: not part of
// the repository; tests skip without it).
var corpusDir = filepath.Join(corpus.Root(), "evtx-to-mitre-attack")

type manifestEntry struct {
	path    string
	records int
}

// corpusManifest reads MANIFEST.tsv, skipping the test when the corpus is
// absent (it is not part of the repository).
func corpusManifest(t testing.TB) []manifestEntry {
	t.Helper()
	f, err := os.Open(filepath.Join(corpusDir, "MANIFEST.tsv"))
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("corpus not present (%s): skipping", corpusDir)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []manifestEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 6 || cols[0] == "path" {
			continue
		}
		n, err := strconv.Atoi(cols[4])
		if err != nil {
			t.Fatalf("manifest line %q: %v", sc.Text(), err)
		}
		out = append(out, manifestEntry{path: cols[0], records: n})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func readAllFile(t testing.TB, path string, onDamage func(Damage)) (*Reader, []recordT) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(f, st.Size(), Options{OnDamage: onDamage})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var recs []recordT
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		recs = append(recs, rec)
	}
	return r, recs
}

// knownDamaged lists corpus files whose count differs from the manifest
// for a documented reason (see TestCorpusCounts).
var knownDamaged = map[string]string{}

func TestCorpusCounts(t *testing.T) {
	entries := corpusManifest(t)
	total, want := 0, 0
	for _, e := range entries {
		var damages []Damage
		r, recs := readAllFile(t, filepath.Join(corpusDir, e.path), func(d Damage) { damages = append(damages, d) })
		total += len(recs)
		want += e.records
		st := r.Stats()
		if st.Records != len(recs) {
			t.Errorf("%s: Stats.Records = %d, returned %d", e.path, st.Records, len(recs))
		}
		if len(recs) != e.records {
			t.Logf("%s: %d records, manifest %d; damages %v", e.path, len(recs), e.records, damages)
			if _, ok := knownDamaged[e.path]; !ok {
				t.Errorf("%s: %d records, manifest says %d", e.path, len(recs), e.records)
			}
		} else if len(damages) > 0 {
			t.Logf("%s: count matches, damages %v", e.path, damages)
		}
		for i, rec := range recs {
			if rec.EventID == 0 || rec.RecordID == 0 || rec.Time.IsZero() || rec.Provider == "" || rec.Computer == "" {
				t.Errorf("%s: record %d incomplete: %+v", e.path, i, rec)
				break
			}
		}
	}
	t.Logf("%d files, %d records (manifest %d)", len(entries), total, want)
}
