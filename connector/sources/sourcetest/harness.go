package sourcetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/connector/telemetry"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Source is what the harness drives: a component that reports when its
// background work has ended.
type Source interface {
	component.Component
	Done() <-chan struct{}
}

// Harness is one started source with what a test reads back: the consumer
// it hands batches to, its counters and its log output.
type Harness struct {
	Src      Source
	Consumer *Consumer
	Counters *telemetry.Counters
	Logs     *SyncBuffer
	ID       string
}

// Start builds a source with build, wired to c as both its next consumer and
// its checkpoint reader, with fresh counters and a text logger into Logs,
// starts it and shuts it down when the test ends.
func Start[S Source](t testing.TB, id string, c *Consumer, build func(component.SourceSettings) (S, error)) (S, *Harness) {
	t.Helper()
	h := &Harness{Consumer: c, Counters: telemetry.New(), Logs: &SyncBuffer{}, ID: id}
	src, err := build(component.SourceSettings{
		ID:          id,
		Logger:      slog.New(slog.NewTextHandler(h.Logs, nil)),
		Next:        c,
		Checkpoints: c,
		Counters:    h.Counters,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	h.Src = src
	t.Cleanup(func() { _ = src.Shutdown(context.Background()) })
	return src, h
}

// Stop shuts the source down within five seconds.
func (h *Harness) Stop(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.Src.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// Counter returns the source's counter name.
func (h *Harness) Counter(name string) int64 {
	return h.Counters.Value(telemetry.Key(name, "source", h.ID))
}

// CheckRestartRefused checks that a second Start is refused, that Shutdown
// works twice and that Done is closed afterwards.
func (h *Harness) CheckRestartRefused(t testing.TB) {
	t.Helper()
	if err := h.Src.Start(context.Background(), nil); err == nil {
		t.Error("second start accepted")
	}
	h.Stop(t)
	h.Stop(t)
	CheckDone(t, h.Src)
}

// CheckShutdownHonoursCtx waits for the source's first hand-off to a
// consumer set to Block, then checks Shutdown gives up when its ctx ends.
func (h *Harness) CheckShutdownHonoursCtx(t testing.TB) {
	t.Helper()
	WaitFor(t, 5*time.Second, "a hand-off", func() bool {
		h.Consumer.Mu.Lock()
		defer h.Consumer.Mu.Unlock()
		return h.Consumer.Calls > 0
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := h.Src.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
}

// CheckShutdownWithoutStart checks that a never-started source shuts down
// twice cleanly, has Done closed, and refuses a later Start.
func CheckShutdownWithoutStart(t testing.TB, src Source) {
	t.Helper()
	for range 2 {
		if err := src.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	CheckDone(t, src)
	if err := src.Start(context.Background(), nil); err == nil {
		t.Fatal("start after shutdown accepted")
	}
}

// CheckDone fails unless src's Done channel is closed.
func CheckDone(t testing.TB, src Source) {
	t.Helper()
	select {
	case <-src.Done():
	default:
		t.Error("Done open after shutdown")
	}
}

// WaitFor polls cond every 5ms and fails the test after timeout.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// WaitEvents waits up to timeout for n events, fails if there are more, and
// returns them. describe, if not nil, adds to the failure message.
func WaitEvents(t testing.TB, c *Consumer, n int, timeout time.Duration, describe func([]schema.Event) string) []schema.Event {
	t.Helper()
	WaitFor(t, timeout, fmt.Sprintf("%d events", n), func() bool { return len(c.Events()) >= n })
	evs := c.Events()
	if len(evs) != n {
		extra := ""
		if describe != nil {
			extra = ": " + describe(evs)
		}
		t.Fatalf("got %d events, want %d%s", len(evs), n, extra)
	}
	return evs
}

// CheckUnique fails on an event id seen twice; name says which event it was.
func CheckUnique(t testing.TB, evs []schema.Event, name func(schema.Event) string) {
	t.Helper()
	seen := map[string]bool{}
	for _, e := range evs {
		if seen[e.ID] {
			t.Fatalf("event %s (%s) delivered twice", e.ID, name(e))
		}
		seen[e.ID] = true
	}
}

// FilePos is the tailer's checkpoint value for one file.
type FilePos struct {
	Dev    uint64 `json:"dev"`
	Ino    uint64 `json:"ino"`
	Offset int64  `json:"offset"`
	Line   int64  `json:"line"`
}

// Position decodes the checkpoint stored under key into v; v is left
// untouched when nothing is stored.
func Position(t testing.TB, r component.CheckpointReader, key string, v any) {
	t.Helper()
	b, err := r.Checkpoint(key)
	if err != nil {
		t.Fatal(err)
	}
	if b == nil {
		return
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// WriteFile writes data to path.
func WriteFile(t testing.TB, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// AppendFile appends data to path, creating it if needed.
func AppendFile(t testing.TB, path, data string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(data); err != nil {
		t.Fatal(err)
	}
}

// CheckValidateErr checks a Validate error: nil when want is empty,
// otherwise an error containing every string in want.
func CheckValidateErr(t testing.TB, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}

// SyncBuffer is a bytes.Buffer a logger and a test can share.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// WaitDone fails unless the source's Done closes within timeout.
func (h *Harness) WaitDone(t testing.TB, timeout time.Duration) {
	t.Helper()
	select {
	case <-h.Src.Done():
	case <-time.After(timeout):
		t.Fatal("Done not closed")
	}
}

// LifecycleTests are the lifecycle subtests every polling source runs, in
// this order: shutdown without start, start and shutdown twice, shutdown
// with pending data (the source's own check), and shutdown honouring ctx
// with a blocked consumer.
type LifecycleTests struct {
	// New builds a source from settings without starting it.
	New func(set component.SourceSettings) (Source, error)
	// Start starts a source wired to c.
	Start func(t *testing.T, c *Consumer) *Harness
	// Pending checks what a source stopped mid-read has handed off.
	Pending func(t *testing.T)
	// AfterBlocked, when set, runs after the blocked shutdown with its
	// consumer.
	AfterBlocked func(t *testing.T, c *Consumer)
}

// Run runs the subtests.
func (lt LifecycleTests) Run(t *testing.T) {
	t.Run("shutdown without start", func(t *testing.T) {
		src, err := lt.New(component.SourceSettings{Next: NewConsumer()})
		if err != nil {
			t.Fatal(err)
		}
		CheckShutdownWithoutStart(t, src)
	})
	t.Run("start and shutdown twice", func(t *testing.T) {
		lt.Start(t, NewConsumer()).CheckRestartRefused(t)
	})
	t.Run("shutdown with pending data", lt.Pending)
	t.Run("shutdown honours ctx with a blocked consumer", func(t *testing.T) {
		c := NewConsumer()
		c.Block = true
		lt.Start(t, c).CheckShutdownHonoursCtx(t)
		if lt.AfterBlocked != nil {
			lt.AfterBlocked(t, c)
		}
	})
}

// StopAfterFirstBatch waits for the first accepted batch, shuts the source
// down and returns how many events had been accepted by then.
func (h *Harness) StopAfterFirstBatch(t testing.TB, timeout time.Duration) int {
	t.Helper()
	WaitFor(t, timeout, "first batch", func() bool { return len(h.Consumer.Events()) > 0 })
	h.Stop(t)
	return len(h.Consumer.Events())
}
