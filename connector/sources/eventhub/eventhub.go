package eventhub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/connector/telemetry"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Type is the source type name used in configuration ("eventhub/entra").
const Type = "eventhub"

// Retry and warning pacing.
const (
	minBackoff = 200 * time.Millisecond
	maxBackoff = 30 * time.Second
	// warnEvery is the least time between two warnings of one kind
	// (undecodable records, fetch errors, commit errors).
	warnEvery = 30 * time.Second
)

// DecodeFunc turns one message body into events. errs holds one error per
// record (or one for the whole body) that produced no event; an error for
// which skip reports true is a record the source does not handle (counted
// as skipped), any other is malformed (counted as a decode error).
type DecodeFunc func(body []byte) (evs []schema.Event, errs []error)

// Source consumes Entra diagnostic logs from an Event Hub (or a Kafka
// topic) as a member of a consumer group. It implements
// component.Component; Start and Shutdown may be called from any goroutine.
type Source struct {
	cfg    Config
	ep     endpoint
	set    component.SourceSettings
	log    *slog.Logger
	decode DecodeFunc
	skip   func(error) bool
	// extraOpts are appended to the client options (tests: a dialer).
	extraOpts []kgo.Opt
	warnEvery time.Duration

	cEvents, cErrors, cSkipped, cBytes, cCommitErrors string // counter names

	mu       sync.Mutex
	started  bool
	stopOnce sync.Once
	stop     chan struct{} // closed by Shutdown
	host     component.Host
	cl       *kgo.Client
	pollCtx  context.Context // cancelled by Shutdown: ends a blocked poll
	pollStop context.CancelFunc
	sendCtx  context.Context // cancelled when Shutdown's ctx ends: aborts a hand-off
	sendStop context.CancelFunc
	loopDone chan struct{} // closed when the poll loop has returned
	closed   chan struct{} // closed when the client is closed
	done     chan struct{}
	doneOnce sync.Once

	// rebalance is set when the group wants to rebalance while the loop
	// holds it back (BlockRebalanceOnPoll); a refused batch is then dropped
	// and re-read instead of retried.
	rebalance atomic.Bool

	// cmu guards uncommitted: per partition, the last record handed off
	// whose offset is not yet committed.
	cmu         sync.Mutex
	uncommitted map[topicPartition]*kgo.Record

	// Owned by the poll loop.
	backoff time.Duration

	wmu   sync.Mutex
	warns map[string]*warnState
}

type topicPartition struct {
	topic     string
	partition int32
}

// warnState collects problems of one kind between two warnings.
type warnState struct {
	last  time.Time
	count int
	first string // where the first problem since the last warning was
	err   error
}

// New validates cfg and returns a source that is not yet started. It reads
// Entra diagnostic-log message bodies (mappings/entra).
func New(cfg *Config, set component.SourceSettings) (*Source, error) {
	return newSource(cfg, set, decodeDiagnostic, isUnsupported)
}

