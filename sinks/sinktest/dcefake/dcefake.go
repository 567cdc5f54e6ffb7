package dcefake

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/castellan-itdr/castellan/mappings/asim"
	"github.com/castellan-itdr/castellan/sinks/sinktest"
)

// Defaults.
const (
	// RuleID is the default DCR immutable id.
	RuleID = "dcr-00000000000000000000000000000000"
	// Token is the default accepted bearer token: the one
	// azcore/fake.TokenCredential issues.
	Token = "fake_token"
	// APIVersion is the only api-version the endpoint serves.
	APIVersion = "2023-01-01"
	// MaxBodyBytes is the service's per-call limit on the raw body.
	MaxBodyBytes = 1 << 20
	// MaxDecompressedBytes caps a gzip body once inflated.
	MaxDecompressedBytes = 50 << 20
)

// Options configures the double. The zero value serves RuleID with the
// Castellan streams of mappings/asim (one per table of asim.Tables: events,
// alerts, incidents, findings, actions) and accepts Token.
type Options struct {
	RuleID string
	// Streams maps stream names to their declared columns; default the
	// streams of asim.Tables().
	Streams map[string][]asim.Column
	// Token is the accepted bearer token; default Token.
	Token string
	// MaxBodyBytes and MaxDecompressedBytes override the limits.
	MaxBodyBytes         int64
	MaxDecompressedBytes int64
	// DiscardRows keeps only the EventIds of stored rows, not the rows
	// (for benchmarks that send millions).
	DiscardRows bool
}

// Call is one request as the double saw it.
type Call struct {
	Stream            string
	Status            int
	Code              string // error code, "" on 204
	Gzip              bool
	BodyBytes         int // raw body size (compressed when gzip)
	DecompressedBytes int
	Rows              int
}

// Server is the DCE double. Safe for concurrent use.
type Server struct {
	*sinktest.Faults
	opts    Options
	streams map[string]map[string]string // stream → column → type
	srv     *httptest.Server

	mu       sync.Mutex
	accepted []string
	rows     map[string][]json.RawMessage
	rejected map[string]bool
	deny     bool
	calls    []Call
}

// New starts the double on a TLS listener.
func New(opts Options) *Server {
	if opts.RuleID == "" {
		opts.RuleID = RuleID
	}
	if opts.Token == "" {
		opts.Token = Token
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = MaxBodyBytes
	}
	if opts.MaxDecompressedBytes <= 0 {
		opts.MaxDecompressedBytes = MaxDecompressedBytes
	}
	if opts.Streams == nil {
		opts.Streams = map[string][]asim.Column{}
		for _, t := range asim.Tables() {
			opts.Streams[t.Stream] = t.Columns
		}
	}
	s := &Server{
		Faults:   &sinktest.Faults{},
		opts:     opts,
		streams:  map[string]map[string]string{},
		rows:     map[string][]json.RawMessage{},
		rejected: map[string]bool{},
	}
	for name, cols := range opts.Streams {
		m := map[string]string{}
		for _, c := range cols {
			m[c.Name] = strings.ToLower(c.Type)
		}
		s.streams[name] = m
	}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(s.handle))
	return s
}

// URL is the endpoint (https://127.0.0.1:port), the DCE logs ingestion URL.
func (s *Server) URL() string { return s.srv.URL }

// Client is an http.Client that trusts the double's certificate; use it as
// azcore.ClientOptions.Transport.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// RuleID is the DCR immutable id the double serves.
func (s *Server) RuleID() string { return s.opts.RuleID }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// DedupesByID is false: Log Analytics stores every row it is sent.
func (s *Server) DedupesByID() bool { return false }

// Accepted returns the EventId of every stored row in arrival order,
// duplicates included.
func (s *Server) Accepted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.accepted...)
}

// Rows returns the stored rows of a stream (nil with DiscardRows).
func (s *Server) Rows(stream string) []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]json.RawMessage(nil), s.rows[stream]...)
}

// Reject makes every request holding a row with one of these EventIds fail
// with 400 InvalidPayload; nothing of such a request is stored.
func (s *Server) Reject(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.rejected[id] = true
	}
}

// DenyAccess makes requests with a valid token fail with 403 OperationFailed
// (no Monitoring Metrics Publisher role on the DCR) while on.
func (s *Server) DenyAccess(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deny = on
}

// Calls returns every request seen, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// ResetCalls forgets the recorded calls (not the stored rows).
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// MeanBodyBytes is the mean raw body size of the successful (204) calls.
func (s *Server) MeanBodyBytes() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, sum := 0, 0
	for _, c := range s.calls {
		if c.Status == http.StatusNoContent {
			n++
			sum += c.BodyBytes
		}
	}
	if n == 0 {
		return 0
	}
	return float64(sum) / float64(n)
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
}

