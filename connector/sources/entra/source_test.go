package entra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/connector/telemetry"
	mapping "github.com/castellan-itdr/castellan/mappings/entra"
)

const testTenant = "4b9ae7e1-2a8f-4c6e-9a1e-5f0d3c2b1a00"

// t0 is the fake "now" of the tests.
var t0 = time.Date(2020, 3, 13, 20, 0, 0, 0, time.UTC)

// signIn returns a Graph signIn record.
func signIn(id string, at time.Time) []byte {
	return fmt.Appendf(nil, `{"id":%q,"createdDateTime":%q,"userPrincipalName":"alice@contoso.com","userId":"u-1",`+
		`"appDisplayName":"Graph explorer","ipAddress":"131.107.159.37","clientAppUsed":"Browser","isInteractive":true,`+
		`"status":{"errorCode":0,"failureReason":null},"location":{"city":"Redmond","countryOrRegion":"US"}}`,
		id, at.UTC().Format("2006-01-02T15:04:05.0000000Z"))
}

// memPager is an in-memory Pager: it filters by the date property like
// Graph, serves newest first, and can be scripted to fail.
type memPager struct {
	mu      sync.Mutex
	records map[string][][]byte // by resource
	// failAfter, when >= 0, makes the next List fail after that many
	// records; it then resets to -1.
	failAfter int
	queries   []Query
	delay     chan struct{} // when set, List waits on it (or ctx)
}

func newMemPager() *memPager { return &memPager{records: map[string][][]byte{}, failAfter: -1} }

func (p *memPager) add(res string, recs ...[]byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.records[res] = append(p.records[res], recs...)
}

func (p *memPager) List(ctx context.Context, q Query, fn func([]byte) error) error {
	if q.Top < 1 {
		return errors.New("memPager: no $top")
	}
	p.mu.Lock()
	p.queries = append(p.queries, q)
	delay := p.delay
	failAfter := p.failAfter
	p.failAfter = -1
	type rec struct {
		raw []byte
		at  time.Time
	}
	var hits []rec
	prop := resources[q.Resource].dateProp
	for _, raw := range p.records[q.Resource] {
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		at, err := time.Parse(time.RFC3339Nano, fmt.Sprint(m[prop]))
		if err != nil || !at.Before(q.Since) {
			hits = append(hits, rec{raw, at}) // unparsable ones pass, for decode-error tests
		}
	}
	p.mu.Unlock()
	if delay != nil {
		select {
		case <-delay:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].at.After(hits[j].at) })
	for i, h := range hits {
		if i == failAfter {
			return errors.New("memPager: scripted failure (HTTP 503)")
		}
		if err := fn(h.raw); err != nil {
			return err
		}
	}
	return nil
}

func (p *memPager) lastQuery() Query {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.queries[len(p.queries)-1]
}

// store is the pipeline side: it records accepted events and commits
// checkpoints only on acceptance, like the real pipeline; refuse makes
// the next n batches fail.
type store struct {
	mu      sync.Mutex
	ids     map[string]int // event id → times accepted
	order   []string       // record ids in acceptance order
	cps     map[string][]byte
	refuse  int
	batches []component.Batch
	block   chan struct{} // when set, ConsumeBatch waits on it or ctx
}

func newStore() *store { return &store{ids: map[string]int{}, cps: map[string][]byte{}} }

func (s *store) ConsumeBatch(ctx context.Context, b component.Batch) error {
	s.mu.Lock()
	block := s.block
	s.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuse > 0 {
		s.refuse--
		return errors.New("queue full")
	}
	for _, ev := range b.Events {
		s.ids[ev.ID]++
		s.order = append(s.order, ev.Event.RecordID)
	}
	for _, cp := range b.Checkpoints {
		s.cps[cp.Key] = append([]byte(nil), cp.Value...)
	}
	s.batches = append(s.batches, b)
	return nil
}

func (s *store) Checkpoint(key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cps[key], nil
}

// delivered returns the record ids accepted, sorted, failing on any
// event accepted twice.
func (s *store) delivered(t *testing.T) []string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, n := range s.ids {
		if n != 1 {
			t.Errorf("event %s accepted %d times", id, n)
		}
	}
	out := append([]string(nil), s.order...)
	sort.Strings(out)
	return out
}

