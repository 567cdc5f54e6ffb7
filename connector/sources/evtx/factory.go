package evtx

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/castellan-itdr/castellan/connector/component"
)

// Type is the source type name used in configuration ("evtx/dc01").
const Type = "evtx"

// New validates cfg and returns a source that is not yet started. set.Next
// is required; set.Checkpoints, set.Logger and set.Counters may be nil.
func New(cfg *Config, set component.SourceSettings) (*Source, error) {
	if cfg == nil {
		return nil, errors.New("evtx: nil config")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("evtx: %w", err)
	}
	if set.Next == nil {
		return nil, errors.New("evtx: no next consumer")
	}
	if set.Logger == nil {
		set.Logger = slog.New(slog.DiscardHandler)
	}
	if set.ID == "" {
		set.ID = Type
	}
	c := *cfg
	c.Paths = append([]string(nil), cfg.Paths...)
	if c.StartAt == "" {
		c.StartAt = StartBeginning
	}
	return newSource(&c, set), nil
}
