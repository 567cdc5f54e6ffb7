// Package sourcetest holds what source tests share: a recording
// BatchConsumer that commits checkpoints the way the pipeline does, and a
// Harness that starts a source against it, waits for events, reads
// checkpoints back and runs the common lifecycle checks.
package sourcetest

import (
	"context"
	"errors"
	"sync"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Consumer records every batch and commits its checkpoints into a map, which
// it also serves as the CheckpointReader. It refuses the first Fail calls
// and, with Block, waits for ctx to end. Lock Mu to read or set fields while
// a source runs.
type Consumer struct {
	Mu        sync.Mutex
	Batches   []component.Batch
	Committed map[string][]byte
	Fail      int
	Calls     int
	Block     bool
}

// NewConsumer returns an empty consumer.
func NewConsumer() *Consumer { return &Consumer{Committed: map[string][]byte{}} }

// ConsumeBatch implements component.BatchConsumer.
func (f *Consumer) ConsumeBatch(ctx context.Context, b component.Batch) error {
	f.Mu.Lock()
	f.Calls++
	block := f.Block
	if f.Fail > 0 {
		f.Fail--
		f.Mu.Unlock()
		return errors.New("downstream full")
	}
	f.Mu.Unlock()
	if block {
		<-ctx.Done()
		return ctx.Err()
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
	evs := append([]schema.Event(nil), b.Events...) // the callee must not keep the slice
	cps := append([]component.Checkpoint(nil), b.Checkpoints...)
	f.Batches = append(f.Batches, component.Batch{Events: evs, Checkpoints: cps})
	for _, cp := range b.Checkpoints {
		f.Committed[cp.Key] = append([]byte(nil), cp.Value...)
	}
	return nil
}

// Checkpoint implements component.CheckpointReader.
func (f *Consumer) Checkpoint(key string) ([]byte, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	return f.Committed[key], nil
}

// Events returns every event received, in order.
func (f *Consumer) Events() []schema.Event {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	var out []schema.Event
	for _, b := range f.Batches {
		out = append(out, b.Events...)
	}
	return out
}
