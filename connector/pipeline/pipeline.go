package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/connector/config"
	"github.com/castellan-itdr/castellan/connector/respond"
	"github.com/castellan-itdr/castellan/connector/state"
	"github.com/castellan-itdr/castellan/connector/telemetry"
	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/sinks/delivery"
)

const snapshotKey = "processor"

// Options are the pipeline's process-level settings.
type Options struct {
	Logger   *slog.Logger
	Counters *telemetry.Counters
	// Stdout is where the stdout sink writes (os.Stdout when nil).
	Stdout io.Writer
	// MaxQueued is the per-sink queue length above which batches wait for
	// the sink to catch up (backpressure); default 100000.
	MaxQueued int
	// Sender tunes every sink's delivery loop (zero = defaults).
	Sender delivery.SenderConfig
	// Responder runs rules' response blocks; nil builds one from the
	// response config when some rule has a response block (respond.go).
	Responder *respond.Responder
	// PostureCollect reads the directory for posture runs (default
	// CollectDirectory); Now is the posture scheduler's clock (default
	// time.Now).
	PostureCollect CollectFunc
	Now            func() time.Time
}

// Pipeline is the daemon: sources, processor, state, sinks.
type Pipeline struct {
	cfg  *config.Config
	opts Options
	log  *slog.Logger

	store   *state.Store
	proc    *Processor
	resp    *alertResponse // nil: no rule has a response block
	sinks   []*sinkRunner
	sources []*sourceRunner

	mu       sync.Mutex // serializes batches: detection state is shared
	lastSnap []byte     // last committed processor snapshot, to roll back a failed commit
	eventOut bool       // some sink takes raw events

	metrics *http.Server
	posture *postureScheduler

	fatal     chan error
	startOnce sync.Once
	shutOnce  sync.Once
	shutErr   error
	started   bool
}

type sinkRunner struct {
	id     string
	sel    delivery.Selection
	encode delivery.EncodeFunc // nil: the shared schema-JSON item
	queue  *delivery.Queue
	sender *delivery.Sender
	close  func() error
}

type sourceRunner struct {
	id  string
	src Source
}

// New validates the config and builds the pipeline; nothing runs until Start.
func New(cfg *config.Config, opts Options) (*Pipeline, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid config:\n%w", err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Counters == nil {
		opts.Counters = telemetry.New()
	}
	if opts.MaxQueued <= 0 {
		opts.MaxQueued = 100000
	}
	proc, err := NewProcessor(cfg)
	if err != nil {
		return nil, err
	}
	resp, err := newAlertResponse(cfg, proc.Rules(), opts.Responder, opts.Counters)
	if err != nil {
		return nil, err
	}
	return &Pipeline{cfg: cfg, opts: opts, log: opts.Logger, proc: proc, resp: resp, fatal: make(chan error, 1)}, nil
}

// Processor returns the pipeline's processor (for inspection in tests and the CLI).
func (p *Pipeline) Processor() *Processor { return p.proc }

// Counters returns the pipeline's counters.
func (p *Pipeline) Counters() *telemetry.Counters { return p.opts.Counters }

// ReportFatal implements component.Host.
func (p *Pipeline) ReportFatal(err error) {
	select {
	case p.fatal <- err:
	default:
	}
}

// Start opens the state file, restores detection state, starts the sink
// senders and then the sources.
func (p *Pipeline) Start(ctx context.Context) error {
	var err error
	p.startOnce.Do(func() { err = p.start(ctx) })
	return err
}

