// Package graphfake is a local double of the Microsoft Graph v1.0 reporting
// endpoints the entra source polls, faithful to what the source and
// msgraph-sdk-go rely on (shared/reference/siem-and-graph-apis.md §4):
//
//   - GET /v1.0/auditLogs/signIns, /v1.0/auditLogs/directoryAudits,
//     /v1.0/identityProtection/riskDetections and
//     /v1.0/identityProtection/riskyUsers serve the records added with Add,
//     as {"@odata.context", "value": [...], "@odata.nextLink"}.
//   - $filter accepts comparisons (ge, gt, le, lt, eq) of the resource's
//     date property (createdDateTime, activityDateTime, detectedDateTime,
//     riskLastUpdatedDateTime) with an unquoted ISO 8601 literal, joined
//     by "and"; anything else is 400 Request_UnsupportedQuery in the OData
//     error envelope. $top is the page size (default and maximum as Graph
//     documents them: 1000; risk detections 20 and 500). $orderby accepts
//     the date property, asc or desc; the default is newest first.
//   - Paging: @odata.nextLink is absolute, on the fake's own host, and
//     carries an opaque $skiptoken naming a snapshot of the result, so
//     records added while a client pages do not shift its pages.
//   - Every request needs "Authorization: Bearer <token>" (401
//     InvalidAuthenticationToken otherwise); RequireToken pins the token.
//   - Throttle scripts 429 storms with Retry-After; Fail scripts other
//     statuses. Records can be added at any time with any (old) date: late,
//     out-of-order arrival.
//
// NewTokenServer is a TLS double of the Entra token endpoint for
// azidentity's client-secret credential.
package graphfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Resource paths under /v1.0.
const (
	SignIns         = "auditLogs/signIns"
	DirectoryAudits = "auditLogs/directoryAudits"
	RiskDetections  = "identityProtection/riskDetections"
	RiskyUsers      = "identityProtection/riskyUsers"
)

// collection is one served resource.
type collection struct {
	dateProp    string
	defaultTop  int
	maxTop      int
	records     []record
	contextName string
}

type record struct {
	raw json.RawMessage
	at  time.Time
	id  string
	seq int // insertion order, the tie-breaker
}

// Request is one request the fake answered.
type Request struct {
	Method, Path string
	Query        url.Values
	Auth         string
	Status       int
}

// fault is a scripted error response.
type fault struct {
	status     int
	code       string
	retryAfter string
}

// Server is the Graph double. Safe for concurrent use.
type Server struct {
	srv *httptest.Server

	mu        sync.Mutex
	cols      map[string]*collection
	seq       int
	snapshots map[string]*snapshot
	nextToken int
	faults    []fault
	token     string
	requests  []Request
}

// snapshot is the result a skiptoken pages through.
type snapshot struct {
	path    string
	records []json.RawMessage
	top     int
	query   url.Values // repeated on every next link, as Graph does
}

// New starts a fake on 127.0.0.1 (plain HTTP: kiota allows it for
// loopback hosts). Close it when done.
func New() *Server {
	s := &Server{
		cols: map[string]*collection{
			SignIns:         {dateProp: "createdDateTime", defaultTop: 1000, maxTop: 1000, contextName: "auditLogs/signIns"},
			DirectoryAudits: {dateProp: "activityDateTime", defaultTop: 1000, maxTop: 1000, contextName: "auditLogs/directoryAudits"},
			RiskDetections:  {dateProp: "detectedDateTime", defaultTop: 20, maxTop: 500, contextName: "identityProtection/riskDetections"},
			RiskyUsers:      {dateProp: "riskLastUpdatedDateTime", defaultTop: 20, maxTop: 500, contextName: "identityProtection/riskyUsers"},
		},
		snapshots: map[string]*snapshot{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the Graph base URL with version: "http://127.0.0.1:port/v1.0".
func (s *Server) URL() string { return s.srv.URL + "/v1.0" }

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// RequireToken makes every request present exactly this bearer token.
func (s *Server) RequireToken(tok string) {
	s.mu.Lock()
	s.token = tok
	s.mu.Unlock()
}

// Add stores records (Graph resource JSON objects) under a resource path
// (SignIns, …). Each needs an "id" and the resource's date property.
func (s *Server) Add(path string, records ...[]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cols[path]
	if c == nil {
		return fmt.Errorf("graphfake: unknown resource %q", path)
	}
	for _, raw := range records {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("graphfake: %w", err)
		}
		id, _ := m["id"].(string)
		ds, _ := m[c.dateProp].(string)
		at, err := time.Parse(time.RFC3339Nano, ds)
		if id == "" || err != nil {
			return fmt.Errorf("graphfake: record needs id and %s: %s", c.dateProp, raw)
		}
		s.seq++
		c.records = append(c.records, record{raw: append(json.RawMessage(nil), raw...), at: at, id: id, seq: s.seq})
	}
	return nil
}

// Throttle makes the next n requests fail with 429 TooManyRequests and
// the given Retry-After header ("" for none).
func (s *Server) Throttle(n int, retryAfter string) {
	s.Fail(n, http.StatusTooManyRequests, "TooManyRequests", retryAfter)
}

// Fail makes the next n requests fail with status and OData error code.
func (s *Server) Fail(n, status int, code, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{status: status, code: code, retryAfter: retryAfter})
	}
}

