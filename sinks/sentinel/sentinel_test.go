package sentinel

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/castellan-itdr/castellan/internal/azcloud"
	"github.com/castellan-itdr/castellan/mappings/asim"
	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/sinks/delivery"
	"github.com/castellan-itdr/castellan/sinks/sinktest"
	"github.com/castellan-itdr/castellan/sinks/sinktest/dcefake"
)

func testConfig(d *dcefake.Server) *Config {
	c := NewDefaultConfig()
	c.Endpoint = d.URL()
	c.RuleID = d.RuleID()
	c.Auth = Auth{Method: azcloud.AuthClientSecret, TenantID: "t", ClientID: "c", ClientSecret: "s"}
	c.Timeout = 10 * time.Second
	return c
}

func newSink(t testing.TB, d *dcefake.Server, cfg *Config, cred azcore.TokenCredential, rt http.RoundTripper) *Sink {
	t.Helper()
	if cfg == nil {
		cfg = testConfig(d)
	}
	if cred == nil {
		cred = &fake.TokenCredential{}
	}
	var tr policy.Transporter = d.Client()
	if rt != nil {
		tr = &http.Client{Transport: rt}
	}
	s, err := NewWithCredential(cfg, cred, azcore.ClientOptions{Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func harness() sinktest.Harness {
	return sinktest.Harness{
		Name:   "sentinel",
		Double: func(t *testing.T) sinktest.Double { return dcefake.New(dcefake.Options{}) },
		Pusher: func(t *testing.T, d sinktest.Double) delivery.Pusher {
			return newSink(t, d.(*dcefake.Server), nil, nil, nil)
		},
		Encode: Encode,
	}
}

func TestContract(t *testing.T) { sinktest.CheckContract(t, harness()) }

func TestFaultRecovery503(t *testing.T) {
	if testing.Short() {
		t.Skip("30 s outage")
	}
	sinktest.CheckFaultRecovery(t, harness(), 10000, 503, 30*time.Second)
}

func TestFaultRecovery429(t *testing.T) {
	if testing.Short() {
		t.Skip("30 s outage")
	}
	sinktest.CheckFaultRecovery(t, harness(), 10000, 429, 30*time.Second)
}

// countRows returns how many times each id was stored.
func countRows(d *dcefake.Server) map[string]int {
	m := map[string]int{}
	for _, id := range d.Accepted() {
		m[id]++
	}
	return m
}

func TestRowsLandInTheirStreams(t *testing.T) {
	d := dcefake.New(dcefake.Options{})
	defer d.Close()
	s := newSink(t, d, nil, nil, nil)
	ev := schema.Event{ID: "ev1", Timestamp: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Event: schema.EventMeta{Kind: schema.KindLogon, Outcome: schema.OutcomeSuccess}, User: schema.User{Name: "alice"}}
	fi := schema.Finding{ID: "fi1", Timestamp: ev.Timestamp, AssessmentID: "guest-enabled", Status: "failed", Severity: schema.SeverityMedium}
	ac := schema.Action{ID: "ac1", Timestamp: ev.Timestamp, Type: "disable_user", Mode: "dry_run", Trigger: "operator:jdoe",
		Target: schema.User{Name: "mallory", Domain: "CONTOSO"}, Result: "simulated"}
	batch := append(sinktest.Items(ev), append(sinktest.Items(sinktest.Alerts(3)...), sinktest.Items(sinktest.Incidents(2)...)...)...)
	batch = append(batch, append(sinktest.Items(fi), sinktest.Items(ac)...)...)
	if err := s.Push(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	for stream, want := range map[string]int{asim.EventsStream: 1, asim.AlertsStream: 3, asim.IncidentsStream: 2,
		asim.FindingsStream: 1, asim.ActionsStream: 1} {
		if got := len(d.Rows(stream)); got != want {
			t.Errorf("%s: %d rows, want %d", stream, got, want)
		}
	}
	if !strings.Contains(string(d.Rows(asim.EventsStream)[0]), `"TargetUsername":"alice"`) {
		t.Errorf("event row %s", d.Rows(asim.EventsStream)[0])
	}
	if !strings.Contains(string(d.Rows(asim.ActionsStream)[0]), `"TargetUsername":"CONTOSO\\mallory"`) {
		t.Errorf("action row %s", d.Rows(asim.ActionsStream)[0])
	}
	for _, c := range d.Calls() {
		if !c.Gzip || c.Status != 204 {
			t.Errorf("call %+v: want gzip and 204", c)
		}
	}
}

func TestUnsupportedKindIsPermanentPerItem(t *testing.T) {
	d := dcefake.New(dcefake.Options{})
	defer d.Close()
	s := newSink(t, d, nil, nil, nil)
	batch := append(sinktest.Items(sinktest.Alerts(2)...), sinktest.Items(otherRecord{ID: "o1"})...)
	err := s.Push(context.Background(), batch)
	var pe *delivery.PartialError
	if !errors.As(err, &pe) || len(pe.Failed) != 1 || pe.Failed[0].Index != 2 || !delivery.IsPermanent(pe.Failed[0].Err) {
		t.Fatalf("want a PartialError naming item 2 as permanent, got %v", err)
	}
	if len(d.Accepted()) != 2 {
		t.Errorf("accepted %v", d.Accepted())
	}
}

// A 413 for the only upload of a push reaches the sender as TooLarge; the
// sink also learns the limit the service states and packs below it.
func Test413(t *testing.T) {
	d := dcefake.New(dcefake.Options{MaxBodyBytes: 64 << 10})
	defer d.Close()
	cfg := testConfig(d)
	cfg.MaxCallBytes = 200 << 10 // misconfigured above the (fake) service limit
	s := newSink(t, d, cfg, nil, nil)
	items := sinktest.Items(sinktest.Alerts(3000)...)
	err := s.Push(context.Background(), items[:1500])
	if !delivery.IsTooLarge(err) || delivery.IsPermanent(err) {
		t.Fatalf("want TooLarge, got %v", err)
	}
	if !strings.Contains(err.Error(), "ContentLengthLimitExceeded") {
		t.Errorf("error lacks the service code: %v", err)
	}
	if got := s.limit.Load(); got != 64<<10 {
		t.Errorf("learned limit %d, want %d", got, 64<<10)
	}
	if err := s.Push(context.Background(), items); err != nil {
		t.Fatalf("after learning the limit: %v", err)
	}
	if n := len(countRows(d)); n != 3000 {
		t.Errorf("%d distinct rows stored, want 3000", n)
	}
	for _, c := range d.Calls()[1:] {
		if c.BodyBytes > 64<<10 {
			t.Errorf("call of %d bytes after learning the 64 KiB limit", c.BodyBytes)
		}
	}
}

// A 413 without a stated limit (the decompressed cap) still comes back as
// TooLarge, and the sender's halving delivers everything.
func Test413SenderSplits(t *testing.T) {
	d := dcefake.New(dcefake.Options{MaxDecompressedBytes: 300 << 10})
	defer d.Close()
	s := newSink(t, d, nil, nil, nil)
	items := sinktest.Items(sinktest.Alerts(1000)...) // ~800 KB of rows inflated
	err := s.Push(context.Background(), items)
	if !delivery.IsTooLarge(err) {
		t.Fatalf("want TooLarge, got %v", err)
	}
	// What the sender does: halve until each half fits.
	var push func(b []delivery.Item)
	push = func(b []delivery.Item) {
		err := s.Push(context.Background(), b)
		switch {
		case err == nil:
		case delivery.IsTooLarge(err) && len(b) > 1:
			push(b[:len(b)/2])
			push(b[len(b)/2:])
		default:
			t.Fatalf("push of %d: %v", len(b), err)
		}
	}
	push(items)
	if m := countRows(d); len(m) != 1000 {
		t.Errorf("%d distinct rows stored, want 1000", len(m))
	}
	for id, n := range countRows(d) {
		if n != 1 {
			t.Errorf("%s stored %d times", id, n)
		}
	}
}

// failOnRequest makes the double fail the nth request (1-based) with a 429.
type failOnRequest struct {
	d      *dcefake.Server
	n      int64
	count  atomic.Int64
	status int
}

func (f *failOnRequest) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.count.Add(1) == f.n {
		f.d.FailNext(1, f.status, 2*time.Second)
	}
	return f.d.Client().Transport.RoundTrip(r)
}

// When a later upload of a push is throttled, the push reports exactly the
// items not stored, each Throttled with the Retry-After, and makes no
// further calls.
func TestPartialSuccessAcrossUploads(t *testing.T) {
	d := dcefake.New(dcefake.Options{})
	defer d.Close()
	cfg := testConfig(d)
	cfg.MaxCallBytes = 32 << 10 // several calls for a few thousand alerts
	s := newSink(t, d, cfg, nil, &failOnRequest{d: d, n: 2, status: 429})
	items := sinktest.Items(sinktest.Alerts(3000)...)
	err := s.Push(context.Background(), items)
	var pe *delivery.PartialError
	if !errors.As(err, &pe) {
		t.Fatalf("want a PartialError, got %v", err)
	}
	calls := d.Calls()
	if len(calls) != 2 || calls[0].Status != 204 || calls[1].Status != 429 {
		t.Fatalf("want one stored call then the 429 and nothing more, got %+v", calls)
	}
	stored := countRows(d)
	if len(stored) != calls[0].Rows || len(pe.Failed) != len(items)-calls[0].Rows {
		t.Fatalf("stored %d, failed %d, of %d", len(stored), len(pe.Failed), len(items))
	}
	for _, f := range pe.Failed {
		if stored[items[f.Index].ID] > 0 {
			t.Errorf("item %d was stored but reported failed (would be resent)", f.Index)
		}
		if ra, ok := delivery.RetryAfter(f.Err); !ok || ra != 2*time.Second || delivery.IsPermanent(f.Err) {
			t.Errorf("item %d: %v, want Throttled 2s", f.Index, f.Err)
		}
	}
}

// A 400 for a call of many rows is narrowed down to the refused rows.
func TestRejectIsolatesRows(t *testing.T) {
	d := dcefake.New(dcefake.Options{})
	defer d.Close()
	s := newSink(t, d, nil, nil, nil)
	items := sinktest.Items(sinktest.Alerts(500)...)
	d.Reject(items[7].ID, items[300].ID)
	err := s.Push(context.Background(), items)
	var pe *delivery.PartialError
	if !errors.As(err, &pe) || len(pe.Failed) != 2 {
		t.Fatalf("want a PartialError of 2 items, got %v", err)
	}
	got := []int{pe.Failed[0].Index, pe.Failed[1].Index}
	slices.Sort(got)
	if got[0] != 7 || got[1] != 300 || !delivery.IsPermanent(pe.Failed[0].Err) || !strings.Contains(pe.Failed[0].Err.Error(), "InvalidPayload") {
		t.Fatalf("failed %v: %v", got, pe.Failed[0].Err)
	}
	stored := countRows(d)
	if len(stored) != 498 {
		t.Errorf("%d stored, want 498", len(stored))
	}
	for id, n := range stored {
		if n != 1 {
			t.Errorf("%s stored %d times", id, n)
		}
	}
	if n := len(d.Calls()); n > 1+2*2*10 {
		t.Errorf("%d calls to isolate 2 rows of 500", n)
	}
}

func TestUnknownStreamIsPermanentForThatStreamOnly(t *testing.T) {
	d := dcefake.New(dcefake.Options{Streams: map[string][]asim.Column{asim.AlertsStream: asim.Tables()[1].Columns}})
	defer d.Close()
	s := newSink(t, d, nil, nil, nil)
	batch := append(sinktest.Items(sinktest.Incidents(2)...), sinktest.Items(sinktest.Alerts(3)...)...)
	err := s.Push(context.Background(), batch)
	var pe *delivery.PartialError
	if !errors.As(err, &pe) || len(pe.Failed) != 2 || !delivery.IsPermanent(pe.Failed[0].Err) || !strings.Contains(pe.Failed[0].Err.Error(), "404") {
		t.Fatalf("want the 2 incidents permanent (404), got %v", err)
	}
	if len(d.Accepted()) != 3 {
		t.Errorf("alerts not stored: %v", d.Accepted())
	}
}

// staticCred issues a fixed token.
type staticCred struct {
	token  string
	scopes atomic.Value
}

func (c *staticCred) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.scopes.Store(strings.Join(o.Scopes, " "))
	return azcore.AccessToken{Token: c.token, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func TestAuthFailuresArePermanentWithHint(t *testing.T) {
	d := dcefake.New(dcefake.Options{})
	defer d.Close()
	items := sinktest.Items(sinktest.Alerts(10)...)

	leaky := &staticCred{token: "eyJ-very-secret-token"}
	err := newSink(t, d, nil, leaky, nil).Push(context.Background(), items)
	if !delivery.IsPermanent(err) || !strings.Contains(err.Error(), "HTTP 401") || !strings.Contains(err.Error(), "Monitoring Metrics Publisher") {
		t.Errorf("wrong token: %v", err)
	}
	if err != nil && strings.Contains(err.Error(), leaky.token) {
		t.Errorf("the error shows the bearer token: %v", err)
	}
	if got := leaky.scopes.Load(); got != "https://monitor.azure.com//.default" {
		t.Errorf("token scope %q, want https://monitor.azure.com//.default", got)
	}

	d.DenyAccess(true)
	err = newSink(t, d, nil, nil, nil).Push(context.Background(), items)
	if !delivery.IsPermanent(err) || !strings.Contains(err.Error(), "HTTP 403 OperationFailed") ||
		!strings.Contains(err.Error(), "PipelineAccessResult") || !strings.Contains(err.Error(), "30 minutes") {
		t.Errorf("403: %v", err)
	}
	if len(d.Accepted()) != 0 {
		t.Errorf("stored without access: %v", d.Accepted())
	}
}

func TestThrottledCarriesRetryAfter(t *testing.T) {
	d := dcefake.New(dcefake.Options{})
	defer d.Close()
	s := newSink(t, d, nil, nil, nil)
	items := sinktest.Items(sinktest.Alerts(10)...)
	for _, c := range []struct {
		status int
		ra     time.Duration
	}{{429, 7 * time.Second}, {503, 3 * time.Second}, {503, 0}} {
		d.FailNext(1, c.status, c.ra)
		err := s.Push(context.Background(), items)
		ra, ok := delivery.RetryAfter(err)
		if !ok || ra != c.ra || delivery.IsPermanent(err) {
			t.Errorf("%d Retry-After %v: got %v (%v, %v)", c.status, c.ra, err, ra, ok)
		}
	}
	d.FailNext(1, 500, 0)
	if err := s.Push(context.Background(), items); err == nil || delivery.IsPermanent(err) || delivery.IsTooLarge(err) {
		t.Errorf("500 should be retryable: %v", err)
	}
	d.DropResponses(1)
	if err := s.Push(context.Background(), items); err == nil || delivery.IsPermanent(err) {
		t.Errorf("a dropped response should be retryable: %v", err)
	}
}

func TestRetryAfterHeader(t *testing.T) {
	h := func(k, v string) *http.Response {
		return &http.Response{Header: http.Header{http.CanonicalHeaderKey(k): {v}}}
	}
	for _, c := range []struct {
		resp *http.Response
		want time.Duration
	}{
		{h("Retry-After", "10"), 10 * time.Second},
		{h("retry-after-ms", "1500"), 1500 * time.Millisecond},
		{h("x-ms-retry-after-ms", "200"), 200 * time.Millisecond},
		{h("Retry-After", "soon"), 0},
		{&http.Response{Header: http.Header{}}, 0},
	} {
		if got := retryAfter(c.resp); got != c.want {
			t.Errorf("%v: %v, want %v", c.resp.Header, got, c.want)
		}
	}
	date := time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat)
	if got := retryAfter(h("Retry-After", date)); got < 25*time.Second || got > 30*time.Second {
		t.Errorf("HTTP-date Retry-After: %v", got)
	}
}
