package eventhub

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/connector/component"
)

func TestReadsDiagnosticBodies(t *testing.T) {
	c := newCluster(t, 1)
	bodies := [][]byte{
		signIns("a", 4),
		body(signInRecord("SignInLogs", "b-0"), signInRecord("ProvisioningLogs", "p-0"), signInRecord("SignInLogs", "b-1")),
		signIns("c", 5),
	}
	produce(t, c, 0, bodies...)
	h := start(t, testConfig(c), &fakeConsumer{})
	evs := waitEvents(t, h.fake, 11)
	checkExactlyOnce(t, evs, append(append(ids("a", 4), ids("b", 2)...), ids("c", 5)...))
	// Order within a partition is kept.
	if recordID(evs[0]) != "a-0" || recordID(evs[10]) != "c-4" {
		t.Errorf("order: first %s, last %s", recordID(evs[0]), recordID(evs[10]))
	}
	waitFor(t, "commit of all three messages", func() bool { return committed(t, c, testGroup, 1)[0] == 3 })
	var size int64
	for _, b := range bodies {
		size += int64(len(b))
	}
	for name, want := range map[string]int64{
		"source_events": 11, "source_skipped_records": 1, "source_decode_errors": 0,
		"source_bytes": size, "source_commit_errors": 0,
	} {
		if got := h.counter(name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
	// More messages later are read by the running source.
	produce(t, c, 0, signIns("d", 2))
	checkExactlyOnce(t, waitEvents(t, h.fake, 13), append(append(append(ids("a", 4), ids("b", 2)...), ids("c", 5)...), ids("d", 2)...))
}

func TestBatchesHoldWholeMessages(t *testing.T) {
	c := newCluster(t, 1)
	produce(t, c, 0, signIns("a", 2), signIns("b", 2), signIns("c", 5), signIns("d", 1))
	cfg := testConfig(c)
	cfg.BatchSize = 3
	h := start(t, cfg, &fakeConsumer{})
	waitEvents(t, h.fake, 10)
	h.stop(t)
	// Whatever the poll boundaries: a batch holds at most 3 events unless it
	// is one larger message (c), and no message is split over batches.
	owner := map[byte]int{}
	for i, b := range h.fake.batches {
		if len(b) > 3 && (len(b) != 5 || recordID(b[0]) != "c-0") {
			t.Errorf("batch %d has %d events", i, len(b))
		}
		for _, e := range b {
			m := recordID(e)[0]
			if j, ok := owner[m]; ok && j != i {
				t.Errorf("message %c split over batches %d and %d", m, j, i)
			}
			owner[m] = i
		}
	}
}

func TestOffsetsCommittedOnlyAfterHandOff(t *testing.T) {
	c := newCluster(t, 1)
	var bodies [][]byte
	var want []string
	for i := range 6 {
		p := fmt.Sprintf("m%d", i)
		bodies = append(bodies, signIns(p, 3))
		want = append(want, ids(p, 3)...)
	}
	produce(t, c, 0, bodies...)
	cfg := testConfig(c)
	cfg.BatchSize = 3 // one message per batch
	fake := &fakeConsumer{}
	var mu sync.Mutex
	var seen []string
	fake.before = func(call int) {
		// At every hand-off the committed offset is exactly the number of
		// messages accepted so far: nothing before hand-off, nothing lost.
		got := committed(t, c, testGroup, 1)[0]
		accepted := int64(fake.nBatches())
		if accepted == 0 {
			accepted = -1
		}
		mu.Lock()
		defer mu.Unlock()
		if got != accepted {
			seen = append(seen, fmt.Sprintf("call %d: committed %d, accepted %d", call, got, accepted))
		}
		if call == 2 {
			fake.set(func(f *fakeConsumer) { f.fail = 2 }) // the second batch fails twice
		}
	}
	h := start(t, cfg, fake)
	evs := waitEvents(t, fake, 18)
	checkExactlyOnce(t, evs, want)
	waitFor(t, "final commit", func() bool { return committed(t, c, testGroup, 1)[0] == 6 })
	mu.Lock()
	defer mu.Unlock()
	for _, s := range seen {
		t.Error(s)
	}
	if fake.calls != 8 {
		t.Errorf("calls = %d, want 6 batches + 2 refusals", fake.calls)
	}
	if !strings.Contains(h.logs.String(), "batch refused, retrying") {
		t.Error("refusal not logged")
	}
}

// TestRestartResumes is the acceptance test: a source stopped after N
// batches and a new one started in the same group together deliver every
// record exactly once.
func TestRestartResumes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prepare func(f *fakeConsumer) (stop func(t *testing.T, h *harness))
	}{
		{"shutdown during the fifth hand-off", func(f *fakeConsumer) func(*testing.T, *harness) {
			reached, proceed := make(chan struct{}), make(chan struct{})
			f.before = func(call int) {
				if call == 5 {
					close(reached)
					<-proceed
				}
			}
			return func(t *testing.T, h *harness) {
				<-reached
				errc := make(chan error, 1)
				go func() {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					errc <- h.src.Shutdown(ctx)
				}()
				waitFor(t, "stopping", h.src.stopping)
				close(proceed) // the in-flight batch is accepted, then the source stops
				if err := <-errc; err != nil {
					t.Fatal(err)
				}
				if n := h.fake.nBatches(); n != 5 {
					t.Errorf("%d batches handed off, want 5", n)
				}
			}
		}},
		{"shutdown while the pipeline blocks", func(f *fakeConsumer) func(*testing.T, *harness) {
			f.blockAfter = 4
			return func(t *testing.T, h *harness) {
				waitFor(t, "a blocked hand-off", func() bool {
					h.fake.mu.Lock()
					defer h.fake.mu.Unlock()
					return h.fake.calls > 4
				})
				ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
				defer cancel()
				if err := h.src.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("shutdown: %v, want deadline exceeded", err)
				}
				<-h.src.closed
				if n := h.fake.nBatches(); n != 4 {
					t.Errorf("%d batches handed off, want 4", n)
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t, 1)
			var want []string
			for i := range 10 {
				p := fmt.Sprintf("m%d", i)
				produce(t, c, 0, signIns(p, 2))
				want = append(want, ids(p, 2)...)
			}
			cfg := testConfig(c)
			cfg.BatchSize = 2 // one message per batch
			fake := &fakeConsumer{}
			stop := tc.prepare(fake)
			h := start(t, cfg, fake)
			stop(t, h)
			first := len(fake.events())
			if got, wantOff := committed(t, c, testGroup, 1)[0], int64(first/2); got != wantOff {
				t.Errorf("committed %d after %d events handed off, want %d", got, first, wantOff)
			}
			fake.set(func(f *fakeConsumer) { f.blockAfter, f.before = 0, nil })
			for i := 10; i < 12; i++ { // more arrive while stopped
				p := fmt.Sprintf("m%d", i)
				produce(t, c, 0, signIns(p, 2))
				want = append(want, ids(p, 2)...)
			}
			h2 := start(t, cfg, fake)
			checkExactlyOnce(t, waitEvents(t, fake, 24), want)
			h2.stop(t)
			if got := committed(t, c, testGroup, 1)[0]; got != 12 {
				t.Errorf("committed %d, want 12", got)
			}
		})
	}
}

