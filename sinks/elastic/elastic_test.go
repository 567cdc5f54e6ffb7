package elastic

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/castellan-itdr/castellan/mappings/ecs"
	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/sinks/delivery"
	"github.com/castellan-itdr/castellan/sinks/secret"
	"github.com/castellan-itdr/castellan/sinks/sinktest"
	"github.com/castellan-itdr/castellan/sinks/sinktest/esfake"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	keyID     = "castellan-key"
	keySecret = "s3cr3t-Key-Value-9f2c"
	password  = "pw-Do-Not-Print-77e1"
)

var fixedNow = time.Date(2026, 3, 2, 10, 0, 5, 0, time.UTC)

func newFake(t testing.TB, opts esfake.Options) *esfake.Server {
	t.Helper()
	if opts.APIKey == "" && opts.Username == "" {
		opts.APIKey = keyID + ":" + keySecret
	}
	s := esfake.New(opts)
	t.Cleanup(s.Close)
	return s
}

func testConfig(url string) *Config {
	c := NewDefaultConfig()
	c.Addresses = []string{url}
	c.APIKey = secret.Secret(keyID + ":" + keySecret)
	c.Timeout = 5 * time.Second
	return c
}

func newSink(t testing.TB, c *Config) *Sink {
	t.Helper()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return fixedNow }
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func harness() sinktest.Harness {
	return sinktest.Harness{
		Name:   "elastic",
		Double: func(t *testing.T) sinktest.Double { return esfake.New(esfake.Options{APIKey: keyID + ":" + keySecret}) },
		Pusher: func(t *testing.T, d sinktest.Double) delivery.Pusher {
			// Start is not called: Push sets up lazily, through the faults.
			return newSink(t, testConfig(d.URL()))
		},
		Encode: Encode,
	}
}

func TestContract(t *testing.T) {
	sinktest.CheckContract(t, harness())
}

func TestFaultRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("30s outages")
	}
	t.Run("503", func(t *testing.T) { sinktest.CheckFaultRecovery(t, harness(), 10000, 503, 30*time.Second) })
	t.Run("429", func(t *testing.T) { sinktest.CheckFaultRecovery(t, harness(), 10000, 429, 30*time.Second) })
}

func alertItems(n int) []delivery.Item { return sinktest.Items(sinktest.Alerts(n)...) }

