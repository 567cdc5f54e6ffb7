package sinktest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/sinks/delivery"
)

// refDouble is the smallest honest target: POST /push with a JSON array of
// {"id":…}; 200 {"items":[{"status":201|400}]}; it stores every copy.
type refDouble struct {
	*Faults
	srv      *httptest.Server
	mu       sync.Mutex
	accepted []string
	reject   map[string]bool
}

func newRefDouble(*testing.T) Double {
	d := &refDouble{Faults: &Faults{}, reject: map[string]bool{}}
	d.srv = httptest.NewServer(http.HandlerFunc(d.serve))
	return d
}

func (d *refDouble) URL() string       { return d.srv.URL }
func (d *refDouble) DedupesByID() bool { return false }
func (d *refDouble) Close()            { d.srv.Close() }

func (d *refDouble) Accepted() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.accepted...)
}

func (d *refDouble) Reject(ids ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, id := range ids {
		d.reject[id] = true
	}
}

func (d *refDouble) serve(w http.ResponseWriter, r *http.Request) {
	f := d.Next()
	if f.Status != 0 {
		SetRetryAfter(w, f.RetryAfter)
		w.WriteHeader(f.Status)
		return
	}
	var recs []struct{ ID string }
	if err := json.NewDecoder(r.Body).Decode(&recs); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	type status struct {
		Status int `json:"status"`
	}
	var resp struct {
		Items []status `json:"items"`
	}
	d.mu.Lock()
	for _, rec := range recs {
		if d.reject[rec.ID] {
			resp.Items = append(resp.Items, status{400})
			continue
		}
		d.accepted = append(d.accepted, rec.ID)
		resp.Items = append(resp.Items, status{201})
	}
	d.mu.Unlock()
	if f.Drop {
		DropConnection(w)
		return
	}
	_ = json.NewEncoder(w).Encode(resp)
}

// refPusher is a correct sink for refDouble.
type refPusher struct{ url string }