// newSource is New with the body decoder and its skip test.
func newSource(cfg *Config, set component.SourceSettings, decode DecodeFunc, skip func(error) bool) (*Source, error) {
	if cfg == nil {
		return nil, errors.New("eventhub: nil config")
	}
	if err := cfg.Validate(); err != nil {
		return nil, errors.Join(errors.New("eventhub: invalid config"), err)
	}
	ep, _ := cfg.endpoint() // validated
	if set.Next == nil {
		return nil, errors.New("eventhub: no next consumer")
	}
	if set.Logger == nil {
		set.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Source{
		cfg:           *cfg,
		ep:            ep,
		set:           set,
		log:           set.Logger.With("source", set.ID),
		decode:        decode,
		skip:          skip,
		warnEvery:     warnEvery,
		cEvents:       telemetry.Key("source_events", "source", set.ID),
		cErrors:       telemetry.Key("source_decode_errors", "source", set.ID),
		cSkipped:      telemetry.Key("source_skipped_records", "source", set.ID),
		cBytes:        telemetry.Key("source_bytes", "source", set.ID),
		cCommitErrors: telemetry.Key("source_commit_errors", "source", set.ID),
		stop:          make(chan struct{}),
		loopDone:      make(chan struct{}),
		closed:        make(chan struct{}),
		done:          make(chan struct{}),
		uncommitted:   map[topicPartition]*kgo.Record{},
		warns:         map[string]*warnState{},
	}
	return s, nil
}

// clientOpts builds the franz-go options: a consumer group member that
// commits only what it has handed off, and holds rebalances back while it
// processes a poll.
func (s *Source) clientOpts() ([]kgo.Opt, error) {
	reset := kgo.NewOffset().AtStart()
	if s.cfg.StartAt == StartLatest {
		reset = kgo.NewOffset().AtEnd()
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(s.ep.brokers...),
		kgo.ClientID("castellan"),
		kgo.ConsumerGroup(s.cfg.ConsumerGroup),
		kgo.ConsumeTopics(s.ep.topic),
		kgo.ConsumeResetOffset(reset),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsRevoked(s.onRevoked),
		kgo.OnPartitionsLost(s.onLost),
		kgo.OnPartitionsCallbackBlocked(func(context.Context, *kgo.Client) { s.rebalance.Store(true) }),
		kgo.WithLogger(kgoLogger{s.log}),
	}
	if s.ep.tls {
		tc, err := s.cfg.tlsConfig()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if s.ep.saslUser != "" {
		opts = append(opts, kgo.SASL(plain.Auth{User: s.ep.saslUser, Pass: s.ep.saslPass}.AsMechanism()))
	}
	return append(opts, s.extraOpts...), nil
}

// Start creates the Kafka client and begins consuming in the background;
// it returns at once (connection problems surface as warnings and, for
// authentication failures, through host.ReportFatal).
func (s *Source) Start(_ context.Context, host component.Host) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("eventhub: already started")
	}
	select {
	case <-s.stop:
		return errors.New("eventhub: start after shutdown")
	default:
	}
	opts, err := s.clientOpts()
	if err != nil {
		return fmt.Errorf("eventhub: %w", err)
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("eventhub: client: %w", err)
	}
	s.cl = cl
	s.host = host
	s.started = true
	s.pollCtx, s.pollStop = context.WithCancel(context.Background())
	s.sendCtx, s.sendStop = context.WithCancel(context.Background())
	go s.probe()
	go s.run()
	go func() {
		<-s.loopDone
		// Everything handed off is committed before leaving the group, so
		// the partitions' next owner starts right after it.
		s.commitPending(s.sendCtx)
		s.cl.CloseAllowingRebalance()
		close(s.closed)
	}()
	return nil
}

// probeTimeout bounds the connection check after Start.
const probeTimeout = 30 * time.Second

// probe checks once, in the background, that the brokers can be reached
// and accept the credentials. franz-go retries failed connections for
// ever without surfacing them to polls, so a wrong key would otherwise go
// unnoticed: an authentication failure is reported fatal, anything else is
// a warning (the client keeps retrying).
func (s *Source) probe() {
	ctx, cancel := context.WithTimeout(s.pollCtx, probeTimeout)
	defer cancel()
	err := s.cl.Ping(ctx)
	switch {
	case err == nil || s.pollCtx.Err() != nil:
	case fatalKafkaError(err):
		err = fmt.Errorf("eventhub: %s: authentication failed (check the key and its Listen claim): %w", s.ep.brokers[0], err)
		s.log.Error("cannot consume", "error", err)
		if s.host != nil {
			s.host.ReportFatal(err)
		}
	default:
		s.log.Warn("cannot reach the brokers yet; retrying", "brokers", s.ep.brokers, "error", err)
	}
}

// Done is closed after Shutdown; a streaming source never finishes on its
// own.
func (s *Source) Done() <-chan struct{} { return s.done }

func (s *Source) finish() { s.doneOnce.Do(func() { close(s.done) }) }

// Shutdown stops polling, waits for the in-flight hand-off (aborting it
// when ctx ends), commits what was handed off and leaves the group.
// Messages polled but not handed off are not committed: the group reads
// them again. Safe without Start and safe twice.
func (s *Source) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	started := s.started
	s.stopOnce.Do(func() { close(s.stop) })
	s.mu.Unlock()
	if !started {
		s.finish()
		return nil
	}
	s.pollStop()
	var err error
	select {
	case <-s.closed:
	case <-ctx.Done():
		s.sendStop() // abort the hand-off and the commit; the goroutines exit on their own
		err = fmt.Errorf("eventhub: shutdown: %w", ctx.Err())
	}
	s.finish()
	return err
}

func (s *Source) stopping() bool {
	select {
	case <-s.stop:
		return true
	default:
		return false
	}
}

