package hecfake

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/castellan-itdr/castellan/sinks/httpbody"
	"github.com/castellan-itdr/castellan/sinks/jsonscan"
	"github.com/castellan-itdr/castellan/sinks/sinktest"
)

// Token is the default valid HEC token.
const Token = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"

// DefaultMaxContentLength is Splunk 6.4's limits.conf max_content_length.
const DefaultMaxContentLength = 1_000_000

// Options configures the double.
type Options struct {
	// Tokens are the valid tokens; default [Token].
	Tokens []string
	// DisabledTokens exist but are disabled (403 code 1).
	DisabledTokens []string
	// UseACK turns on indexer acknowledgement for every token.
	UseACK bool
	// AckDelay is how long after the request an ack id reads true.
	AckDelay time.Duration
	// Indexes the tokens may write to; empty = any. Events without an index
	// go to DefaultIndex.
	Indexes []string
	// DefaultIndex is the token's default index; default "main".
	DefaultIndex string
	// MaxContentLength is the request size limit in bytes (HTTP 413 above
	// it); default DefaultMaxContentLength.
	MaxContentLength int64
	// TLS serves https (httptest.NewTLSServer); use Server.Client.
	TLS bool
}

// Event is one stored event with its metadata.
type Event struct {
	Time       float64         // 0 when the request had none (receive time)
	Host       string          `json:"host"`
	Source     string          `json:"source"`
	Sourcetype string          `json:"sourcetype"`
	Index      string          `json:"index"`
	Event      json.RawMessage `json:"event"`
	Fields     map[string]any  `json:"fields"`
	Channel    string
}

// ID is the castellan id of the event: fields.castellan_id, else event.id.
func (e Event) ID() string {
	if s, ok := e.Fields["castellan_id"].(string); ok {
		return s
	}
	var body struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(e.Event, &body)
	return body.ID
}

// Server is the HEC double. Safe for concurrent use.
type Server struct {
	*sinktest.Faults
	opts Options
	srv  *httptest.Server

	mu       sync.Mutex
	events   []Event
	ids      []string
	reject   map[string]bool
	channels map[string]*channel
	loseAcks int
	delay    time.Duration
	health   int
	requests []Request
}

// Request is what the double saw of one event request, for assertions on
// headers.
type Request struct {
	Path          string
	Authorization string
	Channel       string
	ContentType   string
	Encoding      string
	Bytes         int
	Status, Code  int
}

type channel struct {
	next int
	acks map[int]ack
}

type ack struct {
	ready time.Time
	lost  bool
}

// New starts a double.
func New(opts Options) *Server {
	if len(opts.Tokens) == 0 {
		opts.Tokens = []string{Token}
	}
	if opts.DefaultIndex == "" {
		opts.DefaultIndex = "main"
	}
	if opts.MaxContentLength <= 0 {
		opts.MaxContentLength = DefaultMaxContentLength
	}
	s := &Server{Faults: &sinktest.Faults{}, opts: opts, reject: map[string]bool{}, channels: map[string]*channel{}, health: 17}
	mux := http.NewServeMux()
	for _, p := range []string{"/services/collector", "/services/collector/event", "/services/collector/event/1.0"} {
		mux.HandleFunc(p, s.serveEvent)
	}
	mux.HandleFunc("/services/collector/ack", s.serveAck)
	mux.HandleFunc("/services/collector/health", s.serveHealth)
	mux.HandleFunc("/services/collector/health/1.0", s.serveHealth)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		reply(w, http.StatusNotFound, "The requested URL was not found on this server.", 404)
	})
	if opts.TLS {
		s.srv = httptest.NewTLSServer(mux)
	} else {
		s.srv = httptest.NewServer(mux)
	}
	return s
}

// URL is the base URL (https://127.0.0.1:port with TLS).
func (s *Server) URL() string { return s.srv.URL }

// Client returns an http.Client that trusts the double's certificate.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// DedupesByID is false: HEC stores every copy.
func (s *Server) DedupesByID() bool { return false }

// Accepted returns the castellan ids of the stored events, in arrival order,
// one per stored copy.
func (s *Server) Accepted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ids...)
}

// Events returns the stored events with their metadata.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

