package sentinel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/monitor/ingestion/azlogs"

	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/sinks/delivery"
)

// maxIsolateCalls bounds the extra uploads one Push spends narrowing a 400
// down to the rows the service refuses; past it the remaining rows of a
// refused call are dead-lettered together.
const maxIsolateCalls = 64

// Sink uploads records to Sentinel custom tables. It is safe for concurrent
// use; the delivery sender calls Push from one goroutine.
type Sink struct {
	cfg     Config
	client  *azlogs.Client
	streams map[string]string // record kind → stream
	limit   atomic.Int64      // compressed bytes per call; lowered by a 413 naming a smaller limit
}

// New builds the sink with the azidentity credential of cfg.Auth. It makes
// no network calls.
func New(cfg *Config) (*Sink, error) {
	cred, err := NewCredential(cfg.Auth, cfg.Cloud)
	if err != nil {
		return nil, err
	}
	return NewWithCredential(cfg, cred, azcore.ClientOptions{})
}

// NewWithCredential builds the sink with a given credential and client
// options (tests pass a fake credential and the TLS double's client as
// Transport). The cloud comes from cfg.Cloud unless opts.Cloud is set;
// azcore retries are turned off, as delivery.Sender retries.
func NewWithCredential(cfg *Config, cred azcore.TokenCredential, opts azcore.ClientOptions) (*Sink, error) {
	c := *cfg
	if c.MaxCallBytes <= 0 {
		c.MaxCallBytes = DefaultMaxCallBytes
	}
	if c.MaxUncompressedCallBytes <= 0 {
		c.MaxUncompressedCallBytes = DefaultMaxUncompressedCallBytes
	}
	if opts.Cloud.Services == nil {
		cc, err := cloudConfig(c.Cloud, "")
		if err != nil {
			return nil, fmt.Errorf("sentinel: %w", err)
		}
		opts.Cloud = cc
	}
	opts.Retry = policy.RetryOptions{MaxRetries: -1}
	if opts.Telemetry.ApplicationID == "" {
		opts.Telemetry.ApplicationID = "castellan"
	}
	client, err := azlogs.NewClient(c.Endpoint, cred, &azlogs.ClientOptions{ClientOptions: opts})
	if err != nil {
		return nil, fmt.Errorf("sentinel: %w", err)
	}
	s := &Sink{cfg: c, client: client, streams: map[string]string{
		schema.RecordEvent:    c.Streams.Events,
		schema.RecordAlert:    c.Streams.Alerts,
		schema.RecordIncident: c.Streams.Incidents,
		schema.RecordFinding:  c.Streams.Findings,
		schema.RecordAction:   c.Streams.Actions,
	}}
	s.limit.Store(int64(c.MaxCallBytes))
	return s, nil
}

// Close releases nothing; it exists for the pipeline's Sink.Close.
func (s *Sink) Close() error { return nil }

// group is the rows of one stream in batch order.
type group struct {
	stream string
	rows   [][]byte
	idx    []int
}

// outcome collects per-item failures of one Push.
type outcome struct {
	failed map[int]error
	ok     int
	order  []int // failed indexes in first-failure order
}

func (o *outcome) fail(idx []int, err error) {
	for _, i := range idx {
		if _, dup := o.failed[i]; !dup {
			o.order = append(o.order, i)
		}
		o.failed[i] = err
	}
}