// Pass lets the next n requests through before any fault scripted after
// it: Pass(1) then Throttle(3, "1") throttles from the second request on
// (page 2 of a listing, say).
func (s *Server) Pass(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{})
	}
}

// Requests returns the requests answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count returns how many requests got status.
func (s *Server) Count(status int) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Status == status {
			n++
		}
	}
	return n
}

// writeError writes the OData error envelope.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	id := strconv.FormatInt(time.Now().UnixNano(), 16)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"code": code, "message": msg,
		"innerError": map[string]any{"date": time.Now().UTC().Format("2006-01-02T15:04:05"), "request-id": id, "client-request-id": id},
	}})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	status := s.handle(w, r)
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Auth: r.Header.Get("Authorization"), Status: status})
	s.mu.Unlock()
}

// handle answers one request and returns the status it wrote.
func (s *Server) handle(w http.ResponseWriter, r *http.Request) int {
	s.mu.Lock()
	token := s.token
	s.mu.Unlock()
	auth := r.Header.Get("Authorization")
	bearer, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || bearer == "" || (token != "" && bearer != token) {
		writeError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
		return http.StatusUnauthorized
	}
	s.mu.Lock()
	if len(s.faults) > 0 {
		f := s.faults[0]
		s.faults = s.faults[1:]
		s.mu.Unlock()
		if f.status == 0 { // Pass
			return s.serveData(w, r)
		}
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		msg := "This request is throttled. Please try again after the value specified in the Retry-After header. CorrelationId: 00000000-0000-0000-0000-000000000000"
		if f.status != http.StatusTooManyRequests {
			msg = http.StatusText(f.status)
		}
		writeError(w, f.status, f.code, msg)
		return f.status
	}
	s.mu.Unlock()
	return s.serveData(w, r)
}

// serveData answers a request that passed authentication and faults.
func (s *Server) serveData(w http.ResponseWriter, r *http.Request) int {
	if status, ok := s.serveAction(w, r); ok { // actions.go
		return status
	}
	if status, ok := s.serveDirectory(w, r); ok { // directory.go
		return status
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/v1.0/")
	s.mu.Lock()
	c := s.cols[path]
	s.mu.Unlock()
	if !ok || c == nil {
		writeError(w, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", r.URL.Path))
		return http.StatusNotFound
	}
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "Request_BadRequest", "The HTTP method is not allowed for the resource.")
		return http.StatusMethodNotAllowed
	}
	q := r.URL.Query() // decodes %24 and '+' as the SDK re-encodes them
	if tok := q.Get("$skiptoken"); tok != "" {
		return s.nextPage(w, path, tok)
	}
	for k := range q {
		switch k {
		case "$filter", "$top", "$orderby", "$select":
		default:
			writeError(w, http.StatusBadRequest, "Request_UnsupportedQuery", fmt.Sprintf("Unsupported query parameter %s.", k))
			return http.StatusBadRequest
		}
	}
	match, err := parseFilter(q.Get("$filter"), c.dateProp)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported Query. "+err.Error())
		return http.StatusBadRequest
	}
	asc, err := parseOrder(q.Get("$orderby"), c.dateProp)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported Query. "+err.Error())
		return http.StatusBadRequest
	}
	top := c.defaultTop
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Invalid value '%s' for query parameter $top.", v))
			return http.StatusBadRequest
		}
		top = min(n, c.maxTop)
	}
	s.mu.Lock()
	var hits []record
	for _, rec := range c.records {
		if match(rec.at) {
			hits = append(hits, rec)
		}
	}
	s.mu.Unlock()
	sort.SliceStable(hits, func(i, j int) bool {
		if !hits[i].at.Equal(hits[j].at) {
			return hits[i].at.Before(hits[j].at) == asc
		}
		return hits[i].seq < hits[j].seq
	})
	raws := make([]json.RawMessage, len(hits))
	for i, h := range hits {
		raws[i] = h.raw
	}
	keep := url.Values{}
	for _, k := range []string{"$filter", "$top", "$orderby", "$select"} {
		if v := q.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	return s.writePage(w, path, c.contextName, &snapshot{path: path, records: raws, top: top, query: keep})
}