func TestMalformedBodies(t *testing.T) {
	c := newCluster(t, 1)
	produce(t, c, 0,
		signIns("a", 1),
		[]byte("not json"),
		[]byte(`{"value":[]}`),
		body(`{"category":"SignInLogs","time":"2024-03-01T10:00:00Z"}`, signInRecord("SignInLogs", "b-0")),
		body(signInRecord("ProvisioningLogs", "p-0")),
		[]byte(`{"records":[`),
	)
	h := start(t, testConfig(c), &fakeConsumer{})
	checkExactlyOnce(t, waitEvents(t, h.fake, 2), []string{"a-0", "b-0"})
	// Trailing messages without events are committed too.
	waitFor(t, "commit past the bad messages", func() bool { return committed(t, c, testGroup, 1)[0] == 6 })
	if got := h.counter("source_decode_errors"); got != 4 {
		t.Errorf("decode errors = %d, want 4", got)
	}
	if got := h.counter("source_skipped_records"); got != 1 {
		t.Errorf("skipped = %d, want 1", got)
	}
	logs := h.logs.String()
	if n := strings.Count(logs, "undecodable records"); n != 1 {
		t.Errorf("want one rate-limited warning, got %d:\n%s", n, logs)
	}
	for _, w := range []string{"topic=" + testTopic, "partition=0", "offset=1"} {
		if !strings.Contains(logs, w) {
			t.Errorf("warning lacks %q:\n%s", w, logs)
		}
	}
	// The next warning after the interval carries the count of the
	// suppressed ones.
	h.src.warnEvery = 0
	produce(t, c, 0, []byte("bad"))
	waitFor(t, "second warning", func() bool { return strings.Count(h.logs.String(), "undecodable records") == 2 })
	if !strings.Contains(h.logs.String(), "count=4") {
		t.Errorf("second warning lacks the suppressed count:\n%s", h.logs.String())
	}
}

