package file

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/castellan-itdr/castellan/sinks/delivery"
)

// Sink appends records to a file as JSON lines and rotates it by size.
// Push is serialized by the delivery sender; the mutex guards Close.
//
// Delivery is exactly-once across crashes: the queue removes a batch only
// after Push returns, so a crash between the write and that removal
// redelivers the batch at the head of the queue on restart. The sink
// remembers the lines at the end of its file when it opens and skips a
// leading run of items it already wrote. A failed write is truncated away
// before the error is returned, so a retry never duplicates either.
type Sink struct {
	cfg Config

	mu     sync.Mutex
	f      *os.File
	size   int64
	recent map[[32]byte]bool // hashes of the last lines in the file at open; nil after the first push
}

// tailBytes is how much of an existing file is read at open to recognize a
// redelivered batch (the sender's default batch is at most 1 MiB).
const tailBytes = 2 << 20

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
	s.recent = tailHashes(s.cfg.Path, s.size)
	return nil
}

// tailHashes hashes the complete lines in the last tailBytes of the file.
func tailHashes(path string, size int64) map[[32]byte]bool {
	if size == 0 {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	off := max(0, size-tailBytes)
	buf := make([]byte, size-off)
	if _, err := f.ReadAt(buf, off); err != nil {
		return nil
	}
	lines := bytes.Split(bytes.TrimSuffix(buf, []byte("\n")), []byte("\n"))
	if off > 0 && len(lines) > 0 {
		lines = lines[1:] // the first is probably partial
	}
	m := make(map[[32]byte]bool, len(lines))
	for _, l := range lines {
		m[sha256.Sum256(l)] = true
	}
	return m
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
	if s.recent != nil {
		skip := 0
		for skip < len(batch) && s.recent[sha256.Sum256(batch[skip].Body)] {
			skip++
		}
		batch = batch[skip:]
		s.recent = nil
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
	before := s.size
	_, err := s.f.Write(buf)
	if err == nil {
		err = s.f.Sync()
	}
	if err != nil {
		// Leave no partial batch behind for the retry to duplicate.
		_ = s.f.Truncate(before)
		return fmt.Errorf("file sink: write %s: %w", s.cfg.Path, err)
	}
	s.size += int64(len(buf))
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
