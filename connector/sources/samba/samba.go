package samba

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/connector/sources/tail"
	"github.com/castellan-itdr/castellan/mappings/samba"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Type is the source type name used in configuration ("samba/dc1").
const Type = "samba"

// Source tails Samba audit logs. It implements component.Component; Start
// and Shutdown may be called from any goroutine.
type Source struct {
	t *tail.Tailer
}

// New validates cfg and returns a source that is not yet started. set.Next
// is required; set.Checkpoints, set.Logger and set.Counters may be nil.
func New(cfg *Config, set component.SourceSettings) (*Source, error) {
	if cfg == nil {
		return nil, errors.New("samba: nil config")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("samba: %w", err)
	}
	host := cfg.Host
	if host == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("samba: host not set and no host name: %w", err)
		}
		host = h
	}
	t, err := tail.New(tail.Config{
		Paths:          cfg.Paths,
		StartAt:        cfg.StartAt,
		PollInterval:   cfg.PollInterval,
		BatchSize:      cfg.BatchSize,
		Follow:         cfg.Follow,
		MaxRecordBytes: samba.MaxLineBytes,
	}, Type, decoder(host), set)
	if err != nil {
		return nil, err
	}
	return &Source{t: t}, nil
}

// decoder adapts samba.Decode to the tailer: lines without an audit record
// are skipped, not errors.
func decoder(host string) tail.DecodeFunc {
	return func(rec []byte) (schema.Event, error) {
		ev, err := samba.Decode(rec, host)
		if errors.Is(err, samba.ErrSkip) {
			return ev, tail.ErrSkip
		}
		return ev, err
	}
}

// Start begins tailing in the background and returns at once.
func (s *Source) Start(ctx context.Context, host component.Host) error { return s.t.Start(ctx, host) }

// Shutdown stops reading and waits for the in-flight batch hand-off,
// aborting it when ctx ends. Safe without Start and safe twice.
func (s *Source) Shutdown(ctx context.Context) error { return s.t.Shutdown(ctx) }

// Done is closed when the source has finished: with follow false once every
// file was read to EOF and handed off; always after Shutdown.
func (s *Source) Done() <-chan struct{} { return s.t.Done() }

// CheckpointKey is the checkpoint key of a file: "file:" + absolute path.
func CheckpointKey(absPath string) string { return tail.CheckpointKey(absPath) }