func TestTwoPartitions(t *testing.T) {
	c := newCluster(t, 2)
	produce(t, c, 0, signIns("p0a", 3), signIns("p0b", 2))
	produce(t, c, 1, signIns("p1a", 4))
	f1, f2 := &fakeConsumer{}, &fakeConsumer{}
	cfg := testConfig(c)
	cfg.BatchSize = 3
	h1 := start(t, cfg, f1)
	checkExactlyOnce(t, waitEvents(t, f1, 9), append(append(ids("p0a", 3), ids("p0b", 2)...), ids("p1a", 4)...))
	// A second member joins: each member gets one partition.
	h2 := start(t, cfg, f2)
	waitFor(t, "both members in one generation", func() bool {
		_, g1 := h1.src.cl.GroupMetadata()
		_, g2 := h2.src.cl.GroupMetadata()
		return g2 > 0 && g1 == g2
	})
	produce(t, c, 0, signIns("p0c", 2))
	produce(t, c, 1, signIns("p1b", 3))
	waitFor(t, "14 events", func() bool { return len(f1.events())+len(f2.events()) >= 14 })
	if len(f2.events()) == 0 {
		t.Error("the second member read nothing")
	}
	// The first member leaves: the second takes over its partition where
	// it was committed.
	h1.stop(t)
	produce(t, c, 0, signIns("p0d", 1))
	produce(t, c, 1, signIns("p1c", 1))
	waitFor(t, "16 events", func() bool { return len(f1.events())+len(f2.events()) >= 16 })
	time.Sleep(50 * time.Millisecond)
	h2.stop(t)
	all := append(f1.events(), f2.events()...)
	want := append(append(append(append(ids("p0a", 3), ids("p0b", 2)...), ids("p1a", 4)...), ids("p0c", 2)...), ids("p1b", 3)...)
	checkExactlyOnce(t, all, append(want, "p0d-0", "p1c-0"))
	if got := committed(t, c, testGroup, 2); got[0] != 4 || got[1] != 3 {
		t.Errorf("committed %v, want [4 3]", got)
	}
}

// TestRebalanceDropsRefusedBatch: while the pipeline refuses, a joining
// member's rebalance is not held back for ever: the refused records are
// dropped uncommitted and read again by whichever member owns them.
func TestRebalanceDropsRefusedBatch(t *testing.T) {
	c := newCluster(t, 2)
	produce(t, c, 0, signIns("p0", 2))
	produce(t, c, 1, signIns("p1", 2))
	fake := &fakeConsumer{refuse: true}
	cfg := testConfig(c)
	h1 := start(t, cfg, fake)
	waitFor(t, "refusals", func() bool { fake.mu.Lock(); defer fake.mu.Unlock(); return fake.calls >= 2 })
	h2 := start(t, cfg, fake)
	waitFor(t, "the drop", func() bool {
		return strings.Contains(h1.logs.String(), "dropping it to be read again")
	})
	fake.set(func(f *fakeConsumer) { f.refuse = false })
	checkExactlyOnce(t, waitEvents(t, fake, 4), append(ids("p0", 2), ids("p1", 2)...))
	h1.stop(t)
	h2.stop(t)
	if got := committed(t, c, testGroup, 2); got[0] != 1 || got[1] != 1 {
		t.Errorf("committed %v, want [1 1]", got)
	}
}