func (s *store) checkpoint(t *testing.T, res string) checkpoint {
	t.Helper()
	b, _ := s.Checkpoint(CheckpointKey(res))
	var cp checkpoint
	if b != nil {
		if err := json.Unmarshal(b, &cp); err != nil {
			t.Fatal(err)
		}
	}
	return cp
}

func testConfig() *Config {
	c := NewDefaultConfig()
	c.TenantID = testTenant
	c.ClientID = "client"
	c.Auth.ClientSecret = "s3cret"
	c.Resources = []string{ResourceSignIns}
	c.PollInterval = time.Hour // tests poll by trigger
	c.PageSize = 3
	off := false
	c.Users.Enabled = &off // the users poll has its own tests (users_test.go)
	return c
}

// harness runs one Source over a pager and store, polling on demand.
type harness struct {
	t        *testing.T
	src      *Source
	polls    chan int
	counters *telemetry.Counters
}

func start(t *testing.T, cfg *Config, p Pager, st *store) *harness {
	t.Helper()
	h := &harness{t: t, polls: make(chan int, 100), counters: telemetry.New()}
	src, err := NewWithPager(cfg, component.SourceSettings{ID: "entra/test", Next: st, Checkpoints: st, Counters: h.counters}, p)
	if err != nil {
		t.Fatal(err)
	}
	src.now = func() time.Time { return t0 }
	src.afterPoll = func(n int) { h.polls <- n }
	src.trigger = make(chan struct{})
	if err := src.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	h.src = src
	h.wait() // the first poll runs at Start
	t.Cleanup(func() { _ = src.Shutdown(context.Background()) })
	return h
}

func (h *harness) wait() {
	h.t.Helper()
	select {
	case <-h.polls:
	case <-time.After(20 * time.Second):
		h.t.Fatal("poll did not complete")
	}
}

func (h *harness) poll() {
	h.t.Helper()
	select {
	case h.src.trigger <- struct{}{}:
	case <-time.After(20 * time.Second):
		h.t.Fatal("source not waiting for a poll")
	}
	h.wait()
}

func (h *harness) stop() {
	h.t.Helper()
	if err := h.src.Shutdown(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) counter(name string) int64 {
	return h.counters.Value(telemetry.Key(name, "source", "entra/test"))
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return out
}

func TestExactlyOnceAcrossOverlappingPollsAndLateArrivals(t *testing.T) {
	p, st := newMemPager(), newStore()
	base := t0.Add(-time.Hour)
	for i := range 7 {
		p.add(ResourceSignIns, signIn(fmt.Sprintf("a%02d", i), base.Add(time.Duration(i)*time.Minute)))
	}
	h := start(t, testConfig(), p, st)
	if got := p.lastQuery().Since; !got.Equal(t0.Add(-24 * time.Hour)) {
		t.Errorf("first poll since %s, want start_at 24h before now", got)
	}
	newest := base.Add(6 * time.Minute)
	if cp := st.checkpoint(t, ResourceSignIns); !cp.Since.Equal(newest) || len(cp.Recent) == 0 {
		t.Errorf("checkpoint after poll 1: %+v", cp)
	}

	// Poll 2: nothing new; the overlap re-reads the newest records, which
	// must not be handed off again.
	h.poll()
	if got := p.lastQuery().Since; !got.Equal(newest.Add(-10 * time.Minute)) {
		t.Errorf("poll 2 since %s, want watermark - overlap", got)
	}

	// Late arrivals: older than the watermark but within the overlap, and
	// one new record; plus one older than the overlap (lost by design:
	// overlap must exceed Graph's ingestion delay).
	p.add(ResourceSignIns, signIn("late1", newest.Add(-2*time.Minute)), signIn("late2", newest.Add(-9*time.Minute)),
		signIn("new1", newest.Add(time.Minute)), signIn("tooLate", newest.Add(-30*time.Minute)))
	h.poll()
	h.poll()
	// Same-second twins: the watermark second holds two records, one
	// arriving after the other was handed off.
	p.add(ResourceSignIns, signIn("twinA", newest.Add(2*time.Minute)))
	h.poll()
	p.add(ResourceSignIns, signIn("twinB", newest.Add(2*time.Minute)))
	h.poll()
	h.poll()

	want := append(ids("a", 7), "late1", "late2", "new1", "twinA", "twinB")
	sort.Strings(want)
	if got := st.delivered(t); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("delivered %v\nwant      %v", got, want)
	}
	if h.counter("source_duplicates") == 0 {
		t.Error("overlapping polls re-read nothing (duplicates counter 0)")
	}
	if h.counter("source_events") != int64(len(want)) {
		t.Errorf("source_events = %d", h.counter("source_events"))
	}
}