func (p *Pipeline) start(ctx context.Context) error {
	p.started = true
	store, err := state.Open(p.cfg.State.Path)
	if err != nil {
		return err
	}
	p.store = store
	snap, err := store.Snapshot(snapshotKey)
	if err != nil {
		return fmt.Errorf("read state: %w", err)
	}
	if snap != nil {
		if err := p.proc.Restore(snap); err != nil {
			return err
		}
		p.lastSnap = snap
		p.log.Info("restored detection state", "state", store.Path(), "bytes", len(snap))
	}

	for _, id := range sortedIDs(p.cfg.Sinks) {
		c := p.cfg.Sinks[id]
		s, err := BuildSink(c, component.SinkSettings{ID: id, Logger: p.log.With("sink", id), Counters: p.opts.Counters}, p.opts.Stdout)
		if err != nil {
			return fmt.Errorf("sink %s: %w", id, err)
		}
		if s.Start != nil {
			// An unreachable SIEM must not stop detection: records queue
			// durably and the sink retries its setup on every push.
			if err := s.Start(ctx); err != nil {
				p.log.Error("sink start failed; records are queued until it recovers", "sink", id, "err", err)
			}
		}
		q, err := delivery.NewQueue(store.DB(), id)
		if err != nil {
			return err
		}
		r := &sinkRunner{id: id, sel: s.Selection, encode: s.Encode, queue: q, close: s.Close,
			sender: delivery.NewSender(id, q, s.Pusher, mergeSender(p.opts.Sender, s.Sender), p.log, p.opts.Counters)}
		if s.Selection.Takes(schema.RecordEvent, 0) {
			p.eventOut = true
		}
		p.sinks = append(p.sinks, r)
		r.sender.Start()
		if n := q.Len(); n > 0 {
			p.log.Info("resuming queued records", "sink", id, "queued", n)
		}
	}

	for _, id := range sortedIDs(p.cfg.Sources) {
		c := p.cfg.Sources[id]
		f, err := sourceFactory(c.Type)
		if err != nil {
			return err
		}
		src, err := f.Create(c.Config, component.SourceSettings{
			ID:          id,
			Logger:      p.log.With("source", id),
			Next:        &sourceConsumer{p: p, id: id},
			Checkpoints: store.Checkpoints(id),
			Counters:    p.opts.Counters,
		})
		if err != nil {
			return fmt.Errorf("source %s: %w", id, err)
		}
		if err := src.Start(ctx, p); err != nil {
			return fmt.Errorf("source %s: start: %w", id, err)
		}
		p.sources = append(p.sources, &sourceRunner{id: id, src: src})
	}
	if addr := p.cfg.Metrics.Listen; addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("metrics: listen: %w", err)
		}
		p.metrics = &http.Server{Handler: telemetry.Handler(p.opts.Counters, p.queueGauges), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = p.metrics.Serve(ln) }()
		p.log.Info("metrics endpoint listening", "addr", ln.Addr().String())
	}
	if err := p.startPosture(ctx); err != nil {
		return err
	}
	p.log.Info("pipeline started", "sources", len(p.sources), "sinks", len(p.sinks), "rules", len(p.proc.Rules()), "state", store.Path())
	return nil
}

// mergeSender applies a sink's non-zero delivery settings over the defaults.
func mergeSender(base, sink delivery.SenderConfig) delivery.SenderConfig {
	if sink.MaxItems > 0 {
		base.MaxItems = sink.MaxItems
	}
	if sink.MaxBytes > 0 {
		base.MaxBytes = sink.MaxBytes
	}
	if sink.MinBackoff > 0 {
		base.MinBackoff = sink.MinBackoff
	}
	if sink.MaxBackoff > 0 {
		base.MaxBackoff = sink.MaxBackoff
	}
	if sink.PollInterval > 0 {
		base.PollInterval = sink.PollInterval
	}
	if sink.Linger > 0 {
		base.Linger = sink.Linger
	}
	return base
}

func sortedIDs(m map[string]config.Component) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// queueGauges reports each sink's queue length, for /metrics.
func (p *Pipeline) queueGauges() []telemetry.Sample {
	out := make([]telemetry.Sample, 0, len(p.sinks))
	for _, s := range p.sinks {
		out = append(out, telemetry.Sample{Name: telemetry.Key("sink_queue_length", "sink", s.id), Value: int64(s.queue.Len())})
	}
	return out
}

