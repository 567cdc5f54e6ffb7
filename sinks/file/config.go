package file

import (
	"errors"

	"github.com/castellan-itdr/castellan/sinks/delivery"
)

// Type is the sink type name used in config keys.
const Type = "file"

// Config configures the file sink.
type Config struct {
	// Path of the active file; rotated files get ".1", ".2", ... suffixes.
	Path string `yaml:"path"`
	// MaxSizeMB rotates the file when it would grow past this size; 0 = never.
	MaxSizeMB int `yaml:"max_size_mb"`
	// MaxFiles is how many rotated files to keep.
	MaxFiles int `yaml:"max_files"`
	// Select chooses record kinds and a minimum severity.
	Select delivery.Selection `yaml:",inline"`
}

// NewDefaultConfig returns the defaults: 100 MB files, 5 kept.
func NewDefaultConfig() *Config {
	return &Config{Path: "castellan.jsonl", MaxSizeMB: 100, MaxFiles: 5}
}

// Validate reports every problem.
func (c *Config) Validate() error {
	var errs []error
	if c.Path == "" {
		errs = append(errs, errors.New("path: required"))
	}
	if c.MaxSizeMB < 0 {
		errs = append(errs, errors.New("max_size_mb: must be >= 0"))
	}
	if c.MaxFiles < 0 {
		errs = append(errs, errors.New("max_files: must be >= 0"))
	}
	if err := c.Select.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