func TestRestartFromCheckpoint(t *testing.T) {
	p, st := newMemPager(), newStore()
	base := t0.Add(-time.Hour)
	for i := range 5 {
		p.add(ResourceSignIns, signIn(fmt.Sprintf("a%02d", i), base.Add(time.Duration(i)*time.Minute)))
	}
	h := start(t, testConfig(), p, st)
	h.stop()
	cp := st.checkpoint(t, ResourceSignIns)

	// While stopped: a late record within the overlap and a new one.
	p.add(ResourceSignIns, signIn("late", base.Add(3*time.Minute+30*time.Second)), signIn("new", base.Add(10*time.Minute)))
	h2 := start(t, testConfig(), p, st) // a new Source reading the committed checkpoint
	if got := p.lastQuery().Since; !got.Equal(cp.Since.Add(-10 * time.Minute)) {
		t.Errorf("restart polled from %s, want checkpoint since %s - overlap", got, cp.Since)
	}
	h2.poll()
	want := append(ids("a", 5), "late", "new")
	sort.Strings(want)
	if got := st.delivered(t); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("delivered %v, want %v", got, want)
	}
	if h2.counter("source_duplicates") == 0 {
		t.Error("restart did not re-read the overlap")
	}
}

func TestPollErrorKeepsProgressAndRetries(t *testing.T) {
	p, st := newMemPager(), newStore()
	p.failAfter = 4 // the first listing fails after 4 records (a 503 storm on page 2)
	base := t0.Add(-time.Hour)
	for i := range 8 {
		p.add(ResourceSignIns, signIn(fmt.Sprintf("a%02d", i), base.Add(time.Duration(i)*time.Minute)))
	}
	h := start(t, testConfig(), p, st)
	if n := h.counter("source_poll_errors"); n != 1 {
		t.Errorf("poll errors %d, want 1", n)
	}
	cp := st.checkpoint(t, ResourceSignIns)
	if !cp.Since.IsZero() {
		t.Errorf("watermark moved on an incomplete listing: %s", cp.Since)
	}
	if got := len(st.delivered(t)); got != 4 {
		t.Errorf("fetched records before the failure not handed off: %d", got)
	}
	h.poll()
	if got := st.delivered(t); strings.Join(got, ",") != strings.Join(ids("a", 8), ",") {
		t.Errorf("delivered %v", got)
	}
	if cp := st.checkpoint(t, ResourceSignIns); !cp.Since.Equal(base.Add(7 * time.Minute)) {
		t.Errorf("watermark after the complete poll: %s", cp.Since)
	}
}

func TestRefusedBatchRetried(t *testing.T) {
	p, st := newMemPager(), newStore()
	st.refuse = 2
	for i := range 2 {
		p.add(ResourceSignIns, signIn(fmt.Sprintf("a%02d", i), t0.Add(-time.Duration(i+1)*time.Minute)))
	}
	cfg := testConfig()
	h := start(t, cfg, p, st)
	if got := st.delivered(t); strings.Join(got, ",") != "a00,a01" {
		t.Errorf("delivered %v", got)
	}
	_ = h
}

func TestDecodeErrorsCounted(t *testing.T) {
	p, st := newMemPager(), newStore()
	p.add(ResourceSignIns, signIn("ok", t0.Add(-time.Minute)), []byte(`{"id":"","createdDateTime":"x"}`), []byte(`[1]`))
	h := start(t, testConfig(), p, st)
	if n := h.counter("source_decode_errors"); n != 2 {
		t.Errorf("decode errors %d, want 2", n)
	}
	if got := st.delivered(t); strings.Join(got, ",") != "ok" {
		t.Errorf("delivered %v", got)
	}
}

