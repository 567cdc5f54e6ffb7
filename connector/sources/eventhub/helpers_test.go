package eventhub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/connector/telemetry"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

const (
	testTopic = "insights-logs-signinlogs"
	testGroup = "castellan"
)

// fakeConsumer records every accepted batch. It refuses while fail > 0
// (counting down), refuses every call while refuse is set, and with block
// waits for ctx. before, when set, runs at the start of every call.
type fakeConsumer struct {
	mu      sync.Mutex
	batches [][]schema.Event
	calls   int
	fail    int
	refuse  bool
	block   bool
	// blockAfter > 0 blocks every call once that many batches are accepted.
	blockAfter int
	before     func(call int)
}

func (f *fakeConsumer) ConsumeBatch(ctx context.Context, b component.Batch) error {
	f.mu.Lock()
	f.calls++
	call, before := f.calls, f.before
	block := f.block || (f.blockAfter > 0 && len(f.batches) >= f.blockAfter)
	f.mu.Unlock()
	if b.Checkpoints != nil {
		return errors.New("eventhub batches must carry no checkpoints")
	}
	if before != nil {
		before(call)
	}
	if block {
		<-ctx.Done()
		return ctx.Err()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse {
		return errors.New("downstream refuses")
	}
	if f.fail > 0 {
		f.fail--
		return errors.New("downstream full")
	}
	f.batches = append(f.batches, append([]schema.Event(nil), b.Events...))
	return nil
}

func (f *fakeConsumer) set(fn func(f *fakeConsumer)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeConsumer) events() []schema.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []schema.Event
	for _, b := range f.batches {
		out = append(out, b...)
	}
	return out
}

func (f *fakeConsumer) nBatches() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.batches)
}

// signInRecord is one diagnostic-settings record of category cat carrying
// a Graph signIn with id.
func signInRecord(cat, id string) string {
	return fmt.Sprintf(`{"time":"2024-03-01T10:00:00.0000000Z","resourceId":"/tenants/9f3c/providers/Microsoft.aadiam","operationName":"Sign-in activity","operationVersion":"1.0","category":%q,"tenantId":"9f3c1a2b-0000-4000-8000-000000000001","resultType":"0","callerIpAddress":"131.107.159.37","correlationId":"d79f5bee-5860-4832-928f-3133e22ae912","identity":"Test Contoso","level":4,"location":"US","properties":{"id":%q,"createdDateTime":"2024-03-01T10:00:00Z","userDisplayName":"Test Contoso","userPrincipalName":"testaccount1@contoso.com","userId":"26be570a-ae82-4189-b4e2-a37c6808512d","appId":"de8bc8b5-d9f9-48b1-a8ad-b748da725064","appDisplayName":"Graph explorer","ipAddress":"131.107.159.37","clientAppUsed":"Browser","correlationId":"d79f5bee-5860-4832-928f-3133e22ae912","conditionalAccessStatus":"notApplied","isInteractive":true,"riskLevelDuringSignIn":"none","riskState":"none","status":{"errorCode":0},"location":{"city":"Redmond","state":"Washington","countryOrRegion":"US"}}}`, cat, id)
}

// body is an Event Hubs message body holding the given records.
func body(records ...string) []byte {
	return []byte(`{"records":[` + strings.Join(records, ",") + `]}`)
}

// signIns is a body of n SignInLogs records with ids prefix-0 … prefix-(n-1).
func signIns(prefix string, n int) []byte {
	recs := make([]string, n)
	for i := range recs {
		recs[i] = signInRecord("SignInLogs", fmt.Sprintf("%s-%d", prefix, i))
	}
	return body(recs...)
}

// testDecode is the decoder under test.
var testDecode, testSkip = decodeDiagnostic, isUnsupported

// recordID is the signIn id an event came from.
func recordID(e schema.Event) string { return e.Original["id"] }

