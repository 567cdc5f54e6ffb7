package samba

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/connector/telemetry"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// recorder records every accepted batch and commits its checkpoints into a
// map that it also serves as the CheckpointReader. It refuses the first
// fail calls; block makes it wait for ctx.
type recorder struct {
	mu        sync.Mutex
	batches   []component.Batch
	committed map[string][]byte
	fail      int
	calls     int
	block     bool
}

func newRecorder() *recorder { return &recorder{committed: map[string][]byte{}} }

func (r *recorder) ConsumeBatch(ctx context.Context, b component.Batch) error {
	r.mu.Lock()
	r.calls++
	if r.fail > 0 {
		r.fail--
		r.mu.Unlock()
		return errors.New("downstream full")
	}
	block := r.block
	r.mu.Unlock()
	if block {
		<-ctx.Done()
		return ctx.Err()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, component.Batch{
		Events:      append([]schema.Event(nil), b.Events...),
		Checkpoints: append([]component.Checkpoint(nil), b.Checkpoints...),
	})
	for _, cp := range b.Checkpoints {
		r.committed[cp.Key] = append([]byte(nil), cp.Value...)
	}
	return nil
}

func (r *recorder) Checkpoint(key string) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.committed[key], nil
}

func (r *recorder) events() []schema.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []schema.Event
	for _, b := range r.batches {
		out = append(out, b.Events...)
	}
	return out
}

// filePos is the checkpoint value of a file.
type filePos struct {
	Dev    uint64 `json:"dev"`
	Ino    uint64 `json:"ino"`
	Offset int64  `json:"offset"`
	Line   int64  `json:"line"`
}

func (r *recorder) position(t *testing.T, path string) filePos {
	t.Helper()
	abs, _ := filepath.Abs(path)
	v, _ := r.Checkpoint(CheckpointKey(abs))
	var p filePos
	if v != nil {
		if err := json.Unmarshal(v, &p); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// auditLines returns what Samba writes for logons from ports from..to-1:
// a debug header and an indented JSON record each.
func auditLines(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "[2026/11/28 06:55:57.%06d,  3] ../../auth/auth_log.c:635(log_authentication_event_json)\n", i)
		fmt.Fprintf(&b, `  {"timestamp": "2026-11-28T06:55:57.%06d+0000", "type": "Authentication", "Authentication": {"version": {"major": 1, "minor": 2}, "eventId": 4625, "logonId": "0", "logonType": 3, "status": "NT_STATUS_WRONG_PASSWORD", "localAddress": "ipv4:127.0.0.1:445", "remoteAddress": "ipv4:127.0.0.1:%d", "serviceDescription": "SMB2", "authDescription": "NTLMSSP", "clientDomain": "LAB", "clientAccount": "user%d", "workstation": "VM", "becameAccount": null, "passwordType": "NTLMv2", "duration": 5840}}`+"\n", i, 40000+i, i)
	}
	return b.String()
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, path, data string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(data); err != nil {
		t.Fatal(err)
	}
}

