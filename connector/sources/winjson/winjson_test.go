package winjson

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
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

func positionOf(t *testing.T, f *fakeConsumer, path string) sourcetest.FilePos {
	t.Helper()
	abs, _ := filepath.Abs(path)
	var p sourcetest.FilePos
	sourcetest.Position(t, f, CheckpointKey(abs), &p)
	return p
}

// nxLine is a flat NXLog 4624 line; wlbLine a Winlogbeat 4769 line.
func nxLine(rec int) string {
	return fmt.Sprintf(`{"EventTime":"2024-03-01 10:00:00","Hostname":"DC01.corp.local","Keywords":-9214364837600034816,"EventType":"AUDIT_SUCCESS","EventID":4624,"SourceName":"Microsoft-Windows-Security-Auditing","RecordNumber":%d,"Channel":"Security","Message":"An account was successfully logged on.","TargetUserName":"user%d","TargetDomainName":"CORP","LogonType":"3","AuthenticationPackageName":"Kerberos","IpAddress":"10.0.0.%d","IpPort":"50000"}`+"\n", rec, rec, rec%250)
}

func wlbLine(rec int) string {
	return fmt.Sprintf(`{"@timestamp":"2024-03-01T10:00:00Z","winlog":{"event_id":"4769","channel":"Security","computer_name":"DC01.corp.local","record_id":"%d","provider_name":"Microsoft-Windows-Security-Auditing","event_data":{"TargetUserName":"user%d@CORP.LOCAL","TargetDomainName":"CORP.LOCAL","ServiceName":"svc_sql","TicketEncryptionType":"0x17","Status":"0x0","IpAddress":"::ffff:10.0.0.5"}}}`+"\n", rec, rec)
}

func lines(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		b.WriteString(nxLine(i))
	}
	return b.String()
}

var (
	writeFile  = sourcetest.WriteFile
	appendFile = sourcetest.AppendFile
)

func testConfig(paths ...string) *Config {
	c := NewDefaultConfig()
	c.Tail.Paths = paths
	c.Tail.PollInterval = 10 * time.Millisecond
	return c
}

const testID = "winjson/test"

// harness is a started Source with the shared test harness.
type harness struct {
	*sourcetest.Harness
	src  *Source
	fake *fakeConsumer
}

func start(t *testing.T, cfg *Config, fake *fakeConsumer) *harness {
	t.Helper()
	src, h := sourcetest.Start(t, testID, fake, func(s component.SourceSettings) (*Source, error) { return New(cfg, s) })
	return &harness{Harness: h, src: src, fake: fake}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	sourcetest.WaitFor(t, 5*time.Second, what, cond)
}

func waitEvents(t *testing.T, f *fakeConsumer, n int) []schema.Event {
	t.Helper()
	return sourcetest.WaitEvents(t, f, n, 5*time.Second, nil)
}

// checkUnique fails on a duplicate event id.
func checkUnique(t *testing.T, evs []schema.Event) {
	t.Helper()
	sourcetest.CheckUnique(t, evs, func(e schema.Event) string { return "record " + e.Event.RecordID })
}

func TestReadsBothShapes(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "dc01.json")
	writeFile(t, p, nxLine(1)+wlbLine(2)+"\n"+nxLine(3)+wlbLine(4))
	h := start(t, testConfig(filepath.Join(dir, "*.json")), newFake())
	evs := waitEvents(t, h.fake, 4)
	kinds := []schema.EventKind{schema.KindLogon, schema.KindKerberosServiceTicket, schema.KindLogon, schema.KindKerberosServiceTicket}
	for i, e := range evs {
		if e.Event.Kind != kinds[i] || e.Event.Dataset != "winjson" {
			t.Errorf("event %d: kind %s dataset %s", i, e.Event.Kind, e.Event.Dataset)
		}
	}
	fi, _ := os.Stat(p)
	waitFor(t, "checkpoint at EOF", func() bool { return positionOf(t, h.fake, p).Offset == fi.Size() })
	pos := positionOf(t, h.fake, p)
	if pos.Line != 5 || pos.Ino == 0 {
		t.Errorf("position = %+v, want line 5 and an inode", pos)
	}
	if got := h.Counters.Value(`source_events{source="winjson/test"}`); got != 4 {
		t.Errorf("source_events = %d", got)
	}
	if got := h.Counters.Value(`source_bytes{source="winjson/test"}`); got != fi.Size() {
		t.Errorf("source_bytes = %d, want %d", got, fi.Size())
	}
}

