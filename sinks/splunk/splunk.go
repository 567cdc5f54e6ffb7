package splunk

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/sinks/delivery"
)

// Sink sends records to Splunk HEC. Push is called by one delivery.Sender
// at a time; Close may be called concurrently and twice.
type Sink struct {
	cfg      Config
	env      envelope
	eventURL string
	ackURL   string
	health   string
	auth     string // "Splunk <token>", never printed
	channel  string
	client   *http.Client
}

// New builds the sink. It does no network I/O (see Check).
func New(cfg *Config) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("splunk: %w", err)
	}
	c := *cfg
	base := strings.TrimRight(c.Endpoint, "/")
	if i := strings.Index(base, "/services/collector"); i >= 0 {
		base = base[:i]
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 4
	if c.TLS.CAFile != "" || c.TLS.InsecureSkipVerify {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.TLS.InsecureSkipVerify} //nolint:gosec // opt-in, documented as tests only
		if c.TLS.CAFile != "" {
			pem, err := os.ReadFile(c.TLS.CAFile)
			if err != nil {
				return nil, fmt.Errorf("splunk: tls.ca_file: %w", err)
			}
			pool, err := x509.SystemCertPool()
			if err != nil || pool == nil {
				pool = x509.NewCertPool()
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("splunk: tls.ca_file %s: no PEM certificates", c.TLS.CAFile)
			}
			tc.RootCAs = pool
		}
		tr.TLSClientConfig = tc
	}
	ch := c.Channel
	if ch == "" {
		ch = newGUID()
	}
	return &Sink{
		cfg:      c,
		env:      envelope{Index: c.Index, Source: c.Source, Host: c.Host, SourcetypePrefix: c.SourcetypePrefix},
		eventURL: base + "/services/collector/event",
		ackURL:   base + "/services/collector/ack",
		health:   base + "/services/collector/health",
		auth:     "Splunk " + c.Token.Value(),
		channel:  ch,
		client:   &http.Client{Transport: tr, Timeout: c.Timeout},
	}, nil
}

// String names the sink without its token (fmt cannot redact unexported
// fields, so the whole value is summarized).
func (s *Sink) String() string { return "splunk sink " + s.eventURL }

// GoString is String, so %#v does not print the token either.
func (s *Sink) GoString() string { return s.String() }

// LogValue is String, for log/slog.
func (s *Sink) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Channel returns the X-Splunk-Request-Channel GUID the sink sends.
func (s *Sink) Channel() string { return s.channel }

// Close releases idle connections. Safe twice.
func (s *Sink) Close() error {
	s.client.CloseIdleConnections()
	return nil
}

// Check asks /services/collector/health whether HEC is up; for Start.
func (s *Sink) Check(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.health, nil)
	if err != nil {
		return fmt.Errorf("splunk: health: %w", err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("splunk: health: %w", err)
	}
	defer resp.Body.Close()
	a := readAnswer(resp)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("splunk: health: HTTP %d code %d %q", resp.StatusCode, a.Code, a.Text)
	}
	return nil
}

// request is one HEC request: a slice of the pushed batch.
type request struct {
	first, n int // items [first, first+n) of the batch
	offsets  []int
	body     []byte
	ackID    int
}