func testConfig(paths ...string) *Config {
	c := NewDefaultConfig()
	c.Paths = paths
	c.Host = "dc1.lab.test"
	c.PollInterval = 10 * time.Millisecond
	return c
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type harness struct {
	src      *Source
	rec      *recorder
	counters *telemetry.Counters
	logs     *syncBuffer
}

const testID = "samba/test"

func start(t *testing.T, cfg *Config, rec *recorder) *harness {
	t.Helper()
	h := &harness{rec: rec, counters: telemetry.New(), logs: &syncBuffer{}}
	src, err := New(cfg, component.SourceSettings{
		ID:          testID,
		Logger:      slog.New(slog.NewTextHandler(h.logs, nil)),
		Next:        rec,
		Checkpoints: rec,
		Counters:    h.counters,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	h.src = src
	t.Cleanup(func() { _ = src.Shutdown(context.Background()) })
	return h
}

func (h *harness) stop(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.src.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) counter(name string) int64 {
	return h.counters.Value(telemetry.Key(name, "source", testID))
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitEvents waits for n events, checks there are no more and that none
// arrived twice.
func waitEvents(t *testing.T, r *recorder, n int) []schema.Event {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d events", n), func() bool { return len(r.events()) >= n })
	evs := r.events()
	if len(evs) != n {
		t.Fatalf("got %d events, want %d", len(evs), n)
	}
	seen := map[string]bool{}
	for _, e := range evs {
		if seen[e.ID] {
			t.Fatalf("event %s (%s) delivered twice", e.ID, e.User.Name)
		}
		seen[e.ID] = true
	}
	return evs
}

func TestReadsAuditLog(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "samba.log")
	writeFile(t, p, auditLines(0, 3)+"  Kerberos: AS-REQ SUCCESS ipv4:127.0.0.1:55048 alice@LAB.TEST krbtgt/LAB.TEST@LAB.TEST\n\n")
	h := start(t, testConfig(filepath.Join(dir, "samba.log*")), newRecorder())
	evs := waitEvents(t, h.rec, 3)
	for i, e := range evs {
		if e.Event.Kind != schema.KindLogonFailure || e.Event.Dataset != "samba" || e.Host.Name != "dc1.lab.test" ||
			e.User.Name != fmt.Sprintf("user%d", i) || e.Auth.FailureCode != "0xc000006a" {
			t.Errorf("event %d: %+v", i, e)
		}
	}
	fi, _ := os.Stat(p)
	waitFor(t, "checkpoint at EOF", func() bool { return h.rec.position(t, p).Offset == fi.Size() })
	if pos := h.rec.position(t, p); pos.Line != 8 || pos.Ino == 0 {
		t.Errorf("position = %+v, want line 8 and an inode", pos)
	}
	if got := h.counter("source_skipped_records"); got != 4 { // 3 headers + the Kerberos line; blank lines are not records
		t.Errorf("source_skipped_records = %d, want 4", got)
	}
	if got := h.counter("source_events"); got != 3 {
		t.Errorf("source_events = %d", got)
	}
	if got := h.counter("source_bytes"); got != fi.Size() {
		t.Errorf("source_bytes = %d, want %d", got, fi.Size())
	}
	if got := h.counter("source_decode_errors"); got != 0 {
		t.Errorf("source_decode_errors = %d", got)
	}
}

func TestTailAppend(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "samba.log")
	writeFile(t, p, auditLines(0, 2))
	cfg := testConfig(filepath.Join(dir, "*.log"))
	cfg.BatchSize = 2
	h := start(t, cfg, newRecorder())
	waitEvents(t, h.rec, 2)
	next := auditLines(5, 6)
	appendFile(t, p, auditLines(2, 5)+next[:len(next)-40]) // three records and a partial one
	waitEvents(t, h.rec, 5)
	time.Sleep(5 * cfg.PollInterval)
	if n := len(h.rec.events()); n != 5 {
		t.Fatalf("partial record consumed: %d events", n)
	}
	appendFile(t, p, next[len(next)-40:])
	waitEvents(t, h.rec, 6)
	// A file created later is picked up by the next glob.
	writeFile(t, filepath.Join(dir, "other.log"), auditLines(100, 103))
	waitEvents(t, h.rec, 9)
}

func TestCheckpointResume(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "samba.log")
	writeFile(t, p, auditLines(0, 10))
	rec := newRecorder()
	cfg := testConfig(p)
	cfg.BatchSize = 3
	h := start(t, cfg, rec)
	waitEvents(t, rec, 10)
	h.stop(t)

	appendFile(t, p, auditLines(10, 15))
	h2 := start(t, cfg, rec) // the same recorder serves what was committed
	waitEvents(t, rec, 15)
	h2.stop(t)
	if pos := rec.position(t, p); pos.Line != 30 {
		t.Errorf("line = %d, want 30", pos.Line)
	}
	// start_at: end does not apply to a file with a checkpoint.
	appendFile(t, p, auditLines(15, 17))
	cfg.StartAt = StartEnd
	start(t, cfg, rec)
	waitEvents(t, rec, 17)
}

func TestStartAtEnd(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "samba.log")
	writeFile(t, p, auditLines(0, 5))
	cfg := testConfig(filepath.Join(dir, "*.log"))
	cfg.StartAt = StartEnd
	h := start(t, cfg, newRecorder())
	waitFor(t, "end checkpoint", func() bool { return h.rec.position(t, p).Offset > 0 })
	appendFile(t, p, auditLines(5, 7))
	writeFile(t, filepath.Join(dir, "new.log"), auditLines(50, 52)) // appears later: read from the start
	for _, e := range waitEvents(t, h.rec, 4) {
		if e.User.Name < "user5" && len(e.User.Name) == 5 {
			t.Errorf("%s was before the end", e.User.Name)
		}
	}
}

