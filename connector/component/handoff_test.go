package component

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/connector/telemetry"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

func TestHandoffRetriesUntilAcceptedOrStopped(t *testing.T) {
	calls := 0
	next := BatchConsumerFunc(func(context.Context, Batch) error {
		calls++
		if calls < 3 {
			return errors.New("queue full")
		}
		return nil
	})
	counters := telemetry.New()
	h := Handoff{Next: next, Stop: make(chan struct{}), Backoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler), Counters: counters, EventsCounter: "events"}
	if !h.Send(context.Background(), Batch{Events: make([]schema.Event, 5)}) || calls != 3 {
		t.Fatalf("accepted after %d calls", calls)
	}
	if counters.Value("events") != 5 {
		t.Fatal("accepted events not counted")
	}
	stop := make(chan struct{})
	close(stop)
	h.Stop = stop
	h.Next = BatchConsumerFunc(func(context.Context, Batch) error { return errors.New("down") })
	if h.Send(context.Background(), Batch{}) {
		t.Fatal("a refused batch after stop reported accepted")
	}
}
