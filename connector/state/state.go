package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	bucketCheckpoints = []byte("checkpoints")
	bucketSnapshots   = []byte("snapshots")
)

// ErrLocked is returned by Open when another process holds the state file.
var ErrLocked = errors.New("state file is locked by another castellan process")

// Store is the state file. Safe for concurrent use.
type Store struct {
	db   *bolt.DB
	path string
}

// Open opens (creating if needed) the state file at path. It fails with
// ErrLocked after a second if another process has it open.
func Open(path string) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("state: create directory: %w", err)
		}
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("state: open %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("state: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketCheckpoints, bucketSnapshots} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("state: init %s: %w", path, err)
	}
	return &Store{db: db, path: path}, nil
}

// Path returns the file path.
func (s *Store) Path() string { return s.path }

// DB returns the bbolt handle, for packages that keep their own buckets in
// the state file (sinks/delivery).
func (s *Store) DB() *bolt.DB { return s.db }

// Close closes the file. Safe to call twice.
func (s *Store) Close() error {
	if s == nil || s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	return err
}

// Update runs fn in one read-write transaction: everything fn writes becomes
// durable together, or not at all.
func (s *Store) Update(fn func(tx *Tx) error) error {
	return s.db.Update(func(btx *bolt.Tx) error { return fn(&Tx{Tx: btx}) })
}

// Tx is a read-write transaction with typed helpers. The embedded *bolt.Tx is
// for packages that keep their own buckets (sinks/delivery).
type Tx struct{ *bolt.Tx }

// PutCheckpoint records a source checkpoint.
func (t *Tx) PutCheckpoint(source, key string, value []byte) error {
	b, err := t.Bucket(bucketCheckpoints).CreateBucketIfNotExists([]byte(source))
	if err != nil {
		return fmt.Errorf("state: checkpoint bucket %s: %w", source, err)
	}
	return b.Put([]byte(key), value)
}

// PutSnapshot stores a named state snapshot (detection windows, open incidents).
func (t *Tx) PutSnapshot(name string, data []byte) error {
	return t.Bucket(bucketSnapshots).Put([]byte(name), data)
}

// Checkpoint reads one committed checkpoint of a source (nil if none).
func (s *Store) Checkpoint(source, key string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCheckpoints).Bucket([]byte(source))
		if b == nil {
			return nil
		}
		if v := b.Get([]byte(key)); v != nil {
			out = append([]byte(nil), v...)
		}
		return nil
	})
	return out, err
}

// Checkpoints returns a reader of one source's checkpoints.
func (s *Store) Checkpoints(source string) SourceCheckpoints {
	return SourceCheckpoints{store: s, source: source}
}

// SourceCheckpoints reads one source's checkpoints; it implements
// component.CheckpointReader.
type SourceCheckpoints struct {
	store  *Store
	source string
}

// Checkpoint returns the committed value for key, or nil.
func (c SourceCheckpoints) Checkpoint(key string) ([]byte, error) {
	return c.store.Checkpoint(c.source, key)
}

// Snapshot reads a named snapshot (nil if none).
func (s *Store) Snapshot(name string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketSnapshots).Get([]byte(name)); v != nil {
			out = append([]byte(nil), v...)
		}
		return nil
	})
	return out, err
}