func TestAllResourcesMapped(t *testing.T) {
	p, st := newMemPager(), newStore()
	p.add(ResourceSignIns, signIn("s1", t0.Add(-time.Minute)))
	p.add(ResourceDirectoryAudits, []byte(`{"id":"d1","activityDateTime":"2020-03-13T19:00:00Z","activityDisplayName":"Add member to group","result":"success","category":"UserManagement"}`))
	p.add(ResourceRiskDetections, []byte(`{"id":"r1","detectedDateTime":"2020-03-13T19:00:00Z","lastUpdatedDateTime":"2020-03-13T19:00:00Z","riskEventType":"unfamiliarFeatures","riskLevel":"medium"}`))
	p.add(ResourceRiskyUsers, []byte(`{"id":"u1","riskLastUpdatedDateTime":"2020-03-13T19:00:00Z","riskLevel":"high","riskState":"atRisk"}`))
	cfg := testConfig()
	cfg.Resources = nil // all
	cfg.PageSize = 1000
	start(t, cfg, p, st)
	st.mu.Lock()
	defer st.mu.Unlock()
	kinds := map[string]string{}
	for _, b := range st.batches {
		for _, ev := range b.Events {
			kinds[ev.Event.RecordID] = string(ev.Event.Kind) + "/" + ev.Cloud.TenantID
		}
	}
	want := map[string]string{"s1": "cloud_signin", "d1": "cloud_audit", "r1": "cloud_risk", "u1": "cloud_risk"}
	for id, k := range want {
		if kinds[id] != k+"/"+testTenant {
			t.Errorf("%s: %q, want %s with the configured tenant", id, kinds[id], k)
		}
	}
	for _, r := range AllResources {
		if st.cps[CheckpointKey(r)] == nil {
			t.Errorf("no checkpoint for %s", r)
		}
	}
	// Risk detections page at most 500.
	for _, q := range p.queries {
		if q.Resource == ResourceRiskDetections && q.Top != 500 {
			t.Errorf("risk detections $top %d", q.Top)
		}
	}
}

func TestBatchesCarryCheckpoints(t *testing.T) {
	p, st := newMemPager(), newStore()
	for i := range 7 {
		p.add(ResourceSignIns, signIn(fmt.Sprintf("a%02d", i), t0.Add(-time.Duration(i+1)*time.Minute)))
	}
	start(t, testConfig(), p, st) // page size 3 → batches of 3, 3, 1
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.batches) != 3 {
		t.Fatalf("%d batches, want 3", len(st.batches))
	}
	for i, b := range st.batches {
		var cp checkpoint
		if len(b.Checkpoints) != 1 || json.Unmarshal(b.Checkpoints[0].Value, &cp) != nil {
			t.Fatalf("batch %d checkpoints %v", i, b.Checkpoints)
		}
		n := 0
		for _, ids := range cp.Recent {
			n += len(ids)
		}
		if want := min(3*(i+1), 7); n != want {
			t.Errorf("batch %d remembers %d ids, want %d", i, n, want)
		}
		// Only the final batch moves the watermark (Graph's order is not
		// guaranteed, so a partial listing proves nothing about older
		// records).
		if last := i == len(st.batches)-1; last != !cp.Since.IsZero() {
			t.Errorf("batch %d since %s", i, cp.Since)
		}
	}
}

