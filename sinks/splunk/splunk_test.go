package splunk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/sinks/delivery"
	"github.com/castellan-itdr/castellan/sinks/secret"
	"github.com/castellan-itdr/castellan/sinks/sinktest"
	"github.com/castellan-itdr/castellan/sinks/sinktest/hecfake"
)

func newSink(t testing.TB, url string, mod func(*Config)) *Sink {
	t.Helper()
	cfg := NewDefaultConfig()
	cfg.Endpoint, cfg.Token = url, secret.Secret(hecfake.Token)
	cfg.AckTimeout = 2 * time.Second
	if mod != nil {
		mod(cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func harness(opts hecfake.Options) sinktest.Harness {
	return sinktest.Harness{
		Name:   "splunk",
		Double: func(*testing.T) sinktest.Double { return hecfake.New(opts) },
		Pusher: func(t *testing.T, d sinktest.Double) delivery.Pusher {
			return newSink(t, d.URL(), func(c *Config) { c.UseAck = opts.UseACK })
		},
		Encode: Encode,
	}
}

func TestContract(t *testing.T) {
	sinktest.CheckContract(t, harness(hecfake.Options{}))
}

func TestContractWithAcks(t *testing.T) {
	sinktest.CheckContract(t, harness(hecfake.Options{UseACK: true, AckDelay: 30 * time.Millisecond}))
}

// The acceptance tests: a 30 s outage while 10,000 alerts flow, then a kill
// mid-flush and a restart.
func TestFaultRecovery503(t *testing.T) {
	if testing.Short() {
		t.Skip("30 s outage")
	}
	sinktest.CheckFaultRecovery(t, harness(hecfake.Options{}), 10000, 503, 30*time.Second)
}

func TestFaultRecovery429(t *testing.T) {
	if testing.Short() {
		t.Skip("30 s outage")
	}
	sinktest.CheckFaultRecovery(t, harness(hecfake.Options{UseACK: true}), 10000, 429, 30*time.Second)
}

func TestSendsHECRequests(t *testing.T) {
	d := hecfake.New(hecfake.Options{Indexes: []string{"security"}})
	defer d.Close()
	s := newSink(t, d.URL()+"/services/collector/event", func(c *Config) {
		c.Index, c.Source, c.Host = "security", "castellan:prod", "castellan-01"
	})
	recs := sinktest.Alerts(3)
	items := append(sinktest.Items(recs...), sinktest.Items(sinktest.Incidents(1)...)...)
	if err := s.Push(context.Background(), items); err != nil {
		t.Fatal(err)
	}
	evs := d.Events()
	if len(evs) != 4 {
		t.Fatalf("stored %d events; want 4", len(evs))
	}
	want := float64(recs[1].Timestamp.UnixMilli()) / 1000
	if e := evs[1]; e.Time != want || e.Sourcetype != "castellan:alert" || e.Index != "security" || e.Source != "castellan:prod" ||
		e.Host != "castellan-01" || e.Fields["castellan_id"] != recs[1].ID {
		t.Errorf("event metadata %+v", e)
	}
	if evs[3].Sourcetype != "castellan:incident" {
		t.Errorf("incident sourcetype %q", evs[3].Sourcetype)
	}
	r := d.Requests()[0]
	if r.Authorization != "Splunk "+hecfake.Token || r.Channel != s.Channel() || r.ContentType != "application/json" || r.Path != "/services/collector/event" {
		t.Errorf("request headers %+v", r)
	}
}

func TestSplitsByMaxBatchBytes(t *testing.T) {
	d := hecfake.New(hecfake.Options{MaxContentLength: 4096})
	defer d.Close()
	s := newSink(t, d.URL(), func(c *Config) { c.MaxBatchBytes = 4000 })
	items := sinktest.Items(sinktest.Alerts(40)...)
	if err := s.Push(context.Background(), items); err != nil {
		t.Fatal(err)
	}
	reqs := d.Requests()
	if len(reqs) < 5 {
		t.Fatalf("%d requests for 40 alerts at 4000 bytes; want several", len(reqs))
	}
	for _, r := range reqs {
		if r.Bytes > 4000 || r.Status != 200 {
			t.Errorf("request of %d bytes answered %d", r.Bytes, r.Status)
		}
	}
	if n := len(d.Accepted()); n != 40 {
		t.Fatalf("stored %d; want 40", n)
	}
}

// A failure on the third request of a batch acknowledges the first two.
func TestFailureMidBatchKeepsEarlierRequests(t *testing.T) {
	d := hecfake.New(hecfake.Options{})
	defer d.Close()
	s := newSink(t, d.URL(), func(c *Config) { c.MaxBatchBytes = 4000 })
	items := sinktest.Items(sinktest.Alerts(40)...)
	var perReq int
	{ // learn how many fit in one request
		probe := hecfake.New(hecfake.Options{})
		ps := newSink(t, probe.URL(), func(c *Config) { c.MaxBatchBytes = 4000 })
		_ = ps.Push(context.Background(), items)
		perReq = len(probe.Accepted()) / len(probe.Requests())
		probe.Close()
	}
	d.Reject(items[2*perReq+1].ID) // second event of the third request
	err := s.Push(context.Background(), items)
	var pe *delivery.PartialError
	if !errors.As(err, &pe) {
		t.Fatalf("want a PartialError, got %v", err)
	}
	failed := map[int]error{}
	for _, f := range pe.Failed {
		failed[f.Index] = f.Err
	}
	for i := range items {
		err, bad := failed[i]
		switch {
		case i <= 2*perReq:
			if bad {
				t.Errorf("item %d was indexed but reported failed: %v", i, err)
			}
		case i == 2*perReq+1:
			if !delivery.IsPermanent(err) {
				t.Errorf("the invalid item %d: want permanent, got %v", i, err)
			}
		default:
			if !bad || delivery.IsPermanent(err) {
				t.Errorf("item %d after the invalid one: want retryable, got %v", i, err)
			}
		}
	}
	if n := len(d.Accepted()); n != 2*perReq+1 {
		t.Errorf("stored %d; want %d", n, 2*perReq+1)
	}
}

func TestClassification(t *testing.T) {
	d := hecfake.New(hecfake.Options{Indexes: []string{"main"}})
	defer d.Close()
	acks := hecfake.New(hecfake.Options{UseACK: true})
	defer acks.Close()
	type want int
	const (
		ok want = iota
		retry
		throttled
		permanent
		tooLarge
	)
	cases := []struct {
		name  string
		setup func()
		mod   func(*Config)
		url   string
		want  want
		text  string
	}{
		{"success", nil, nil, "", ok, ""},
		{"503 busy (code 9)", func() { d.FailNext(1, 503, 3*time.Second) }, nil, "", throttled, "code 9"},
		{"429 at capacity", func() { d.FailNext(1, 429, time.Second) }, nil, "", throttled, "HTTP 429"},
		{"500 internal (code 8)", func() { d.FailNext(1, 500, 0) }, nil, "", retry, "code 8"},
		{"502", func() { d.FailNext(1, 502, 0) }, nil, "", retry, "HTTP 502"},
		{"413", func() { d.FailNext(1, 413, 0) }, nil, "", tooLarge, "max_batch_bytes"},
		{"403 invalid token (code 4)", nil, func(c *Config) { c.Token = "wrong-token-value" }, "", permanent, "check the HEC token"},
		{"400 incorrect index (code 7)", nil, func(c *Config) { c.Index = "secret" }, "", permanent, "index"},
		{"400 invalid data format (code 6)", func() { d.Reject(sinktest.Alerts(1)[0].ID) }, nil, "", permanent, "invalid-event-number 0"},
		{"400 data error without index → split", func() { d.FailNext(1, 400, 0) }, nil, "", permanent, "code 6"},
		{"404 not HEC", nil, nil, "/nothing-here", permanent, "not a HEC URL"},
		{"network error", nil, nil, "http://127.0.0.1:1", retry, "post"},
		{"acks: not acknowledged in time", func() { acks.LoseAcks(1) }, func(c *Config) { c.UseAck = true; c.AckTimeout = 200 * time.Millisecond }, "acks", retry, "not acknowledged"},
		{"no channel on an ack token (code 10) is permanent", nil, nil, "acks", permanent, "code 10"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			url := d.URL()
			switch c.url {
			case "":
			case "acks":
				url = acks.URL()
			default:
				if strings.HasPrefix(c.url, "http") {
					url = c.url
				} else {
					url = d.URL() + c.url
				}
			}
			if c.setup != nil {
				c.setup()
			}
			s := newSink(t, url, c.mod)
			if strings.Contains(c.name, "no channel") {
				s.channel = "" // what a client without channel support sends
			}
			err := s.Push(context.Background(), sinktest.Items(sinktest.Alerts(1)...))
			got := ok
			switch {
			case err == nil:
			case delivery.IsTooLarge(err):
				got = tooLarge
			case delivery.IsPermanent(err):
				got = permanent
			default:
				if _, isT := delivery.RetryAfter(err); isT {
					got = throttled
				} else {
					got = retry
				}
			}
			if got != c.want {
				t.Fatalf("got class %d (%v); want %d", got, err, c.want)
			}
			if c.text != "" && (err == nil || !strings.Contains(err.Error(), c.text)) {
				t.Errorf("error %v does not mention %q", err, c.text)
			}
			if err != nil && strings.Contains(err.Error(), "wrong-token-value") {
				t.Errorf("the token leaked into the error: %v", err)
			}
		})
	}
	// Retry-After is carried.
	d.FailNext(1, 503, 3*time.Second)
	err := newSink(t, d.URL(), nil).Push(context.Background(), sinktest.Items(sinktest.Alerts(1)...))
	if ra, _ := delivery.RetryAfter(err); ra != 3*time.Second {
		t.Errorf("Retry-After %v; want 3s", ra)
	}
	// A data error without invalid-event-number on one event is permanent,
	// on several it asks for a split.
	fresh := hecfake.New(hecfake.Options{})
	defer fresh.Close()
	fresh.FailNext(1, 400, 0)
	err = newSink(t, fresh.URL(), nil).Push(context.Background(), sinktest.Items(sinktest.Alerts(4)...))
	if !delivery.IsTooLarge(err) {
		t.Errorf("data error without index on 4 events: want a split, got %v", err)
	}
}

func TestClassifyTable(t *testing.T) {
	inv := func(i int) *int { return &i }
	cases := []struct {
		status int
		a      answer
		ra     string
		check  func(error) bool
	}{
		{200, answer{Code: 0}, "", func(e error) bool { return e == nil }},
		{200, answer{Code: 24}, "", func(e error) bool { return e == nil }},
		{400, answer{Code: 5}, "", delivery.IsTooLarge},
		{400, answer{Code: 6, Invalid: inv(3)}, "", delivery.IsPermanent},
		{400, answer{Code: 12, Invalid: inv(0)}, "", delivery.IsPermanent},
		{400, answer{Code: 13, Invalid: inv(0)}, "", delivery.IsPermanent},
		{400, answer{Code: 15, Invalid: inv(0)}, "", delivery.IsPermanent},
		{400, answer{Code: 7}, "", delivery.IsPermanent},
		{400, answer{Code: 10}, "", delivery.IsPermanent},
		{400, answer{Code: 11}, "", delivery.IsPermanent},
		{400, answer{Code: 14}, "", delivery.IsPermanent},
		{400, answer{Code: 16}, "", delivery.IsPermanent},
		{401, answer{Code: 2}, "", delivery.IsPermanent},
		{401, answer{Code: 3}, "", delivery.IsPermanent},
		{403, answer{Code: 1}, "", delivery.IsPermanent},
		{403, answer{Code: 4}, "", delivery.IsPermanent},
		{413, answer{Code: -1}, "", delivery.IsTooLarge},
		{429, answer{Code: 26}, "7", func(e error) bool { d, ok := delivery.RetryAfter(e); return ok && d == 7*time.Second }},
		{503, answer{Code: 9}, "", func(e error) bool { _, ok := delivery.RetryAfter(e); return ok && !delivery.IsPermanent(e) }},
		{503, answer{Code: 23}, "", func(e error) bool { _, ok := delivery.RetryAfter(e); return ok }},
		{500, answer{Code: 8}, "", func(e error) bool { return e != nil && !delivery.IsPermanent(e) && !delivery.IsTooLarge(e) }},
		{504, answer{Code: -1}, "", func(e error) bool { return e != nil && !delivery.IsPermanent(e) }},
	}
	if err := classify(400, answer{Code: 5}, "", 1); !delivery.IsPermanent(err) {
		t.Errorf("a data error on one event must be permanent: %v", err)
	}
	for _, c := range cases {
		if err := classify(c.status, c.a, c.ra, 2); !c.check(err) {
			t.Errorf("HTTP %d code %d: wrong class: %v", c.status, c.a.Code, err)
		}
	}
}

// The token never shows in errors, logs or printed config.
func TestTokenNeverLeaks(t *testing.T) {
	const tok = "a9b8c7d6-0000-4000-8000-supersecret01"
	d := hecfake.New(hecfake.Options{})
	defer d.Close()
	cfg := NewDefaultConfig()
	cfg.Endpoint, cfg.Token = d.URL(), tok
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	var errs []string
	for _, st := range []int{401, 403, 503, 500} {
		d.FailNext(1, st, 0)
		err := s.Push(context.Background(), sinktest.Items(sinktest.Alerts(1)...))
		errs = append(errs, err.Error(), fmt.Sprintf("%+v %#v", err, err))
		log.Error("push failed", "err", err, "config", cfg)
	}
	err = s.Push(context.Background(), sinktest.Items(sinktest.Alerts(1)...)) // 403 from the fake: unknown token
	errs = append(errs, fmt.Sprint(err))
	bad := newSink(t, "http://127.0.0.1:1", func(c *Config) { c.Token = tok })
	errs = append(errs, fmt.Sprint(bad.Push(context.Background(), sinktest.Items(sinktest.Alerts(1)...))))
	errs = append(errs, fmt.Sprintf("%v %+v %#v", cfg, cfg, *cfg), fmt.Sprintf("%+v %v %#v %s", s, s, s, s))
	log.Info("sink", "sink", s)
	all := strings.Join(errs, "\n") + logs.String()
	if strings.Contains(all, tok) || strings.Contains(all, "supersecret") {
		t.Fatalf("the token leaked:\n%s", all)
	}
	if !strings.Contains(all, "check the HEC token") {
		t.Errorf("the 403 should carry a hint:\n%s", all)
	}
}

func TestConfigValidate(t *testing.T) {
	c := NewDefaultConfig()
	err := c.Validate()
	for _, want := range []string{"endpoint: required", "token: required"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("empty config: %v; want %q", err, want)
		}
	}
	c.Endpoint, c.Token, c.Channel, c.MaxBatchBytes, c.Index = "ftp://x", "t", "not-a-guid", 10, "bad index"
	c.Select.Kinds = []string{"alerts"}
	err = c.Validate()
	for _, want := range []string{"endpoint:", "channel:", "max_batch_bytes:", "index:", "kinds:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad config: %v; want %q", err, want)
		}
	}
	c = NewDefaultConfig()
	c.Endpoint, c.Token = "https://splunk:8088", "t"
	if err := c.Validate(); err != nil {
		t.Errorf("good config: %v", err)
	}
}

func TestCheckHealth(t *testing.T) {
	d := hecfake.New(hecfake.Options{TLS: true})
	defer d.Close()
	s := newSink(t, d.URL(), func(c *Config) { c.TLS.InsecureSkipVerify = true })
	if err := s.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	d.SetHealth(18)
	if err := s.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "code 18") {
		t.Fatalf("unhealthy: %v", err)
	}
	if err := s.Push(context.Background(), sinktest.Items(sinktest.Alerts(2)...)); err != nil {
		t.Fatalf("push over TLS: %v", err)
	}
}
