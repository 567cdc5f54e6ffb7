package evtx

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/connector/sources/sourcetest"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// fakeConsumer is the shared recording consumer.
type fakeConsumer = sourcetest.Consumer

func newFake() *fakeConsumer { return sourcetest.NewConsumer() }

func positionOf(t *testing.T, f *fakeConsumer, path string) position {
	t.Helper()
	abs, _ := filepath.Abs(path)
	var p position
	sourcetest.Position(t, f, CheckpointKey(abs), &p)
	return p
}

func testConfig(paths ...string) *Config {
	c := NewDefaultConfig()
	c.Paths = paths
	c.PollInterval = 10 * time.Millisecond
	return c
}

const testID = "evtx/test"

// harness is a started Source with the shared test harness.
type harness struct {
	*sourcetest.Harness
	src  *Source
	fake *fakeConsumer
}

func start(t *testing.T, cfg *Config, fake *fakeConsumer) *harness {
	t.Helper()
	return startWith(t, cfg, fake, nil)
}

// startWith is start with a hook to adjust the source before Start.
func startWith(t *testing.T, cfg *Config, fake *fakeConsumer, adjust func(*Source)) *harness {
	t.Helper()
	src, h := sourcetest.Start(t, testID, fake, func(s component.SourceSettings) (*Source, error) {
		src, err := New(cfg, s)
		if err == nil && adjust != nil {
			adjust(src)
		}
		return src, err
	})
	return &harness{Harness: h, src: src, fake: fake}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	sourcetest.WaitFor(t, 10*time.Second, what, cond)
}

// waitEvents waits for n events and checks that no record came twice.
func waitEvents(t *testing.T, f *fakeConsumer, n int) []schema.Event {
	t.Helper()
	evs := sourcetest.WaitEvents(t, f, n, 10*time.Second, func(evs []schema.Event) string { return fmt.Sprint(recordIDs(evs)) })
	sourcetest.CheckUnique(t, evs, func(e schema.Event) string { return fmt.Sprintf("record %s of %v", e.Event.RecordID, recordIDs(evs)) })
	return evs
}

// settle lets a few polls pass, then checks the event count did not move.
func settle(t *testing.T, f *fakeConsumer, n int) {
	t.Helper()
	time.Sleep(100 * time.Millisecond)
	if got := len(f.Events()); got != n {
		t.Fatalf("%d events after settling, want %d: %v", got, n, recordIDs(f.Events()))
	}
}

func recordIDs(evs []schema.Event) []uint64 {
	out := make([]uint64, len(evs))
	for i, e := range evs {
		out[i], _ = strconv.ParseUint(e.Event.RecordID, 10, 64)
	}
	return out
}

// wantIDs checks the events carry exactly the record ids from..to, in order.
func wantIDs(t *testing.T, evs []schema.Event, from, to uint64) {
	t.Helper()
	ids := recordIDs(evs)
	if uint64(len(ids)) != to-from+1 {
		t.Fatalf("record ids %v, want %d..%d", ids, from, to)
	}
	for i, id := range ids {
		if id != from+uint64(i) {
			t.Fatalf("record ids %v, want %d..%d", ids, from, to)
		}
	}
}

func TestReadsMultiChunkFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "Security.evtx")
	l := writeLog(t, p, 1, 70) // four chunks
	if l.slot != 3 {
		t.Fatalf("test log has %d chunks, want 4", l.slot+1)
	}
	cfg := testConfig(p)
	cfg.BatchSize = 16
	h := start(t, cfg, newFake())
	evs := waitEvents(t, h.fake, 70)
	wantIDs(t, evs, 1, 70)
	for i, e := range evs {
		want := time.Date(2024, 3, 1, 10, 0, i+1, 0, time.UTC)
		if e.Event.Dataset != "evtx" || !e.Timestamp.Equal(want) || e.Event.Kind != schema.KindLogon ||
			e.User.Name != fmt.Sprintf("user%d", i+1) || e.Host.Name != "DC01.corp.local" || e.Source.IP != "10.0.0.7" {
			t.Fatalf("event %d = %+v: want a normalized 4624 logon of user%d at %v", i, e, i+1, want)
		}
	}
	for _, b := range h.fake.Batches {
		if len(b.Events) > 16 {
			t.Errorf("batch of %d events, batch_size 16", len(b.Events))
		}
	}
	fi, _ := os.Stat(p)
	waitFor(t, "checkpoint at the last record", func() bool { return positionOf(t, h.fake, p).RecordID == 70 })
	pos := positionOf(t, h.fake, p)
	if pos.Size != fi.Size() || pos.Ino == 0 {
		t.Errorf("position = %+v, want size %d and an inode", pos, fi.Size())
	}
	if got := h.Counter("source_events"); got != 70 {
		t.Errorf("source_events = %d", got)
	}
	if got := h.Counter("source_bytes"); got < 4*65536 {
		t.Errorf("source_bytes = %d, want at least four chunks", got)
	}
	if got := h.Counter("source_damaged_chunks") + h.Counter("source_damaged_records"); got != 0 {
		t.Errorf("damage counted on a sound file: %d\n%s", got, h.Logs.String())
	}
}

