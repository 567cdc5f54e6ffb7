package tail

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/connector/telemetry"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

type recorder struct {
	mu  sync.Mutex
	ids []string
	cps map[string][]byte
}

func (r *recorder) ConsumeBatch(_ context.Context, b component.Batch) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range b.Events {
		r.ids = append(r.ids, ev.ID)
	}
	for _, cp := range b.Checkpoints {
		r.cps[cp.Key] = cp.Value
	}
	return nil
}

func (r *recorder) got() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.ids, ",")
}

func (r *recorder) Checkpoint(key string) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cps[key], nil
}

// splitRecords splits "<r>…</r>" records; anything between is skipped.
func splitRecords(data []byte, atEOF bool) (int, []byte, error) {
	start := bytes.Index(data, []byte("<r>"))
	if start < 0 {
		if atEOF {
			return len(data), nil, nil
		}
		return 0, nil, nil
	}
	end := bytes.Index(data[start:], []byte("</r>"))
	if end < 0 {
		return 0, nil, nil
	}
	end += start + len("</r>")
	return end, data[start:end], nil
}

// decode: "<r>ID</r>" → event ID; "<r>#…</r>" → ErrSkip; "<r>!…</r>" → error.
func decode(rec []byte) (schema.Event, error) {
	body := strings.TrimSuffix(strings.TrimPrefix(string(rec), "<r>"), "</r>")
	switch {
	case strings.HasPrefix(body, "#"):
		return schema.Event{}, ErrSkip
	case strings.HasPrefix(body, "!"):
		return schema.Event{}, errors.New("bad record")
	}
	return schema.Event{ID: body}, nil
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSplitRecordsAcrossWritesSkipsAndErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.log")
	if err := os.WriteFile(p, []byte("<r>1</r>\n<r>#header</r><r>2</r>\n<r>!x</r><r>3"), 0o600); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{cps: map[string][]byte{}}
	counters := telemetry.New()
	cfg := NewDefaultConfig()
	cfg.Paths = []string{filepath.Join(dir, "*.log")}
	cfg.PollInterval = 10 * time.Millisecond
	cfg.Split = splitRecords
	tl, err := New(*cfg, "test", decode, component.SourceSettings{ID: "t", Next: rec, Checkpoints: rec, Counters: counters})
	if err != nil {
		t.Fatal(err)
	}
	if err := tl.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	defer tl.Shutdown(context.Background())
	waitFor(t, "first records", func() bool { return rec.got() == "1,2" })
	// The partial "<r>3" is completed by a later write.
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("</r>\n<r>4</r>\n")
	f.Close()
	waitFor(t, "completed record", func() bool { return rec.got() == "1,2,3,4" })
	if got := counters.Value(`source_skipped_records{source="t"}`); got != 1 {
		t.Errorf("skipped = %d, want 1", got)
	}
	if got := counters.Value(`source_decode_errors{source="t"}`); got != 1 {
		t.Errorf("errors = %d, want 1", got)
	}
}

func TestSplitRecordTooLongIsCountedNotBuffered(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.log")
	big := "<r>" + strings.Repeat("x", 5000) + "</r><r>ok</r>"
	if err := os.WriteFile(p, []byte(big), 0o600); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{cps: map[string][]byte{}}
	counters := telemetry.New()
	cfg := NewDefaultConfig()
	cfg.Paths = []string{p}
	cfg.Follow = false
	cfg.Split = splitRecords
	cfg.MaxRecordBytes = 1000
	tl, err := New(*cfg, "test", decode, component.SourceSettings{ID: "t", Next: rec, Counters: counters})
	if err != nil {
		t.Fatal(err)
	}
	if err := tl.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	<-tl.Done()
	if got := counters.Value(`source_decode_errors{source="t"}`); got < 1 {
		t.Errorf("too-long record not counted (%d)", got)
	}
	if got := rec.got(); got != "ok" && !strings.HasSuffix(got, "ok") {
		t.Errorf("records after the long one: %q", got)
	}
}

func TestReadSplitFinalTrailingToken(t *testing.T) {
	r := bufio.NewReader(strings.NewReader("<r>a</r><r>b"))
	var pending []byte
	tok, _, complete, _, err := readSplit(r, &pending, splitRecords, 1<<20, false)
	if string(tok) != "<r>a</r>" || !complete || err != nil {
		t.Fatalf("first: %q %v %v", tok, complete, err)
	}
	_, n, complete, _, _ := readSplit(r, &pending, splitRecords, 1<<20, false)
	if complete || n == 0 {
		t.Fatalf("partial token reported complete=%v n=%d", complete, n)
	}
}
