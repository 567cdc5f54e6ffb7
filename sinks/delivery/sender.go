package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Pusher delivers one batch. It returns nil when every item was accepted,
// Permanent(err) when the target rejects the batch for good, Throttled(err,
// d) when the target asks to wait, and any other error for a retryable
// failure. It must honour ctx.
type Pusher interface {
	Push(ctx context.Context, batch []Item) error
}

// PushFunc adapts a function to Pusher.
type PushFunc func(ctx context.Context, batch []Item) error

// Push calls f.
func (f PushFunc) Push(ctx context.Context, batch []Item) error { return f(ctx, batch) }

// Selection chooses which records a sink takes. Empty Kinds means alerts and
// incidents (and later findings and actions), not raw events.
type Selection struct {
	Kinds       []string `yaml:"kinds"`
	MinSeverity string   `yaml:"min_severity"`
}

// Validate checks kinds and severity names.
func (s Selection) Validate() error {
	var errs []error
	for _, k := range s.Kinds {
		switch k {
		case schema.RecordEvent, schema.RecordAlert, schema.RecordIncident, schema.RecordFinding, schema.RecordAction:
		default:
			errs = append(errs, fmt.Errorf("kinds: unknown record kind %q (want event, alert, incident, finding or action)", k))
		}
	}
	if s.MinSeverity != "" {
		if _, err := schema.ParseSeverity(s.MinSeverity); err != nil {
			errs = append(errs, fmt.Errorf("min_severity: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Takes reports whether a record of this kind and severity goes to the sink.
// Events carry no severity and are only taken when listed explicitly.
// Events and response actions (audit records, informational by nature) are
// never filtered by MinSeverity: a floor would drop every action.
func (s Selection) Takes(kind string, sev schema.Severity) bool {
	kinds := s.Kinds
	if len(kinds) == 0 {
		kinds = []string{schema.RecordAlert, schema.RecordIncident, schema.RecordFinding, schema.RecordAction}
	}
	found := false
	for _, k := range kinds {
		if k == kind {
			found = true
			break
		}
	}
	if !found {
		return false
	}
	if kind == schema.RecordEvent || kind == schema.RecordAction || s.MinSeverity == "" {
		return true
	}
	floor, _ := schema.ParseSeverity(s.MinSeverity)
	return sev >= floor
}

// SenderConfig tunes batching and retry.
type SenderConfig struct {
	MaxItems     int           // per push; default 500
	MaxBytes     int           // per push; default 1 MiB
	MinBackoff   time.Duration // default 500ms
	MaxBackoff   time.Duration // default 1m
	PollInterval time.Duration // idle re-check; default 1s
	// Linger waits up to this long for a fuller batch when fewer than
	// MaxItems are queued (batching by time); 0 sends at once.
	Linger time.Duration
}

func (c *SenderConfig) defaults() {
	if c.MaxItems <= 0 {
		c.MaxItems = 500
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = 1 << 20
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 500 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = time.Minute
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
}

// Counters receives the sender's metrics. Nil-safe implementations only.
type Counters interface {
	Add(name string, delta int64)
}

// Sender drains one Queue into one Pusher on its own goroutine, so a slow
// sink never stalls another.
type Sender struct {
	id       string
	q        *Queue
	push     Pusher
	cfg      SenderConfig
	log      *slog.Logger
	counters Counters

	draining atomic.Bool // Drain in progress: send partial batches at once

	mu      sync.Mutex
	cancel  context.CancelFunc
	done    chan struct{}
	stopped bool
}

// NewSender builds a sender for sink id.
func NewSender(id string, q *Queue, p Pusher, cfg SenderConfig, log *slog.Logger, counters Counters) *Sender {
	cfg.defaults()
	if log == nil {
		log = slog.Default()
	}
	return &Sender{id: id, q: q, push: p, cfg: cfg, log: log, counters: counters}
}

// Start launches the loop.
func (s *Sender) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done != nil || s.stopped {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.done = make(chan struct{})
	go s.loop(ctx)
}

// Drain delivers everything queued now, or returns ctx's error. Use it to
// flush before shutdown.
func (s *Sender) Drain(ctx context.Context) error {
	s.draining.Store(true)
	defer s.draining.Store(false)
	for {
		if s.q.Len() == 0 {
			return nil
		}
		s.q.Notify()
		select {
		case <-ctx.Done():
			return fmt.Errorf("sink %s: %d records still queued (kept for next start): %w", s.id, s.q.Len(), ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Shutdown stops the loop; queued items stay in the state file. Safe without
// Start and twice.
func (s *Sender) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.stopped = true
	cancel, done := s.cancel, s.done
	s.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Sender) add(name string, n int64) {
	if s.counters != nil {
		s.counters.Add(fmt.Sprintf("%s{sink=%q}", name, s.id), n)
	}
}

func (s *Sender) loop(ctx context.Context) {
	defer close(s.done)
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("sink sender panicked; records stay queued", "sink", s.id, "panic", r)
		}
	}()
	attempt := 0
	lingered := false
	for ctx.Err() == nil {
		keys, items, err := s.q.peek(s.cfg.MaxItems, s.cfg.MaxBytes)
		if err != nil {
			s.log.Error("sink queue read failed", "sink", s.id, "err", err)
			sleep(ctx, s.cfg.MaxBackoff)
			continue
		}
		if len(items) == 0 {
			select {
			case <-ctx.Done():
			case <-s.q.notify:
			case <-time.After(s.cfg.PollInterval):
			}
			continue
		}
		if len(items) < s.cfg.MaxItems && s.cfg.Linger > 0 && !lingered && !s.draining.Load() {
			lingered = true
			sleep(ctx, s.cfg.Linger)
			continue
		}
		lingered = false
		wait, ok := s.deliver(ctx, keys, items)
		if ok {
			attempt = 0
			continue
		}
		if ctx.Err() != nil {
			return
		}
		attempt++
		if d := backoff(attempt, s.cfg.MinBackoff, s.cfg.MaxBackoff); d > wait {
			wait = d
		}
		sleep(ctx, wait)
	}
}

// deliver pushes one batch and settles every item: acknowledged, dead-lettered
// or left queued for retry. It returns ok when nothing needs a retry, else
// the minimum wait the target asked for.
func (s *Sender) deliver(ctx context.Context, keys [][]byte, items []Item) (wait time.Duration, ok bool) {
	start := time.Now()
	err := s.safePush(ctx, items)
	var partial *PartialError
	switch {
	case err == nil:
		s.settle(keys, items, nil)
		s.add("sink_sent", int64(len(items)))
		s.add("sink_latency_ms_total", time.Since(start).Milliseconds())
		s.add("sink_pushes", 1)
		return 0, true
	case IsTooLarge(err) && len(items) > 1:
		s.add("sink_splits", 1)
		half := len(items) / 2
		w1, ok1 := s.deliver(ctx, keys[:half], items[:half])
		if !ok1 {
			return w1, false // keep order: do not send the second half before the first
		}
		return s.deliver(ctx, keys[half:], items[half:])
	case IsPermanent(err) || IsTooLarge(err):
		s.log.Error("sink rejected records permanently; dead-lettered", "sink", s.id, "records", len(items), "err", err)
		if err := s.q.ack(keys, items, err); err != nil {
			s.log.Error("sink dead-letter failed", "sink", s.id, "err", err)
		}
		s.add("sink_deadlettered", int64(len(items)))
		return 0, true
	case errors.As(err, &partial):
		failed := map[int]error{}
		for _, f := range partial.Failed {
			if f.Index >= 0 && f.Index < len(items) {
				failed[f.Index] = f.Err
			}
		}
		var okKeys, deadKeys [][]byte
		var okItems, deadItems []Item
		var deadErr error
		retry := 0
		for i := range items {
			ferr, bad := failed[i]
			switch {
			case !bad:
				okKeys, okItems = append(okKeys, keys[i]), append(okItems, items[i])
			case IsPermanent(ferr):
				deadKeys, deadItems = append(deadKeys, keys[i]), append(deadItems, items[i])
				deadErr = ferr
			default:
				retry++
				if ra, ok := RetryAfter(ferr); ok && ra > wait {
					wait = ra
				}
			}
		}
		s.settle(okKeys, okItems, nil)
		if len(deadKeys) > 0 {
			s.log.Error("sink rejected records permanently; dead-lettered", "sink", s.id, "records", len(deadKeys), "err", deadErr)
			if err := s.q.ack(deadKeys, deadItems, deadErr); err != nil {
				s.log.Error("sink dead-letter failed", "sink", s.id, "err", err)
			}
		}
		s.add("sink_sent", int64(len(okItems)))
		s.add("sink_deadlettered", int64(len(deadKeys)))
		if retry == 0 {
			return 0, true
		}
		s.add("sink_retried", int64(retry))
		s.log.Warn("sink accepted part of a batch; retrying the rest", "sink", s.id, "retrying", retry, "err", err)
		return wait, false
	default:
		if ra, ok := RetryAfter(err); ok {
			wait = ra
		}
		s.log.Warn("sink push failed; will retry", "sink", s.id, "records", len(items), "err", err)
		s.add("sink_retried", int64(len(items)))
		return wait, false
	}
}

// safePush calls the pusher, turning a panic into a retryable error so one
// bad record cannot stop the sink.
func (s *Sender) safePush(ctx context.Context, items []Item) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sink %s panicked: %v", s.id, r)
		}
	}()
	return s.push.Push(ctx, items)
}

// settle acknowledges delivered items.
func (s *Sender) settle(keys [][]byte, items []Item, _ error) {
	if len(keys) == 0 {
		return
	}
	if err := s.q.ack(keys, items, nil); err != nil {
		s.log.Error("sink queue ack failed", "sink", s.id, "err", err)
	}
}

// backoff is exponential with full jitter in [d/2, d].
func backoff(attempt int, lo, hi time.Duration) time.Duration {
	d := lo << min(attempt-1, 20)
	if d <= 0 || d > hi {
		d = hi
	}
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