// One response mixing 201, 409, 429 and 400: only the 429 is retried, only
// the 400 dead-lettered, the 409 counts as delivered.
func TestPerItemMix(t *testing.T) {
	fake := newFake(t, esfake.Options{})
	s := newSink(t, testConfig(fake.URL()))
	items := alertItems(5)
	if err := s.Push(context.Background(), items[1:2]); err != nil { // store "dup" first
		t.Fatal(err)
	}
	fake.Throttle(items[2].ID)
	fake.Reject(items[3].ID)
	err := s.Push(context.Background(), items)
	var pe *delivery.PartialError
	if !errors.As(err, &pe) {
		t.Fatalf("want a PartialError, got %v", err)
	}
	if len(pe.Failed) != 2 || pe.Failed[0].Index != 2 || pe.Failed[1].Index != 3 {
		t.Fatalf("failed items %+v", pe.Failed)
	}
	if f := pe.Failed[0].Err; delivery.IsPermanent(f) || !strings.Contains(f.Error(), "429 es_rejected_execution_exception") {
		t.Errorf("429 item: %v", f)
	}
	if _, ok := delivery.RetryAfter(pe.Failed[0].Err); !ok {
		t.Errorf("429 item is not Throttled: %v", pe.Failed[0].Err)
	}
	if f := pe.Failed[1].Err; !delivery.IsPermanent(f) || !strings.Contains(f.Error(), "400 document_parsing_exception") {
		t.Errorf("400 item: %v", f)
	}
	// Through a real queue and sender: the 429 item is delivered on retry,
	// the 400 item dead-lettered, nothing twice.
	db, err := bolt.Open(filepath.Join(t.TempDir(), "s.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q, err := delivery.NewQueue(db, "elastic")
	if err != nil {
		t.Fatal(err)
	}
	more := alertItems(8)[5:]
	fake.Throttle(more[0].ID, more[1].ID)
	fake.Reject(more[2].ID)
	if err := q.Enqueue(more); err != nil {
		t.Fatal(err)
	}
	snd := delivery.NewSender("elastic", q, s, delivery.SenderConfig{MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond, PollInterval: 5 * time.Millisecond}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	snd.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := snd.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	_ = snd.Shutdown(ctx)
	dls, _ := q.DeadLetters()
	if len(dls) != 1 || dls[0].Item.ID != more[2].ID {
		t.Fatalf("dead letters %+v", dls)
	}
	// items[2] was throttled in the direct Push and not retried there.
	want := []string{items[1].ID, items[0].ID, items[4].ID, more[0].ID, more[1].ID}
	got := fake.Accepted()
	if len(got) != len(want) {
		t.Fatalf("accepted %v", got)
	}
	for _, id := range want {
		if !contains(got, id) {
			t.Errorf("%s not stored", id)
		}
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func TestItemErrorsClassification(t *testing.T) {
	req := request{index: []int{10, 11, 12, 13, 14, 15}}
	body := `{"errors":true,"items":[
	{"create":{"_id":"a","status":201}},
	{"create":{"_id":"b","status":409,"error":{"type":"version_conflict_engine_exception","reason":"exists"}}},
	{"index":{"_id":"c","status":409,"error":{"type":"version_conflict_engine_exception","reason":"seq_no"}}},
	{"create":{"_id":"d","status":503,"error":{"type":"unavailable_shards_exception","reason":"primary not active"}}},
	{"create":{"_id":"e","status":429,"error":{"type":"es_rejected_execution_exception","reason":"busy"}}},
	{"create":{"_id":"f","status":404,"error":{"type":"index_not_found_exception","reason":"no such index"}}}]}`
	errs, err := itemErrors(req, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]string{}
	for _, e := range errs {
		kind := "retry"
		if delivery.IsPermanent(e.Err) {
			kind = "permanent"
		} else if _, ok := delivery.RetryAfter(e.Err); ok {
			kind = "throttled"
		}
		got[e.Index] = kind
	}
	want := map[int]string{12: "permanent", 13: "retry", 14: "throttled", 15: "permanent"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if _, err := itemErrors(req, []byte(`{"errors":false,"items":[]}`)); err == nil {
		t.Error("an item count mismatch was accepted")
	}
}

func TestWholeRequestClassification(t *testing.T) {
	cases := []struct {
		status     int
		retryAfter time.Duration
		check      func(error) bool
		want       string
	}{
		{401, 0, delivery.IsPermanent, "check api_key"},
		{403, 0, delivery.IsPermanent, "create_doc"},
		{413, 0, delivery.IsTooLarge, "HTTP 413"},
		{429, 2 * time.Second, func(e error) bool { d, ok := delivery.RetryAfter(e); return ok && d == 2*time.Second }, "es_rejected_execution_exception"},
		{503, 3 * time.Second, func(e error) bool { d, ok := delivery.RetryAfter(e); return ok && d == 3*time.Second }, "cluster_block_exception"},
		{500, 0, func(e error) bool { return !delivery.IsPermanent(e) && !delivery.IsTooLarge(e) }, "HTTP 500"},
		{400, 0, delivery.IsPermanent, "HTTP 400"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.status), func(t *testing.T) {
			fake := newFake(t, esfake.Options{})
			s := newSink(t, testConfig(fake.URL()))
			if err := s.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			fake.FailNext(1, c.status, c.retryAfter)
			err := s.Push(context.Background(), alertItems(3))
			if err == nil || !c.check(err) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("HTTP %d → %v", c.status, err)
			}
			var pe *delivery.PartialError
			if errors.As(err, &pe) {
				t.Fatalf("a whole-request failure came back per item: %v", err)
			}
		})
	}
	t.Run("network", func(t *testing.T) {
		fake := newFake(t, esfake.Options{})
		s := newSink(t, testConfig(fake.URL()))
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		fake.Close()
		err := s.Push(context.Background(), alertItems(1))
		if err == nil || delivery.IsPermanent(err) {
			t.Fatalf("network error → %v", err)
		}
	})
	t.Run("not-elasticsearch", func(t *testing.T) {
		fake := newFake(t, esfake.Options{NoProductHeader: true})
		s := newSink(t, testConfig(fake.URL()))
		err := s.Start(context.Background())
		if err == nil || delivery.IsPermanent(err) || !strings.Contains(err.Error(), "X-Elastic-Product") {
			t.Fatalf("not Elasticsearch → %v", err)
		}
	})
}

// A batch larger than flush_bytes goes out as several requests; when a
// later one fails, the items already stored are not reported as failed.
func TestFlushBytesSplitsAndPartialFailure(t *testing.T) {
	fake := newFake(t, esfake.Options{})
	c := testConfig(fake.URL())
	c.FlushBytes = 8 << 10
	s := newSink(t, c)
	items := alertItems(40)
	if err := s.Push(context.Background(), items); err != nil {
		t.Fatal(err)
	}
	bulks := 0
	for _, r := range fake.Requests() {
		if strings.HasSuffix(r.Path, "/_bulk") {
			bulks++
		}
	}
	if bulks < 3 || len(fake.Accepted()) != 40 {
		t.Fatalf("%d bulk requests, %d stored", bulks, len(fake.Accepted()))
	}

	// The second request hits a size limit the first fits under.
	small := newFake(t, esfake.Options{MaxContentLength: 6 << 10})
	c = testConfig(small.URL())
	c.FlushBytes = 4 << 10
	c.InstallTemplates = false // the templates alone exceed this tiny limit
	s = newSink(t, c)
	p := newEncoder("default").encode(items[:12], fixedNow, c.FlushBytes)
	if len(p.requests) < 2 {
		t.Fatalf("want several requests, got %d", len(p.requests))
	}
	// Make one oversize item so the second request exceeds the server limit.
	big := sinktest.Alerts(13)[12]
	big.Values = []string{strings.Repeat("v", 7<<10)}
	batch := append(append([]delivery.Item{}, items[:len(p.requests[0].index)]...), sinktest.Items(big)...)
	err := s.Push(context.Background(), batch)
	var pe *delivery.PartialError
	if !errors.As(err, &pe) || len(pe.Failed) != 1 || pe.Failed[0].Index != len(batch)-1 || delivery.IsPermanent(pe.Failed[0].Err) {
		t.Fatalf("want the oversize item retryable, the rest delivered: %v", err)
	}
	if len(small.Accepted()) != len(batch)-1 {
		t.Fatalf("stored %d", len(small.Accepted()))
	}
	// Alone, the oversize item is TooLarge for the sender to dead-letter.
	if err := s.Push(context.Background(), batch[len(batch)-1:]); !delivery.IsTooLarge(err) {
		t.Fatalf("single oversize item → %v", err)
	}
}

func TestStartInstallsTemplates(t *testing.T) {
	fake := newFake(t, esfake.Options{})
	s := newSink(t, testConfig(fake.URL()))
	if fake.IsDataStream(ecs.IncidentIndex("default")) != false {
		t.Fatal("precondition")
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, tpl := range ecs.Templates() {
		var got json.RawMessage
		var ok bool
		if tpl.Kind == ecs.ComponentTemplate {
			got, ok = fake.ComponentTemplate(tpl.Name)
		} else {
			got, ok = fake.IndexTemplate(tpl.Name)
		}
		if !ok || !bytes.Equal(got, tpl.Body) {
			t.Errorf("%s template %s not installed as shipped", tpl.Kind, tpl.Name)
		}
	}
	if err := s.Start(context.Background()); err != nil { // idempotent
		t.Fatal(err)
	}
	if n := len(fake.Requests()); n != 4 {
		t.Errorf("%d requests for start twice; want 4 (info + 3 templates, once)", n)
	}

	// Opt-out: only the cluster check.
	fake2 := newFake(t, esfake.Options{})
	c := testConfig(fake2.URL())
	c.InstallTemplates = false
	s2 := newSink(t, c)
	if err := s2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := fake2.IndexTemplate("logs-castellan"); ok {
		t.Error("templates installed despite install_templates: false")
	}
	if reqs := fake2.Requests(); len(reqs) != 1 || reqs[0].Path != "/" {
		t.Errorf("requests %+v", reqs)
	}

	// Old clusters are refused.
	fake3 := newFake(t, esfake.Options{Version: "7.17.9"})
	if err := newSink(t, testConfig(fake3.URL())).Start(context.Background()); err == nil || !delivery.IsPermanent(err) {
		t.Errorf("7.x → %v", err)
	}
}

// Each record kind goes where the package documentation says, and an
// incident's newer version replaces the older one.
func TestTargetsAndIncidentLatestVersion(t *testing.T) {
	fake := newFake(t, esfake.Options{})
	s := newSink(t, testConfig(fake.URL()))
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	inc := sinktest.Incidents(1)[0]
	ev := schema.Event{ID: "ev1", Timestamp: fixedNow, Event: schema.EventMeta{Kind: schema.KindLogon}}
	batch := append(append(alertItems(1), sinktest.Items(inc)...), sinktest.Items(ev)...)
	if err := s.Push(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	inc.Version, inc.Status = 2, schema.IncidentClosed
	if err := s.Push(context.Background(), sinktest.Items(inc)); err != nil {
		t.Fatal(err)
	}
	if !fake.IsDataStream("logs-castellan.alert-default") || fake.IsDataStream("castellan-incidents-default") {
		t.Fatal("template resolution")
	}
	for target, id := range map[string]string{"logs-castellan.alert-default": batch[0].ID, "logs-castellan.event-default": "ev1"} {
		if _, ok := fake.Document(target, id); !ok {
			t.Errorf("%s not in %s (targets %v)", id, target, fake.Targets())
		}
	}
	d, ok := fake.Document("castellan-incidents-default", inc.ID)
	if !ok {
		t.Fatal("incident not stored")
	}
	var doc struct {
		Castellan struct {
			Incident struct {
				Version int
				Status  string
			}
		}
	}
	_ = json.Unmarshal(d.Source, &doc)
	if d.Version != 2 || doc.Castellan.Incident.Version != 2 || doc.Castellan.Incident.Status != "closed" || fake.Count("castellan-incidents-default") != 1 {
		t.Fatalf("incident doc version %d, body %+v", d.Version, doc)
	}
}

// The golden _bulk body, from records queued as schema JSON (decoded and
// mapped at push) and from records encoded at enqueue (framed at push):
// the same bytes either way.
func TestPayloadGolden(t *testing.T) {
	inc := sinktest.Incidents(1)[0]
	ev := schema.Event{ID: "ev1", Timestamp: fixedNow, Event: schema.EventMeta{Kind: schema.KindLogonFailure, Code: "4625", Outcome: "failure"},
		User: schema.User{Name: "bob", Domain: "CONTOSO"}, Source: schema.Endpoint{IP: "10.0.0.7"}}
	for name, enc := range map[string]delivery.EncodeFunc{"schema-json": delivery.NewItem, "encoded": Encode} {
		t.Run(name, func(t *testing.T) {
			batch := append(append(sinktest.EncodeItems(enc, sinktest.Alerts(2)...), sinktest.EncodeItems(enc, inc)...), sinktest.EncodeItems(enc, ev)...)
			batch = append(batch, delivery.Item{Kind: "alert", ID: "broken", Body: []byte(`{"id":`)})
			p := newEncoder("prod").encode(batch, fixedNow, 0)
			if len(p.bad) != 1 || p.bad[0].Index != 4 || !delivery.IsPermanent(p.bad[0].Err) {
				t.Fatalf("bad items %+v", p.bad)
			}
			if len(p.requests) != 1 || fmt.Sprint(p.requests[0].index) != "[0 1 2 3]" || fmt.Sprint(p.requests[0].ops) != "[create create index create]" {
				t.Fatalf("requests %+v", p.requests)
			}
			got := p.requests[0].body
			file := filepath.Join("testdata", "bulk.golden.ndjson")
			if *update && name == "schema-json" {
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("payload differs from %s (go test -update, then review):\n%s", file, got)
			}
		})
	}
}

// Encoded items carry no namespace or ingest time: both come from the
// sink at push, so a namespace change applies to records already queued
// and event.ingested is the hand-off time. Malformed or foreign bodies are
// dead-lettered, not sent.
func TestEncodedItemsFramedAtPush(t *testing.T) {
	al := sinktest.Alerts(1)[0]
	it, err := Encode(al)
	if err != nil {
		t.Fatal(err)
	}
	if it.Format != Format || it.ID != al.ID || it.Kind != schema.RecordAlert || it.Severity != al.Severity {
		t.Fatalf("item %+v", it)
	}
	if bytes.Contains(it.Body, []byte(`"data_stream"`)) || bytes.Contains(it.Body, []byte(`"ingested"`)) {
		t.Fatalf("queued body carries push-time fields: %s", it.Body)
	}
	for _, ns := range []string{"prod", "eu"} {
		at := fixedNow.Add(time.Hour)
		p := newEncoder(ns).encode([]delivery.Item{it}, at, 0)
		want, _ := json.Marshal(ecs.FromAlert(&al, ecs.Options{Namespace: ns, Ingested: at}))
		lines := bytes.Split(bytes.TrimSuffix(p.requests[0].body, []byte{'\n'}), []byte{'\n'})
		if len(lines) != 2 || !bytes.Contains(lines[0], []byte(`"_index":"logs-castellan.alert-`+ns+`"`)) {
			t.Fatalf("%s: action %s", ns, lines[0])
		}
		var gotDoc, wantDoc any
		if err := json.Unmarshal(lines[1], &gotDoc); err != nil {
			t.Fatal(err)
		}
		_ = json.Unmarshal(want, &wantDoc)
		if fmt.Sprint(gotDoc) != fmt.Sprint(wantDoc) {
			t.Errorf("%s: framed document\n%s\nwant\n%s", ns, lines[1], want)
		}
	}
	bad := []delivery.Item{
		{Kind: "alert", ID: "a", Format: Format, Body: []byte(`{"@timestamp":"2025-01-01T00:00:00Z"}`)},
		{Kind: "alert", ID: "b", Format: Format, Body: []byte(`{"x":1,"event":{"kind":"alert","reason":"}`)},
		{Kind: "alert", ID: "c", Format: "hec/1", Body: []byte(`{}`)},
	}
	p := newEncoder("prod").encode(bad, fixedNow, 0)
	if len(p.bad) != 3 || len(p.requests) != 0 {
		t.Fatalf("bad %+v, requests %d", p.bad, len(p.requests))
	}
	for _, b := range p.bad {
		if !delivery.IsPermanent(b.Err) {
			t.Errorf("item %d: %v is not permanent", b.Index, b.Err)
		}
	}
}

func TestAuthHeaders(t *testing.T) {
	encoded := base64.StdEncoding.EncodeToString([]byte(keyID + ":" + keySecret))
	basicHdr := "Basic " + base64.StdEncoding.EncodeToString([]byte("castellan:"+password))
	cases := map[string]struct {
		set  func(*Config)
		want string
	}{
		// The client spells the scheme "APIKey"; Elasticsearch matches it case-insensitively.
		"api key id:key":  {func(c *Config) {}, "APIKey " + encoded},
		"api key encoded": {func(c *Config) { c.APIKey = secret.Secret(encoded) }, "APIKey " + encoded},
		"basic": {func(c *Config) {
			c.APIKey, c.Username, c.Password = "", "castellan", secret.Secret(password)
		}, basicHdr},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			fake := newFake(t, esfake.Options{APIKey: keyID + ":" + keySecret, Username: "castellan", Password: password})
			cfg := testConfig(fake.URL())
			c.set(cfg)
			s := newSink(t, cfg)
			if err := s.Push(context.Background(), alertItems(2)); err != nil {
				t.Fatal(err)
			}
			for _, r := range fake.Requests() {
				if got := r.Header.Get("Authorization"); got != c.want {
					t.Fatalf("%s %s: Authorization %q, want %q", r.Method, r.Path, got, c.want)
				}
			}
		})
	}
	t.Run("wrong key is permanent", func(t *testing.T) {
		fake := newFake(t, esfake.Options{APIKey: "other:key"})
		err := newSink(t, testConfig(fake.URL())).Start(context.Background())
		if !delivery.IsPermanent(err) || !strings.Contains(err.Error(), "security_exception") {
			t.Fatalf("401 → %v", err)
		}
	})
}

// Secrets appear in no error, log line or printed config.
func TestSecretsNeverPrinted(t *testing.T) {
	secrets := []string{keySecret, password, base64.StdEncoding.EncodeToString([]byte(keyID + ":" + keySecret)),
		base64.StdEncoding.EncodeToString([]byte("castellan:" + password))}
	var out bytes.Buffer
	check := func(what string) {
		t.Helper()
		for _, sec := range secrets {
			if strings.Contains(out.String(), sec) {
				t.Fatalf("%s leaks a secret: %s", what, out.String())
			}
		}
		out.Reset()
	}
	cfg := testConfig("http://127.0.0.1:1")
	cfg.Username, cfg.Password = "castellan", secret.Secret(password) // both methods: a validation error
	fmt.Fprintf(&out, "%v %+v %#v %s", cfg, cfg, cfg, cfg.Validate())
	check("config print and validation")
	bad := testConfig("https://castellan:" + password + "@es.example:9200")
	fmt.Fprint(&out, bad.Validate())
	check("validation of an address with credentials")

	// The server refuses both credentials; every error and log line is read.
	fake := newFake(t, esfake.Options{APIKey: "other:key"})
	log := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, set := range []func(*Config){func(*Config) {}, func(c *Config) { c.APIKey, c.Username, c.Password = "", "castellan", secret.Secret(password) }} {
		c := testConfig(fake.URL())
		set(c)
		s := newSink(t, c)
		fmt.Fprint(&out, s.Start(context.Background()), s.Push(context.Background(), alertItems(2)))
		log.Info("sink", "config", c)
		db, err := bolt.Open(filepath.Join(t.TempDir(), "s.db"), 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		q, _ := delivery.NewQueue(db, "elastic")
		_ = q.Enqueue(alertItems(3))
		snd := delivery.NewSender("elastic", q, s, delivery.SenderConfig{MinBackoff: time.Millisecond, PollInterval: time.Millisecond}, log, nil)
		snd.Start()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = snd.Drain(ctx)
		_ = snd.Shutdown(ctx)
		cancel()
		dls, _ := q.DeadLetters()
		for _, d := range dls {
			fmt.Fprint(&out, d.Reason)
		}
		if len(dls) != 0 || q.Len() != 3 {
			t.Errorf("a 401 during setup must keep records queued: %d dead, %d queued", len(dls), q.Len())
		}
		db.Close()
		if !strings.Contains(out.String(), "security_exception") {
			t.Fatalf("the check saw no failure output: %s", out.String())
		}
		check("errors, logs and dead letters after a 401")
	}
}

func TestConfigValidate(t *testing.T) {
	ok := testConfig("https://es01:9200")
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		set  func(*Config)
		want string
	}{
		"no address":          {func(c *Config) { c.Addresses = nil }, "addresses: set addresses or cloud_id"},
		"both":                {func(c *Config) { c.CloudID = "x:eA==" }, "not both"},
		"bad url":             {func(c *Config) { c.Addresses = []string{"es01:9200"} }, "addresses[0]"},
		"no auth":             {func(c *Config) { c.APIKey = "" }, "api_key: required"},
		"two auths":           {func(c *Config) { c.Username, c.Password = "u", "p" }, "not both"},
		"user without pw":     {func(c *Config) { c.APIKey, c.Username = "", "u" }, "password: required"},
		"namespace dash":      {func(c *Config) { c.Namespace = "prod-eu" }, "namespace"},
		"namespace upper":     {func(c *Config) { c.Namespace = "Prod" }, "namespace"},
		"negative flush":      {func(c *Config) { c.FlushBytes = -1 }, "flush_bytes"},
		"bad kind":            {func(c *Config) { c.Select.Kinds = []string{"bogus"} }, "kinds"},
		"cloud id malformed":  {func(c *Config) { c.Addresses, c.CloudID = nil, "nocolon" }, "cloud_id"},
		"credentials in addr": {func(c *Config) { c.Addresses = []string{"https://u:p@es01:9200"} }, "must not embed credentials"},
	}
	for name, c := range cases {
		cfg := testConfig("https://es01:9200")
		c.set(cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	d := NewDefaultConfig()
	if !d.InstallTemplates || d.Namespace != "default" || d.FlushBytes != 5<<20 || d.Timeout != 30*time.Second {
		t.Errorf("defaults %+v", d)
	}
	cloud := testConfig("")
	cloud.Addresses, cloud.CloudID = nil, "castellan:"+base64.StdEncoding.EncodeToString([]byte("es.example.com$abc123$def456"))
	if err := cloud.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := New(cloud); err != nil {
		t.Fatalf("cloud id: %v", err)
	}
}

// BenchmarkPush measures end to end records per second into esfake, as
// the pipeline drives the sink: Encode each typed alert (map to ECS,
// encode JSON, at enqueue), then Push (frame the _bulk NDJSON, HTTP, and
// the fake's parse and store, on the same cores).
func BenchmarkPush(b *testing.B) {
	fake := newFake(b, esfake.Options{DiscardSources: true})
	s := newSink(b, testConfig(fake.URL()))
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	const batch = 500
	pool := sinktest.Alerts(batch * 20)
	recs := make([]schema.Alert, batch)
	items := make([]delivery.Item, batch)
	b.ResetTimer()
	n := 0
	for i := 0; b.Loop(); i++ {
		off := (i % 20) * batch
		copy(recs, pool[off:off+batch])
		for j := range recs {
			recs[j].ID = fmt.Sprintf("%s-%d", recs[j].ID, i) // fresh ids: creates, not 409s
			it, err := Encode(recs[j])
			if err != nil {
				b.Fatal(err)
			}
			items[j] = it
		}
		if err := s.Push(context.Background(), items); err != nil {
			b.Fatal(err)
		}
		n += batch
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkEncode measures Encode alone (ECS mapping and JSON per alert).
func BenchmarkEncode(b *testing.B) {
	recs := sinktest.Alerts(500)
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range recs {
			if _, err := Encode(r); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "records/s")
}
