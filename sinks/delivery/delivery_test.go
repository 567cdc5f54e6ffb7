package delivery

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

func openDB(t *testing.T, path string) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func alertItems(t *testing.T, ids ...string) []Item {
	var out []Item
	for _, id := range ids {
		it, err := NewItem(schema.Alert{ID: id, Severity: schema.SeverityHigh})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, it)
	}
	return out
}

type recorder struct {
	mu   sync.Mutex
	got  []string
	fail func(n int) error // called with the push number (1-based)
	n    int
}

func (r *recorder) Push(_ context.Context, batch []Item) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	if r.fail != nil {
		if err := r.fail(r.n); err != nil {
			return err
		}
	}
	for _, it := range batch {
		r.got = append(r.got, it.ID)
	}
	return nil
}

func (r *recorder) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

func fastCfg() SenderConfig {
	return SenderConfig{MaxItems: 2, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, PollInterval: 5 * time.Millisecond}
}

func TestRetryableErrorsAreRetriedInOrder(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "q.db"))
	defer db.Close()
	q, err := NewQueue(db, "file")
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Enqueue(alertItems(t, "a", "b", "c")); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{fail: func(n int) error {
		if n <= 2 {
			return errors.New("503 service unavailable")
		}
		return nil
	}}
	s := NewSender("file", q, rec, fastCfg(), nil, nil)
	s.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rec.ids(); len(got) != 3 || got[0] != "a" || got[2] != "c" {
		t.Fatalf("delivered %v, want [a b c]", got)
	}
}

func TestPermanentRejectionIsDeadLettered(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "q.db"))
	defer db.Close()
	q, _ := NewQueue(db, "x")
	_ = q.Enqueue(alertItems(t, "bad1", "bad2", "good"))
	rec := &recorder{fail: func(n int) error {
		if n == 1 {
			return Permanent(errors.New("400 schema mismatch"))
		}
		return nil
	}}
	s := NewSender("x", q, rec, fastCfg(), nil, nil)
	s.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	_ = s.Shutdown(ctx)
	dl, err := q.DeadLetters()
	if err != nil || len(dl) != 2 || dl[0].Item.ID != "bad1" || dl[0].Reason == "" {
		t.Fatalf("dead letters = %+v, %v", dl, err)
	}
	if got := rec.ids(); len(got) != 1 || got[0] != "good" {
		t.Fatalf("delivered %v", got)
	}
}

func TestThrottledHonoursRetryAfter(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "q.db"))
	defer db.Close()
	q, _ := NewQueue(db, "x")
	_ = q.Enqueue(alertItems(t, "a"))
	var first, second time.Time
	rec := &recorder{fail: func(n int) error {
		if n == 1 {
			first = time.Now()
			return Throttled(errors.New("429"), 150*time.Millisecond)
		}
		second = time.Now()
		return nil
	}}
	s := NewSender("x", q, rec, fastCfg(), nil, nil)
	s.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	_ = s.Shutdown(ctx)
	if gap := second.Sub(first); gap < 150*time.Millisecond {
		t.Fatalf("retried after %v, want >= 150ms (Retry-After)", gap)
	}
}

func TestQueueSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	db := openDB(t, path)
	q, _ := NewQueue(db, "x")
	_ = q.Enqueue(alertItems(t, "a", "b"))
	// A sender that never succeeds, stopped abruptly.
	s := NewSender("x", q, PushFunc(func(context.Context, []Item) error { return errors.New("down") }), fastCfg(), nil, nil)
	s.Start()
	time.Sleep(20 * time.Millisecond)
	_ = s.Shutdown(context.Background())
	db.Close()

	db = openDB(t, path)
	defer db.Close()
	q, _ = NewQueue(db, "x")
	if n := q.Len(); n != 2 {
		t.Fatalf("after restart %d queued, want 2", n)
	}
	rec := &recorder{}
	s = NewSender("x", q, rec, fastCfg(), nil, nil)
	s.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	_ = s.Shutdown(ctx)
	if got := rec.ids(); len(got) != 2 {
		t.Fatalf("delivered %v", got)
	}
}

