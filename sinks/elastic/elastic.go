package elastic

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/castellan-itdr/castellan/mappings/ecs"
	"github.com/castellan-itdr/castellan/sinks/delivery"
	"github.com/castellan-itdr/castellan/sinks/httpbody"
)

// Sink writes records to Elasticsearch. Push is called by one delivery
// sender at a time; Start and Push may race safely.
type Sink struct {
	cfg    Config
	client *elasticsearch.Client
	now    func() time.Time

	encMu sync.Mutex
	enc   *encoder

	setupMu sync.Mutex
	ready   bool
}

var _ delivery.Pusher = (*Sink)(nil)

// New builds the sink from a validated config. It makes no network call.
func New(cfg *Config) (*Sink, error) {
	c := *cfg
	if c.FlushBytes == 0 {
		c.FlushBytes = DefaultFlushBytes
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Namespace == "" {
		c.Namespace = DefaultNamespace
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 8
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.TLS.InsecureSkipVerify} //nolint:gosec // opt-in, documented as test-only
	if c.TLS.CAFile != "" {
		pem, err := os.ReadFile(c.TLS.CAFile)
		if err != nil {
			return nil, fmt.Errorf("elastic: tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("elastic: tls.ca_file %s: no PEM certificate found", c.TLS.CAFile)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	esCfg := elasticsearch.Config{
		Addresses:    c.Addresses,
		CloudID:      c.CloudID,
		Username:     c.Username,
		Password:     c.Password.Value(),
		APIKey:       encodeAPIKey(c.APIKey.Value()),
		Transport:    tr,
		DisableRetry: true, // delivery retries, honouring Retry-After
	}
	client, err := elasticsearch.NewClient(esCfg)
	if err != nil {
		// The client's errors name the field, never its value; still, keep
		// them off the secret path by not wrapping the config.
		return nil, fmt.Errorf("elastic: client: %w", err)
	}
	return &Sink{cfg: c, client: client, now: time.Now, enc: newEncoder(c.Namespace)}, nil
}

// encodeAPIKey accepts the encoded key Kibana shows, or "id:key".
func encodeAPIKey(k string) string {
	if strings.Contains(k, ":") {
		return base64.StdEncoding.EncodeToString([]byte(k))
	}
	return k
}

// Start checks that the cluster answers as Elasticsearch 8 or later and
// installs the templates unless install_templates is false. Call it once
// before the sender starts; a failure here means the sink cannot work yet
// (bad credentials, wrong address). Push repeats the setup until it succeeds.
func (s *Sink) Start(ctx context.Context) error {
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	if s.ready {
		return nil
	}
	if err := s.setup(ctx); err != nil {
		return err
	}
	s.ready = true
	return nil
}

// Close releases idle connections. Safe twice.
func (s *Sink) Close() error {
	if tr, ok := s.client.Transport.(interface{ CloseIdleConnections() }); ok {
		tr.CloseIdleConnections()
	}
	return nil
}

func (s *Sink) setup(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	res, err := esapi.InfoRequest{}.Do(ctx, s.client)
	if err != nil {
		return transportError("check cluster", err)
	}
	body, err := readClose(res)
	if err != nil {
		return fmt.Errorf("elastic: check cluster: read response: %w", err)
	}
	if res.IsError() {
		return statusError("check cluster", res, body)
	}
	var info struct {
		Version struct {
			Number string `json:"number"`
		} `json:"version"`
	}
	if err := json.Unmarshal(body, &info); err != nil {
		return fmt.Errorf("elastic: check cluster: decode info: %w", err)
	}
	major, _, _ := strings.Cut(info.Version.Number, ".")
	if n, err := strconv.Atoi(major); err != nil || n < 8 {
		return delivery.Permanent(fmt.Errorf("elastic: cluster version %q: need Elasticsearch 8 or later", info.Version.Number))
	}
	if !s.cfg.InstallTemplates {
		return nil
	}
	for _, t := range ecs.Templates() {
		var res *esapi.Response
		var err error
		if t.Kind == ecs.ComponentTemplate {
			res, err = esapi.ClusterPutComponentTemplateRequest{Name: t.Name, Body: bytes.NewReader(t.Body)}.Do(ctx, s.client)
		} else {
			res, err = esapi.IndicesPutIndexTemplateRequest{Name: t.Name, Body: bytes.NewReader(t.Body)}.Do(ctx, s.client)
		}
		what := "install " + t.Kind + " template " + t.Name
		if err != nil {
			return transportError(what, err)
		}
		body, err := readClose(res)
		if err != nil {
			return fmt.Errorf("elastic: %s: read response: %w", what, err)
		}
		if res.IsError() {
			return statusError(what, res, body)
		}
	}
	return nil
}

// ensureReady runs the setup from Push when Start was not called or failed.
// Its failure is always retryable: records stay queued until the cluster
// and templates are in place.
func (s *Sink) ensureReady(ctx context.Context) error {
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	if s.ready {
		return nil
	}
	if err := s.setup(ctx); err != nil {
		if d, ok := delivery.RetryAfter(err); ok {
			return delivery.Throttled(fmt.Errorf("elastic: setup: %w", errors.Unwrap(err)), d)
		}
		if delivery.IsPermanent(err) {
			err = errors.Unwrap(err)
		}
		return fmt.Errorf("elastic: setup failed, records stay queued: %w", err)
	}
	s.ready = true
	return nil
}

// Push writes one batch and returns once every item has an outcome: nil,
// a *delivery.PartialError naming the failed items, or an error for the
// whole batch (see the package documentation for the classification).
func (s *Sink) Push(ctx context.Context, batch []delivery.Item) error {
	if len(batch) == 0 {
		return nil
	}
	if err := s.ensureReady(ctx); err != nil {
		return err
	}
	s.encMu.Lock()
	p := s.enc.encode(batch, s.now(), s.cfg.FlushBytes)
	s.encMu.Unlock()

	failed := p.bad
	for k, req := range p.requests {
		itemErrs, err := s.send(ctx, req)
		if err != nil {
			if k == 0 && len(p.bad) == 0 {
				return err // the whole batch failed: the sender retries, waits, splits or dead-letters it
			}
			// Earlier requests were stored; fail this one and the rest.
			if delivery.IsTooLarge(err) {
				err = fmt.Errorf("elastic: request %d of %d too large; retrying from there: %w", k+1, len(p.requests), errors.Unwrap(err))
			}
			for _, r := range p.requests[k:] {
				for _, i := range r.index {
					failed = append(failed, delivery.ItemError{Index: i, Err: err})
				}
			}
			break
		}
		failed = append(failed, itemErrs...)
	}
	if len(failed) > 0 {
		return &delivery.PartialError{Failed: failed}
	}
	return nil
}

// send posts one _bulk request and classifies the outcome.
func (s *Sink) send(ctx context.Context, req request) ([]delivery.ItemError, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	res, err := esapi.BulkRequest{Body: bytes.NewReader(req.body)}.Do(ctx, s.client)
	if err != nil {
		return nil, transportError("bulk", err)
	}
	body, err := readClose(res)
	if err != nil {
		return nil, fmt.Errorf("elastic: bulk: read response: %w", err)
	}
	if res.IsError() {
		return nil, statusError("bulk", res, body)
	}
	return itemErrors(req, body)
}

// bulkResponse is the part of a _bulk response the sink reads.
type bulkResponse struct {
	Errors bool                      `json:"errors"`
	Items  []map[string]itemResponse `json:"items"`
}

type itemResponse struct {
	ID     string     `json:"_id"`
	Status int        `json:"status"`
	Error  *esErrInfo `json:"error"`
}

type esErrInfo struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// itemErrors reads per-item outcomes: 2xx and 409 on create are delivered;
// 429 and 5xx retryable; other statuses permanent.
func itemErrors(req request, body []byte) ([]delivery.ItemError, error) {
	// Most responses report no errors: count their items without building
	// them, and read the items only when some failed.
	errorsSeen, n, ok := bulkSummary(body)
	if !ok {
		var brief struct {
			Errors bool       `json:"errors"`
			Items  []struct{} `json:"items"`
		}
		if err := json.Unmarshal(body, &brief); err != nil {
			return nil, fmt.Errorf("elastic: bulk: decode response: %w", err)
		}
		errorsSeen, n = brief.Errors, len(brief.Items)
	}
	if n != len(req.index) {
		return nil, fmt.Errorf("elastic: bulk: %d items in the response for %d sent", n, len(req.index))
	}
	if !errorsSeen {
		return nil, nil
	}
	var r bulkResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("elastic: bulk: decode response: %w", err)
	}
	var out []delivery.ItemError
	for k, m := range r.Items {
		op, it := only(m)
		st := it.Status
		if st >= 200 && st < 300 || (st == http.StatusConflict && op == opCreate && it.Error != nil && it.Error.Type == "version_conflict_engine_exception") {
			continue
		}
		msg := fmt.Sprintf("item %s: HTTP %d", it.ID, st)
		if it.Error != nil {
			msg += " " + it.Error.Type + ": " + it.Error.Reason
		}
		err := errors.New("elastic: " + msg)
		switch {
		case st == http.StatusTooManyRequests:
			err = delivery.Throttled(err, 0)
		case st >= 500:
		default:
			err = delivery.Permanent(err)
		}
		out = append(out, delivery.ItemError{Index: req.index[k], Err: err})
	}
	return out, nil
}

// only returns the single op → item entry of a response item.
func only(m map[string]itemResponse) (string, itemResponse) {
	for op, it := range m {
		return op, it
	}
	return "", itemResponse{}
}

func readClose(res *esapi.Response) ([]byte, error) {
	defer res.Body.Close()
	const limit = 64 << 20
	rd := io.LimitReader(res.Body, limit)
	n := int64(0)
	if h := res.Header.Get("Content-Length"); h != "" && res.Header.Get("Content-Encoding") == "" {
		n, _ = strconv.ParseInt(h, 10, 64)
	}
	return httpbody.Read(rd, n, limit)
}

// transportError classifies a request that got no HTTP response: network
// errors, timeouts and a server that is not Elasticsearch are retryable.
func transportError(what string, err error) error {
	if strings.Contains(err.Error(), "not Elasticsearch") {
		return fmt.Errorf("elastic: %s: the server did not identify as Elasticsearch (missing X-Elastic-Product header; a proxy, or OpenSearch, which is unsupported): %w", what, err)
	}
	return fmt.Errorf("elastic: %s: %w", what, err)
}

// statusError classifies a non-2xx response to a whole request.
func statusError(what string, res *esapi.Response, body []byte) error {
	var env struct {
		Error esErrInfo `json:"error"`
	}
	_ = json.Unmarshal(body, &env)
	msg := fmt.Sprintf("elastic: %s: HTTP %d", what, res.StatusCode)
	if env.Error.Type != "" {
		msg += " " + env.Error.Type + ": " + env.Error.Reason
	}
	err := errors.New(msg)
	switch st := res.StatusCode; {
	case st == http.StatusUnauthorized:
		return delivery.Permanent(fmt.Errorf("%w (check api_key, or username and password)", err))
	case st == http.StatusForbidden:
		return delivery.Permanent(fmt.Errorf("%w (the key or user needs create_doc and auto_configure on logs-castellan.*, index on castellan-incidents-*, and manage_index_templates)", err))
	case st == http.StatusRequestEntityTooLarge:
		return delivery.TooLarge(fmt.Errorf("%w (http.max_content_length)", err))
	case st == http.StatusTooManyRequests || st == http.StatusServiceUnavailable:
		return delivery.Throttled(err, retryAfter(res.Header.Get("Retry-After")))
	case st >= 500:
		return err
	default:
		return delivery.Permanent(err)
	}
}

// retryAfter parses Retry-After (seconds or an HTTP date); 0 when absent.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, time.Until(t))
	}
	return 0
}
