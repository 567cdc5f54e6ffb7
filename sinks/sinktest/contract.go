package sinktest

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/castellan-itdr/castellan/sinks/delivery"
)

// Harness describes one sink under test.
type Harness struct {
	// Name is the sink id (queue bucket name) and the subtest prefix.
	Name string
	// Double starts a fresh double; it is called once per subtest, and the
	// contract closes it.
	Double func(t *testing.T) Double
	// Pusher builds the sink pointed at the double. It may be called more
	// than once per double (a restart builds a new one).
	Pusher func(t *testing.T, d Double) delivery.Pusher
	// Encode is the sink's encoder, as the pipeline calls it when it queues
	// a record for the sink; nil queues schema JSON (delivery.NewItem).
	Encode delivery.EncodeFunc
}

// senderConfig is the contract's fast sender.
var senderConfig = delivery.SenderConfig{
	MaxItems:     100,
	MinBackoff:   10 * time.Millisecond,
	MaxBackoff:   200 * time.Millisecond,
	PollInterval: 20 * time.Millisecond,
}

// drainTimeout bounds how long a subtest waits for the queue to empty.
const drainTimeout = 60 * time.Second

// CheckContract runs the shared contract subtests (see the package
// documentation) against a sink.
func CheckContract(t *testing.T, h Harness) {
	t.Helper()
	t.Run("deliver", func(t *testing.T) {
		r := newRun(t, h)
		items := append(EncodeItems(h.Encode, Alerts(1000)...), EncodeItems(h.Encode, Incidents(20)...)...)
		r.enqueue(items)
		r.start(r.pusher())
		r.drain()
		r.expect(items, nil, true)
	})
	t.Run("retry-503", func(t *testing.T) {
		r := newRun(t, h)
		items := EncodeItems(h.Encode, Alerts(300)...)
		r.d.FailNext(3, 503, 0)
		r.enqueue(items)
		r.start(r.pusher())
		r.drain()
		r.expect(items, nil, true)
	})
	t.Run("retry-after-429", func(t *testing.T) {
		r := newRun(t, h)
		items := EncodeItems(h.Encode, Alerts(300)...)
		r.d.FailNext(1, 429, time.Second)
		tp := &timedPusher{next: r.pusher()}
		r.enqueue(items)
		r.start(tp)
		r.drain()
		r.expect(items, nil, true)
		calls := tp.snapshot()
		if len(calls) < 2 || calls[0].err == nil {
			t.Fatalf("the first push should fail with the 429; pushes: %v", calls)
		}
		if ra, ok := delivery.RetryAfter(calls[0].err); !ok || ra < time.Second {
			t.Errorf("the 429 push error does not carry Retry-After >= 1s (got %v, %v): %v", ra, ok, calls[0].err)
		}
		if gap := calls[1].start.Sub(calls[0].end); gap < time.Second {
			t.Errorf("the sender retried %v after a 429 with Retry-After: 1; want >= 1s", gap)
		}
	})
	t.Run("reject", func(t *testing.T) {
		r := newRun(t, h)
		items := EncodeItems(h.Encode, Alerts(500)...)
		bad := []string{items[137].ID, items[402].ID}
		r.d.Reject(bad...)
		r.enqueue(items)
		r.start(r.pusher())
		r.drain()
		r.expect(items, bad, true)
	})
	t.Run("restart", func(t *testing.T) {
		r := newRun(t, h)
		items := EncodeItems(h.Encode, Alerts(1000)...)
		r.enqueue(items)
		tripped := make(chan struct{})
		var once sync.Once
		cp := &countingPusher{next: r.pusher(), after: 3, hook: func() {
			once.Do(func() {
				r.d.FailFor(1500*time.Millisecond, 503, 0)
				close(tripped)
			})
		}}
		r.start(cp)
		select {
		case <-tripped:
		case <-time.After(drainTimeout):
			t.Fatal("the sink never completed 3 pushes")
		}
		time.Sleep(100 * time.Millisecond) // let the sender hit the failing target
		left := r.q.Len()
		if left == 0 {
			t.Fatal("everything was delivered before the restart; the subtest proves nothing")
		}
		r.restart(false)
		t.Logf("restarted with %d of %d records queued", left, len(items))
		r.start(r.pusher())
		r.drain()
		r.expect(items, nil, true)
	})
	t.Run("mixed-formats", func(t *testing.T) {
		// Records queued as schema JSON (before an upgrade, or replayed dead
		// letters) next to records in the sink's own format: all delivered.
		if h.Encode == nil {
			t.Skip("the sink has no encoder: every item is schema JSON")
		}
		r := newRun(t, h)
		alerts := Alerts(400)
		var items []delivery.Item
		for i := range alerts {
			if i%3 == 0 {
				items = append(items, Items(alerts[i])...)
			} else {
				items = append(items, EncodeItems(h.Encode, alerts[i])...)
			}
		}
		items = append(items, Items(Incidents(5)...)...)
		r.enqueue(items)
		r.start(r.pusher())
		r.drain()
		r.expect(items, nil, true)
	})
	t.Run("lost-responses", func(t *testing.T) {
		r := newRun(t, h)
		items := EncodeItems(h.Encode, Alerts(500)...)
		r.d.DropResponses(2)
		r.enqueue(items)
		r.start(r.pusher())
		r.drain()
		r.expect(items, nil, r.d.DedupesByID())
	})
}

