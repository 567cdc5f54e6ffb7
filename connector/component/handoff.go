package component

import (
	"context"
	"log/slog"
	"time"

	"github.com/castellan-itdr/castellan/connector/telemetry"
)

// Handoff is how a source hands batches to the pipeline: a refused batch is
// retried with exponential backoff until it is accepted or the source stops,
// so nothing a source read is dropped while the pipeline pushes back.
type Handoff struct {
	Next BatchConsumer
	// Stop is closed when the source stops; a batch refused after that is
	// given up (the source re-reads it after restart from its checkpoint).
	Stop       <-chan struct{}
	Backoff    time.Duration // first retry delay
	MaxBackoff time.Duration // cap on the delay
	Logger     *slog.Logger
	Counters   *telemetry.Counters
	// EventsCounter is raised by the events of each accepted batch.
	EventsCounter string
}

// Send hands b over and reports whether it was accepted.
func (h Handoff) Send(ctx context.Context, b Batch) bool {
	backoff := h.Backoff
	for attempt := 1; ; attempt++ {
		err := h.Next.ConsumeBatch(ctx, b)
		if err == nil {
			h.Counters.Add(h.EventsCounter, int64(len(b.Events)))
			return true
		}
		select {
		case <-h.Stop:
			h.Logger.Warn("batch not accepted at shutdown; it will be read again after restart",
				"events", len(b.Events), "error", err)
			return false
		default:
		}
		h.Logger.Warn("batch refused, retrying", "events", len(b.Events), "attempt", attempt,
			"retry_in", backoff, "error", err)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-h.Stop:
			t.Stop()
		}
		backoff = min(backoff*2, h.MaxBackoff)
	}
}
