package file

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/castellan-itdr/castellan/sinks/delivery"
)

// Sink appends records to a file as JSON lines and rotates it by size.
// Push is serialized by the delivery sender; the mutex guards Close.
type Sink struct {
	cfg Config

	mu   sync.Mutex
	f    *os.File
	size int64
}

// New opens (creating) the output file.
func New(cfg *Config) (*Sink, error) {
	s := &Sink{cfg: *cfg}
	if err := s.open(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Sink) open() error {
	if err := os.MkdirAll(filepath.Dir(s.cfg.Path), 0o750); err != nil {
		return fmt.Errorf("file sink: %w", err)
	}
	f, err := os.OpenFile(s.cfg.Path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("file sink: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("file sink: %w", err)
	}
	s.f, s.size = f, st.Size()
	return nil
}

// Push writes the batch, one JSON object per line, and syncs it to disk.
func (s *Sink) Push(_ context.Context, batch []delivery.Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		if err := s.open(); err != nil {
			return err
		}
	}
	buf := make([]byte, 0, 4096)
	for _, it := range batch {
		buf = append(buf, it.Body...)
		buf = append(buf, '\n')
	}
	limit := int64(s.cfg.MaxSizeMB) << 20
	if limit > 0 && s.size > 0 && s.size+int64(len(buf)) > limit {
		if err := s.rotate(); err != nil {
			return err
		}
	}
	n, err := s.f.Write(buf)
	s.size += int64(n)
	if err != nil {
		return fmt.Errorf("file sink: write %s: %w", s.cfg.Path, err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("file sink: sync %s: %w", s.cfg.Path, err)
	}
	return nil
}

// rotate shifts path.N-1 → path.N ..., path → path.1, and reopens.
func (s *Sink) rotate() error {
	if err := s.f.Close(); err != nil {
		return fmt.Errorf("file sink: close for rotation: %w", err)
	}
	s.f = nil
	keep := max(s.cfg.MaxFiles, 1)
	_ = os.Remove(fmt.Sprintf("%s.%d", s.cfg.Path, keep))
	for i := keep - 1; i >= 1; i-- {
		_ = os.Rename(fmt.Sprintf("%s.%d", s.cfg.Path, i), fmt.Sprintf("%s.%d", s.cfg.Path, i+1))
	}
	if err := os.Rename(s.cfg.Path, s.cfg.Path+".1"); err != nil {
		return fmt.Errorf("file sink: rotate: %w", err)
	}
	return s.open()
}

// Close closes the file. Safe twice.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}