func TestSenderLifecycle(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "q.db"))
	defer db.Close()
	q, _ := NewQueue(db, "x")
	s := NewSender("x", q, &recorder{}, fastCfg(), nil, nil)
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal("shutdown without start:", err)
	}
	s2 := NewSender("y", q, &recorder{}, fastCfg(), nil, nil)
	s2.Start()
	for range 2 {
		if err := s2.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSelection(t *testing.T) {
	cases := []struct {
		sel  Selection
		kind string
		sev  schema.Severity
		want bool
	}{
		{Selection{}, schema.RecordAlert, schema.SeverityLow, true},
		{Selection{}, schema.RecordEvent, 0, false},
		{Selection{Kinds: []string{"event"}}, schema.RecordEvent, 0, true},
		{Selection{MinSeverity: "high"}, schema.RecordAlert, schema.SeverityMedium, false},
		{Selection{MinSeverity: "high"}, schema.RecordIncident, schema.SeverityCritical, true},
		{Selection{MinSeverity: "low"}, schema.RecordAction, schema.SeverityInformational, true},
		{Selection{MinSeverity: "low"}, schema.RecordFinding, schema.SeverityInformational, false},
		{Selection{Kinds: []string{"alert"}, MinSeverity: "low"}, schema.RecordAction, schema.SeverityInformational, false},
	}
	for i, c := range cases {
		if got := c.sel.Takes(c.kind, c.sev); got != c.want {
			t.Errorf("case %d: Takes = %v", i, got)
		}
	}
	if err := (Selection{Kinds: []string{"nope"}, MinSeverity: "huge"}).Validate(); err == nil {
		t.Fatal("bad selection validated")
	}
}

func TestTooLargeSplitsUntilAccepted(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "q.db"))
	defer db.Close()
	q, _ := NewQueue(db, "x")
	_ = q.Enqueue(alertItems(t, "a", "b", "c", "d", "e"))
	var sizes []int
	rec := &recorder{}
	push := PushFunc(func(ctx context.Context, batch []Item) error {
		sizes = append(sizes, len(batch))
		if len(batch) > 2 {
			return TooLarge(errors.New("413"))
		}
		return rec.Push(ctx, batch)
	})
	cfg := fastCfg()
	cfg.MaxItems = 5
	s := NewSender("x", q, push, cfg, nil, nil)
	s.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	_ = s.Shutdown(ctx)
	if got := strings.Join(rec.ids(), ","); got != "a,b,c,d,e" {
		t.Fatalf("delivered %s (push sizes %v)", got, sizes)
	}
}

func TestPartialFailureRetriesOnlyFailedItems(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "q.db"))
	defer db.Close()
	q, _ := NewQueue(db, "x")
	_ = q.Enqueue(alertItems(t, "ok1", "retry", "dead", "ok2"))
	var pushes [][]string
	var mu sync.Mutex
	push := PushFunc(func(_ context.Context, batch []Item) error {
		mu.Lock()
		defer mu.Unlock()
		var ids []string
		var failed []ItemError
		for i, it := range batch {
			ids = append(ids, it.ID)
			if it.ID == "dead" {
				failed = append(failed, ItemError{Index: i, Err: Permanent(errors.New("400 mapper_parsing_exception"))})
			}
			if it.ID == "retry" && len(pushes) == 0 {
				failed = append(failed, ItemError{Index: i, Err: Throttled(errors.New("429"), time.Millisecond)})
			}
		}
		pushes = append(pushes, ids)
		if failed != nil {
			return &PartialError{Failed: failed}
		}
		return nil
	})
	cfg := fastCfg()
	cfg.MaxItems = 10
	s := NewSender("x", q, push, cfg, nil, nil)
	s.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	_ = s.Shutdown(ctx)
	mu.Lock()
	defer mu.Unlock()
	if len(pushes) != 2 || strings.Join(pushes[1], ",") != "retry" {
		t.Fatalf("pushes %v, want the second to hold only the retried item", pushes)
	}
	dl, _ := q.DeadLetters()
	if len(dl) != 1 || dl[0].Item.ID != "dead" {
		t.Fatalf("dead letters %+v", dl)
	}
}

func TestPanickingPusherIsRetriedNotFatal(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "q.db"))
	defer db.Close()
	q, _ := NewQueue(db, "x")
	_ = q.Enqueue(alertItems(t, "a"))
	n := 0
	rec := &recorder{}
	push := PushFunc(func(ctx context.Context, batch []Item) error {
		n++
		if n == 1 {
			panic("boom")
		}
		return rec.Push(ctx, batch)
	})
	s := NewSender("x", q, push, fastCfg(), nil, nil)
	s.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	_ = s.Shutdown(ctx)
	if len(rec.ids()) != 1 {
		t.Fatal("not delivered after panic")
	}
}

