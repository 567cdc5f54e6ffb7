package evtx

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// Start positions for files without a checkpoint.
const (
	StartBeginning = "beginning"
	StartEnd       = "end"
)

// Config configures the evtx source.
type Config struct {
	// Paths are files, directories (every *.evtx below them, recursively)
	// and glob patterns; expanded again each poll.
	Paths []string `yaml:"paths"`
	// Follow keeps tailing live files; false reads every file once to its
	// end and stops (Done is closed).
	Follow bool `yaml:"follow"`
	// StartAt is where to start in files found at startup that have no
	// checkpoint: beginning (default) or end. Files that appear later are
	// always read from the beginning.
	StartAt string `yaml:"start_at"`
	// PollInterval is how often files are checked for new records.
	PollInterval time.Duration `yaml:"poll_interval"`
	// BatchSize caps the events per batch handed to the pipeline.
	BatchSize int `yaml:"batch_size"`
}

// NewDefaultConfig returns the defaults: follow files, start at the
// beginning, poll every two seconds, batches of 1000 events.
func NewDefaultConfig() *Config {
	return &Config{
		Follow:       true,
		StartAt:      StartBeginning,
		PollInterval: 2 * time.Second,
		BatchSize:    1000,
	}
}

// Validate reports every problem, each as "field: problem".
func (c *Config) Validate() error {
	var errs []error
	if len(c.Paths) == 0 {
		errs = append(errs, errors.New("paths: at least one file, directory or glob is required"))
	}
	for i, p := range c.Paths {
		if p == "" {
			errs = append(errs, fmt.Errorf("paths[%d]: empty path", i))
			continue
		}
		if _, err := filepath.Match(p, ""); err != nil {
			errs = append(errs, fmt.Errorf("paths[%d]: invalid glob %q: %v", i, p, err))
		}
	}
	switch c.StartAt {
	case "", StartBeginning, StartEnd:
	default:
		errs = append(errs, fmt.Errorf("start_at: must be beginning or end, not %q", c.StartAt))
	}
	if c.PollInterval <= 0 {
		errs = append(errs, errors.New("poll_interval: must be > 0"))
	}
	if c.BatchSize <= 0 {
		errs = append(errs, errors.New("batch_size: must be > 0"))
	}
	return errors.Join(errs...)
}