// TestRotation: Samba renames samba.log to samba.log.old when it exceeds
// max log size and opens a new samba.log; with a glob matching both,
// nothing is lost and nothing read twice.
func TestRotation(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "samba.log")
	writeFile(t, p, auditLines(0, 3))
	h := start(t, testConfig(filepath.Join(dir, "samba.log*")), newRecorder())
	waitEvents(t, h.rec, 3)
	appendFile(t, p, auditLines(3, 5))
	if err := os.Rename(p, p+".old"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, p, auditLines(5, 8))
	waitEvents(t, h.rec, 8)
	time.Sleep(50 * time.Millisecond)
	waitEvents(t, h.rec, 8)

	// Only the live name followed: the renamed file is still finished.
	dir2 := t.TempDir()
	q := filepath.Join(dir2, "samba.log")
	writeFile(t, q, auditLines(100, 102))
	h2 := start(t, testConfig(q), newRecorder())
	waitEvents(t, h2.rec, 2)
	appendFile(t, q, auditLines(102, 103))
	if err := os.Rename(q, q+".old"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, q, auditLines(103, 105))
	waitEvents(t, h2.rec, 5)
}

func TestTruncation(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "samba.log")
	writeFile(t, p, auditLines(0, 4))
	rec := newRecorder()
	h := start(t, testConfig(p), rec)
	waitEvents(t, rec, 4)
	if err := os.Truncate(p, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, p, auditLines(10, 12))
	waitEvents(t, rec, 6)
	// Truncated while stopped: the checkpoint is past the end.
	h.stop(t)
	writeFile(t, p, auditLines(20, 21))
	start(t, testConfig(p), rec)
	waitEvents(t, rec, 7)
}

func TestMalformedRecords(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "samba.log")
	long := `  {"timestamp": "2026-11-28T06:55:57.000000+0000", "x": "` + strings.Repeat("a", 2<<20) + "\"}\n"
	writeFile(t, p, auditLines(0, 1)+
		`  {"timestamp": "2026-11-28T06:55:57.000000+0000", "type": "groupChange", "groupCh`+"\n"+ // line 3
		auditLines(1, 2)+
		`  {"timestamp": "never", "type": "x", "x": {}}`+"\n"+
		long+
		auditLines(2, 3))
	h := start(t, testConfig(p), newRecorder())
	waitEvents(t, h.rec, 3)
	fi, _ := os.Stat(p)
	waitFor(t, "checkpoint at EOF", func() bool { return h.rec.position(t, p).Offset == fi.Size() })
	if got := h.counter("source_decode_errors"); got != 3 {
		t.Errorf("decode errors = %d, want 3", got)
	}
	logs := h.logs.String()
	if n := strings.Count(logs, "undecodable lines"); n != 1 {
		t.Errorf("want one warning per file per poll, got %d:\n%s", n, logs)
	}
	for _, want := range []string{"samba.log", "line=3", "count=3"} {
		if !strings.Contains(logs, want) {
			t.Errorf("warning lacks %q:\n%s", want, logs)
		}
	}
}