func TestLingerBatchesByTime(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "q.db"))
	defer db.Close()
	q, _ := NewQueue(db, "x")
	var sizes []int
	var mu sync.Mutex
	push := PushFunc(func(_ context.Context, batch []Item) error {
		mu.Lock()
		sizes = append(sizes, len(batch))
		mu.Unlock()
		return nil
	})
	cfg := fastCfg()
	cfg.MaxItems = 100
	cfg.Linger = 300 * time.Millisecond
	s := NewSender("x", q, push, cfg, nil, nil)
	s.Start()
	defer s.Shutdown(context.Background())
	_ = q.Enqueue(alertItems(t, "a"))
	time.Sleep(50 * time.Millisecond)
	_ = q.Enqueue(alertItems(t, "b", "c"))
	deadline := time.Now().Add(3 * time.Second)
	for q.Len() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sizes) != 1 || sizes[0] != 3 {
		t.Fatalf("push sizes %v, want one batch of 3 (linger collects)", sizes)
	}
}

func TestReplayDeadLetters(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "q.db"))
	defer db.Close()
	q, _ := NewQueue(db, "x")
	items := alertItems(t, "a", "b")
	if err := db.Update(func(tx *bolt.Tx) error { return q.EnqueueTx(tx, items) }); err != nil {
		t.Fatal(err)
	}
	keys, got, _ := q.peek(10, 1<<20)
	if err := q.ack(keys, got, errors.New("400")); err != nil {
		t.Fatal(err)
	}
	if q.Len() != 0 {
		t.Fatal("not dead-lettered")
	}
	n, err := q.ReplayDeadLetters()
	if err != nil || n != 2 || q.Len() != 2 {
		t.Fatalf("replayed %d (%v), queue %d", n, err, q.Len())
	}
	if dl, _ := q.DeadLetters(); len(dl) != 0 {
		t.Fatalf("dead letters left: %d", len(dl))
	}
	ids, _ := QueueIDs(db)
	if len(ids) != 1 || ids[0] != "x" {
		t.Fatalf("queue ids %v", ids)
	}
}

// An item's format survives the queue, a dead letter and its replay, and an
// item queued before formats existed (no "f" key) reads as FormatRecord.
func TestItemFormatSurvivesQueueAndDeadLetters(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "q.db"))
	defer db.Close()
	q, err := NewQueue(db, "x")
	if err != nil {
		t.Fatal(err)
	}
	legacy := []byte(`{"k":"alert","i":"old","s":"high","b":{"kind":"alert","id":"old"}}`)
	if err := db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("queue/x"))
		seq, _ := b.NextSequence()
		return b.Put(seqKey(seq), legacy)
	}); err != nil {
		t.Fatal(err)
	}
	pre := Item{Kind: schema.RecordAlert, ID: "new", Severity: schema.SeverityLow, Format: "wire/1", Body: []byte(`{"row":1}`)}
	if err := q.Enqueue([]Item{pre}); err != nil {
		t.Fatal(err)
	}
	keys, items, err := q.peek(10, 1<<20)
	if err != nil || len(items) != 2 {
		t.Fatalf("peek: %d items, %v", len(items), err)
	}
	if items[0].Format != FormatRecord || string(items[0].Body) != `{"kind":"alert","id":"old"}` {
		t.Errorf("legacy item %+v", items[0])
	}
	if items[1].Format != "wire/1" || string(items[1].Body) != `{"row":1}` || items[1].Severity != schema.SeverityLow {
		t.Errorf("pre-encoded item %+v", items[1])
	}
	if err := q.ack(keys, items, Permanent(errors.New("bad"))); err != nil {
		t.Fatal(err)
	}
	if n, err := q.ReplayDeadLetters(); err != nil || n != 2 {
		t.Fatalf("replay: %d, %v", n, err)
	}
	_, again, err := q.peek(10, 1<<20)
	if err != nil || len(again) != 2 || again[0].Format != FormatRecord || again[1].Format != "wire/1" || string(again[1].Body) != `{"row":1}` {
		t.Fatalf("after replay: %+v, %v", again, err)
	}
}