func (p refPusher) Push(ctx context.Context, batch []delivery.Item) error {
	recs := make([]map[string]string, len(batch))
	for i, it := range batch {
		recs[i] = map[string]string{"id": it.ID}
	}
	body, _ := json.Marshal(recs)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url+"/push", bytes.NewReader(body))
	if err != nil {
		return delivery.Permanent(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("ref: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == 429 || resp.StatusCode == 503:
		secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return delivery.Throttled(fmt.Errorf("ref: HTTP %d", resp.StatusCode), time.Duration(secs)*time.Second)
	case resp.StatusCode >= 500:
		return fmt.Errorf("ref: HTTP %d", resp.StatusCode)
	case resp.StatusCode != 200:
		return delivery.Permanent(fmt.Errorf("ref: HTTP %d", resp.StatusCode))
	}
	var out struct {
		Items []struct{ Status int }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return fmt.Errorf("ref: decode response: %w", err)
	}
	var pe delivery.PartialError
	for i, st := range out.Items {
		if st.Status != 201 {
			pe.Failed = append(pe.Failed, delivery.ItemError{Index: i, Err: delivery.Permanent(fmt.Errorf("ref: item status %d", st.Status))})
		}
	}
	if len(pe.Failed) > 0 {
		return &pe
	}
	return nil
}

// refFormat is the reference sink's own queued format.
const refFormat = "ref/1"

// refEncode is the reference sink's encoder: the record's id as the body.
func refEncode(r schema.Record) (delivery.Item, error) {
	body, err := json.Marshal(map[string]string{"id": r.RecordID()})
	return delivery.Item{Kind: r.RecordKind(), ID: r.RecordID(), Severity: r.RecordSeverity(), Format: refFormat, Body: body}, err
}

func refHarness(wrap func(delivery.Pusher) delivery.Pusher) Harness {
	return Harness{
		Name:   "ref",
		Double: newRefDouble,
		Pusher: func(_ *testing.T, d Double) delivery.Pusher { return wrap(refPusher{url: d.URL()}) },
		Encode: refEncode,
	}
}

func TestContractPassesForReferenceSink(t *testing.T) {
	CheckContract(t, refHarness(func(p delivery.Pusher) delivery.Pusher { return p }))
}

func TestFaultRecoveryReferenceSink(t *testing.T) {
	h := refHarness(func(p delivery.Pusher) delivery.Pusher { return p })
	t.Run("503", func(t *testing.T) { CheckFaultRecovery(t, h, 2000, 503, 2*time.Second) })
	t.Run("429", func(t *testing.T) { CheckFaultRecovery(t, h, 2000, 429, 3*time.Second) })
}

// brokenSinks are sinks with one realistic bug each; the contract must
// fail every one of them, with the message that names the bug.
var brokenSinks = map[string]struct {
	wrap func(delivery.Pusher) delivery.Pusher
	want string
}{
	// Loses every 10th record and reports success.
	"drop-every-10th": {func(p delivery.Pusher) delivery.Pusher {
		n := 0
		return delivery.PushFunc(func(ctx context.Context, batch []delivery.Item) error {
			var keep []delivery.Item
			for _, it := range batch {
				n++
				if n%10 != 0 {
					keep = append(keep, it)
				}
			}
			return p.Push(ctx, keep)
		})
	}, "never accepted"},
	// Drops the server's Retry-After: the sender retries after its own
	// (fast) backoff.
	"ignores-retry-after": {func(p delivery.Pusher) delivery.Pusher {
		return delivery.PushFunc(func(ctx context.Context, batch []delivery.Item) error {
			err := p.Push(ctx, batch)
			if _, ok := delivery.RetryAfter(err); ok {
				return errors.New("throttled, but the sink forgot Retry-After")
			}
			return err
		})
	}, "Retry-After"},
	// Gives up on a 503: the batch is dead-lettered instead of retried.
	"503-is-permanent": {func(p delivery.Pusher) delivery.Pusher {
		return delivery.PushFunc(func(ctx context.Context, batch []delivery.Item) error {
			err := p.Push(ctx, batch)
			if err != nil && strings.Contains(err.Error(), "HTTP 503") {
				return delivery.Permanent(err)
			}
			return err
		})
	}, "dead-lettered"},
	// Reads only its own format and refuses items queued as schema JSON
	// (before an upgrade, or replayed dead letters).
	"only-own-format": {func(p delivery.Pusher) delivery.Pusher {
		return delivery.PushFunc(func(ctx context.Context, batch []delivery.Item) error {
			var pe delivery.PartialError
			var keep []delivery.Item
			var idx []int
			for i, it := range batch {
				if it.Format != refFormat {
					pe.Failed = append(pe.Failed, delivery.ItemError{Index: i, Err: delivery.Permanent(errors.New("unknown item format"))})
					continue
				}
				keep, idx = append(keep, it), append(idx, i)
			}
			if err := p.Push(ctx, keep); err != nil {
				var inner *delivery.PartialError
				if !errors.As(err, &inner) {
					return err
				}
				for _, f := range inner.Failed {
					pe.Failed = append(pe.Failed, delivery.ItemError{Index: idx[f.Index], Err: f.Err})
				}
			}
			if len(pe.Failed) > 0 {
				return &pe
			}
			return nil
		})
	}, "unknown item format"},
	// Sends every batch twice (like a sink that resends a whole batch the
	// target already stored).
	"double-sends": {func(p delivery.Pusher) delivery.Pusher {
		return delivery.PushFunc(func(ctx context.Context, batch []delivery.Item) error {
			if err := p.Push(ctx, batch); err != nil {
				return err
			}
			return p.Push(ctx, batch)
		})
	}, "more than once"},
}

// TestBrokenSinkHelper runs the contract against one broken sink; it only
// runs as the subprocess of TestContractCatchesBrokenSinks.
func TestBrokenSinkHelper(t *testing.T) {
	name := os.Getenv("SINKTEST_BROKEN")
	if name == "" {
		t.Skip("subprocess helper")
	}
	CheckContract(t, refHarness(brokenSinks[name].wrap))
}

func TestContractCatchesBrokenSinks(t *testing.T) {
	for name, b := range brokenSinks {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenSinkHelper$", "-test.v")
			cmd.Env = append(os.Environ(), "SINKTEST_BROKEN="+name)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("the contract passed a broken sink (err %v):\n%s", err, out)
			}
			if !strings.Contains(string(out), b.want) {
				t.Fatalf("the contract failed, but not with %q:\n%s", b.want, out)
			}
		})
	}
}