// Push uploads a batch; see the package documentation for the outcomes.
func (s *Sink) Push(ctx context.Context, batch []delivery.Item) error {
	out := &outcome{failed: map[int]error{}}
	rows, errs := encodeAll(batch)
	var groups []*group
	byStream := map[string]*group{}
	for i := range batch {
		it := &batch[i]
		stream := s.streams[it.Kind]
		switch {
		case stream == "":
			out.fail([]int{i}, delivery.Permanent(fmt.Errorf("sentinel: no table for %s records", it.Kind)))
			continue
		case errs[i] != nil:
			out.fail([]int{i}, delivery.Permanent(fmt.Errorf("sentinel: encode %s %s: %w", it.Kind, it.ID, errs[i])))
			continue
		}
		g := byStream[stream]
		if g == nil {
			g = &group{stream: stream}
			byStream[stream] = g
			groups = append(groups, g)
		}
		g.rows = append(g.rows, rows[i])
		g.idx = append(g.idx, i)
	}

	budget := maxIsolateCalls
	var stop error // a retryable or account-wide error: no further uploads
	for _, g := range groups {
		p := packer{limit: int(s.limit.Load()), rawLimit: s.cfg.MaxUncompressedCallBytes}
		rowAt := make(map[int][]byte, len(g.idx))
		for k, i := range g.idx {
			rowAt[i] = g.rows[k]
		}
		calls, tooBig := p.pack(g.rows, g.idx)
		for _, i := range tooBig {
			out.fail([]int{i}, delivery.Permanent(fmt.Errorf(
				"sentinel: %s %s: its row alone exceeds %d bytes compressed (or %d uncompressed) and cannot be sent",
				batch[i].Kind, batch[i].ID, p.limit, p.rawLimit)))
		}
		for _, c := range calls {
			if stop != nil {
				out.fail(c.idx, stop)
				continue
			}
			err := s.upload(ctx, g.stream, c)
			if err == nil {
				out.ok += len(c.idx)
				continue
			}
			var ue *uploadError
			switch {
			case errors.As(err, &ue) && ue.status == http.StatusBadRequest && len(c.idx) > 1:
				stop = s.isolate(ctx, g.stream, c.idx, rowAt, &budget, out, err)
			case errors.As(err, &ue) && ue.status == http.StatusNotFound:
				out.fail(c.idx, err) // this stream (or rule) is unknown; other streams may work
			case errors.As(err, &ue) && (ue.status == http.StatusUnauthorized || ue.status == http.StatusForbidden):
				out.fail(c.idx, err)
				stop = err
			case delivery.IsPermanent(err) || delivery.IsTooLarge(err):
				out.fail(c.idx, err)
			default: // throttled, 5xx, network, context
				out.fail(c.idx, err)
				stop = err
			}
		}
	}
	return out.result(len(batch))
}

// encodeAll turns every item into its row, on up to GOMAXPROCS goroutines
// for large batches (decoding and encoding JSON is most of a push's CPU).
func encodeAll(batch []delivery.Item) ([][]byte, []error) {
	rows := make([][]byte, len(batch))
	errs := make([]error, len(batch))
	workers := min(runtime.GOMAXPROCS(0), len(batch)/256+1)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*len(batch)/workers, (w+1)*len(batch)/workers
		wg.Go(func() {
			var enc rowEncoder
			for i := lo; i < hi; i++ {
				rows[i], errs[i] = enc.encode(&batch[i])
			}
		})
	}
	wg.Wait()
	return rows, errs
}

// isolate narrows a 400 down by halving: halves that succeed are stored,
// single rows that fail are dead-lettered, and the budget bounds the extra
// calls. It returns a retryable error that should stop the Push.
func (s *Sink) isolate(ctx context.Context, stream string, idx []int, rowAt map[int][]byte, budget *int, out *outcome, err error) (stop error) {
	if len(idx) == 1 || *budget <= 0 {
		out.fail(idx, err)
		return nil
	}
	half := len(idx) / 2
	for _, part := range [][]int{idx[:half], idx[half:]} {
		if stop != nil {
			out.fail(part, stop)
			continue
		}
		*budget--
		rows := make([][]byte, len(part))
		for k, i := range part {
			rows[k] = rowAt[i]
		}
		body, gerr := gzipRows(rows)
		if gerr != nil {
			out.fail(part, gerr)
			continue
		}
		perr := s.upload(ctx, stream, call{body: body, idx: part})
		var ue *uploadError
		switch {
		case perr == nil:
			out.ok += len(part)
		case errors.As(perr, &ue) && ue.status == http.StatusBadRequest:
			stop = s.isolate(ctx, stream, part, rowAt, budget, out, perr)
		case delivery.IsPermanent(perr) || delivery.IsTooLarge(perr):
			out.fail(part, perr)
		default:
			out.fail(part, perr)
			stop = perr
		}
	}
	return stop
}

// result turns the outcome into Push's error: nil when all succeeded; the
// one shared error when every item failed alike (so a single 413 reaches the
// sender as TooLarge and a 429 as Throttled); else a PartialError naming
// only the failed items.
func (o *outcome) result(n int) error {
	if len(o.failed) == 0 {
		return nil
	}
	if len(o.failed) == n {
		first := o.failed[o.order[0]]
		same, allTooLarge := true, true
		for _, i := range o.order {
			e := o.failed[i]
			same = same && sameErr(e, first)
			allTooLarge = allTooLarge && delivery.IsTooLarge(e) && !delivery.IsPermanent(e)
		}
		if same || allTooLarge {
			return first
		}
	}
	pe := &delivery.PartialError{Failed: make([]delivery.ItemError, 0, len(o.failed))}
	for _, i := range o.order {
		pe.Failed = append(pe.Failed, delivery.ItemError{Index: i, Err: o.failed[i]})
	}
	return pe
}

