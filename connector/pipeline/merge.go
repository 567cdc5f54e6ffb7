package pipeline

import (
	"fmt"
	"sync"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Several inputs of one replay (each DC's Security log, a capture, a
// sign-in export) are merged into one stream in event-time order, so rules
// that join events across logs see them as they happened: a TGS on one DC
// after the TGT another DC issued, a spray spread over DCs inside one
// window. Each input is read by its own goroutine (decoding and
// normalization of several files then use several cores) into small
// batches; the merge holds at most mergeAhead batches per input, never a
// whole file. Events of one input keep their file order; the merge takes
// the input whose next event is earliest (ties: the input listed first).

// mergeBatchEvents is the size of the batches an input's reader hands to
// the merge.
const mergeBatchEvents = 256

// mergeAhead is how many filled batches an input's reader may be ahead of
// the merge (plus the one it fills and the one the merge reads).
const mergeAhead = 1

// mergeBatch is a run of events of one input, with what reading them
// counted and the problems met.
type mergeBatch struct {
	events   []schema.Event
	counts   ReplayStats // Lines, Records, Damaged, DecodeErrors
	warnings []string
	extra    int   // further problems, counted only
	err      error // reading stopped with this error
	last     bool  // the input's last batch
}

// mergeInput is the merge's side of one input: the batch being read and
// the channel of the next ones.
type mergeInput struct {
	order int // position among the inputs: ties go to the first
	ch    chan *mergeBatch
	free  chan []schema.Event // emptied batches back to the reader
	cur   *mergeBatch
	pos   int
}

func (m *mergeInput) head() *schema.Event { return &m.cur.events[m.pos] }

// errMergeStopped unwinds an input's reader when the merge ends early.
type errMergeStopped struct{}

// mergeInputs reads inputs concurrently and calls add for every event in
// event-time order. Counts go into st and problems to w, as with
// readInput. A read error, or a non-nil check (called before each batch is
// taken: cancellation, output errors), ends the merge with that error.
func mergeInputs(inputs []sniffedInput, st *ReplayStats, add func(schema.Event), w *warner, check func() error) error {
	done := make(chan struct{})
	var wg sync.WaitGroup
	defer func() {
		close(done)
		wg.Wait()
	}()
	ms := make([]*mergeInput, len(inputs))
	for i, in := range inputs {
		m := &mergeInput{order: i, ch: make(chan *mergeBatch, mergeAhead), free: make(chan []schema.Event, mergeAhead+2)}
		ms[i] = m
		wg.Add(1)
		go func() {
			defer wg.Done()
			readMergeInput(in, m.ch, m.free, done)
		}()
	}
	// next moves m to its next event, receiving batches as needed; false
	// when the input is exhausted.
	next := func(m *mergeInput) (bool, error) {
		if m.cur != nil && m.pos+1 < len(m.cur.events) {
			m.pos++
			return true, nil
		}
		for {
			if m.cur != nil {
				if m.cur.last {
					return false, nil
				}
				select {
				case m.free <- m.cur.events[:0]:
				default:
				}
			}
			if err := check(); err != nil {
				return false, err
			}
			b := <-m.ch
			st.Lines += b.counts.Lines
			st.Records += b.counts.Records
			st.Damaged += b.counts.Damaged
			st.DecodeErrors += b.counts.DecodeErrors
			for _, msg := range b.warnings {
				w.warnf("%s", msg)
			}
			for range b.extra {
				w.count()
			}
			if b.err != nil {
				return false, b.err
			}
			m.cur, m.pos = b, 0
			if len(b.events) > 0 {
				return true, nil
			}
		}
	}
	h := make(mergeHeap, 0, len(ms))
	for _, m := range ms {
		ok, err := next(m)
		if err != nil {
			return err
		}
		if ok {
			h = append(h, m)
		}
	}
	h.init()
	for len(h) > 0 {
		m := h[0]
		add(*m.head())
		ok, err := next(m)
		if err != nil {
			return err
		}
		if ok {
			h.fix0()
		} else {
			h.pop0()
		}
	}
	return nil
}

// readMergeInput reads one input into batches on ch until the end, an
// error, or done.
func readMergeInput(in sniffedInput, ch chan<- *mergeBatch, free <-chan []schema.Event, done <-chan struct{}) {
	var counts ReplayStats
	warned := 0
	b := &mergeBatch{}
	newEvents := func() []schema.Event {
		select {
		case evs := <-free:
			return evs
		default:
			return make([]schema.Event, 0, mergeBatchEvents)
		}
	}
	b.events = newEvents()
	send := func() {
		b.counts, counts = counts, ReplayStats{}
		select {
		case ch <- b:
		case <-done:
			panic(errMergeStopped{})
		}
		if !b.last {
			b = &mergeBatch{events: newEvents()}
		}
	}
	defer func() {
		if r := recover(); r != nil {
			if _, stopped := r.(errMergeStopped); !stopped {
				panic(r)
			}
		}
	}()
	add := func(ev schema.Event) {
		b.events = append(b.events, ev)
		if len(b.events) == mergeBatchEvents {
			send()
		}
	}
	warn := func(format string, args ...any) {
		if warned < maxWarnings {
			b.warnings = append(b.warnings, fmt.Sprintf(format, args...))
		} else {
			b.extra++
		}
		warned++
	}
	b.err = readInput(in, &counts, add, warn)
	b.last = true
	send()
}

// mergeHeap is a min-heap of inputs by their next event's time, then
// input order.
type mergeHeap []*mergeInput

func (h mergeHeap) less(i, j int) bool {
	a, b := h[i].head().Timestamp, h[j].head().Timestamp
	if !a.Equal(b) {
		return a.Before(b)
	}
	return h[i].order < h[j].order
}

func (h mergeHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

// fix0 restores the heap after the top's next event changed.
func (h mergeHeap) fix0() { h.down(0) }

// pop0 removes the top.
func (h *mergeHeap) pop0() {
	old := *h
	n := len(old) - 1
	old[0] = old[n]
	old[n] = nil
	*h = old[:n]
	h.down(0)
}

func (h mergeHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		j := l
		if r := l + 1; r < len(h) && h.less(r, l) {
			j = r
		}
		if !h.less(j, i) {
			return
		}
		h[i], h[j] = h[j], h[i]
		i = j
	}
}