func TestTailAppend(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	writeFile(t, p, lines(0, 2))
	cfg := testConfig(filepath.Join(dir, "*.json"))
	cfg.Tail.BatchSize = 2
	h := start(t, cfg, newFake())
	waitEvents(t, h.fake, 2)
	full := nxLine(5)
	appendFile(t, p, lines(2, 5)+full[:40]) // three lines and a partial one
	waitEvents(t, h.fake, 5)
	time.Sleep(5 * cfg.Tail.PollInterval)
	if n := len(h.fake.Events()); n != 5 {
		t.Fatalf("partial line consumed: %d events", n)
	}
	appendFile(t, p, full[40:])
	checkUnique(t, waitEvents(t, h.fake, 6))
	// A file created later is picked up by the next glob.
	writeFile(t, filepath.Join(dir, "b.json"), lines(100, 103))
	checkUnique(t, waitEvents(t, h.fake, 9))
}

func TestCheckpointResume(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	writeFile(t, p, lines(0, 10))
	fake := newFake()
	cfg := testConfig(p)
	cfg.Tail.BatchSize = 3
	h := start(t, cfg, fake)
	waitEvents(t, fake, 10)
	h.Stop(t)

	appendFile(t, p, lines(10, 15))
	h2 := start(t, cfg, fake) // same fake: it reads back what was committed
	evs := waitEvents(t, fake, 15)
	checkUnique(t, evs)
	h2.Stop(t)
	if pos := positionOf(t, fake, p); pos.Line != 15 {
		t.Errorf("line = %d, want 15", pos.Line)
	}

	// start_at: end does not apply to a file with a checkpoint.
	appendFile(t, p, lines(15, 17))
	cfg.Tail.StartAt = StartEnd
	start(t, cfg, fake)
	checkUnique(t, waitEvents(t, fake, 17))
}