// CheckFaultRecovery is the fault acceptance test: the double fails with
// status (503 or 429; 429 announces Retry-After: 1) for faultFor while n
// alerts are enqueued; then it recovers. Three pushes after the recovery the
// process is "killed" right after the target stored a batch and before the
// queue removed it (sender stopped, db closed), and restarted from the same
// file. Every alert arrives, none twice where the target deduplicates, and
// nothing is dead-lettered.
func CheckFaultRecovery(t *testing.T, h Harness, n int, status int, faultFor time.Duration) {
	t.Helper()
	r := newRun(t, h)
	items := EncodeItems(h.Encode, Alerts(n)...)
	var ra time.Duration
	if status == 429 {
		ra = time.Second
	}
	faultStart := time.Now()
	r.d.FailFor(faultFor, status, ra)

	killed := make(chan struct{})
	kp := &killPusher{next: r.pusher(), faultEnd: faultStart.Add(faultFor), after: 3, killed: killed}
	r.start(kp)

	// Enqueue in 20 chunks spread over the first 90% of the outage.
	chunks := 20
	step := faultFor * 9 / 10 / time.Duration(chunks)
	for c := range chunks {
		lo, hi := c*len(items)/chunks, (c+1)*len(items)/chunks
		r.enqueue(items[lo:hi])
		time.Sleep(step)
	}
	select {
	case <-killed:
	case <-time.After(faultFor + drainTimeout):
		t.Fatalf("the sink never completed 3 pushes after the outage (%d queued)", r.q.Len())
	}
	during := kp.failedDuringFault()
	left := r.q.Len()
	r.restart(true)
	t.Logf("outage %v (HTTP %d): %d failed pushes; killed mid-flush with %d of %d queued", faultFor, status, during, left, n)
	if left == 0 {
		t.Fatal("everything was delivered before the kill; the test proves nothing")
	}
	if ra > 0 {
		// Retry-After: 1 must pace the retries to about one per second.
		if limit := int(faultFor/ra) + 2; during > limit {
			t.Errorf("%d pushes during a %v outage with Retry-After: 1s; want <= %d", during, faultFor, limit)
		}
	}
	r.start(r.pusher())
	r.drain()
	r.expect(items, nil, r.d.DedupesByID())
}

// run is one subtest's world: a double, a bbolt file, a queue and a sender.
type run struct {
	t    *testing.T
	h    Harness
	d    Double
	path string
	db   *bolt.DB
	q    *delivery.Queue
	s    *delivery.Sender
	log  *slog.Logger
}

func newRun(t *testing.T, h Harness) *run {
	t.Helper()
	r := &run{t: t, h: h, d: h.Double(t), path: filepath.Join(t.TempDir(), "state.db")}
	r.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		r.log = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	}
	r.open()
	t.Cleanup(func() {
		if r.s != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = r.s.Shutdown(ctx)
			cancel()
		}
		if r.db != nil {
			_ = r.db.Close()
		}
		r.d.Close()
	})
	return r
}

func (r *run) open() {
	r.t.Helper()
	db, err := bolt.Open(r.path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		r.t.Fatal(err)
	}
	q, err := delivery.NewQueue(db, r.h.Name)
	if err != nil {
		r.t.Fatal(err)
	}
	r.db, r.q = db, q
}

func (r *run) pusher() delivery.Pusher { return r.h.Pusher(r.t, r.d) }

func (r *run) enqueue(items []delivery.Item) {
	r.t.Helper()
	if err := r.q.Enqueue(items); err != nil {
		r.t.Fatal(err)
	}
}

func (r *run) start(p delivery.Pusher) {
	r.s = delivery.NewSender(r.h.Name, r.q, p, senderConfig, r.log, nil)
	r.s.Start()
}

// restart stops the sender (abruptly: without waiting for it when abrupt),
// closes the db and opens it again with a new queue.
func (r *run) restart(abrupt bool) {
	r.t.Helper()
	timeout := 5 * time.Second
	if abrupt {
		timeout = time.Millisecond
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	err := r.s.Shutdown(ctx)
	cancel()
	if err != nil && !abrupt {
		r.t.Fatalf("sender shutdown: %v", err)
	}
	r.s = nil
	if err := r.db.Close(); err != nil {
		r.t.Fatal(err)
	}
	r.db = nil
	r.open()
}

func (r *run) drain() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	if err := r.s.Drain(ctx); err != nil {
		r.t.Fatalf("queue did not drain: %v (double accepted %d records)", err, len(r.d.Accepted()))
	}
}