func (s *Server) nextPage(w http.ResponseWriter, path, tok string) int {
	s.mu.Lock()
	snap := s.snapshots[tok]
	delete(s.snapshots, tok) // a skiptoken is good for one page, as Graph's
	ctxName := ""
	if c := s.cols[path]; c != nil {
		ctxName = c.contextName
	}
	s.mu.Unlock()
	if snap == nil || snap.path != path {
		writeError(w, http.StatusBadRequest, "Request_UnsupportedQuery", "Invalid or expired $skiptoken.")
		return http.StatusBadRequest
	}
	return s.writePage(w, path, ctxName, snap)
}

// writePage writes the first top records of snap and, when more remain, a
// next link to a new snapshot of the rest.
func (s *Server) writePage(w http.ResponseWriter, path, ctxName string, snap *snapshot) int {
	n := min(snap.top, len(snap.records))
	page := map[string]any{
		"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#" + ctxName,
		"value":          snap.records[:n],
	}
	if n < len(snap.records) {
		s.mu.Lock()
		s.nextToken++
		tok := fmt.Sprintf("%x_%d", time.Now().UnixNano(), s.nextToken)
		s.snapshots[tok] = &snapshot{path: path, records: snap.records[n:], top: snap.top, query: snap.query}
		s.mu.Unlock()
		q := url.Values{}
		for k, v := range snap.query {
			q[k] = v
		}
		q.Set("$skiptoken", tok)
		page["@odata.nextLink"] = s.srv.URL + "/v1.0/" + path + "?" + q.Encode()
	}
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	_ = json.NewEncoder(w).Encode(page)
	return http.StatusOK
}

// parseFilter reads "<prop> <op> <datetime>" terms joined by " and ".
// Only the resource's date property is supported.
func parseFilter(f, dateProp string) (func(time.Time) bool, error) {
	f = strings.TrimSpace(f)
	if f == "" {
		return func(time.Time) bool { return true }, nil
	}
	var preds []func(time.Time) bool
	for _, term := range strings.Split(f, " and ") {
		parts := strings.Fields(term)
		if len(parts) != 3 {
			return nil, fmt.Errorf("cannot parse filter term %q", term)
		}
		if parts[0] != dateProp {
			return nil, fmt.Errorf("filter on %q is not supported", parts[0])
		}
		lit := strings.Trim(parts[2], "'")
		t, err := time.Parse(time.RFC3339Nano, lit)
		if err != nil {
			if t, err = time.Parse("2006-01-02", lit); err != nil {
				return nil, fmt.Errorf("invalid DateTimeOffset literal %q", parts[2])
			}
		}
		switch parts[1] {
		case "ge":
			preds = append(preds, func(x time.Time) bool { return !x.Before(t) })
		case "gt":
			preds = append(preds, func(x time.Time) bool { return x.After(t) })
		case "le":
			preds = append(preds, func(x time.Time) bool { return !x.After(t) })
		case "lt":
			preds = append(preds, func(x time.Time) bool { return x.Before(t) })
		case "eq":
			preds = append(preds, func(x time.Time) bool { return x.Equal(t) })
		default:
			return nil, fmt.Errorf("operator %q is not supported", parts[1])
		}
	}
	return func(x time.Time) bool {
		for _, p := range preds {
			if !p(x) {
				return false
			}
		}
		return true
	}, nil
}

// parseOrder reads "<prop> [asc|desc]"; empty is newest first.
func parseOrder(o, dateProp string) (asc bool, err error) {
	parts := strings.Fields(o)
	switch {
	case len(parts) == 0:
		return false, nil
	case parts[0] != dateProp || len(parts) > 2:
		return false, fmt.Errorf("orderby %q is not supported", o)
	case len(parts) == 1 || parts[1] == "asc":
		return true, nil
	case parts[1] == "desc":
		return false, nil
	}
	return false, fmt.Errorf("orderby %q is not supported", o)
}