func TestStartAtEnd(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	writeFile(t, p, lines(0, 5))
	cfg := testConfig(filepath.Join(dir, "*.json"))
	cfg.Tail.StartAt = StartEnd
	h := start(t, cfg, newFake())
	waitFor(t, "end checkpoint", func() bool { return positionOf(t, h.fake, p).Offset > 0 })
	appendFile(t, p, lines(5, 7))
	writeFile(t, filepath.Join(dir, "new.json"), lines(50, 52)) // appears later: read from the start
	evs := waitEvents(t, h.fake, 4)
	checkUnique(t, evs)
	for _, e := range evs {
		if e.Event.RecordID < "5" && len(e.Event.RecordID) == 1 {
			t.Errorf("record %s before the end was read", e.Event.RecordID)
		}
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app.json")
	writeFile(t, p, lines(0, 3))
	h := start(t, testConfig(p), newFake())
	waitEvents(t, h.fake, 3)
	// The writer appends, then rotates: rename + create.
	appendFile(t, p, lines(3, 5))
	if err := os.Rename(p, p+".1"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, p, lines(5, 8))
	checkUnique(t, waitEvents(t, h.fake, 8))

	// Rotation to a name the glob also matches is not read twice.
	dir2 := t.TempDir()
	q := filepath.Join(dir2, "app.json")
	writeFile(t, q, lines(100, 102))
	h2 := start(t, testConfig(filepath.Join(dir2, "app.json*")), newFake())
	waitEvents(t, h2.fake, 2)
	appendFile(t, q, lines(102, 103))
	if err := os.Rename(q, q+".1"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, q, lines(103, 105))
	checkUnique(t, waitEvents(t, h2.fake, 5))
	time.Sleep(50 * time.Millisecond)
	checkUnique(t, waitEvents(t, h2.fake, 5))
}

func TestTruncation(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	writeFile(t, p, lines(0, 4))
	h := start(t, testConfig(p), newFake())
	waitEvents(t, h.fake, 4)
	if err := os.Truncate(p, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, p, lines(10, 12))
	checkUnique(t, waitEvents(t, h.fake, 6))
}

func TestTruncatedSinceCheckpoint(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	writeFile(t, p, lines(0, 4))
	fake := newFake()
	h := start(t, testConfig(p), fake)
	waitEvents(t, fake, 4)
	h.Stop(t)
	writeFile(t, p, lines(20, 21)) // same inode, now shorter than the offset
	start(t, testConfig(p), fake)
	checkUnique(t, waitEvents(t, fake, 5))
}

func TestMalformedLines(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	long := `{"EventID":4624,"x":"` + strings.Repeat("a", 2<<20) + "\"}\n"
	writeFile(t, p, nxLine(1)+"{not json\n"+"\n"+nxLine(2)+`{"Channel":"Security"}`+"\n"+long+nxLine(3))
	h := start(t, testConfig(p), newFake())
	waitEvents(t, h.fake, 3)
	fi, _ := os.Stat(p)
	waitFor(t, "checkpoint at EOF", func() bool { return positionOf(t, h.fake, p).Offset == fi.Size() })
	if got := h.Counters.Value(`source_decode_errors{source="winjson/test"}`); got != 3 {
		t.Errorf("decode errors = %d, want 3", got)
	}
	logs := h.Logs.String()
	if n := strings.Count(logs, "undecodable lines"); n != 1 {
		t.Errorf("want one warning per file per poll, got %d:\n%s", n, logs)
	}
	if !strings.Contains(logs, "a.json") || !strings.Contains(logs, "line=2") || !strings.Contains(logs, "count=3") {
		t.Errorf("warning lacks file, line or count:\n%s", logs)
	}
}

func TestConsumeBatchErrorRetried(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	writeFile(t, p, lines(0, 7))
	fake := newFake()
	fake.Fail = 3
	cfg := testConfig(p)
	cfg.Tail.BatchSize = 2
	h := start(t, cfg, fake)
	checkUnique(t, waitEvents(t, fake, 7))
	if fake.Calls < 7 {
		t.Errorf("calls = %d, want the refused ones retried", fake.Calls)
	}
	if pos := positionOf(t, fake, p); pos.Line != 7 {
		t.Errorf("line = %d", pos.Line)
	}
	if !strings.Contains(h.Logs.String(), "retrying") {
		t.Error("refusal not logged")
	}
}

func TestNoFollow(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	last := nxLine(9)
	writeFile(t, p, lines(0, 5)+strings.TrimSuffix(last, "\n")) // no final newline
	cfg := testConfig(p)
	cfg.Tail.Follow = false
	h := start(t, cfg, newFake())
	h.WaitDone(t, 5*time.Second)
	if n := len(h.fake.Events()); n != 6 {
		t.Errorf("events = %d, want 6", n)
	}
}

func TestLifecycle(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	writeFile(t, p, lines(0, 50))
	sourcetest.LifecycleTests{
		New: func(set component.SourceSettings) (sourcetest.Source, error) { return New(testConfig(p), set) },
		Start: func(t *testing.T, fake *fakeConsumer) *sourcetest.Harness {
			return start(t, testConfig(p), fake).Harness
		},
		Pending: func(t *testing.T) {
			fake := newFake()
			cfg := testConfig(p)
			cfg.Tail.BatchSize = 1
			n := start(t, cfg, fake).StopAfterFirstBatch(t, 5*time.Second)
			// Whatever was handed off is exactly what the checkpoint covers.
			if pos := positionOf(t, fake, p); pos.Line != int64(n) {
				t.Errorf("checkpoint line %d, events %d", pos.Line, n)
			}
			// A restart delivers the rest, nothing twice.
			start(t, cfg, fake)
			checkUnique(t, waitEvents(t, fake, 50))
		},
	}.Run(t)
}

func TestListener(t *testing.T) {
	cfg := NewDefaultConfig()
	cfg.Tail.Listen = "127.0.0.1:0"
	h := start(t, cfg, newFake())
	addr := h.src.ListenAddr().String()
	c1, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	c2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := c1.Write([]byte(nxLine(1) + "garbage\n" + nxLine(2))); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Write([]byte(wlbLine(3) + wlbLine(4))); err != nil {
		t.Fatal(err)
	}
	checkUnique(t, waitEvents(t, h.fake, 4))
	// The bad line did not close the connection.
	if _, err := c1.Write([]byte(nxLine(5))); err != nil {
		t.Fatal(err)
	}
	waitEvents(t, h.fake, 5)
	if got := h.Counters.Value(`source_decode_errors{source="winjson/test"}`); got != 1 {
		t.Errorf("decode errors = %d", got)
	}
	for _, b := range h.fake.Batches {
		if b.Checkpoints != nil {
			t.Error("listener batch with checkpoints")
		}
	}
	// Lines still buffered are flushed at shutdown.
	if _, err := c2.Write([]byte(wlbLine(6))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	h.Stop(t)
	if n := len(h.fake.Events()); n != 6 {
		t.Errorf("events after shutdown = %d, want 6", n)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want []string
	}{
		{"defaults with path", func(c *Config) { c.Tail.Paths = []string{"/var/log/*.json"} }, nil},
		{"listen only", func(c *Config) { c.Tail.Listen = "0.0.0.0:5140" }, nil},
		{"nothing", func(c *Config) {}, []string{"paths: at least one of paths or listen is required"}},
		{"bad glob", func(c *Config) { c.Tail.Paths = []string{"/x/[a"} }, []string{"paths[0]: invalid glob"}},
		{"many", func(c *Config) {
			c.Tail.Paths = []string{"a"}
			c.Tail.StartAt = "middle"
			c.Tail.BatchSize = 0
			c.Tail.PollInterval = 0
			c.Tail.Listen = "nope"
		}, []string{"start_at: must be beginning or end", "batch_size: must be > 0", "poll_interval: must be > 0", "listen:"}},
		{"listen without follow", func(c *Config) { c.Tail.Listen = ":1"; c.Tail.Follow = false }, []string{"follow:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewDefaultConfig()
			tt.mod(c)
			sourcetest.CheckValidateErr(t, c.Validate(), tt.want)
		})
	}
	if _, err := New(NewDefaultConfig(), component.SourceSettings{Next: newFake()}); err == nil {
		t.Error("New accepted an invalid config")
	}
}

func xmlEvent(rec int) string {
	return fmt.Sprintf(`<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Security-Auditing"/><EventID>4624</EventID><TimeCreated SystemTime="2026-03-02T10:00:00.000Z"/><EventRecordID>%d</EventRecordID><Channel>Security</Channel><Computer>DC01.corp.local</Computer></System><EventData><Data Name="TargetUserName">user%d</Data><Data Name="LogonType">3</Data></EventData></Event>`, rec, rec)
}

// format: xml reads <Event> elements from files (an event split across two
// writes arrives once complete) and from TCP.
func TestXMLFormatFileAndTCP(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "fwd.xml")
	first := xmlEvent(1) + "\n" + xmlEvent(2)
	half := len(first) - 40
	if err := os.WriteFile(p, []byte(first[:half]), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := NewDefaultConfig()
	cfg.Format = FormatXML
	cfg.Tail.Paths = []string{filepath.Join(dir, "*.xml")}
	cfg.Tail.PollInterval = 10 * time.Millisecond
	cfg.Tail.Listen = "127.0.0.1:0"
	h := start(t, cfg, newFake())
	waitEvents(t, h.fake, 1)
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(first[half:] + "\n<Event><oops\n" + xmlEvent(3) + "\n")
	f.Close()
	waitEvents(t, h.fake, 3)
	c, err := net.Dial("tcp", h.src.ListenAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ev := xmlEvent(4)
	c.Write([]byte(ev[:50]))
	time.Sleep(20 * time.Millisecond)
	c.Write([]byte(ev[50:] + xmlEvent(5)))
	evs := waitEvents(t, h.fake, 5)
	checkUnique(t, evs)
	if got := h.Counters.Value(`source_decode_errors{source="winjson/test"}`); got != 1 {
		t.Errorf("decode errors = %d, want 1 (the broken event)", got)
	}
	if evs[0].Event.Dataset != "winjson" || evs[0].User.Name == "" {
		t.Errorf("event %+v", evs[0])
	}
}

// format: entra reads exported Entra ID records (Graph resources and
// diagnostic records) as cloud events; broken lines are counted.
func TestEntraFormat(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "signins.jsonl")
	writeFile(t, p, `{"id":"s1","createdDateTime":"2026-03-02T10:00:00Z","userPrincipalName":"jdoe@corp.example","status":{"errorCode":0},"location":{"city":"Moscow","countryOrRegion":"RU","geoCoordinates":{"latitude":55.75,"longitude":37.62}}}
{"id":"a1","activityDateTime":"2026-03-02T10:01:00Z","activityDisplayName":"Add member to role","result":"success","targetResources":[{"id":"u1","type":"User","userPrincipalName":"x@corp.example","modifiedProperties":[{"displayName":"Role.DisplayName","newValue":"\"Global Administrator\""}]}]}
{"not":"an entra record"}
{"time":"2026-03-02T10:02:00Z","category":"SignInLogs","properties":{"id":"s2","createdDateTime":"2026-03-02T10:02:00Z","userPrincipalName":"jdoe@corp.example","status":{"errorCode":50126}}}
`)
	cfg := testConfig(p)
	cfg.Format = FormatEntra
	cfg.Tail.Follow = false
	h := start(t, cfg, newFake())
	h.WaitDone(t, 5*time.Second)
	evs := h.fake.Events()
	if len(evs) != 3 {
		t.Fatalf("events = %d, want 3", len(evs))
	}
	if evs[0].Event.Kind != schema.KindCloudSignin || evs[0].Event.Dataset != "entra" || evs[0].Cloud.Latitude != 55.75 ||
		evs[1].Target.Group.Name != "Global Administrator" || evs[2].Cloud.ErrorCode != 50126 {
		t.Errorf("events %+v", evs)
	}
	if got := h.Counters.Value(`source_decode_errors{source="winjson/test"}`); got != 1 {
		t.Errorf("decode errors = %d, want 1", got)
	}
	bad := NewDefaultConfig()
	bad.Format = "graph"
	bad.Tail.Paths = []string{p}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "json, xml or entra") {
		t.Errorf("Validate: %v", err)
	}
}