// expect checks the outcome: every item not in dead is accepted (exactly
// once when exact, else at least once), every item in dead is dead-lettered
// and not accepted, nothing else is dead-lettered.
func (r *run) expect(items []delivery.Item, dead []string, exact bool) {
	r.t.Helper()
	t := r.t
	isDead := map[string]bool{}
	for _, id := range dead {
		isDead[id] = true
	}
	counts := map[string]int{}
	for _, id := range r.d.Accepted() {
		counts[id]++
	}
	want := map[string]bool{}
	var missing, dup, unexpected []string
	for _, it := range items {
		want[it.ID] = true
		c := counts[it.ID]
		switch {
		case isDead[it.ID]:
			if c > 0 {
				unexpected = append(unexpected, it.ID)
			}
		case c == 0:
			missing = append(missing, it.ID)
		case c > 1 && exact:
			dup = append(dup, it.ID)
		}
	}
	for id := range counts {
		if !want[id] {
			unexpected = append(unexpected, id)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d records never accepted, e.g. %s", len(missing), len(items)-len(dead), sample(missing))
	}
	if len(dup) > 0 {
		t.Errorf("%d records accepted more than once, e.g. %s", len(dup), sample(dup))
	}
	if len(unexpected) > 0 {
		t.Errorf("%d records accepted that should not be (rejected or never sent), e.g. %s", len(unexpected), sample(unexpected))
	}
	if !exact {
		extra := len(r.d.Accepted()) - len(counts)
		t.Logf("%d duplicate deliveries (target does not deduplicate by id)", extra)
	}
	dls, err := r.q.DeadLetters()
	if err != nil {
		t.Fatal(err)
	}
	var gotDead []string
	for _, d := range dls {
		gotDead = append(gotDead, d.Item.ID)
	}
	sort.Strings(gotDead)
	wantDead := append([]string(nil), dead...)
	sort.Strings(wantDead)
	if strings.Join(gotDead, ",") != strings.Join(wantDead, ",") {
		reason := ""
		if len(dls) > 0 {
			reason = " (first reason: " + dls[0].Reason + ")"
		}
		t.Errorf("dead-lettered %d records %s%s; want %d %v", len(gotDead), sample(gotDead), reason, len(wantDead), wantDead)
	}
	if n := r.q.Len(); n != 0 {
		t.Errorf("%d records still queued", n)
	}
}

func sample(ids []string) string {
	if len(ids) > 3 {
		return "[" + strings.Join(ids[:3], " ") + " …]"
	}
	return "[" + strings.Join(ids, " ") + "]"
}

// timedPusher records when each push started and ended and what it returned.
type timedPusher struct {
	next  delivery.Pusher
	mu    sync.Mutex
	calls []pushCall
}

type pushCall struct {
	start, end time.Time
	err        error
}

func (p *timedPusher) Push(ctx context.Context, batch []delivery.Item) error {
	start := time.Now()
	err := p.next.Push(ctx, batch)
	p.mu.Lock()
	p.calls = append(p.calls, pushCall{start, time.Now(), err})
	p.mu.Unlock()
	return err
}

func (p *timedPusher) snapshot() []pushCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]pushCall(nil), p.calls...)
}

// countingPusher calls hook after each successful push from the after-th on.
type countingPusher struct {
	next  delivery.Pusher
	after int
	hook  func()
	mu    sync.Mutex
	ok    int
}

func (p *countingPusher) Push(ctx context.Context, batch []delivery.Item) error {
	err := p.next.Push(ctx, batch)
	if err == nil {
		p.mu.Lock()
		p.ok++
		trip := p.ok >= p.after
		p.mu.Unlock()
		if trip {
			p.hook()
		}
	}
	return err
}

// killPusher simulates a crash between the target storing a batch and the
// queue removing it: on the after-th successful push once the outage is
// over it signals killed and never returns success (it waits for the
// sender's context, which the kill cancels).
type killPusher struct {
	next     delivery.Pusher
	faultEnd time.Time
	after    int
	killed   chan struct{}

	mu         sync.Mutex
	ok         int
	duringFail int
	fired      bool
}

func (p *killPusher) Push(ctx context.Context, batch []delivery.Item) error {
	p.mu.Lock()
	fired := p.fired
	p.mu.Unlock()
	if fired {
		<-ctx.Done()
		return ctx.Err()
	}
	err := p.next.Push(ctx, batch)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		if time.Now().Before(p.faultEnd) {
			p.duringFail++
		}
		return err
	}
	if !time.Now().After(p.faultEnd) {
		return nil
	}
	p.ok++
	if p.ok < p.after {
		return nil
	}
	p.fired = true
	close(p.killed)
	p.mu.Unlock()
	<-ctx.Done()
	p.mu.Lock()
	return ctx.Err()
}

func (p *killPusher) failedDuringFault() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.duringFail
}