func TestDirectoryAndGlob(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "dc01", "archive")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	writeLog(t, filepath.Join(dir, "dc01", "Security.evtx"), 1, 3)
	writeLog(t, filepath.Join(sub, "Archive-Security-2024.EVTX"), 100, 102)
	if err := os.WriteFile(filepath.Join(dir, "dc01", "notes.txt"), []byte("not a log"), 0o644); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	writeLog(t, filepath.Join(other, "System.evtx"), 500, 501)
	h := start(t, testConfig(dir, filepath.Join(other, "*.evtx")), newFake())
	waitEvents(t, h.fake, 8)
	settle(t, h.fake, 8)
	if got := h.Counter("source_skipped_files"); got != 0 {
		t.Errorf("a directory's non-.evtx file was tried: skipped = %d", got)
	}
	// A file added later is found by the next poll.
	writeLog(t, filepath.Join(sub, "Archive-Security-2025.evtx"), 200, 201)
	waitEvents(t, h.fake, 10)
}

func TestCheckpointResume(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "Security.evtx")
	l := newTestLog(t, p, 1, 8)
	l.add(30)
	fake := newFake()
	cfg := testConfig(p)
	cfg.BatchSize = 7
	h := start(t, cfg, fake)
	waitEvents(t, fake, 30)
	waitFor(t, "checkpoint", func() bool { return positionOf(t, fake, p).RecordID == 30 })
	h.Stop(t)

	l.add(15)                 // written while the source was stopped
	h2 := start(t, cfg, fake) // the same fake reads back what was committed
	evs := waitEvents(t, fake, 45)
	wantIDs(t, evs, 1, 45)
	waitFor(t, "checkpoint", func() bool { return positionOf(t, fake, p).RecordID == 45 })
	h2.Stop(t)

	// start_at: end does not apply to a file with a checkpoint.
	l.add(2)
	cfg.StartAt = StartEnd
	start(t, cfg, fake)
	wantIDs(t, waitEvents(t, fake, 47), 1, 47)
}

func TestStartAtEnd(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "Security.evtx")
	l := newTestLog(t, p, 1, 4) // live: its header still says record 1
	l.add(25)
	cfg := testConfig(filepath.Join(dir, "*.evtx"))
	cfg.StartAt = StartEnd
	h := start(t, cfg, newFake())
	waitFor(t, "end checkpoint", func() bool { return positionOf(t, h.fake, p).RecordID == 25 })
	l.add(3)
	writeLog(t, filepath.Join(dir, "new.evtx"), 1000, 1001) // appears later: read from the start
	evs := waitEvents(t, h.fake, 5)
	for _, id := range recordIDs(evs) {
		if id <= 25 {
			t.Errorf("record %d before the end was read", id)
		}
	}
}

func TestLiveTail(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "Security.evtx")
	l := newTestLog(t, p, 1, 4) // preallocated: the size never changes
	l.add(10)
	h := start(t, testConfig(p), newFake())
	waitEvents(t, h.fake, 10)
	size0 := fileSize(t, p)

	for i := range 5 { // records appear in place, within and across chunks
		l.add(7)
		waitEvents(t, h.fake, 10+7*(i+1))
	}
	if l.slot < 1 {
		t.Fatal("the test should cross a chunk boundary")
	}
	if got := fileSize(t, p); got != size0 {
		t.Fatalf("size changed %d → %d: the test wants in-place writes", size0, got)
	}
	// Past the preallocated space the file grows.
	l.add(3 * l.perChunk())
	n := 45 + 3*l.perChunk()
	wantIDs(t, waitEvents(t, h.fake, n), 1, uint64(n))

	// A record caught half written is neither read nor reported as damage;
	// once finished it arrives.
	l.addTorn(100)
	settle(t, h.fake, n)
	l.finish()
	l.add(1)
	wantIDs(t, waitEvents(t, h.fake, n+2), 1, uint64(n+2))
	settle(t, h.fake, n+2)
	if got := h.Counter("source_damaged_chunks") + h.Counter("source_damaged_records"); got != 0 {
		t.Errorf("damage counted while tailing: %d\n%s", got, h.Logs.String())
	}
	if strings.Contains(h.Logs.String(), "damaged") {
		t.Errorf("damage warned while tailing:\n%s", h.Logs.String())
	}
}