// run polls until Shutdown. Each poll is processed completely (handed off
// and committed, or dropped and rewound) before rebalances are allowed.
func (s *Source) run() {
	defer close(s.loopDone)
	s.backoff = minBackoff
	for !s.stopping() {
		fetches := s.cl.PollRecords(s.pollCtx, s.cfg.MaxPollRecords)
		if fetches.IsClientClosed() || s.pollCtx.Err() != nil {
			s.cl.AllowRebalance()
			return
		}
		s.fetchErrors(fetches)
		if recs := fetches.Records(); len(recs) > 0 {
			s.process(recs)
		}
		// A failed commit is retried before the group may move partitions.
		s.commitPending(s.sendCtx)
		// No rebalance can signal between these two: none is held back.
		s.cl.AllowRebalance()
		s.rebalance.Store(false)
	}
}

// pendingBatch is a batch being filled: the events of whole messages.
type pendingBatch struct {
	events []schema.Event
	recs   []*kgo.Record
}

// process decodes the polled messages into batches of whole messages,
// hands each off and commits its messages. When a batch cannot be handed
// off (stopping, or the group wants to rebalance while the pipeline
// refuses), it and the rest of the poll are dropped and the partitions
// rewound, so they are read again.
func (s *Source) process(recs []*kgo.Record) {
	var b pendingBatch
	for i, r := range recs {
		s.set.Counters.Add(s.cBytes, int64(len(r.Value)))
		evs, errs := s.decode(r.Value)
		for _, err := range errs {
			if s.skip != nil && s.skip(err) {
				s.set.Counters.Add(s.cSkipped, 1)
				continue
			}
			s.set.Counters.Add(s.cErrors, 1)
			s.warn("decode", "undecodable records skipped", r, err)
		}
		if len(b.events) > 0 && len(b.events)+len(evs) > s.cfg.BatchSize {
			if !s.deliver(b) {
				s.rewind(recs[i-len(b.recs):])
				return
			}
			b = pendingBatch{}
		}
		b.events = append(b.events, evs...)
		b.recs = append(b.recs, r)
	}
	if len(b.events) == 0 {
		// Only messages without events: nothing to hand off, commit them.
		s.commit(b.recs)
		return
	}
	if !s.deliver(b) {
		s.rewind(b.recs)
	}
}

// deliver hands a batch to the pipeline, retrying a refusal with backoff
// (no new polls meanwhile), and commits its messages once accepted. It
// returns false when the batch was not accepted: the source is stopping,
// or the group wants to rebalance.
func (s *Source) deliver(b pendingBatch) bool {
	if s.stopping() {
		return false // the rest of the poll is read again after a restart
	}
	for attempt := 1; ; attempt++ {
		err := s.set.Next.ConsumeBatch(s.sendCtx, component.Batch{Events: b.events})
		if err == nil {
			s.set.Counters.Add(s.cEvents, int64(len(b.events)))
			s.backoff = minBackoff
			s.commit(b.recs)
			return true
		}
		if s.stopping() {
			s.log.Warn("batch not accepted at shutdown; the group reads it again",
				"events", len(b.events), "error", err)
			return false
		}
		if s.rebalance.Load() {
			s.log.Warn("batch refused while the group rebalances; dropping it to be read again",
				"events", len(b.events), "error", err)
			return false
		}
		s.log.Warn("batch refused, retrying", "events", len(b.events), "attempt", attempt,
			"retry_in", s.backoff, "error", err)
		t := time.NewTimer(s.backoff)
		select {
		case <-t.C:
		case <-s.stop:
			t.Stop()
		}
		s.backoff = min(s.backoff*2, maxBackoff)
	}
}

// rewind moves each partition's fetch position back to its first message
// in recs (which are in offset order per partition), so messages that were
// not handed off are fetched again.
func (s *Source) rewind(recs []*kgo.Record) {
	if s.stopping() {
		return // the client closes; the committed offsets are the truth
	}
	to := map[string]map[int32]kgo.EpochOffset{}
	for _, r := range recs {
		parts := to[r.Topic]
		if parts == nil {
			parts = map[int32]kgo.EpochOffset{}
			to[r.Topic] = parts
		}
		if _, ok := parts[r.Partition]; !ok {
			parts[r.Partition] = kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset}
		}
	}
	s.cl.SetOffsets(to)
}

// commit records recs as handed off and commits every handed-off offset
// not yet committed.
func (s *Source) commit(recs []*kgo.Record) {
	if len(recs) == 0 {
		return
	}
	s.cmu.Lock()
	for _, r := range recs {
		tp := topicPartition{r.Topic, r.Partition}
		if old := s.uncommitted[tp]; old == nil || old.Offset < r.Offset {
			s.uncommitted[tp] = r
		}
	}
	s.cmu.Unlock()
	s.commitPending(s.sendCtx)
}

