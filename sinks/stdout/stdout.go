// Package stdout is the stdout sink: records as JSON lines on standard output
// (or any writer), for pipes and containers.
package stdout

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/castellan-itdr/castellan/sinks/delivery"
)

// Type is the sink type name used in config keys.
const Type = "stdout"

// Config configures the stdout sink.
type Config struct {
	Select delivery.Selection `yaml:",inline"`
}

// NewDefaultConfig returns the defaults (alerts and incidents).
func NewDefaultConfig() *Config { return &Config{} }

// Validate reports every problem.
func (c *Config) Validate() error { return c.Select.Validate() }

// Sink writes JSON lines to a writer.
type Sink struct {
	mu sync.Mutex
	w  io.Writer
}

// New returns a sink writing to w (os.Stdout when nil).
func New(w io.Writer) *Sink {
	if w == nil {
		w = os.Stdout
	}
	return &Sink{w: w}
}

// Push writes each record on its own line.
func (s *Sink) Push(_ context.Context, batch []delivery.Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range batch {
		if _, err := fmt.Fprintf(s.w, "%s\n", it.Body); err != nil {
			return fmt.Errorf("stdout sink: %w", err)
		}
	}
	return nil
}
