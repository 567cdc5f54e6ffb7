package component

import (
	"context"
	"log/slog"

	"github.com/castellan-itdr/castellan/connector/telemetry"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Component is anything with a lifecycle.
//
// Start returns quickly; background work gets its own context, cancelled by
// Shutdown. Shutdown is safe without Start and safe twice; it stops intake,
// flushes, and honours ctx.
type Component interface {
	Start(ctx context.Context, host Host) error
	Shutdown(ctx context.Context) error
}

// Host is what the pipeline offers a running component.
type Host interface {
	// ReportFatal tells the pipeline the component cannot go on; the daemon
	// shuts down with this error.
	ReportFatal(err error)
}

// Checkpoint is one key/value a source persists. Sources read theirs back at
// Start through CheckpointReader.
type Checkpoint struct {
	Key   string
	Value []byte
}

// Batch is a source's hand-off to the pipeline: normalized events and the
// checkpoints that become durable atomically with every record the batch
// produces (alerts, incidents, sink queue entries). A nil Checkpoints slice
// commits nothing (e.g. a TCP listener, which cannot be re-read).
type Batch struct {
	Events      []schema.Event
	Checkpoints []Checkpoint
}

// BatchConsumer accepts batches. ConsumeBatch blocks while downstream queues
// are full (backpressure) and returns nil only after the batch's outputs and
// checkpoints are durable. The callee does not keep the slices after return.
// Safe for concurrent use.
type BatchConsumer interface {
	ConsumeBatch(ctx context.Context, b Batch) error
}

// BatchConsumerFunc adapts a function to BatchConsumer.
type BatchConsumerFunc func(ctx context.Context, b Batch) error

// ConsumeBatch calls f.
func (f BatchConsumerFunc) ConsumeBatch(ctx context.Context, b Batch) error { return f(ctx, b) }

// CheckpointReader reads a source's committed checkpoints.
type CheckpointReader interface {
	// Checkpoint returns the committed value for key, or nil if none.
	Checkpoint(key string) ([]byte, error)
}

// SourceSettings is what a source factory receives besides its config.
type SourceSettings struct {
	// ID is the component id from the config, e.g. "winjson/dc01".
	ID          string
	Logger      *slog.Logger
	Next        BatchConsumer
	Checkpoints CheckpointReader
	Counters    *telemetry.Counters
}

// SinkSettings is what a sink factory receives besides its config.
type SinkSettings struct {
	ID       string
	Logger   *slog.Logger
	Counters *telemetry.Counters
}