func fileSize(t *testing.T, p string) int64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "Security.evtx")
	l := newTestLog(t, p, 1, 2)
	l.add(5)
	h := start(t, testConfig(filepath.Join(dir, "*.evtx")), newFake())
	waitEvents(t, h.fake, 5)

	// Windows archives the full log: the live file is renamed (still being
	// written to for a moment) and a new one starts.
	l.add(3)
	archive := filepath.Join(dir, "Archive-Security-2024-03-01-10-00-00-000.evtx")
	if err := os.Rename(p, archive); err != nil {
		t.Fatal(err)
	}
	l.add(2)
	l.close(true)
	l2 := newTestLog(t, p, 11, 2)
	l2.add(4)
	evs := waitEvents(t, h.fake, 14)
	settle(t, h.fake, 14)
	wantSet(t, evs, 1, 14)
	if pos := positionOf(t, h.fake, p); pos.RecordID != 14 {
		t.Errorf("new file checkpoint = %+v", pos)
	}
	if pos := positionOf(t, h.fake, archive); pos.RecordID != 10 {
		t.Errorf("archive checkpoint = %+v", pos)
	}
}

func TestRotationWhileStopped(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "Security.evtx")
	l := newTestLog(t, p, 1, 2)
	l.add(5)
	fake := newFake()
	cfg := testConfig(filepath.Join(dir, "*.evtx"))
	h := start(t, cfg, fake)
	waitEvents(t, fake, 5)
	waitFor(t, "checkpoint", func() bool { return positionOf(t, fake, p).RecordID == 5 })
	h.Stop(t)

	l.add(3)
	if err := os.Rename(p, filepath.Join(dir, "Archive-Security-1.evtx")); err != nil {
		t.Fatal(err)
	}
	l.close(true)
	newTestLog(t, p, 9, 2).add(2)
	start(t, cfg, fake)
	evs := waitEvents(t, fake, 10)
	settle(t, fake, 10)
	wantSet(t, evs, 1, 10)
}

// wantSet checks the events carry exactly the record ids from..to, in any
// order.
func wantSet(t *testing.T, evs []schema.Event, from, to uint64) {
	t.Helper()
	got := map[uint64]bool{}
	for _, id := range recordIDs(evs) {
		got[id] = true
	}
	for id := from; id <= to; id++ {
		if !got[id] {
			t.Fatalf("record %d missing: %v", id, recordIDs(evs))
		}
	}
	if len(got) != int(to-from+1) {
		t.Fatalf("record ids %v, want %d..%d", recordIDs(evs), from, to)
	}
}

func TestDamagedChunk(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "Security.evtx")
	l := writeLog(t, p, 1, 60) // three chunks
	per := uint64(l.perChunk())
	corrupt(t, p, chunkOffset(1), []byte("NotChnk!")) // the middle chunk
	h := start(t, testConfig(p), newFake())
	evs := waitEvents(t, h.fake, 60-int(per))
	settle(t, h.fake, 60-int(per))
	ids := recordIDs(evs)
	if ids[per-1] != per || ids[per] != 2*per+1 {
		t.Errorf("records %v: want chunk 1 (%d..%d) missing and the rest delivered", ids, per+1, 2*per)
	}
	if got := h.Counter("source_damaged_chunks"); got != 1 {
		t.Errorf("source_damaged_chunks = %d, want 1", got)
	}
	logs := h.Logs.String()
	if n := strings.Count(logs, "damaged chunk"); n != 1 {
		t.Errorf("want one warning, got %d:\n%s", n, logs)
	}
	if !strings.Contains(logs, "offset="+strconv.FormatInt(chunkOffset(1), 10)) || !strings.Contains(logs, "Security.evtx") {
		t.Errorf("warning lacks file or offset:\n%s", logs)
	}
}

func TestDamagedRecord(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "Security.evtx")
	l := writeLog(t, p, 1, 10)
	recSize := int64(recordHeader + l.body + 4)
	off := chunkOffset(0) + chunkHeader + 4*recSize  // record 5
	corrupt(t, p, off+recSize-4, []byte{1, 2, 3, 4}) // its trailing size
	h := start(t, testConfig(p), newFake())
	evs := waitEvents(t, h.fake, 4) // framing broken: the rest of the chunk is lost
	settle(t, h.fake, 4)
	wantIDs(t, evs, 1, 4)
	// Damage at the end of what was read waits until the file is quiet.
	waitFor(t, "damage reported", func() bool { return h.Counter("source_damaged_records") > 0 })
	settle(t, h.fake, 4)
	if got := h.Counter("source_damaged_records"); got != 1 {
		t.Errorf("source_damaged_records = %d, want 1\n%s", got, h.Logs.String())
	}
	if !strings.Contains(h.Logs.String(), "offset="+strconv.FormatInt(off, 10)) {
		t.Errorf("warning lacks the offset %d:\n%s", off, h.Logs.String())
	}
}