func TestStateRoundTripAndPrune(t *testing.T) {
	res := resources[ResourceSignIns]
	st, err := decodeState(res, nil)
	if err != nil {
		t.Fatal(err)
	}
	since := t0
	st.commit(since, map[string]int64{"aaaa": t0.Unix(), "bbbb": t0.Add(-5 * time.Minute).Unix(), "cccc": t0.Add(-time.Hour).Unix()})
	b := st.encode(since, map[string]int64{"dddd": t0.Unix()})
	st2, err := decodeState(res, b)
	if err != nil || !st2.since.Equal(since) || len(st2.recent) != 4 {
		t.Fatalf("round trip: %v %+v", err, st2)
	}
	st2.prune(st2.lower(t0, 10*time.Minute, time.Hour), MaxRecent)
	if _, ok := st2.recent["cccc"]; ok || len(st2.recent) != 3 {
		t.Errorf("prune kept %v", st2.recent)
	}
	if n := st2.prune(time.Time{}, 1); n != 2 || len(st2.recent) != 1 {
		t.Errorf("cap evicted %d, kept %v", n, st2.recent)
	}
	if _, ok := st2.recent["dddd"]; !ok {
		if _, ok := st2.recent["aaaa"]; !ok {
			t.Errorf("cap evicted the newest: %v", st2.recent)
		}
	}
	if _, err := decodeState(res, []byte(`{"since":1}`)); err == nil {
		t.Error("bad checkpoint accepted")
	}
	if _, err := decodeState(res, []byte(`{"since":"2020-01-01T00:00:00Z","recent":{"x":["a"]}}`)); err == nil {
		t.Error("bad recent time accepted")
	}
}

func TestFilter(t *testing.T) {
	f, err := Query{Resource: ResourceDirectoryAudits, Since: time.Date(2020, 3, 13, 19, 5, 41, 900, time.FixedZone("x", 3600))}.Filter()
	if err != nil || f != "activityDateTime ge 2020-03-13T18:05:41Z" {
		t.Errorf("%q %v", f, err)
	}
	if _, err := (Query{Resource: "x"}).Filter(); err == nil {
		t.Error("unknown resource accepted")
	}
}