// sameErr reports whether a and b are the same error value; values of
// non-comparable types are never the same.
func sameErr(a, b error) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

// uploadError is a classified Logs Ingestion failure. Its text is short and
// never holds request headers (the bearer token).
type uploadError struct {
	status int
	code   string
	msg    string
	hint   string
	err    error
}

func (e *uploadError) Error() string {
	s := fmt.Sprintf("sentinel: upload: HTTP %d", e.status)
	if e.code != "" {
		s += " " + e.code
	}
	if e.msg != "" {
		s += ": " + e.msg
	}
	if e.hint != "" {
		s += " (" + e.hint + ")"
	}
	return s
}

func (e *uploadError) Unwrap() error { return e.err }

const accessHint = "grant the sink's identity the Monitoring Metrics Publisher role on the Data Collection Rule; a new assignment can take up to 30 minutes to apply"

var limitPattern = regexp.MustCompile(`Maximum allowed content length: ([0-9]+) bytes`)

// upload sends one call and classifies its failure.
func (s *Sink) upload(ctx context.Context, stream string, c call) error {
	if s.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.Timeout)
		defer cancel()
	}
	enc := "gzip"
	_, err := s.client.Upload(ctx, s.cfg.RuleID, stream, c.body, &azlogs.UploadOptions{ContentEncoding: &enc})
	if err == nil {
		return nil
	}
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return fmt.Errorf("sentinel: upload %d rows to %s: %w", len(c.idx), stream, ctx.Err())
		}
		return fmt.Errorf("sentinel: upload %d rows to %s: %w", len(c.idx), stream, err)
	}
	ue := &uploadError{status: re.StatusCode, code: re.ErrorCode, err: re}
	ue.msg = errorMessage(re)
	switch re.StatusCode {
	case http.StatusRequestEntityTooLarge:
		if m := limitPattern.FindStringSubmatch(ue.msg); m != nil {
			if n, err := strconv.ParseInt(m[1], 10, 64); err == nil && n >= minCallBytes && n < s.limit.Load() {
				s.limit.Store(n)
			}
		}
		return delivery.TooLarge(ue)
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		if re.StatusCode == http.StatusServiceUnavailable {
			ue.hint = "the service is unavailable, or a new role assignment is still propagating"
		}
		return delivery.Throttled(ue, retryAfter(re.RawResponse))
	case http.StatusUnauthorized, http.StatusForbidden:
		ue.hint = accessHint
		return delivery.Permanent(ue)
	case http.StatusBadRequest:
		return delivery.Permanent(ue)
	case http.StatusNotFound:
		ue.hint = "check endpoint, rule_id and the stream names against the deployed DCR"
		return delivery.Permanent(ue)
	}
	return ue // other 4xx/5xx: retry
}

// errorMessage reads error.message from the documented envelope.
func errorMessage(re *azcore.ResponseError) string {
	if re.RawResponse == nil || re.RawResponse.Body == nil {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(re.RawResponse.Body, 64<<10))
	var env struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &env) == nil && env.Error.Message != "" {
		return env.Error.Message
	}
	if len(b) > 512 {
		b = b[:512]
	}
	return string(b)
}

// retryAfter reads retry-after-ms, x-ms-retry-after-ms, then Retry-After
// (seconds or an HTTP date), as azcore does; 0 when absent, leaving the
// wait to the sender's backoff.
func retryAfter(resp *http.Response) time.Duration {
	if resp == nil {
		return 0
	}
	for _, h := range []string{"retry-after-ms", "x-ms-retry-after-ms"} {
		if v := resp.Header.Get(h); v != "" {
			if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms > 0 {
				return time.Duration(ms) * time.Millisecond
			}
		}
	}
	if v := resp.Header.Get("Retry-After"); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs >= 0 {
			return time.Duration(secs) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil {
			if d := time.Until(t); d > 0 {
				return d
			}
			return 0
		}
	}
	return 0
}
