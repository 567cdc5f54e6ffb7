package file

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/castellan-itdr/castellan/sinks/delivery"
)

func item(id string, pad int) delivery.Item {
	body, _ := json.Marshal(map[string]string{"kind": "alert", "id": id, "pad": strings.Repeat("x", pad)})
	return delivery.Item{Kind: "alert", ID: id, Body: body}
}

func TestWritesJSONLinesAndRotates(t *testing.T) {
	dir := t.TempDir()
	cfg := &Config{Path: filepath.Join(dir, "out", "c.jsonl"), MaxSizeMB: 1, MaxFiles: 2}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Three pushes of ~600 KiB: the second and third each rotate.
	for i, id := range []string{"a", "b", "c"} {
		if err := s.Push(context.Background(), []delivery.Item{item(id, 600<<10)}); err != nil {
			t.Fatalf("push %d: %v", i, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"c.jsonl": "c", "c.jsonl.1": "b", "c.jsonl.2": "a"}
	for name, id := range want {
		data, err := os.ReadFile(filepath.Join(dir, "out", name))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		var rec map[string]string
		if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &rec) != nil || rec["id"] != id {
			t.Fatalf("%s holds %d lines, id %q; want 1 line with id %q", name, len(lines), rec["id"], id)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	c := &Config{MaxSizeMB: -1, Select: delivery.Selection{Kinds: []string{"bogus"}}}
	err := c.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"path: required", "max_size_mb", "kinds"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
	if err := NewDefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

// A batch redelivered after a crash (written, not yet acknowledged) is not
// written twice; new items after it are.
func TestRedeliveredBatchIsSkippedAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.jsonl")
	s, err := New(&Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Push(context.Background(), []delivery.Item{item("a", 1), item("b", 1)}); err != nil {
		t.Fatal(err)
	}
	s.Close() // "crash" before the queue acknowledged a and b

	s, err = New(&Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Push(context.Background(), []delivery.Item{item("a", 1), item("b", 1), item("c", 1)}); err != nil {
		t.Fatal(err)
	}
	// A later, identical-looking record is a new record, not a redelivery.
	if err := s.Push(context.Background(), []delivery.Item{item("a", 1)}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	var ids []string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var rec map[string]string
		_ = json.Unmarshal([]byte(l), &rec)
		ids = append(ids, rec["id"])
	}
	if got := strings.Join(ids, ","); got != "a,b,c,a" {
		t.Fatalf("file holds %s, want a,b,c,a", got)
	}
}
