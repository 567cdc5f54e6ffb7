package entra

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/connector/telemetry"
	mapping "github.com/castellan-itdr/castellan/mappings/entra"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// maxBackoff caps the wait between retries of a refused batch.
const maxBackoff = 30 * time.Second

// Source polls Microsoft Graph and hands the normalized records to the
// pipeline. It implements component.Component. Start and Shutdown may be
// called from any goroutine.
type Source struct {
	cfg    *Config
	set    component.SourceSettings
	log    *slog.Logger
	pager  Pager
	mapper mapping.Mapper
	now    func() time.Time

	// afterPoll, when set (tests), is called after every complete poll
	// round with its number, starting at 1.
	afterPoll func(n int)
	// trigger, when set (tests), starts a poll at once.
	trigger chan struct{}

	cEvents, cDecodeErrors, cPollErrors, cDuplicates, cEvicted string

	mu       sync.Mutex
	started  bool
	stopOnce sync.Once
	stop     chan struct{} // closed by Shutdown: no new polls or pages
	fetchCtx context.Context
	cancelF  context.CancelFunc // aborts in-flight Graph requests
	sendCtx  context.Context
	cancelS  context.CancelFunc // aborts an in-flight ConsumeBatch
	wg       sync.WaitGroup
	done     chan struct{}
	doneOnce sync.Once

	states []*resState // owned by the poll goroutine after Start
	// userLister is the pager's UserLister when the users poll is enabled
	// and the pager has one; usersSt is its state (poll goroutine).
	userLister UserLister
	usersSt    *usersState
}

// newSource builds a source around pager. cfg must be valid.
func newSource(cfg *Config, set component.SourceSettings, pager Pager) (*Source, error) {
	if set.Next == nil {
		return nil, errors.New("entra: no next consumer")
	}
	if pager == nil {
		return nil, errors.New("entra: no Graph pager")
	}
	if set.Logger == nil {
		set.Logger = slog.New(slog.DiscardHandler)
	}
	if set.ID == "" {
		set.ID = Type
	}
	c := *cfg
	c.Resources = append([]string(nil), cfg.resourceList()...)
	var ul UserLister
	if l, ok := pager.(UserLister); ok && c.Users.enabled() {
		ul = l
	}
	return &Source{
		userLister:    ul,
		cfg:           &c,
		set:           set,
		log:           set.Logger.With("source", set.ID),
		pager:         pager,
		mapper:        mapping.Mapper{TenantID: cfg.TenantID},
		now:           time.Now,
		cEvents:       telemetry.Key("source_events", "source", set.ID),
		cDecodeErrors: telemetry.Key("source_decode_errors", "source", set.ID),
		cPollErrors:   telemetry.Key("source_poll_errors", "source", set.ID),
		cDuplicates:   telemetry.Key("source_duplicates", "source", set.ID),
		cEvicted:      telemetry.Key("source_recent_evicted", "source", set.ID),
		stop:          make(chan struct{}),
		done:          make(chan struct{}),
	}, nil
}

// Start reads the committed checkpoints and begins polling in the
// background; it returns at once. An unreadable checkpoint is an error.
func (s *Source) Start(_ context.Context, _ component.Host) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("entra: already started")
	}
	select {
	case <-s.stop:
		return errors.New("entra: start after shutdown")
	default:
	}
	states := make([]*resState, 0, len(s.cfg.Resources))
	for _, name := range s.cfg.Resources {
		var b []byte
		if s.set.Checkpoints != nil {
			var err error
			if b, err = s.set.Checkpoints.Checkpoint(CheckpointKey(name)); err != nil {
				return fmt.Errorf("entra: read checkpoint: %w", err)
			}
		}
		st, err := decodeState(resources[name], b)
		if err != nil {
			return fmt.Errorf("entra: %w", err)
		}
		states = append(states, st)
	}
	s.states = states
	if s.userLister != nil {
		var b []byte
		if s.set.Checkpoints != nil {
			var err error
			if b, err = s.set.Checkpoints.Checkpoint(CheckpointKey(ResourceUsers)); err != nil {
				return fmt.Errorf("entra: read checkpoint: %w", err)
			}
		}
		st, err := decodeUsersState(b)
		if err != nil {
			return fmt.Errorf("entra: %w", err)
		}
		s.usersSt = st
	}
	s.started = true
	s.fetchCtx, s.cancelF = context.WithCancel(context.Background())
	s.sendCtx, s.cancelS = context.WithCancel(context.Background())
	s.wg.Add(1)
	go s.run()
	return nil
}

// Done is closed once the source has stopped, after Shutdown.
func (s *Source) Done() <-chan struct{} { return s.done }

func (s *Source) finish() { s.doneOnce.Do(func() { close(s.done) }) }