// Push sends the batch as one or more HEC requests of at most
// MaxBatchBytes and reports per item what HEC did with it.
func (s *Sink) Push(ctx context.Context, batch []delivery.Item) error {
	var failed []delivery.ItemError
	var reqs []*request
	lines, errs := s.encode(batch)
	// Size each request's body once: the bytes left, up to the limit.
	left := 0
	for i := range batch {
		if errs[i] == nil {
			left += len(lines[i]) + 1
		}
	}
	newRequest := func() *request {
		return &request{body: make([]byte, 0, max(0, min(left, s.cfg.MaxBatchBytes)))}
	}
	cur := newRequest()
	for i, it := range batch {
		line, err := lines[i], errs[i]
		if err == nil && len(line)+1 > s.cfg.MaxBatchBytes {
			err = fmt.Errorf("splunk: %s %s: event of %d bytes exceeds max_batch_bytes %d", it.Kind, it.ID, len(line), s.cfg.MaxBatchBytes)
		}
		if err != nil {
			if errs[i] == nil {
				left -= len(line) + 1
			}
			failed = append(failed, delivery.ItemError{Index: i, Err: delivery.Permanent(err)})
			continue
		}
		if len(cur.body)+len(line)+1 > s.cfg.MaxBatchBytes && len(cur.offsets) > 0 {
			reqs = append(reqs, cur)
			cur = newRequest()
		}
		left -= len(line) + 1
		cur.offsets = append(cur.offsets, i)
		cur.body = append(cur.body, line...)
		cur.body = append(cur.body, '\n')
	}
	if len(cur.offsets) > 0 {
		reqs = append(reqs, cur)
	}

	var sent []*request
	for j, r := range reqs {
		ackID, invalid, err := s.send(ctx, r.body, len(r.offsets))
		if err == nil {
			r.ackID = ackID
			sent = append(sent, r)
			continue
		}
		if invalid >= 0 && invalid < len(r.offsets) {
			// HEC indexed the events before the invalid one (with use_ack
			// too: a 400 carries no ackId, and HEC documents the prefix as
			// indexed). The invalid event gets err (permanent for a data
			// error, throttled for code 9); the rest are retried.
			failed = append(failed, delivery.ItemError{Index: r.offsets[invalid], Err: err})
			retry := err
			if delivery.IsPermanent(err) {
				retry = fmt.Errorf("splunk: not indexed: an earlier event of the request was invalid: %w", errors.Unwrap(err))
			}
			for _, i := range r.offsets[invalid+1:] {
				failed = append(failed, delivery.ItemError{Index: i, Err: retry})
			}
		} else {
			if j == 0 && len(failed) == 0 {
				return err // the whole batch: let delivery split, dead-letter or retry it
			}
			itemErr := err
			if delivery.IsTooLarge(err) {
				itemErr = fmt.Errorf("splunk: request too large; will be split on retry: %w", err)
			}
			for _, i := range r.offsets {
				failed = append(failed, delivery.ItemError{Index: i, Err: itemErr})
			}
		}
		for _, rest := range reqs[j+1:] {
			for _, i := range rest.offsets {
				failed = append(failed, delivery.ItemError{Index: i, Err: errors.New("splunk: not sent: an earlier request of the batch failed")})
			}
		}
		break
	}

	if s.cfg.UseAck && len(sent) > 0 {
		pending, err := s.waitAcks(ctx, sent)
		for _, r := range pending {
			for _, i := range r.offsets {
				failed = append(failed, delivery.ItemError{Index: i, Err: err})
			}
		}
	}
	switch {
	case len(failed) == 0:
		return nil
	case len(failed) == len(batch) && allSame(failed):
		return failed[0].Err
	}
	return &delivery.PartialError{Failed: failed}
}

// encode turns every item into its HEC event line. Items in Format are
// only framed, into one arena; FormatRecord items (queued before an
// upgrade) are decoded and mapped, in parallel for large batches
// (appendEvent is pure).
func (s *Sink) encode(batch []delivery.Item) ([][]byte, []error) {
	lines := make([][]byte, len(batch))
	errs := make([]error, len(batch))
	var slow []int
	size, meta := 0, len(appendEnvelope(nil, schema.RecordIncident, s.env))+16
	for i := range batch {
		if batch[i].Format == Format {
			size += len(batch[i].Body) + meta
		} else {
			slow = append(slow, i)
		}
	}
	arena := make([]byte, 0, size)
	for i := range batch {
		if batch[i].Format != Format {
			continue
		}
		start := len(arena)
		var err error
		if arena, err = appendFramed(arena, batch[i], s.env); err != nil {
			arena, errs[i] = arena[:start], err
			continue
		}
		lines[i] = arena[start:len(arena):len(arena)]
	}
	workers := min(runtime.GOMAXPROCS(0), len(slow)/64+1)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for k := w; k < len(slow); k += workers {
				i := slow[k]
				lines[i], errs[i] = appendItem(make([]byte, 0, 2*len(batch[i].Body)), batch[i], s.env)
			}
		})
	}
	wg.Wait()
	return lines, errs
}

func allSame(f []delivery.ItemError) bool {
	for _, e := range f[1:] {
		if e.Err != f[0].Err {
			return false
		}
	}
	return true
}

// answer is a HEC response body.
type answer struct {
	Text    string `json:"text"`
	Code    int    `json:"code"`
	Invalid *int   `json:"invalid-event-number"`
	AckID   *int   `json:"ackId"`
}

func readAnswer(resp *http.Response) answer {
	var a answer
	a.Code = -1
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err := json.Unmarshal(body, &a); err != nil {
		a.Text = strings.TrimSpace(string(body))
		if len(a.Text) > 200 {
			a.Text = a.Text[:200]
		}
	}
	return a
}

// send POSTs one request body. It returns the ack id (with use_ack) or the
// classified error, and the invalid-event-number of a data error (-1 if
// none).
func (s *Sink) send(ctx context.Context, body []byte, events int) (ackID, invalid int, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.eventURL, bytes.NewReader(body))
	if err != nil {
		return 0, -1, delivery.Permanent(fmt.Errorf("splunk: %w", err))
	}
	req.Header.Set("Authorization", s.auth)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Splunk-Request-Channel", s.channel)
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, -1, fmt.Errorf("splunk: post %s: %w", s.eventURL, err)
	}
	defer resp.Body.Close()
	a := readAnswer(resp)
	err = classify(resp.StatusCode, a, resp.Header.Get("Retry-After"), events)
	if err == nil {
		if s.cfg.UseAck {
			if a.AckID == nil {
				return 0, -1, delivery.Permanent(errors.New("splunk: use_ack is set but HEC answered without an ackId: enable indexer acknowledgement on the token or set use_ack: false"))
			}
			return *a.AckID, -1, nil
		}
		return 0, -1, nil
	}
	if a.Invalid != nil && (isDataError(a.Code) || a.Code == 9) {
		return 0, *a.Invalid, err
	}
	return 0, -1, err
}