// Requests returns what the double saw of each event request.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Reject makes events with these castellan ids invalid: the request gets
// 400 code 6 with their invalid-event-number, as HEC answers a malformed
// event.
func (s *Server) Reject(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.reject[id] = true
	}
}

// LoseAcks makes the next n successful requests on an ack-enabled token
// answer 200 with an ackId whose data is never indexed: the ack never reads
// true.
func (s *Server) LoseAcks(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loseAcks = n
}

// SetDelay makes every event request wait d before it is handled.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// SetHealth sets the health endpoint's code: 17 (healthy, default), 18, 19,
// 20 or 23 (503).
func (s *Server) SetHealth(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.health = code
}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// reply writes a HEC {"text","code"} body.
func reply(w http.ResponseWriter, status int, text string, code int, extra ...any) {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"text":%q,"code":%d`, text, code)
	for i := 0; i+1 < len(extra); i += 2 {
		fmt.Fprintf(&b, `,%q:%v`, extra[i], extra[i+1])
	}
	b.WriteString("}")
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// tooLarge answers HTTP 413. Splunk's body for max_content_length is not
// documented (reference §3.2 only names the status); the double sends a text
// without a code, and clients must classify on the status alone.
func tooLarge(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(http.StatusRequestEntityTooLarge)
	_, _ = fmt.Fprintf(w, `{"text":%q}`, text)
}

// auth checks the token; it returns false after answering.
func (s *Server) auth(w http.ResponseWriter, r *http.Request) bool {
	if r.URL.Query().Has("token") {
		reply(w, http.StatusBadRequest, "Query string authorization is not enabled", 16)
		return false
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		reply(w, http.StatusUnauthorized, "Token is required", 2)
		return false
	}
	var tok string
	switch scheme, rest, _ := strings.Cut(h, " "); scheme {
	case "Splunk":
		tok = strings.TrimSpace(rest)
	case "Basic":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
		if err != nil {
			reply(w, http.StatusUnauthorized, "Invalid authorization", 3)
			return false
		}
		_, tok, _ = strings.Cut(string(raw), ":")
	default:
		reply(w, http.StatusUnauthorized, "Invalid authorization", 3)
		return false
	}
	for _, d := range s.opts.DisabledTokens {
		if tok == d {
			reply(w, http.StatusForbidden, "Token disabled", 1)
			return false
		}
	}
	for _, t := range s.opts.Tokens {
		if tok == t {
			return true
		}
	}
	reply(w, http.StatusForbidden, "Invalid token", 4)
	return false
}

// channelOf returns the request's channel; ok is false after answering.
func (s *Server) channelOf(w http.ResponseWriter, r *http.Request) (string, bool) {
	ch := r.Header.Get("X-Splunk-Request-Channel")
	if ch == "" {
		ch = r.URL.Query().Get("channel")
	}
	if ch == "" {
		if s.opts.UseACK {
			reply(w, http.StatusBadRequest, "Data channel is missing", 10)
			return "", false
		}
		return "", true
	}
	if !guidRE.MatchString(ch) {
		reply(w, http.StatusBadRequest, "Invalid data channel", 11)
		return "", false
	}
	return ch, true
}

func (s *Server) fault(w http.ResponseWriter, f sinktest.Fault) {
	sinktest.SetRetryAfter(w, f.RetryAfter)
	switch {
	case f.Status == http.StatusServiceUnavailable:
		reply(w, f.Status, "Server is busy", 9)
	case f.Status == http.StatusTooManyRequests:
		reply(w, f.Status, "HEC queue is at capacity and cannot process any more requests", 26)
	case f.Status == http.StatusRequestEntityTooLarge:
		tooLarge(w, "Content-Length too large")
	case f.Status == http.StatusUnauthorized:
		reply(w, f.Status, "Token is required", 2)
	case f.Status == http.StatusForbidden:
		reply(w, f.Status, "Invalid token", 4)
	case f.Status == http.StatusBadRequest:
		// A whole-request data error, without invalid-event-number (use
		// Reject for the per-event form).
		reply(w, f.Status, "Invalid data format", 6)
	default:
		reply(w, f.Status, "Internal server error", 8)
	}
}

// recorder captures the status and code written, for Requests.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) { r.status = code; r.ResponseWriter.WriteHeader(code) }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = 200
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// Hijack lets DropConnection reach the real connection.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return r.ResponseWriter.(http.Hijacker).Hijack()
}

func (s *Server) serveEvent(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w}
	req := Request{Path: r.URL.Path, Authorization: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type"),
		Encoding: r.Header.Get("Content-Encoding")}
	dropped := s.handleEvent(rec, r, &req)
	if dropped {
		req.Status = -1
	} else {
		req.Status = rec.status
		var body struct{ Code int }
		_ = json.Unmarshal(rec.body.Bytes(), &body)
		req.Code = body.Code
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()
}

// handleEvent serves one event request; it reports whether the connection
// was dropped.
func (s *Server) handleEvent(w http.ResponseWriter, r *http.Request, req *Request) (dropped bool) {
	s.mu.Lock()
	delay := s.delay
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return true
		}
	}
	if r.Method != http.MethodPost {
		reply(w, http.StatusMethodNotAllowed, "Method not allowed", 8)
		return false
	}
	f := s.Next()
	if f.Status != 0 {
		s.fault(w, f)
		return false
	}
	if !s.auth(w, r) {
		return false
	}
	ch, ok := s.channelOf(w, r)
	if !ok {
		return false
	}
	req.Channel = ch
	limit := s.opts.MaxContentLength
	if r.ContentLength > limit {
		tooLarge(w, fmt.Sprintf("Content-Length of %d too large (maximum is %d)", r.ContentLength, limit))
		return false
	}
	raw, err := httpbody.Read(io.LimitReader(r.Body, limit+1), r.ContentLength, limit)
	if err != nil {
		return true
	}
	req.Bytes = len(raw)
	if int64(len(raw)) > limit {
		tooLarge(w, fmt.Sprintf("Content-Length too large (maximum is %d)", limit))
		return false
	}
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			reply(w, http.StatusBadRequest, "Invalid data format", 6, "invalid-event-number", 0)
			return false
		}
		raw, err = io.ReadAll(io.LimitReader(zr, 16*limit))
		if err != nil {
			reply(w, http.StatusBadRequest, "Invalid data format", 6, "invalid-event-number", 0)
			return false
		}
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		reply(w, http.StatusBadRequest, "No data", 5)
		return false
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	// Events are indexed one by one as they parse: on the first bad event
	// the request fails, and the events before it stay indexed.
	var stored []Event
	status, text, code, bad := http.StatusOK, "Success", 0, -1
	for i, at := 0, 0; ; i++ {
		var in wireEvent
		end, err := nextEvent(raw, at, &in)
		if end < 0 {
			break
		} else if err != nil { // not JSON, or not an object (an array, a string)
			status, text, code, bad = http.StatusBadRequest, "Invalid data format", 6, i
			break
		}
		at = end
		ev, code1, text1 := s.parse(&in, ch)
		if code1 != 0 {
			status, text, code, bad = http.StatusBadRequest, text1, code1, i
			break
		}
		stored = append(stored, ev)
	}

	lost := false
	var ackID int
	if s.opts.UseACK && code == 0 {
		c := s.channels[ch]
		if c == nil {
			c = &channel{acks: map[int]ack{}}
			s.channels[ch] = c
		}
		ackID = c.next
		c.next++
		if s.loseAcks > 0 {
			s.loseAcks--
			lost = true
		}
		c.acks[ackID] = ack{ready: time.Now().Add(s.opts.AckDelay), lost: lost}
	}
	if !lost {
		for _, ev := range stored {
			s.events = append(s.events, ev)
			s.ids = append(s.ids, ev.ID())
		}
	}
	if f.Drop {
		sinktest.DropConnection(w)
		return true
	}
	switch {
	case code != 0:
		reply(w, status, text, code, "invalid-event-number", bad)
	case s.opts.UseACK:
		reply(w, status, text, code, "ackId", ackID)
	default:
		reply(w, status, text, code)
	}
	return false
}

// wireEvent is one event object as sent.
type wireEvent struct {
	Time       json.RawMessage `json:"time"`
	Host       *string         `json:"host"`
	Source     *string         `json:"source"`
	Sourcetype *string         `json:"sourcetype"`
	Index      *string         `json:"index"`
	Event      json.RawMessage `json:"event"`
	Fields     map[string]any  `json:"fields"`
}

// parse validates one event object; code is 0 when it is valid.
func (s *Server) parse(in *wireEvent, ch string) (ev Event, code int, text string) {
	if in.Event == nil {
		return ev, 12, "Event field is required"
	}
	if e := in.Event; string(e) == "null" || string(e) == `""` {
		return ev, 13, "Event field cannot be blank"
	}
	if in.Time != nil {
		t, err := parseTime(in.Time)
		if err != nil {
			return ev, 6, "Invalid data format"
		}
		ev.Time = t
	}
	ev.Index = s.opts.DefaultIndex
	if in.Index != nil && *in.Index != "" {
		ev.Index = *in.Index
	}
	if len(s.opts.Indexes) > 0 {
		allowed := false
		for _, ix := range s.opts.Indexes {
			allowed = allowed || ix == ev.Index
		}
		if !allowed {
			return ev, 7, "Incorrect index"
		}
	}
	if in.Fields != nil {
		ev.Fields = in.Fields
		for _, v := range ev.Fields {
			if !flatField(v) {
				return ev, 15, "Error in handling indexed fields"
			}
		}
	}
	ev.Host, ev.Source, ev.Sourcetype = deref(in.Host), deref(in.Source), deref(in.Sourcetype)
	ev.Event, ev.Channel = in.Event, ch
	if s.reject[ev.ID()] {
		return ev, 6, "Invalid data format"
	}
	return ev, 0, ""
}

// flatField reports whether v is a string or an array of strings.
func flatField(v any) bool {
	switch x := v.(type) {
	case string:
		return true
	case []any:
		for _, e := range x {
			if _, ok := e.(string); !ok {
				return false
			}
		}
		return true
	}
	return false
}

func parseTime(raw json.RawMessage) (float64, error) {
	// A valid JSON number or plain string reads directly; anything else
	// through encoding/json, as before.
	if len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') && sinktest.ValidJSON(raw) {
		return strconv.ParseFloat(string(raw), 64)
	}
	if len(raw) >= 2 && raw[0] == '"' && sinktest.ValidJSON(raw) {
		if s, err := jsonscan.Unquote(raw); err == nil {
			return strconv.ParseFloat(s, 64)
		}
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return strconv.ParseFloat(s, 64)
	}
	var f float64
	err := json.Unmarshal(raw, &f)
	return f, err
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (s *Server) serveAck(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		reply(w, http.StatusMethodNotAllowed, "Method not allowed", 8)
		return
	}
	if !s.auth(w, r) {
		return
	}
	if !s.opts.UseACK {
		reply(w, http.StatusBadRequest, "ACK is disabled", 14)
		return
	}
	ch, ok := s.channelOf(w, r)
	if !ok {
		return
	}
	var in struct {
		Acks []int `json:"acks"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil {
		reply(w, http.StatusBadRequest, "Invalid data format", 6)
		return
	}
	s.mu.Lock()
	out := make(map[string]bool, len(in.Acks))
	now := time.Now()
	c := s.channels[ch]
	for _, id := range in.Acks {
		done := false
		if c != nil {
			if a, ok := c.acks[id]; ok && !a.lost && !now.Before(a.ready) {
				done = true
				delete(c.acks, id) // Splunk forgets an ack once reported
			}
		}
		out[strconv.Itoa(id)] = done
	}
	s.mu.Unlock()
	body, _ := json.Marshal(map[string]any{"acks": out})
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_, _ = w.Write(body)
}

func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		reply(w, http.StatusMethodNotAllowed, "Method not allowed", 8)
		return
	}
	s.mu.Lock()
	code := s.health
	s.mu.Unlock()
	switch code {
	case 17:
		reply(w, http.StatusOK, "HEC is healthy", 17)
	case 18:
		reply(w, http.StatusServiceUnavailable, "HEC is unhealthy, queues are full", 18)
	case 19:
		reply(w, http.StatusServiceUnavailable, "HEC is unhealthy, ack service unavailable", 19)
	case 20:
		reply(w, http.StatusServiceUnavailable, "HEC is unhealthy, queues are full, ack service unavailable", 20)
	default:
		reply(w, http.StatusServiceUnavailable, "Server is shutting down", 23)
	}
}