func TestRefusedBatchRetried(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "samba.log")
	writeFile(t, p, auditLines(0, 7))
	rec := newRecorder()
	rec.fail = 3
	cfg := testConfig(p)
	cfg.BatchSize = 2
	h := start(t, cfg, rec)
	waitEvents(t, rec, 7)
	waitFor(t, "final checkpoint", func() bool { return rec.position(t, p).Line == 14 })
	if rec.calls < 7 {
		t.Errorf("calls = %d, want the refused ones retried", rec.calls)
	}
	if !strings.Contains(h.logs.String(), "retrying") {
		t.Error("refusal not logged")
	}
	// No checkpoint was committed with a refused batch: every committed
	// position is one an accepted batch ended at.
	for _, b := range rec.batches {
		if len(b.Checkpoints) == 0 {
			t.Error("accepted batch without checkpoint")
		}
	}
}

func TestNoFollow(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "samba.log")
	writeFile(t, p, strings.TrimSuffix(auditLines(0, 5), "\n")) // no final newline
	cfg := testConfig(p)
	cfg.Follow = false
	h := start(t, cfg, newRecorder())
	select {
	case <-h.src.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed")
	}
	if n := len(h.rec.events()); n != 5 {
		t.Errorf("events = %d, want 5", n)
	}
}

func TestLifecycle(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "samba.log")
	writeFile(t, p, auditLines(0, 50))
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"shutdown without start", func(t *testing.T) {
			src, err := New(testConfig(p), component.SourceSettings{Next: newRecorder()})
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if err := src.Shutdown(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if err := src.Start(context.Background(), nil); err == nil {
				t.Fatal("start after shutdown accepted")
			}
		}},
		{"start and shutdown twice", func(t *testing.T) {
			h := start(t, testConfig(p), newRecorder())
			if err := h.src.Start(context.Background(), nil); err == nil {
				t.Error("second start accepted")
			}
			h.stop(t)
			h.stop(t)
			select {
			case <-h.src.Done():
			default:
				t.Error("Done open after shutdown")
			}
		}},
		{"shutdown with pending data", func(t *testing.T) {
			rec := newRecorder()
			cfg := testConfig(p)
			cfg.BatchSize = 1
			h := start(t, cfg, rec)
			waitFor(t, "first batch", func() bool { return len(rec.events()) > 0 })
			h.stop(t)
			// What was handed off is exactly what the checkpoint covers
			// (two lines per record).
			n := len(rec.events())
			if pos := rec.position(t, p); pos.Line != int64(2*n) {
				t.Errorf("checkpoint line %d, events %d", pos.Line, n)
			}
			start(t, cfg, rec)
			waitEvents(t, rec, 50)
		}},
		{"shutdown honours ctx with a blocked consumer", func(t *testing.T) {
			rec := newRecorder()
			rec.block = true
			h := start(t, testConfig(p), rec)
			waitFor(t, "a hand-off", func() bool { rec.mu.Lock(); defer rec.mu.Unlock(); return rec.calls > 0 })
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			if err := h.src.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want deadline exceeded", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

func TestHostDefault(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "samba.log")
	writeFile(t, p, auditLines(0, 1))
	cfg := testConfig(p)
	cfg.Host = ""
	h := start(t, cfg, newRecorder())
	want, _ := os.Hostname()
	if got := waitEvents(t, h.rec, 1)[0].Host.Name; got != want || got == "" {
		t.Errorf("host.name = %q, want %q", got, want)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want []string
	}{
		{"defaults with path", func(c *Config) { c.Paths = []string{"/var/log/samba/samba.log*"} }, nil},
		{"no paths", func(c *Config) {}, []string{"paths: required"}},
		{"bad glob", func(c *Config) { c.Paths = []string{"/x/[a"} }, []string{"paths[0]: invalid glob"}},
		{"many", func(c *Config) {
			c.Paths = []string{"a", ""}
			c.Host = "dc 1"
			c.StartAt = "middle"
			c.BatchSize = 0
			c.PollInterval = 0
		}, []string{"paths[1]: empty", "host:", "start_at: must be beginning or end", "batch_size: must be > 0", "poll_interval: must be > 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewDefaultConfig()
			tt.mod(c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	if _, err := New(NewDefaultConfig(), component.SourceSettings{Next: newRecorder()}); err == nil {
		t.Error("New accepted an invalid config")
	}
	if _, err := New(testConfig("x"), component.SourceSettings{}); err == nil {
		t.Error("New accepted no next consumer")
	}
}