func TestStartAtLatest(t *testing.T) {
	c := newCluster(t, 1)
	produce(t, c, 0, signIns("old", 2))
	cfg := testConfig(c)
	cfg.StartAt = StartLatest
	fake := &fakeConsumer{}
	start(t, cfg, fake)
	// Produce until the member, once it has its partition at the end,
	// sees new records; the old ones are never read.
	deadline := time.Now().Add(15 * time.Second)
	for i := 0; len(fake.events()) == 0; i++ {
		if time.Now().After(deadline) {
			t.Fatal("no new records read")
		}
		produce(t, c, 0, signIns(fmt.Sprintf("new%d", i), 1))
		time.Sleep(100 * time.Millisecond)
	}
	for _, e := range fake.events() {
		if strings.HasPrefix(recordID(e), "old") {
			t.Fatalf("record %s from before the start was read", recordID(e))
		}
	}
}

func TestLifecycle(t *testing.T) {
	c := newCluster(t, 1)
	var want []string
	for i := range 20 {
		p := fmt.Sprintf("m%d", i)
		produce(t, c, 0, signIns(p, 1))
		want = append(want, ids(p, 1)...)
	}
	tests := []struct {
		name string
		run  func(t *testing.T, cfg *Config)
	}{
		{"shutdown without start", func(t *testing.T, cfg *Config) {
			h := newHarness(t, cfg, &fakeConsumer{})
			for range 2 {
				if err := h.src.Shutdown(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			select {
			case <-h.src.Done():
			default:
				t.Error("Done open after shutdown")
			}
			if err := h.src.Start(context.Background(), nil); err == nil {
				t.Fatal("start after shutdown accepted")
			}
		}},
		{"start and shutdown twice", func(t *testing.T, cfg *Config) {
			h := start(t, cfg, &fakeConsumer{})
			if err := h.src.Start(context.Background(), nil); err == nil {
				t.Error("second start accepted")
			}
			waitEvents(t, h.fake, 20)
			select {
			case <-h.src.Done():
				t.Error("Done closed while streaming")
			default:
			}
			h.stop(t)
			h.stop(t)
			select {
			case <-h.src.Done():
			default:
				t.Error("Done open after shutdown")
			}
		}},
		{"shutdown with pending data", func(t *testing.T, cfg *Config) {
			fake := &fakeConsumer{}
			cfg.BatchSize = 1
			cfg.MaxPollRecords = 5
			h := start(t, cfg, fake)
			waitFor(t, "first batch", func() bool { return fake.nBatches() > 0 })
			h.stop(t)
			// What was handed off is exactly what is committed.
			n := len(fake.events())
			if got := committed(t, c, cfg.ConsumerGroup, 1)[0]; got != int64(n) {
				t.Errorf("committed %d, handed off %d", got, n)
			}
			if n == 20 {
				t.Log("everything was handed off before shutdown")
			}
			start(t, cfg, fake)
			checkExactlyOnce(t, waitEvents(t, fake, 20), want)
		}},
		{"shutdown honours ctx with a blocked consumer", func(t *testing.T, cfg *Config) {
			fake := &fakeConsumer{block: true}
			h := start(t, cfg, fake)
			waitFor(t, "a hand-off", func() bool { fake.mu.Lock(); defer fake.mu.Unlock(); return fake.calls > 0 })
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			if err := h.src.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want deadline exceeded", err)
			}
			select {
			case <-h.src.Done():
			default:
				t.Error("Done open after shutdown")
			}
			<-h.src.closed
			if got := committed(t, c, cfg.ConsumerGroup, 1)[0]; got != -1 {
				t.Errorf("committed %d without a hand-off", got)
			}
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(c)
			cfg.ConsumerGroup = fmt.Sprintf("lifecycle-%d", i)
			tt.run(t, cfg)
		})
	}
}

func TestNewRejects(t *testing.T) {
	if _, err := New(nil, component.SourceSettings{Next: &fakeConsumer{}}); err == nil {
		t.Error("nil config accepted")
	}
	if _, err := New(NewDefaultConfig(), component.SourceSettings{Next: &fakeConsumer{}}); err == nil {
		t.Error("config without connection accepted")
	}
	cfg := NewDefaultConfig()
	cfg.Brokers, cfg.Topic = []string{"127.0.0.1:9092"}, "t"
	if _, err := New(cfg, component.SourceSettings{}); err == nil {
		t.Error("no next consumer accepted")
	}
}