// sourceConsumer is the BatchConsumer handed to one source.
type sourceConsumer struct {
	p  *Pipeline
	id string
}

func (c *sourceConsumer) ConsumeBatch(ctx context.Context, b component.Batch) error {
	return c.p.consume(ctx, c.id, b, false)
}

// consume runs one batch through the processor (or, with endOfInput, lets
// the processor judge what it held back) and commits its outputs,
// checkpoints and the resulting detection state in one transaction.
func (p *Pipeline) consume(ctx context.Context, sourceID string, b component.Batch, endOfInput bool) error {
	if err := p.waitForRoom(ctx); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()

	perSink := make([][]delivery.Item, len(p.sinks))
	var encErr error
	add := func(r schema.Record) {
		var shared delivery.Item // the schema-JSON item, encoded at most once
		encoded := false
		generic := func() (delivery.Item, bool) {
			if !encoded {
				var err error
				if shared, err = delivery.NewItem(r); err != nil {
					encErr = errors.Join(encErr, err)
					return delivery.Item{}, false
				}
				encoded = true
			}
			return shared, true
		}
		for i, s := range p.sinks {
			if !s.sel.Takes(r.RecordKind(), r.RecordSeverity()) {
				continue
			}
			if s.encode != nil {
				it, err := s.encode(r)
				if err == nil {
					perSink[i] = append(perSink[i], it)
					continue
				}
				// The sink reads schema JSON too: queue that and let its
				// push decide (deliver or dead-letter) rather than block
				// the sources on one record.
				p.opts.Counters.Add(telemetry.Key("sink_encode_fallbacks", "sink", s.id), 1)
			}
			it, ok := generic()
			if !ok {
				return
			}
			perSink[i] = append(perSink[i], it)
		}
	}
	emitted := 0
	emit := func(r schema.Record) {
		emitted++
		add(r)
		p.resp.note(r)
	}
	if endOfInput {
		p.proc.Flush(emit)
	} else {
		p.proc.Process(b.Events, emit)
	}
	for _, a := range p.resp.run(ctx) { // response actions commit with their alerts
		emitted++
		add(a)
	}
	if p.eventOut {
		for i := range b.Events {
			add(b.Events[i])
		}
	}
	snap, err := p.proc.Snapshot()
	if err == nil {
		err = encErr
	}
	if err == nil {
		err = p.store.Update(func(tx *state.Tx) error {
			for i, s := range p.sinks {
				if err := s.queue.EnqueueTx(tx.Tx, perSink[i]); err != nil {
					return err
				}
			}
			for _, cp := range b.Checkpoints {
				if err := tx.PutCheckpoint(sourceID, cp.Key, cp.Value); err != nil {
					return err
				}
			}
			return tx.PutSnapshot(snapshotKey, snap)
		})
	}
	if err != nil {
		// Nothing of the batch is durable: roll the in-memory state back so
		// the source's retry of this batch is evaluated exactly once.
		if rerr := p.rollback(); rerr != nil {
			p.ReportFatal(fmt.Errorf("pipeline: cannot roll back after failed commit: %w", rerr))
		}
		p.opts.Counters.Add(telemetry.Key("pipeline_commit_errors", "source", sourceID), 1)
		return fmt.Errorf("pipeline: commit batch from %s: %w", sourceID, err)
	}
	p.lastSnap = snap
	for i, s := range p.sinks {
		if len(perSink[i]) > 0 {
			p.opts.Counters.Add(telemetry.Key("sink_queued", "sink", s.id), int64(len(perSink[i])))
			s.queue.Notify()
		}
	}
	p.opts.Counters.Add(telemetry.Key("pipeline_events", "source", sourceID), int64(len(b.Events)))
	p.opts.Counters.Add("pipeline_records_emitted", int64(emitted))
	return nil
}

