package tail

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/connector/telemetry"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// decodeTimed: "ID@M" → event ID at minute M; "#…" skipped; "!…" bad.
func decodeTimed(rec []byte) (schema.Event, error) {
	s := string(rec)
	switch {
	case strings.HasPrefix(s, "#"):
		return schema.Event{}, ErrSkip
	case strings.HasPrefix(s, "!"):
		return schema.Event{}, errors.New("bad record")
	}
	id, m, _ := strings.Cut(s, "@")
	n, err := strconv.Atoi(m)
	if err != nil {
		return schema.Event{}, err
	}
	return schema.Event{ID: id, Timestamp: time.Date(2026, 3, 2, 8, n, 0, 0, time.UTC)}, nil
}

func runOnce(t *testing.T, dir string, rec *recorder, counters *telemetry.Counters) {
	t.Helper()
	cfg := NewDefaultConfig()
	cfg.Paths = []string{filepath.Join(dir, "*.log")}
	cfg.Follow = false
	cfg.BatchSize = 2
	tl, err := New(*cfg, "test", decodeTimed, component.SourceSettings{ID: "t", Next: rec, Checkpoints: rec, Counters: counters})
	if err != nil {
		t.Fatal(err)
	}
	if err := tl.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	<-tl.Done()
	tl.Shutdown(context.Background())
}

// TestOneShotMergesFilesByTime: without follow, several files are read as
// one stream in event-time order (each file's own order kept), bad and
// skipped records are counted, and the checkpoints end at each file's end.
// A run resumed from checkpoints taken mid-merge continues the same
// sequence.
func TestOneShotMergesFilesByTime(t *testing.T) {
	dir := t.TempDir()
	a := "a1@1\n!bad\na3@3\na5@5\n"
	b := "b2@2\nb4@4\n#skip\nb0@0\nb6@6" // b0 is out of order: kept after b4
	for name, body := range map[string]string{"a.log": a, "b.log": b} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rec := &recorder{cps: map[string][]byte{}}
	counters := telemetry.New()
	runOnce(t, dir, rec, counters)
	if got, want := rec.got(), "a1,b2,a3,b4,b0,a5,b6"; got != want {
		t.Fatalf("events %s, want %s", got, want)
	}
	if e, s := counters.Value(`source_decode_errors{source="t"}`), counters.Value(`source_skipped_records{source="t"}`); e != 1 || s != 1 {
		t.Errorf("errors %d, skipped %d; want 1 and 1", e, s)
	}
	for name, body := range map[string]string{"a.log": a, "b.log": b} {
		var p position
		abs, _ := filepath.Abs(filepath.Join(dir, name))
		if err := json.Unmarshal(rec.cps[CheckpointKey(abs)], &p); err != nil || p.Offset != int64(len(body)) {
			t.Errorf("%s: checkpoint %+v (%v), want offset %d", name, p, err, len(body))
		}
	}

	// Resume as after a crash that committed a1 and b2 only.
	resumed := &recorder{cps: map[string][]byte{}}
	for name, off := range map[string]int64{"a.log": 5, "b.log": 5} {
		abs, _ := filepath.Abs(filepath.Join(dir, name))
		fi, err := os.Stat(abs)
		if err != nil {
			t.Fatal(err)
		}
		dev, ino := fileIdentity(fi)
		resumed.cps[CheckpointKey(abs)], _ = json.Marshal(position{Dev: dev, Ino: ino, Offset: off, Line: 1})
	}
	runOnce(t, dir, resumed, telemetry.New())
	if got, want := resumed.got(), "a3,b4,b0,a5,b6"; got != want {
		t.Fatalf("resumed run: events %s, want %s", got, want)
	}
}