func TestLifecycle(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, s *Source, st *store, p *memPager)
	}{
		{"shutdown without start", func(t *testing.T, s *Source, _ *store, _ *memPager) {
			if err := s.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := s.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			<-s.Done()
			if err := s.Start(context.Background(), nil); err == nil {
				t.Error("start after shutdown accepted")
			}
		}},
		{"start and shutdown twice", func(t *testing.T, s *Source, _ *store, _ *memPager) {
			if err := s.Start(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			if err := s.Start(context.Background(), nil); err == nil {
				t.Error("second start accepted")
			}
			for range 2 {
				if err := s.Shutdown(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			<-s.Done()
		}},
		{"shutdown aborts an in-flight request", func(t *testing.T, s *Source, _ *store, p *memPager) {
			p.delay = make(chan struct{}) // Graph never answers
			if err := s.Start(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := s.Shutdown(ctx); err != nil {
				t.Fatalf("shutdown did not abort the request: %v", err)
			}
		}},
		{"shutdown with pending data", func(t *testing.T, s *Source, st *store, p *memPager) {
			st.block = make(chan struct{}) // the pipeline never accepts
			p.add(ResourceSignIns, signIn("x", t0.Add(-time.Minute)))
			if err := s.Start(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond)
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			if err := s.Shutdown(ctx); err == nil {
				t.Error("shutdown reported success while a batch was pending")
			}
			<-s.Done()
			if cp, _ := st.Checkpoint(CheckpointKey(ResourceSignIns)); cp != nil {
				t.Errorf("checkpoint committed without acceptance: %s", cp)
			}
			// A restart hands the record off.
			st.mu.Lock()
			st.block = nil
			st.mu.Unlock()
			h := start(t, testConfig(), p, st)
			h.stop()
			if got := st.delivered(t); strings.Join(got, ",") != "x" {
				t.Errorf("after restart: %v", got)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, st := newMemPager(), newStore()
			s, err := NewWithPager(testConfig(), component.SourceSettings{Next: st, Checkpoints: st}, p)
			if err != nil {
				t.Fatal(err)
			}
			s.now = func() time.Time { return t0 }
			tc.run(t, s, st, p)
		})
	}
}

func TestStartBadCheckpoint(t *testing.T) {
	st := newStore()
	st.cps[CheckpointKey(ResourceSignIns)] = []byte("{")
	s, err := NewWithPager(testConfig(), component.SourceSettings{Next: st, Checkpoints: st}, newMemPager())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "graph:signins") {
		t.Errorf("bad checkpoint: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := NewWithPager(nil, component.SourceSettings{}, newMemPager()); err == nil {
		t.Error("nil config accepted")
	}
	if _, err := NewWithPager(testConfig(), component.SourceSettings{}, newMemPager()); err == nil {
		t.Error("no consumer accepted")
	}
	if _, err := NewWithPager(testConfig(), component.SourceSettings{Next: newStore()}, nil); err == nil {
		t.Error("no pager accepted")
	}
	bad := testConfig()
	bad.TenantID = ""
	if _, err := New(bad, component.SourceSettings{Next: newStore()}); err == nil || !strings.Contains(err.Error(), "tenant_id") {
		t.Errorf("invalid config: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *Config)
		want []string // substrings; none = valid
	}{
		{"defaults with credentials", func(*Config) {}, nil},
		{"everything missing", func(c *Config) { *c = Config{} }, []string{
			"tenant_id: required", "auth.method: required", "poll_interval", "page_size", "start_at"}},
		{"client secret needs id and secret", func(c *Config) { c.ClientID, c.Auth.ClientSecret = "", "" },
			[]string{"client_id: required", "auth.client_secret: required"}},
		{"certificate file missing", func(c *Config) {
			c.Auth = Auth{Method: AuthClientCertificate, CertificateFile: "/nonexistent/cert.pem"}
		}, []string{"auth.certificate_file"}},
		{"certificate without file", func(c *Config) { c.Auth = Auth{Method: AuthClientCertificate} },
			[]string{"auth.certificate_file: required"}},
		{"secret with another method", func(c *Config) { c.Auth.Method = AuthManagedIdentity },
			[]string{"auth.client_secret: only for method client_secret"}},
		{"managed identity needs nothing", func(c *Config) { c.Auth = Auth{Method: AuthManagedIdentity}; c.ClientID = "" }, nil},
		{"workload identity with token file", func(c *Config) { c.Auth = Auth{Method: AuthWorkloadIdentity, TokenFile: "/var/run/token"} }, nil},
		{"unknown method", func(c *Config) { c.Auth.Method = "password" }, []string{`auth.method: must be`}},
		{"bad cloud and urls", func(c *Config) {
			c.Cloud, c.GraphURL, c.AuthorityHost = "mars", "http://graph.example.com/v1.0", "login"
		}, []string{"cloud: must be", "graph_url: plain http is allowed only for localhost", "authority_host: must be an absolute"}},
		{"loopback http allowed", func(c *Config) { c.GraphURL = "http://127.0.0.1:8080/v1.0" }, nil},
		{"resources", func(c *Config) { c.Resources = []string{"signins", "signins", "users"} },
			[]string{`resources[1]: "signins" listed twice`, `resources[2]: unknown resource "users"`}},
		{"numbers", func(c *Config) {
			c.PollInterval, c.Overlap, c.PageSize, c.StartAt = time.Millisecond, -time.Second, 1001, 0
		},
			[]string{"poll_interval", "overlap", "page_size: must be 1..1000", "start_at"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := testConfig()
			tc.edit(c)
			err := c.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("missing %q in:\n%v", w, err)
				}
			}
		})
	}
}

// TestSecretNotPrinted: the config prints its secrets redacted.
func TestSecretNotPrinted(t *testing.T) {
	c := testConfig()
	c.Auth.CertificatePassword = "pfx-pass"
	for _, s := range []string{fmt.Sprintf("%v %+v %#v", c, c, c)} {
		if strings.Contains(s, "s3cret") || strings.Contains(s, "pfx-pass") {
			t.Errorf("secret printed: %s", s)
		}
	}
}

// The source maps with the configured tenant, like the Event Hubs source
// does from the envelope: same ids.
func TestTenantInEventID(t *testing.T) {
	raw := signIn("same", t0)
	viaSource, _ := mapping.Mapper{TenantID: testTenant}.FromSignIn(raw)
	diag := fmt.Appendf(nil, `{"category":"SignInLogs","tenantId":%q,"properties":%s}`, testTenant, raw)
	viaHub, err := mapping.FromDiagnosticRecord(diag)
	if err != nil || viaHub.ID != viaSource.ID {
		t.Errorf("ids differ: %s vs %s (%v)", viaSource.ID, viaHub.ID, err)
	}
}
