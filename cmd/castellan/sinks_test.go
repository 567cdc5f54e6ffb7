package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/connector/state"
	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/sinks/delivery"
)

func TestSinksTestSendsCanaryAndReportsFailures(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "not-a-dir")
	_ = os.WriteFile(blocker, nil, 0o600)
	cfg := filepath.Join(dir, "c.yaml")
	_ = os.WriteFile(cfg, []byte(`state: { path: `+dir+`/s.db }
sinks:
  file/good: { path: `+dir+`/out.jsonl, min_severity: critical }
  file/bad:  { path: `+blocker+`/out.jsonl }
`), 0o600)
	out, _, err := execute(t, "sinks", "test", "-c", cfg)
	if exitCode(err) != 1 {
		t.Fatalf("exit %d, want 1 (one sink fails): %v\n%s", exitCode(err), err, out)
	}
	if !strings.Contains(out, "ok    file/good") || !strings.Contains(out, "FAIL  file/bad") {
		t.Fatalf("output:\n%s", out)
	}
	// The canary bypasses min_severity: it is a connectivity test.
	data, _ := os.ReadFile(filepath.Join(dir, "out.jsonl"))
	if !strings.Contains(string(data), `"kind":"incident"`) || !strings.Contains(string(data), "castellan sinks test") {
		t.Fatalf("canary not written: %q", data)
	}
}

func TestDeadletterListAndReplay(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	_ = os.WriteFile(cfg, []byte(`state: { path: `+dir+`/s.db }
sinks:
  file/out: { path: `+dir+`/out.jsonl }
`), 0o600)
	// Dead-letter two records the way the daemon would.
	st, err := state.Open(filepath.Join(dir, "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	q, _ := delivery.NewQueue(st.DB(), "file/out")
	var items []delivery.Item
	for _, id := range []string{"alert-1", "alert-2"} {
		it, _ := delivery.NewItem(schema.Alert{ID: id})
		items = append(items, it)
	}
	_ = q.Enqueue(items)
	s := delivery.NewSender("file/out", q, delivery.PushFunc(func(context.Context, []delivery.Item) error {
		return delivery.Permanent(errors.New("400 bad mapping"))
	}), delivery.SenderConfig{PollInterval: time.Millisecond}, nil, nil)
	s.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	_ = s.Shutdown(ctx)
	st.Close()

	out, _, err := execute(t, "sinks", "deadletter", "list", "-c", cfg)
	if err != nil || !strings.Contains(out, "file/out: 2 dead-lettered") || !strings.Contains(out, "alert-2") || !strings.Contains(out, "400 bad mapping") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	out, _, err = execute(t, "sinks", "deadletter", "replay", "-c", cfg)
	if err != nil || !strings.Contains(out, "2 record(s) re-queued") {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	out, _, _ = execute(t, "sinks", "deadletter", "list", "-c", cfg)
	if !strings.Contains(out, "0 dead-lettered, 2 queued") {
		t.Fatalf("after replay:\n%s", out)
	}
}
