package state

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
)

func TestCheckpointsAndSnapshotsPersist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(func(tx *Tx) error {
		if err := tx.PutCheckpoint("winjson/a", "file:/x", []byte("42")); err != nil {
			return err
		}
		return tx.PutSnapshot("engine", []byte("state"))
	})
	if err != nil {
		t.Fatal(err)
	}
	// A failed transaction writes nothing.
	boom := errors.New("boom")
	err = s.Update(func(tx *Tx) error {
		if err := tx.PutCheckpoint("winjson/a", "file:/x", []byte("99")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal("second close:", err)
	}

	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v, err := s.Checkpoints("winjson/a").Checkpoint("file:/x")
	if err != nil || !bytes.Equal(v, []byte("42")) {
		t.Fatalf("checkpoint = %q, %v; want 42", v, err)
	}
	if v, _ := s.Checkpoint("winjson/b", "file:/x"); v != nil {
		t.Fatalf("other source sees %q", v)
	}
	if v, _ := s.Snapshot("engine"); string(v) != "state" {
		t.Fatalf("snapshot = %q", v)
	}
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := Open(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
}