// Shutdown stops polling (aborting in-flight Graph requests), waits for an
// in-flight batch hand-off — aborting it when ctx ends — and returns.
// Nothing is lost: what was not accepted is fetched again after a restart.
// Safe without Start and safe twice.
func (s *Source) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	started := s.started
	s.stopOnce.Do(func() { close(s.stop) })
	s.mu.Unlock()
	if !started {
		s.finish()
		return nil
	}
	s.cancelF()
	waited := make(chan struct{})
	go func() { s.wg.Wait(); close(waited) }()
	var err error
	select {
	case <-waited:
	case <-ctx.Done():
		err = fmt.Errorf("entra: shutdown: %w", ctx.Err())
	}
	s.cancelS()
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

// run polls every resource in turn, then waits PollInterval, until
// Shutdown. Resources are polled one after the other: Graph throttles
// reports per app and tenant (reference §4.3).
func (s *Source) run() {
	defer s.wg.Done()
	t := time.NewTimer(0)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.trigger:
		}
		if s.usersSt != nil && !s.stopping() {
			if err := s.pollUsers(s.usersSt); err != nil && !s.stopping() {
				s.set.Counters.Add(s.cPollErrors, 1)
				s.log.Warn("graph users poll failed; retrying next poll", "retry_in", s.cfg.PollInterval, "error", err)
			}
		}
		for _, st := range s.states {
			if s.stopping() {
				return
			}
			if err := s.poll(st); err != nil {
				if s.stopping() {
					return
				}
				s.set.Counters.Add(s.cPollErrors, 1)
				s.log.Warn("graph poll failed; retrying next poll", "resource", st.res.name,
					"since", st.since, "retry_in", s.cfg.PollInterval, "error", err)
			}
		}
		if s.afterPoll != nil {
			s.afterPoll(n)
		}
		t.Reset(s.cfg.PollInterval)
	}
}

// poll lists one resource from its lower bound, hands off the records not
// seen before in batches, and moves the watermark when the listing is
// complete. Every batch carries the checkpoint the state reaches when the
// batch is accepted, and the state moves only then.
func (s *Source) poll(st *resState) error {
	lower := st.lower(s.now(), s.cfg.Overlap, s.cfg.StartAt)
	if n := st.prune(lower, MaxRecent); n > 0 {
		s.set.Counters.Add(s.cEvicted, int64(n))
	}
	top := min(s.cfg.PageSize, st.res.maxTop)
	var (
		evs        []schema.Event
		pending    = map[string]int64{}
		newest     = st.since
		decodeErrs int
		firstErr   error
	)
	flush := func(final bool) error {
		since := st.since
		if final && newest.After(since) {
			since = newest
		}
		if len(evs) == 0 && since.Equal(st.since) {
			return nil
		}
		b := component.Batch{
			Events:      evs,
			Checkpoints: []component.Checkpoint{{Key: CheckpointKey(st.res.name), Value: st.encode(since, pending)}},
		}
		if err := s.send(b); err != nil {
			return err
		}
		st.commit(since, pending)
		evs = make([]schema.Event, 0, top)
		clear(pending)
		return nil
	}
	err := s.pager.List(s.fetchCtx, Query{Resource: st.res.name, Since: lower, Top: top}, func(raw []byte) error {
		ev, err := st.res.mapFn(s.mapper, raw)
		if err != nil {
			decodeErrs++
			if firstErr == nil {
				firstErr = err
			}
			return nil
		}
		// The watermark is the newest record of a complete listing, handed
		// off now or before.
		if ev.Timestamp.After(newest) {
			newest = ev.Timestamp
		}
		id := shortID(ev.ID)
		if _, dup := st.recent[id]; dup {
			s.set.Counters.Add(s.cDuplicates, 1)
			return nil
		}
		if _, dup := pending[id]; dup {
			s.set.Counters.Add(s.cDuplicates, 1)
			return nil
		}
		pending[id] = ev.Timestamp.Unix()
		evs = append(evs, ev)
		if len(evs) >= top {
			return flush(false)
		}
		return nil
	})
	if decodeErrs > 0 {
		s.set.Counters.Add(s.cDecodeErrors, int64(decodeErrs))
		s.log.Warn("undecodable Graph records skipped", "resource", st.res.name, "count", decodeErrs, "first_error", firstErr)
	}
	if err != nil {
		// Keep what was fetched (the watermark stays; the ids make a
		// re-fetch harmless), then report the failure.
		if s.stopping() {
			return err
		}
		if ferr := flush(false); ferr != nil {
			return errors.Join(err, ferr)
		}
		return fmt.Errorf("list %s: %w", st.res.path, err)
	}
	return flush(true)
}

// errStopped is returned by send when the source stops before the batch
// is accepted.
var errStopped = errors.New("entra: stopped before the batch was accepted")

// send hands one batch to the pipeline, retrying a refused batch with
// backoff until it is accepted or the source stops.
func (s *Source) send(b component.Batch) error {
	ok := component.Handoff{Next: s.set.Next, Stop: s.stop, Backoff: min(s.cfg.PollInterval, time.Second),
		MaxBackoff: maxBackoff, Logger: s.log, Counters: s.set.Counters, EventsCounter: s.cEvents}.Send(s.sendCtx, b)
	if !ok {
		return errStopped
	}
	return nil
}
