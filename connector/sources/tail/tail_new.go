package tail

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// DecodeFunc turns one record into an event. It returns ErrSkip for records
// that are not events (counted as skipped, not as errors).
type DecodeFunc func(record []byte) (schema.Event, error)

// ErrSkip marks a record that is not an event (a log header line, say).
var ErrSkip = errors.New("tail: not an event record")

// ErrTooLong marks a record over Config.MaxRecordBytes.
var ErrTooLong = errors.New("tail: record too long")

// New validates cfg and returns a tailer that is not yet started. name is
// the source type, used in errors; set.Next is required; set.Checkpoints,
// set.Logger and set.Counters may be nil.
func New(cfg Config, name string, decode DecodeFunc, set component.SourceSettings) (*Tailer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if decode == nil {
		return nil, fmt.Errorf("%s: no decoder", name)
	}
	if set.Next == nil {
		return nil, fmt.Errorf("%s: no next consumer", name)
	}
	if set.Logger == nil {
		set.Logger = slog.New(slog.DiscardHandler)
	}
	if set.ID == "" {
		set.ID = name
	}
	c := cfg
	c.Paths = append([]string(nil), cfg.Paths...)
	if c.StartAt == "" {
		c.StartAt = StartBeginning
	}
	if c.MaxRecordBytes <= 0 {
		c.MaxRecordBytes = DefaultMaxRecordBytes
	}
	return newTailer(&c, name, decode, set), nil
}