// fail writes the error envelope and records the call.
func (s *Server) fail(w http.ResponseWriter, c *Call, status int, code, msg string) {
	c.Status, c.Code = status, code
	s.record(*c)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("x-ms-error-code", code)
	w.WriteHeader(status)
	body, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": msg}})
	_, _ = w.Write(body)
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	c := Call{Gzip: strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip")}
	// Route: /dataCollectionRules/{id}/streams/{stream}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if r.Method != http.MethodPost || len(parts) != 4 || parts[0] != "dataCollectionRules" || parts[2] != "streams" ||
		r.URL.Query().Get("api-version") != APIVersion {
		s.fail(w, &c, http.StatusNotFound, "NotFound", fmt.Sprintf("No HTTP resource was found that matches the request URI '%s'.", r.URL.String()))
		return
	}
	ruleID, stream := parts[1], parts[3]
	c.Stream = stream

	if f := s.Next(); f.Status != 0 {
		sinktest.SetRetryAfter(w, f.RetryAfter)
		s.fail(w, &c, f.Status, faultCode(f.Status), "Injected fault: "+http.StatusText(f.Status))
		return
	} else if f.Drop {
		defer sinktest.DropConnection(w)
		w = discardWriter{w.Header()} // process fully, answer nothing
	}

	auth := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || tok != s.opts.Token {
		s.fail(w, &c, http.StatusUnauthorized, "OperationFailed",
			"The authentication token provided is missing, malformed, expired or not issued for https://monitor.azure.com.")
		return
	}
	s.mu.Lock()
	deny := s.deny
	s.mu.Unlock()
	if deny {
		s.fail(w, &c, http.StatusForbidden, "OperationFailed", fmt.Sprintf(
			"The authentication token provided does not have access to ingest data for the data collection rule with immutable Id '%s' PipelineAccessResult: AccessGranted: False, IsRbacPresent: False, IsDcrPresent: True, IsDcrInCache: True, AccessGrantedVia: , AccessDeniedReason: Rbac", ruleID))
		return
	}
	if ruleID != s.opts.RuleID {
		s.fail(w, &c, http.StatusNotFound, "NotFound", fmt.Sprintf("Data collection rule with immutable Id '%s' not found.", ruleID))
		return
	}
	cols, ok := s.streams[stream]
	if !ok {
		s.fail(w, &c, http.StatusNotFound, "NotFound", fmt.Sprintf("Stream '%s' is not declared in data collection rule '%s'.", stream, ruleID))
		return
	}

	raw, err := readAll(io.LimitReader(r.Body, s.opts.MaxBodyBytes+1), min(r.ContentLength, s.opts.MaxBodyBytes+1))
	if err != nil {
		s.fail(w, &c, http.StatusBadRequest, "InvalidPayload", "Could not read the request body: "+err.Error())
		return
	}
	c.BodyBytes = len(raw)
	if int64(len(raw)) > s.opts.MaxBodyBytes {
		_, _ = io.Copy(io.Discard, r.Body)
		provided := r.ContentLength
		if provided < 0 {
			provided = int64(len(raw))
		}
		c.BodyBytes = int(provided)
		s.fail(w, &c, http.StatusRequestEntityTooLarge, "ContentLengthLimitExceeded", fmt.Sprintf(
			"Maximum allowed content length: %d bytes (%d MB). Provided content length: %d bytes.", s.opts.MaxBodyBytes, s.opts.MaxBodyBytes>>20, provided))
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		s.fail(w, &c, http.StatusBadRequest, "InvalidPayload", fmt.Sprintf("Content-Type must be application/json, got %q.", ct))
		return
	}
	body := raw
	switch enc := strings.ToLower(r.Header.Get("Content-Encoding")); enc {
	case "":
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			s.fail(w, &c, http.StatusBadRequest, "InvalidPayload", "The gzip body could not be decompressed: "+err.Error())
			return
		}
		hint := int64(0)
		if len(raw) >= 4 { // ISIZE: the inflated size mod 2^32, from the gzip trailer
			hint = min(int64(binary.LittleEndian.Uint32(raw[len(raw)-4:]))+1, s.opts.MaxDecompressedBytes+1)
		}
		body, err = readAll(io.LimitReader(zr, s.opts.MaxDecompressedBytes+1), hint)
		if err != nil {
			s.fail(w, &c, http.StatusBadRequest, "InvalidPayload", "The gzip body could not be decompressed: "+err.Error())
			return
		}
		if int64(len(body)) > s.opts.MaxDecompressedBytes {
			s.fail(w, &c, http.StatusRequestEntityTooLarge, "PayloadSizeLimitExceeded", fmt.Sprintf(
				"The decompressed payload exceeds the maximum of %d bytes.", s.opts.MaxDecompressedBytes))
			return
		}
	default:
		s.fail(w, &c, http.StatusBadRequest, "InvalidPayload", fmt.Sprintf("Unsupported Content-Encoding %q.", enc))
		return
	}
	c.DecompressedBytes = len(body)

	rows, ids, err := validate(body, cols, !s.opts.DiscardRows)
	if err != nil {
		s.fail(w, &c, http.StatusBadRequest, "InvalidPayload", err.Error())
		return
	}
	c.Rows = len(ids)
	s.mu.Lock()
	for _, id := range ids {
		if s.rejected[id] {
			s.mu.Unlock()
			s.fail(w, &c, http.StatusBadRequest, "InvalidPayload", fmt.Sprintf("The record with EventId '%s' was rejected.", id))
			return
		}
	}
	s.accepted = append(s.accepted, ids...)
	if !s.opts.DiscardRows {
		s.rows[stream] = append(s.rows[stream], rows...)
	}
	c.Status = http.StatusNoContent
	s.calls = append(s.calls, c)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func faultCode(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "TooManyRequests"
	case http.StatusServiceUnavailable:
		return "ServiceUnavailable"
	case http.StatusForbidden:
		return "OperationFailed"
	default:
		return "InternalServerError"
	}
}

// readAll reads r into a buffer sized by hint (when positive).
func readAll(r io.Reader, hint int64) ([]byte, error) {
	var b bytes.Buffer
	if hint > 0 {
		b.Grow(int(hint) + bytes.MinRead)
	}
	_, err := b.ReadFrom(r)
	return b.Bytes(), err
}

// discardWriter swallows the response of a request whose connection will
// be dropped.
type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}

var _ sinktest.Double = (*Server)(nil)