func (p *Pipeline) rollback() error {
	fresh, err := NewProcessorWithRules(p.cfg, p.proc.Rules())
	if err != nil {
		return err
	}
	if p.lastSnap != nil {
		if err := fresh.Restore(p.lastSnap); err != nil {
			return err
		}
	}
	p.proc = fresh
	return nil
}

// waitForRoom blocks while any sink's queue is over MaxQueued.
func (p *Pipeline) waitForRoom(ctx context.Context) error {
	for {
		full := ""
		for _, s := range p.sinks {
			if s.queue.Len() >= p.opts.MaxQueued {
				full = s.id
				break
			}
		}
		if full == "" {
			return nil
		}
		p.opts.Counters.Add(telemetry.Key("pipeline_backpressure_waits", "sink", full), 1)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// flushProcessor ends the input of a one-shot run the way Replay does:
// events that rules were holding back are judged, and the resulting records
// are committed to the sink queues with the detection state.
func (p *Pipeline) flushProcessor() error {
	return p.consume(context.Background(), "", component.Batch{}, true)
}

// SourcesDone closes when every source is one-shot and has finished, and
// no posture schedule is running.
func (p *Pipeline) SourcesDone() <-chan struct{} {
	done := make(chan struct{})
	go func() {
		for _, s := range p.sources {
			<-s.src.Done()
		}
		if p.posture != nil {
			<-p.posture.done // a posture schedule keeps the daemon up
		}
		close(done)
	}()
	return done
}

// Fatal delivers the first fatal error a component reported.
func (p *Pipeline) Fatal() <-chan error { return p.fatal }

// Drain waits until every sink queue is empty or ctx ends.
func (p *Pipeline) Drain(ctx context.Context) error {
	var errs []error
	for _, s := range p.sinks {
		if err := s.sender.Drain(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Shutdown stops the sources (each finishes its in-flight batch), gives the
// sinks until ctx ends to flush their queues, then stops them and closes the
// state file. Undelivered records stay queued for the next start. Safe
// without Start and twice.
func (p *Pipeline) Shutdown(ctx context.Context) error {
	p.shutOnce.Do(func() { p.shutErr = p.shutdown(ctx) })
	return p.shutErr
}

func (p *Pipeline) shutdown(ctx context.Context) error {
	var errs []error
	p.stopPosture()
	for i := len(p.sources) - 1; i >= 0; i-- {
		if err := p.sources[i].src.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("source %s: %w", p.sources[i].id, err))
		}
	}
	if len(p.sinks) > 0 {
		if err := p.Drain(ctx); err != nil {
			p.log.Warn("sinks not fully flushed; records stay queued for next start", "err", err)
		}
	}
	for _, s := range p.sinks {
		if err := s.sender.Shutdown(context.WithoutCancel(ctx)); err != nil {
			errs = append(errs, fmt.Errorf("sink %s: %w", s.id, err))
		}
		if err := s.close(); err != nil {
			errs = append(errs, fmt.Errorf("sink %s: close: %w", s.id, err))
		}
	}
	if p.metrics != nil {
		_ = p.metrics.Close()
	}
	if p.store != nil {
		if err := p.store.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Run starts the pipeline and runs until ctx is cancelled (SIGINT/SIGTERM),
// a component reports a fatal error, or — when every source is one-shot —
// all input is handed off; then it drains and shuts down, giving the flush
// at most drainTimeout.
func (p *Pipeline) Run(ctx context.Context, drainTimeout time.Duration) error {
	if err := p.Start(ctx); err != nil {
		_ = p.Shutdown(context.Background())
		return err
	}
	var runErr error
	select {
	case <-ctx.Done():
		p.log.Info("shutting down: draining sinks", "timeout", drainTimeout)
	case runErr = <-p.fatal:
		p.log.Error("fatal component error; shutting down", "err", runErr)
	case <-p.SourcesDone():
		p.log.Info("all input handed off; draining sinks")
		if err := p.flushProcessor(); err != nil {
			runErr = err
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	return errors.Join(runErr, p.Shutdown(sctx))
}