// commitPending commits the handed-off offsets not yet committed. A failure
// is counted and retried at the next opportunity (after the next poll, on
// revocation, at shutdown).
func (s *Source) commitPending(ctx context.Context) {
	s.commitWhere(ctx, func(topicPartition) bool { return true })
}

func (s *Source) commitWhere(ctx context.Context, match func(topicPartition) bool) {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	var recs []*kgo.Record
	for tp, r := range s.uncommitted {
		if match(tp) {
			recs = append(recs, r)
		}
	}
	if len(recs) == 0 {
		return
	}
	if err := s.cl.CommitRecords(ctx, recs...); err != nil {
		s.set.Counters.Add(s.cCommitErrors, 1)
		s.warn("commit", "offset commit failed; will retry", recs[0], err)
		return
	}
	for _, r := range recs {
		tp := topicPartition{r.Topic, r.Partition}
		if s.uncommitted[tp] == r {
			delete(s.uncommitted, tp)
		}
	}
}

// onRevoked commits what was handed off on the revoked partitions, then
// forgets them: their next owner starts at the committed offsets.
func (s *Source) onRevoked(ctx context.Context, _ *kgo.Client, revoked map[string][]int32) {
	in := partitionSet(revoked)
	s.commitWhere(ctx, func(tp topicPartition) bool { return in[tp] })
	s.forget(in)
}

// onLost forgets lost partitions: a commit could not succeed any more.
func (s *Source) onLost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	in := partitionSet(lost)
	if n := s.forget(in); n > 0 {
		s.log.Warn("partitions lost with uncommitted offsets; their records will be read again",
			"partitions", n)
	}
}

func (s *Source) forget(in map[topicPartition]bool) int {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	n := 0
	for tp := range s.uncommitted {
		if in[tp] {
			delete(s.uncommitted, tp)
			n++
		}
	}
	return n
}

func partitionSet(m map[string][]int32) map[topicPartition]bool {
	in := map[topicPartition]bool{}
	for t, ps := range m {
		for _, p := range ps {
			in[topicPartition{t, p}] = true
		}
	}
	return in
}

// fetchErrors reports fetch and group errors. Authentication and
// authorization failures cannot heal by retrying: they are reported fatal.
func (s *Source) fetchErrors(fetches kgo.Fetches) {
	fetches.EachError(func(topic string, partition int32, err error) {
		if errors.Is(err, context.Canceled) {
			return
		}
		if fatalKafkaError(err) && s.host != nil {
			s.host.ReportFatal(fmt.Errorf("eventhub: topic %q partition %d: %w", topic, partition, err))
		}
		s.warn("fetch", "fetch error", &kgo.Record{Topic: topic, Partition: partition, Offset: -1}, err)
	})
}

// fatalKafkaError reports errors that no retry fixes.
func fatalKafkaError(err error) bool {
	for _, e := range []error{
		kerr.SaslAuthenticationFailed, kerr.TopicAuthorizationFailed,
		kerr.GroupAuthorizationFailed, kerr.ClusterAuthorizationFailed,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// warn logs a problem of one kind at most once per warnEvery, with where
// the first one since the last warning happened and how many there were.
func (s *Source) warn(kind, msg string, r *kgo.Record, err error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	w := s.warns[kind]
	if w == nil {
		w = &warnState{}
		s.warns[kind] = w
	}
	if w.count == 0 {
		w.first = fmt.Sprintf("%s/%d@%d", r.Topic, r.Partition, r.Offset)
		w.err = err
	}
	w.count++
	now := time.Now()
	if !w.last.IsZero() && now.Sub(w.last) < s.warnEvery {
		return
	}
	s.log.Warn(msg, "topic", r.Topic, "partition", r.Partition, "offset", r.Offset,
		"first", w.first, "count", w.count, "error", w.err)
	w.last, w.count, w.err = now, 0, nil
}

// kgoLogger forwards franz-go's warnings and errors to slog.
type kgoLogger struct{ log *slog.Logger }

func (l kgoLogger) Level() kgo.LogLevel { return kgo.LogLevelWarn }

func (l kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	lv := slog.LevelWarn
	if level == kgo.LogLevelError {
		lv = slog.LevelError
	}
	l.log.Log(context.Background(), lv, "kafka: "+msg, keyvals...)
}