func TestGapAtChunkBoundary(t *testing.T) {
	// A live log read while Windows finishes one chunk and starts the
	// next: the first record of the new chunk is visible, the last one of
	// the old chunk not yet.
	tornLog := func(t *testing.T) (path string, last []byte, lastOff int64, per int) {
		p := filepath.Join(t.TempDir(), "Security.evtx")
		l := newTestLog(t, p, 1, 4)
		per = l.perChunk()
		l.add(per + 5)
		recSize := recordHeader + l.body + 4
		lastOff = chunkOffset(0) + chunkHeader + int64((per-1)*recSize)
		last = make([]byte, recSize)
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.ReadAt(last, lastOff); err != nil {
			t.Fatal(err)
		}
		corrupt(t, p, lastOff, make([]byte, recSize))
		return p, last, lastOff, per
	}

	t.Run("waited for", func(t *testing.T) {
		p, last, lastOff, per := tornLog(t)
		h := startWith(t, testConfig(p), newFake(), func(s *Source) { s.settle = 1 << 20 })
		waitEvents(t, h.fake, per-1)
		settle(t, h.fake, per-1) // record per+1 is not handed off past the gap
		corrupt(t, p, lastOff, last)
		wantIDs(t, waitEvents(t, h.fake, per+5), 1, uint64(per+5))
		if strings.Contains(h.Logs.String(), "missing") {
			t.Errorf("gap reported:\n%s", h.Logs.String())
		}
	})
	t.Run("passed when it stays", func(t *testing.T) {
		p, _, _, per := tornLog(t)
		h := start(t, testConfig(p), newFake())
		evs := waitEvents(t, h.fake, per+4)
		wantIDs(t, evs[:per-1], 1, uint64(per-1))
		wantIDs(t, evs[per-1:], uint64(per+1), uint64(per+5))
		if !strings.Contains(h.Logs.String(), "from_record_id="+strconv.Itoa(per)) {
			t.Errorf("gap not reported:\n%s", h.Logs.String())
		}
	})
}

func TestUndecodableRecord(t *testing.T) {
	p := filepath.Join(t.TempDir(), "Security.evtx")
	l := writeLog(t, p, 1, 10)
	recSize := int64(recordHeader + l.body + 4)
	off := chunkOffset(0) + chunkHeader + 4*recSize // record 5
	corrupt(t, p, off+recordHeader, []byte{0x1f})   // a bad token where its XML starts
	h := start(t, testConfig(p), newFake())
	evs := waitEvents(t, h.fake, 9) // framing sound: reading goes on after it
	settle(t, h.fake, 9)
	ids := recordIDs(evs)
	if ids[3] != 4 || ids[4] != 6 {
		t.Errorf("records %v, want 5 skipped", ids)
	}
	if got := h.Counter("source_damaged_records"); got != 1 {
		t.Errorf("source_damaged_records = %d, want 1\n%s", got, h.Logs.String())
	}
	logs := h.Logs.String()
	if !strings.Contains(logs, "record_id=5") || !strings.Contains(logs, "offset="+strconv.FormatInt(off, 10)) {
		t.Errorf("warning lacks record id or offset:\n%s", logs)
	}
	if strings.Contains(logs, "missing") {
		t.Errorf("a damaged record reported as a gap too:\n%s", logs)
	}
}

func TestDirtyFileRead(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "crashed.evtx")
	l := newTestLog(t, p, 1, 0)
	l.add(50)
	l.close(false) // closed dirty, header lagging
	cfg := testConfig(p)
	cfg.Follow = false
	h := start(t, cfg, newFake())
	<-h.src.Done()
	wantIDs(t, h.fake.Events(), 1, 50)
}

