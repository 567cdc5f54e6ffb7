package samba

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/connector/sources/sourcetest"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// recorder is the shared recording consumer.
type recorder = sourcetest.Consumer

func newRecorder() *recorder { return sourcetest.NewConsumer() }

// position is the checkpoint of the file at path.
func position(t *testing.T, r *recorder, path string) sourcetest.FilePos {
	t.Helper()
	abs, _ := filepath.Abs(path)
	var p sourcetest.FilePos
	sourcetest.Position(t, r, CheckpointKey(abs), &p)
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

var (
	writeFile  = sourcetest.WriteFile
	appendFile = sourcetest.AppendFile
)

func testConfig(paths ...string) *Config {
	c := NewDefaultConfig()
	c.Paths = paths
	c.Host = "dc1.lab.test"
	c.PollInterval = 10 * time.Millisecond
	return c
}

const testID = "samba/test"

// harness is a started Source with the shared test harness.
type harness struct {
	*sourcetest.Harness
	src *Source
	rec *recorder
}

func start(t *testing.T, cfg *Config, rec *recorder) *harness {
	t.Helper()
	src, h := sourcetest.Start(t, testID, rec, func(s component.SourceSettings) (*Source, error) { return New(cfg, s) })
	return &harness{Harness: h, src: src, rec: rec}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	sourcetest.WaitFor(t, 5*time.Second, what, cond)
}

// waitEvents waits for n events, checks there are no more and that none
// arrived twice.
func waitEvents(t *testing.T, r *recorder, n int) []schema.Event {
	t.Helper()
	evs := sourcetest.WaitEvents(t, r, n, 5*time.Second, nil)
	sourcetest.CheckUnique(t, evs, func(e schema.Event) string { return e.User.Name })
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
	waitFor(t, "checkpoint at EOF", func() bool { return position(t, h.rec, p).Offset == fi.Size() })
	if pos := position(t, h.rec, p); pos.Line != 8 || pos.Ino == 0 {
		t.Errorf("position = %+v, want line 8 and an inode", pos)
	}
	if got := h.Counter("source_skipped_records"); got != 4 { // 3 headers + the Kerberos line; blank lines are not records
		t.Errorf("source_skipped_records = %d, want 4", got)
	}
	if got := h.Counter("source_events"); got != 3 {
		t.Errorf("source_events = %d", got)
	}
	if got := h.Counter("source_bytes"); got != fi.Size() {
		t.Errorf("source_bytes = %d, want %d", got, fi.Size())
	}
	if got := h.Counter("source_decode_errors"); got != 0 {
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
	if n := len(h.rec.Events()); n != 5 {
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
	h.Stop(t)

	appendFile(t, p, auditLines(10, 15))
	h2 := start(t, cfg, rec) // the same recorder serves what was committed
	waitEvents(t, rec, 15)
	h2.Stop(t)
	if pos := position(t, rec, p); pos.Line != 30 {
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
	waitFor(t, "end checkpoint", func() bool { return position(t, h.rec, p).Offset > 0 })
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
	h.Stop(t)
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
	waitFor(t, "checkpoint at EOF", func() bool { return position(t, h.rec, p).Offset == fi.Size() })
	if got := h.Counter("source_decode_errors"); got != 3 {
		t.Errorf("decode errors = %d, want 3", got)
	}
	logs := h.Logs.String()
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
	rec.Fail = 3
	cfg := testConfig(p)
	cfg.BatchSize = 2
	h := start(t, cfg, rec)
	waitEvents(t, rec, 7)
	waitFor(t, "final checkpoint", func() bool { return position(t, rec, p).Line == 14 })
	if rec.Calls < 7 {
		t.Errorf("calls = %d, want the refused ones retried", rec.Calls)
	}
	if !strings.Contains(h.Logs.String(), "retrying") {
		t.Error("refusal not logged")
	}
	// No checkpoint was committed with a refused batch: every committed
	// position is one an accepted batch ended at.
	for _, b := range rec.Batches {
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
	h.WaitDone(t, 5*time.Second)
	if n := len(h.rec.Events()); n != 5 {
		t.Errorf("events = %d, want 5", n)
	}
}

func TestLifecycle(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "samba.log")
	writeFile(t, p, auditLines(0, 50))
	sourcetest.LifecycleTests{
		New: func(set component.SourceSettings) (sourcetest.Source, error) { return New(testConfig(p), set) },
		Start: func(t *testing.T, rec *recorder) *sourcetest.Harness {
			return start(t, testConfig(p), rec).Harness
		},
		Pending: func(t *testing.T) {
			rec := newRecorder()
			cfg := testConfig(p)
			cfg.BatchSize = 1
			n := start(t, cfg, rec).StopAfterFirstBatch(t, 5*time.Second)
			// What was handed off is exactly what the checkpoint covers
			// (two lines per record).
			if pos := position(t, rec, p); pos.Line != int64(2*n) {
				t.Errorf("checkpoint line %d, events %d", pos.Line, n)
			}
			start(t, cfg, rec)
			waitEvents(t, rec, 50)
		},
	}.Run(t)
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
			sourcetest.CheckValidateErr(t, c.Validate(), tt.want)
		})
	}
	if _, err := New(NewDefaultConfig(), component.SourceSettings{Next: newRecorder()}); err == nil {
		t.Error("New accepted an invalid config")
	}
	if _, err := New(testConfig("x"), component.SourceSettings{}); err == nil {
		t.Error("New accepted no next consumer")
	}
}