func newCluster(t *testing.T, partitions int32, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(partitions, testTopic)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// produce writes bodies to one partition, in order.
func produce(t *testing.T, c *kfake.Cluster, partition int32, bodies ...[]byte) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	recs := make([]*kgo.Record, len(bodies))
	for i, b := range bodies {
		recs[i] = &kgo.Record{Topic: testTopic, Partition: partition, Value: b}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// committed returns the group's committed offset per partition (-1: none).
func committed(t *testing.T, c *kfake.Cluster, group string, partitions int32) []int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = group
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic = testTopic
	for p := range partitions {
		rt.Partitions = append(rt.Partitions, p)
	}
	req.Topics = append(req.Topics, rt)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int64, partitions)
	for i := range out {
		out[i] = -1
	}
	topics := resp.Topics
	if len(resp.Groups) > 0 {
		for _, g := range resp.Groups {
			for _, gt := range g.Topics {
				rt := kmsg.NewOffsetFetchResponseTopic()
				rt.Topic = gt.Topic
				for _, gp := range gt.Partitions {
					rp := kmsg.NewOffsetFetchResponseTopicPartition()
					rp.Partition, rp.Offset = gp.Partition, gp.Offset
					rt.Partitions = append(rt.Partitions, rp)
				}
				topics = append(topics, rt)
			}
		}
	}
	for _, rt := range topics {
		for _, p := range rt.Partitions {
			if p.Partition < partitions {
				out[p.Partition] = p.Offset
			}
		}
	}
	return out
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
	fake     *fakeConsumer
	counters *telemetry.Counters
	logs     *syncBuffer
}

// fatalHost records ReportFatal calls.
type fatalHost struct {
	mu   sync.Mutex
	errs []error
}

func (h *fatalHost) ReportFatal(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.errs = append(h.errs, err)
}

func (h *fatalHost) first() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.errs) == 0 {
		return nil
	}
	return h.errs[0]
}

func testConfig(c *kfake.Cluster) *Config {
	cfg := NewDefaultConfig()
	cfg.Brokers = c.ListenAddrs()
	cfg.Topic = testTopic
	return cfg
}

// newHarness builds a source (not started) with the decoder under test.
func newHarness(t *testing.T, cfg *Config, fake *fakeConsumer) *harness {
	t.Helper()
	h := &harness{fake: fake, counters: telemetry.New(), logs: &syncBuffer{}}
	src, err := newSource(cfg, component.SourceSettings{
		ID:       "eventhub/test",
		Logger:   slog.New(slog.NewTextHandler(h.logs, nil)),
		Next:     fake,
		Counters: h.counters,
	}, testDecode, testSkip)
	if err != nil {
		t.Fatal(err)
	}
	h.src = src
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = src.Shutdown(ctx)
	})
	return h
}

func start(t *testing.T, cfg *Config, fake *fakeConsumer) *harness {
	t.Helper()
	h := newHarness(t, cfg, fake)
	if err := h.src.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) stop(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.src.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) counter(name string) int64 {
	return h.counters.Value(telemetry.Key(name, "source", "eventhub/test"))
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitEvents(t *testing.T, f *fakeConsumer, n int) []schema.Event {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d events (have %d)", n, len(f.events())), func() bool { return len(f.events()) >= n })
	time.Sleep(20 * time.Millisecond) // let a stray duplicate show up
	evs := f.events()
	if len(evs) != n {
		t.Fatalf("got %d events, want %d", len(evs), n)
	}
	return evs
}

// checkExactlyOnce fails unless the events are exactly the signIn ids
// want, each once.
func checkExactlyOnce(t *testing.T, evs []schema.Event, want []string) {
	t.Helper()
	seen := map[string]int{}
	for _, e := range evs {
		seen[recordID(e)]++
	}
	for _, id := range want {
		if seen[id] != 1 {
			t.Errorf("record %s delivered %d times", id, seen[id])
		}
		delete(seen, id)
	}
	for id, n := range seen {
		t.Errorf("unexpected record %q delivered %d times", id, n)
	}
}

// ids lists prefix-0 … prefix-(n-1).
func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return out
}