// hecError is a HEC answer: HTTP status, code and text (never the token).
type hecError struct {
	status int
	a      answer
	hint   string
}

func (e *hecError) Error() string {
	msg := fmt.Sprintf("splunk: HEC answered HTTP %d", e.status)
	if e.a.Code >= 0 {
		msg += fmt.Sprintf(" code %d", e.a.Code)
	}
	if e.a.Text != "" {
		msg += fmt.Sprintf(" %q", e.a.Text)
	}
	if e.a.Invalid != nil {
		msg += fmt.Sprintf(" (invalid-event-number %d)", *e.a.Invalid)
	}
	if e.hint != "" {
		msg += ": " + e.hint
	}
	return msg
}

func isDataError(code int) bool {
	switch code {
	case 5, 6, 12, 13, 15:
		return true
	}
	return false
}

// classify turns a HEC answer into nil or a delivery error.
// events is the number of events in the request (a data error on several
// events without invalid-event-number asks for a split; on one it is
// permanent).
func classify(status int, a answer, retryAfter string, events int) error {
	if status == http.StatusOK {
		return nil // code 0, or 24/25 "approaching capacity" warnings
	}
	e := &hecError{status: status, a: a}
	switch {
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		return delivery.Throttled(e, parseRetryAfter(retryAfter))
	case status == http.StatusRequestEntityTooLarge:
		e.hint = "request larger than HEC's max_content_length; lower max_batch_bytes"
		return delivery.TooLarge(e)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.hint = "check the HEC token (the token setting) and that it is enabled"
		return delivery.Permanent(e)
	case status == http.StatusBadRequest && isDataError(a.Code):
		if a.Invalid == nil && events > 1 {
			e.hint = "HEC rejected the batch as data; splitting it to find the bad event"
			return delivery.TooLarge(e)
		}
		return delivery.Permanent(e)
	case status == http.StatusBadRequest:
		switch a.Code {
		case 7:
			e.hint = "the token may not write to the index setting"
		case 10, 11:
			e.hint = "the token requires a valid channel (indexer acknowledgement); set use_ack: true"
		case 14:
			e.hint = "indexer acknowledgement is disabled on the token; set use_ack: false"
		case 16:
			e.hint = "query-string authorization is not enabled"
		}
		return delivery.Permanent(e)
	case status == http.StatusNotFound || status == http.StatusMethodNotAllowed:
		e.hint = "the endpoint is not a HEC URL (want https://host:8088)"
		return delivery.Permanent(e)
	case status >= 500:
		return e
	case status >= 400:
		return delivery.Permanent(e)
	}
	return e
}

func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// waitAcks polls /services/collector/ack until every request is acked or
// AckTimeout passes; it returns the requests still unacknowledged and the
// error to retry them with.
func (s *Sink) waitAcks(ctx context.Context, sent []*request) ([]*request, error) {
	deadline := time.Now().Add(s.cfg.AckTimeout)
	pending := sent
	wait := 20 * time.Millisecond
	var lastErr error
	for {
		ids := make([]int, len(pending))
		for i, r := range pending {
			ids[i] = r.ackID
		}
		acked, err := s.pollAcks(ctx, ids)
		if err != nil {
			lastErr = err
			if delivery.IsPermanent(err) {
				return pending, err
			}
		}
		var still []*request
		for _, r := range pending {
			if !acked[strconv.Itoa(r.ackID)] {
				still = append(still, r)
			}
		}
		pending = still
		if len(pending) == 0 {
			return nil, nil
		}
		if time.Now().Add(wait).After(deadline) {
			err := fmt.Errorf("splunk: %d request(s) not acknowledged within ack_timeout %s (channel %s); resending", len(pending), s.cfg.AckTimeout, s.channel)
			if lastErr != nil {
				err = fmt.Errorf("%w; last ack error: %w", err, lastErr)
			}
			return pending, err
		}
		select {
		case <-ctx.Done():
			return pending, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, time.Second)
	}
}

func (s *Sink) pollAcks(ctx context.Context, ids []int) (map[string]bool, error) {
	body, _ := json.Marshal(map[string][]int{"acks": ids})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.ackURL, bytes.NewReader(body))
	if err != nil {
		return nil, delivery.Permanent(fmt.Errorf("splunk: %w", err))
	}
	req.Header.Set("Authorization", s.auth)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Splunk-Request-Channel", s.channel)
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("splunk: ack: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, classify(resp.StatusCode, readAnswer(resp), resp.Header.Get("Retry-After"), 0)
	}
	var out struct {
		Acks map[string]bool `json:"acks"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return nil, fmt.Errorf("splunk: ack: decode: %w", err)
	}
	return out.Acks, nil
}

// newGUID returns a random (version 4) UUID for the request channel.
func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