func TestNotEVTXSkipped(t *testing.T) {
	dir := t.TempDir()
	writeLog(t, filepath.Join(dir, "a.evtx"), 1, 2)
	junk := filepath.Join(dir, "b.evtx.bak")
	if err := os.WriteFile(junk, bytes.Repeat([]byte("plain text "), 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	h := start(t, testConfig(filepath.Join(dir, "*")), newFake())
	waitEvents(t, h.fake, 2)
	settle(t, h.fake, 2)
	// More polls, still one warning.
	if err := os.WriteFile(junk, bytes.Repeat([]byte("more text "), 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	settle(t, h.fake, 2)
	if got := h.Counter("source_skipped_files"); got != 1 {
		t.Errorf("source_skipped_files = %d, want 1", got)
	}
	if n := strings.Count(h.Logs.String(), "not an EVTX file"); n != 1 {
		t.Errorf("want one warning, got %d:\n%s", n, h.Logs.String())
	}
}

func TestConsumeBatchErrorRetried(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "Security.evtx")
	writeLog(t, p, 1, 9)
	fake := newFake()
	fake.Fail = 3
	cfg := testConfig(p)
	cfg.BatchSize = 2
	h := start(t, cfg, fake)
	wantIDs(t, waitEvents(t, fake, 9), 1, 9)
	if fake.Calls < 8 {
		t.Errorf("calls = %d, want the refused ones retried", fake.Calls)
	}
	waitFor(t, "checkpoint", func() bool { return positionOf(t, fake, p).RecordID == 9 })
	if !strings.Contains(h.Logs.String(), "retrying") {
		t.Error("refusal not logged")
	}
}

func TestNoFollow(t *testing.T) {
	dir := t.TempDir()
	writeLog(t, filepath.Join(dir, "a.evtx"), 1, 30)
	l := newTestLog(t, filepath.Join(dir, "b.evtx"), 100, 2) // open, dirty
	l.add(5)
	cfg := testConfig(dir)
	cfg.Follow = false
	cfg.BatchSize = 4
	h := start(t, cfg, newFake())
	h.WaitDone(t, 10*time.Second)
	if n := len(h.fake.Events()); n != 35 {
		t.Errorf("events = %d, want 35 handed off before Done", n)
	}
	l.add(5)
	settle(t, h.fake, 35) // no longer reading
}

func TestLifecycle(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.evtx")
	writeLog(t, p, 1, 50)
	sourcetest.LifecycleTests{
		New: func(set component.SourceSettings) (sourcetest.Source, error) { return New(testConfig(p), set) },
		Start: func(t *testing.T, fake *fakeConsumer) *sourcetest.Harness {
			return start(t, testConfig(p), fake).Harness
		},
		Pending: func(t *testing.T) {
			fake := newFake()
			cfg := testConfig(p)
			cfg.BatchSize = 1
			n := start(t, cfg, fake).StopAfterFirstBatch(t, 10*time.Second)
			// Whatever was handed off is exactly what the checkpoint covers.
			if n == 50 {
				t.Log("everything was handed off before shutdown")
			}
			if pos := positionOf(t, fake, p); pos.RecordID != uint64(n) {
				t.Errorf("checkpoint record %d, events %d", pos.RecordID, n)
			}
			// A restart delivers the rest, nothing twice.
			start(t, cfg, fake)
			wantIDs(t, waitEvents(t, fake, 50), 1, 50)
		},
		AfterBlocked: func(t *testing.T, fake *fakeConsumer) {
			if pos := positionOf(t, fake, p); pos.RecordID != 0 {
				t.Errorf("checkpoint moved without acceptance: %+v", pos)
			}
		},
	}.Run(t)
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want []string
	}{
		{"defaults with path", func(c *Config) { c.Paths = []string{"/var/log/dc01"} }, nil},
		{"nothing", func(c *Config) {}, []string{"paths: at least one"}},
		{"empty and bad glob", func(c *Config) { c.Paths = []string{"", "/x/[a"} },
			[]string{"paths[0]: empty path", "paths[1]: invalid glob"}},
		{"many", func(c *Config) {
			c.Paths = []string{"a"}
			c.StartAt = "middle"
			c.BatchSize = 0
			c.PollInterval = 0
		}, []string{"start_at: must be beginning or end", "batch_size: must be > 0", "poll_interval: must be > 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewDefaultConfig()
			tt.mod(c)
			sourcetest.CheckValidateErr(t, c.Validate(), tt.want)
		})
	}
	d := NewDefaultConfig()
	if !d.Follow || d.StartAt != StartBeginning || d.PollInterval != 2*time.Second || d.BatchSize != 1000 {
		t.Errorf("defaults = %+v", d)
	}
	if _, err := New(NewDefaultConfig(), component.SourceSettings{Next: newFake()}); err == nil {
		t.Error("New accepted an invalid config")
	}
	if _, err := New(testConfig("x"), component.SourceSettings{}); err == nil {
		t.Error("New accepted no consumer")
	}
}
