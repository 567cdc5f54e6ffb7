package netsensor

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/castellan-itdr/castellan/connector/component"
)

// Type is the source type name used in configuration ("netsensor/dc01").
const Type = "netsensor"

// New validates cfg and returns a source that is not yet started. set.Next
// is required; set.Checkpoints, set.Logger and set.Counters may be nil.
func New(cfg *Config, set component.SourceSettings) (*Source, error) {
	if cfg == nil {
		return nil, errors.New("netsensor: nil config")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("netsensor: %w", err)
	}
	if set.Next == nil {
		return nil, errors.New("netsensor: no next consumer")
	}
	if set.Logger == nil {
		set.Logger = slog.New(slog.DiscardHandler)
	}
	if set.ID == "" {
		set.ID = Type
	}
	c := *cfg
	c.Paths = append([]string(nil), cfg.Paths...)
	return newSource(&c, set), nil
}
