// Package esfake is a local double of the Elasticsearch APIs the elastic
// sink uses: cluster info, _bulk, and index and component templates. It
// answers like Elasticsearch 8.x does (see docs/reference §2.5): an HTTP 200
// _bulk response with per-item statuses in request order, the standard error
// envelope for whole-request failures, and X-Elastic-Product: Elasticsearch
// on every response (the Go client refuses a 2xx without it).
//
// Semantics kept from Elasticsearch:
//   - a target is a data stream when the highest-priority index template
//     matching its name has "data_stream" (the built-in logs-*-*,
//     metrics-*-* and traces-*-* templates at priority 100 count); a data
//     stream takes only op "create" (op "index" → per-item 400
//     illegal_argument_exception) and documents with @timestamp;
//   - "create" with an _id that exists → per-item 409
//     version_conflict_engine_exception; "index" into a plain index
//     overwrites (200 "updated", _version+1); "delete" removes;
//   - a malformed action line or a body not ending in a newline → whole
//     request 400; a malformed source → per-item 400;
//   - a body larger than http.max_content_length (default 100 MB) → 413;
//   - with credentials configured, requests need
//     "Authorization: ApiKey base64(id:key)" or Basic auth, else 401
//     security_exception with WWW-Authenticate;
//   - an index template composed of component templates that do not exist
//     (and are not in ignore_missing_component_templates) → 400.
//
// Faults (sinktest.Faults: FailNext, FailFor, DropResponses) apply to every
// request; Reject and Throttle script per-item failures.
package esfake

import (
	"bytes"
	"compress/gzip"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/castellan-itdr/castellan/sinks/httpbody"
	"github.com/castellan-itdr/castellan/sinks/sinktest"
)

// DefaultMaxContentLength is Elasticsearch's http.max_content_length.
const DefaultMaxContentLength = 100 << 20

// Options configure the double.
type Options struct {
	// APIKey, as "id:key", is accepted as "Authorization: ApiKey
	// base64(id:key)". Username and Password are accepted as Basic auth.
	// With neither set the double needs no authentication.
	APIKey             string
	Username, Password string
	// MaxContentLength is http.max_content_length; 0 means 100 MB.
	MaxContentLength int64
	// Version is the version.number GET / reports; default "8.19.0".
	Version string
	// DiscardSources keeps only ids, not documents (for benchmarks).
	DiscardSources bool
	// NoProductHeader drops X-Elastic-Product, to play a server that is not
	// Elasticsearch (a proxy, OpenSearch).
	NoProductHeader bool
}

// Request is what the double saw of one request.
type Request struct {
	Method, Path string
	Header       http.Header
}

// Doc is one stored document.
type Doc struct {
	Index   string          // the backing index (".ds-…" for a data stream)
	Target  string          // the data stream or index written to
	ID      string          // _id
	Version int             // _version
	Source  json.RawMessage // nil with DiscardSources
}

type template struct {
	name       string
	patterns   []string
	priority   int
	dataStream bool
	body       json.RawMessage
}

// Server is the double. It implements sinktest.Double. Safe for concurrent
// use.
type Server struct {
	*sinktest.Faults
	opts Options
	srv  *httptest.Server

	mu         sync.Mutex
	docs       map[string]map[string]*Doc // target → id → doc
	accepted   []string
	seen       map[string]bool
	reject     map[string]bool
	throttle   map[string]int
	components map[string]json.RawMessage
	indexTpls  map[string]*template
	requests   []Request
	nextAuto   int
}

var _ sinktest.Double = (*Server)(nil)

// builtinComponents exist in every 8.x cluster with stack templates enabled.
var builtinComponents = []string{"logs@mappings", "logs@settings", "ecs@mappings", "metrics@mappings", "metrics@settings"}

// New starts a double.
func New(opts Options) *Server {
	if opts.MaxContentLength <= 0 {
		opts.MaxContentLength = DefaultMaxContentLength
	}
	if opts.Version == "" {
		opts.Version = "8.19.0"
	}
	s := &Server{
		Faults:     &sinktest.Faults{},
		opts:       opts,
		docs:       map[string]map[string]*Doc{},
		seen:       map[string]bool{},
		reject:     map[string]bool{},
		throttle:   map[string]int{},
		components: map[string]json.RawMessage{},
		indexTpls:  map[string]*template{},
	}
	for _, c := range builtinComponents {
		s.components[c] = json.RawMessage(`{"template":{},"_meta":{"managed":true}}`)
	}
	for _, p := range []string{"logs", "metrics", "traces"} {
		s.indexTpls[p] = &template{name: p, patterns: []string{p + "-*-*"}, priority: 100, dataStream: true,
			body: json.RawMessage(`{"index_patterns":["` + p + `-*-*"],"data_stream":{},"priority":100,"_meta":{"managed":true}}`)}
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the base URL.
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// DedupesByID is true: create with an existing _id is refused (409).
func (s *Server) DedupesByID() bool { return true }

// Accepted returns the stored _ids in the order they were first stored, one
// per id (an overwrite by op "index" does not add one).
func (s *Server) Accepted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.accepted...)
}

// Reject makes items with these _ids fail with a per-item 400
// document_parsing_exception, every time.
func (s *Server) Reject(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.reject[id] = true
	}
}

// Throttle makes the next attempt of each of these _ids fail with a
// per-item 429 es_rejected_execution_exception; the attempt after succeeds.
func (s *Server) Throttle(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.throttle[id]++
	}
}

// Document returns the stored document with the _id in target (a data
// stream or index name).
func (s *Server) Document(target, id string) (Doc, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.docs[target][id]
	if !ok {
		return Doc{}, false
	}
	return *d, true
}

// Count returns the number of documents stored in target.
func (s *Server) Count(target string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.docs[target])
}

// Targets lists the data streams and indices holding documents, sorted.
func (s *Server) Targets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for t := range s.docs {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// IndexTemplate returns an installed index template's body.
func (s *Server) IndexTemplate(name string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.indexTpls[name]
	if !ok {
		return nil, false
	}
	return t.body, true
}

// ComponentTemplate returns an installed component template's body.
func (s *Server) ComponentTemplate(name string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.components[name]
	return b, ok
}

// Requests returns what the double saw, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// IsDataStream reports whether writes to name go to a data stream.
func (s *Server) IsDataStream(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.isDataStreamLocked(name)
}

func (s *Server) isDataStreamLocked(name string) bool {
	var best *template
	for _, t := range s.indexTpls {
		for _, p := range t.patterns {
			if ok, _ := path.Match(p, name); ok && (best == nil || t.priority > best.priority) {
				best = t
			}
		}
	}
	return best != nil && best.dataStream
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if !s.opts.NoProductHeader {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()})
	s.mu.Unlock()

	if err := s.authenticate(r); err != "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="security", charset="UTF-8"`)
		w.Header().Add("WWW-Authenticate", "ApiKey")
		writeError(w, http.StatusUnauthorized, "security_exception", err)
		return
	}
	f := s.Next()
	if f.Status != 0 {
		sinktest.SetRetryAfter(w, f.RetryAfter)
		writeFault(w, f.Status)
		return
	}
	if r.ContentLength > s.opts.MaxContentLength {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	status, body := s.route(r)
	if f.Drop {
		sinktest.DropConnection(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// authenticate returns "" when the request may proceed, else the reason.
func (s *Server) authenticate(r *http.Request) string {
	if s.opts.APIKey == "" && s.opts.Username == "" {
		return ""
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "missing authentication credentials for REST request [" + r.URL.Path + "]"
	}
	scheme, cred, _ := strings.Cut(auth, " ")
	switch strings.ToLower(scheme) {
	case "apikey":
		raw, err := base64.StdEncoding.DecodeString(cred)
		if s.opts.APIKey != "" && err == nil && subtle.ConstantTimeCompare(raw, []byte(s.opts.APIKey)) == 1 {
			return ""
		}
		return "unable to authenticate with provided credentials and anonymous access is not allowed for this request"
	case "basic":
		u, p, ok := r.BasicAuth()
		if s.opts.Username != "" && ok && u == s.opts.Username && subtle.ConstantTimeCompare([]byte(p), []byte(s.opts.Password)) == 1 {
			return ""
		}
		return "unable to authenticate user [" + u + "] for REST request [" + r.URL.Path + "]"
	}
	return "unable to authenticate with provided credentials and anonymous access is not allowed for this request"
}

func (s *Server) route(r *http.Request) (int, []byte) {
	p := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case p == "" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		return http.StatusOK, []byte(`{"name":"esfake","cluster_name":"esfake","cluster_uuid":"esfake-uuid","version":{"number":"` + s.opts.Version +
			`","build_flavor":"default","lucene_version":"9.12.0","minimum_wire_compatibility_version":"7.17.0","minimum_index_compatibility_version":"7.0.0"},"tagline":"You Know, for Search"}`)
	case p == "/_bulk" || strings.HasSuffix(p, "/_bulk"):
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			return errorBody(http.StatusMethodNotAllowed, "illegal_argument_exception", "Incorrect HTTP method for uri ["+r.URL.Path+"] and method ["+r.Method+"], allowed: [POST, PUT]")
		}
		target := strings.TrimPrefix(strings.TrimSuffix(p, "/_bulk"), "/")
		return s.bulk(r, target)
	case strings.HasPrefix(p, "/_index_template/"):
		return s.templateAPI(r, strings.TrimPrefix(p, "/_index_template/"), false)
	case strings.HasPrefix(p, "/_component_template/"):
		return s.templateAPI(r, strings.TrimPrefix(p, "/_component_template/"), true)
	}
	return errorBody(http.StatusBadRequest, "illegal_argument_exception", "esfake: no handler for ["+r.Method+" "+r.URL.Path+"]")
}

func readBody(r *http.Request, limit int64) ([]byte, error) {
	var rd io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		rd = zr
	}
	rd = io.LimitReader(rd, limit+1)
	size := r.ContentLength
	if r.Header.Get("Content-Encoding") == "gzip" {
		size = 0 // the announced size is the compressed one
	}
	return httpbody.Read(rd, size, limit)
}

func contentTypeOK(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	switch strings.TrimSpace(strings.ToLower(mt)) {
	case "application/json", "application/x-ndjson", "application/vnd.elasticsearch+json", "application/vnd.elasticsearch+x-ndjson":
		return true
	}
	return false
}

func (s *Server) templateAPI(r *http.Request, name string, component bool) (int, []byte) {
	kind := "index_template"
	if component {
		kind = "component_template"
	}
	switch r.Method {
	case http.MethodGet:
		s.mu.Lock()
		defer s.mu.Unlock()
		var body json.RawMessage
		if component {
			body = s.components[name]
		} else if t, ok := s.indexTpls[name]; ok {
			body = t.body
		}
		if body == nil {
			return errorBody(http.StatusNotFound, "resource_not_found_exception", kind+" matching ["+name+"] not found")
		}
		out, _ := json.Marshal(map[string]any{kind + "s": []map[string]any{{"name": name, kind: body}}})
		return http.StatusOK, out
	case http.MethodPut, http.MethodPost:
	default:
		return errorBody(http.StatusMethodNotAllowed, "illegal_argument_exception", "Incorrect HTTP method ["+r.Method+"]")
	}
	if !contentTypeOK(r.Header.Get("Content-Type")) {
		return errorBody(http.StatusNotAcceptable, "illegal_argument_exception", "Content-Type header ["+r.Header.Get("Content-Type")+"] is not supported")
	}
	raw, err := readBody(r, s.opts.MaxContentLength)
	if err != nil || !json.Valid(raw) {
		return errorBody(http.StatusBadRequest, "x_content_parse_exception", "[1:1] failed to parse "+kind+" body")
	}
	if component {
		var c struct {
			Template *json.RawMessage `json:"template"`
		}
		if json.Unmarshal(raw, &c) != nil || c.Template == nil {
			return errorBody(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: template is missing;")
		}
		s.mu.Lock()
		s.components[name] = raw
		s.mu.Unlock()
		return http.StatusOK, []byte(`{"acknowledged":true}`)
	}
	var it struct {
		IndexPatterns []string  `json:"index_patterns"`
		Priority      int       `json:"priority"`
		DataStream    *struct{} `json:"data_stream"`
		ComposedOf    []string  `json:"composed_of"`
		IgnoreMissing []string  `json:"ignore_missing_component_templates"`
	}
	if err := json.Unmarshal(raw, &it); err != nil {
		return errorBody(http.StatusBadRequest, "x_content_parse_exception", "[1:1] failed to parse index_template: "+err.Error())
	}
	if len(it.IndexPatterns) == 0 {
		return errorBody(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: index patterns are missing;")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var missing []string
	for _, c := range it.ComposedOf {
		if _, ok := s.components[c]; !ok && !contains(it.IgnoreMissing, c) {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return errorBody(http.StatusBadRequest, "invalid_index_template_exception",
			fmt.Sprintf("index_template [%s] invalid, cause [index template [%s] specifies component templates %v that do not exist]", name, name, missing))
	}
	for n, other := range s.indexTpls {
		if n != name && other.priority == it.Priority && overlaps(other.patterns, it.IndexPatterns) {
			return errorBody(http.StatusBadRequest, "illegal_argument_exception",
				fmt.Sprintf("index template [%s] has index patterns %v matching patterns from existing templates [%s] with patterns (%s => %v) that have the same priority [%d]",
					name, it.IndexPatterns, n, n, other.patterns, it.Priority))
		}
	}
	s.indexTpls[name] = &template{name: name, patterns: it.IndexPatterns, priority: it.Priority, dataStream: it.DataStream != nil, body: raw}
	return http.StatusOK, []byte(`{"acknowledged":true}`)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// overlaps is a conservative pattern overlap check: identical patterns, or a
// pattern that matches the other literally.
func overlaps(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
			if ok, _ := path.Match(x, y); ok {
				return true
			}
			if ok, _ := path.Match(y, x); ok {
				return true
			}
		}
	}
	return false
}

// bulkItem is one item result.
type bulkItem struct {
	Index       string     `json:"_index"`
	ID          string     `json:"_id"`
	Version     int        `json:"_version,omitempty"`
	Result      string     `json:"result,omitempty"`
	Shards      *shards    `json:"_shards,omitempty"`
	SeqNo       *int       `json:"_seq_no,omitempty"`
	PrimaryTerm int        `json:"_primary_term,omitempty"`
	Status      int        `json:"status"`
	Error       *itemError `json:"error,omitempty"`
}

type shards struct {
	Total      int `json:"total"`
	Successful int `json:"successful"`
	Failed     int `json:"failed"`
}

type itemError struct {
	Type      string     `json:"type"`
	Reason    string     `json:"reason"`
	IndexUUID string     `json:"index_uuid,omitempty"`
	Shard     string     `json:"shard,omitempty"`
	Index     string     `json:"index,omitempty"`
	CausedBy  *itemError `json:"caused_by,omitempty"`
}

type action struct {
	Index  string `json:"_index"`
	ID     string `json:"_id"`
	OpType string `json:"op_type"`
}

func (s *Server) bulk(r *http.Request, pathTarget string) (int, []byte) {
	start := time.Now()
	if !contentTypeOK(r.Header.Get("Content-Type")) {
		return errorBody(http.StatusNotAcceptable, "illegal_argument_exception", "Content-Type header ["+r.Header.Get("Content-Type")+"] is not supported")
	}
	body, err := readBody(r, s.opts.MaxContentLength)
	if err != nil {
		return errorBody(http.StatusBadRequest, "parse_exception", "request body is required: "+err.Error())
	}
	if int64(len(body)) > s.opts.MaxContentLength {
		return http.StatusRequestEntityTooLarge, nil
	}
	if len(body) == 0 {
		return errorBody(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: no requests added;")
	}
	if body[len(body)-1] != '\n' {
		return errorBody(http.StatusBadRequest, "illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]")
	}
	type op struct {
		name   string
		act    action
		source []byte
	}
	var ops []op
	lines := bytes.Split(body[:len(body)-1], []byte("\n"))
	for i := 0; i < len(lines); i++ {
		line := bytes.TrimSpace(lines[i])
		if len(line) == 0 {
			continue
		}
		var o op
		var err error
		if o.name, o.act, err = parseAction(line); err != nil {
			return errorBody(http.StatusBadRequest, "x_content_parse_exception",
				fmt.Sprintf("[%d:1] Malformed action/metadata line [%d], expected START_OBJECT or END_OBJECT", i+1, i+1))
		}
		switch o.name {
		case "create", "index", "update":
			if i+1 >= len(lines) {
				return errorBody(http.StatusBadRequest, "illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]")
			}
			i++
			o.source = lines[i]
		case "delete":
		default:
			return errorBody(http.StatusBadRequest, "illegal_argument_exception", "Malformed action/metadata line ["+strconv.Itoa(i+1)+"], expected one of [create, delete, index, update] but found ["+o.name+"]")
		}
		if o.act.Index == "" {
			o.act.Index = pathTarget
		}
		if o.act.Index == "" {
			return errorBody(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: index is missing;")
		}
		ops = append(ops, o)
	}

	items := make([]bulkItem, len(ops))
	names := make([]string, len(ops))
	errorsSeen := false
	s.mu.Lock()
	// Where each target writes: templates cannot change while s.mu is held.
	type dest struct {
		ds      bool
		backing string
	}
	dests := map[string]dest{}
	for i, o := range ops {
		d, ok := dests[o.act.Index]
		if !ok {
			d = dest{s.isDataStreamLocked(o.act.Index), o.act.Index}
			if d.ds {
				d.backing = ".ds-" + o.act.Index + "-2025.01.01-000001"
			}
			dests[o.act.Index] = d
		}
		it := s.apply(o.name, o.act, o.source, d.ds, d.backing)
		if it.Error != nil {
			errorsSeen = true
		}
		items[i], names[i] = it, o.name
	}
	s.mu.Unlock()
	return http.StatusOK, appendBulkResponse(make([]byte, 0, 64+len(items)*256), errorsSeen, time.Since(start).Milliseconds(), names, items)
}

// apply runs one bulk operation; s.mu is held.
func (s *Server) apply(name string, a action, source []byte, ds bool, backing string) bulkItem {
	fail := func(status int, typ, reason string) bulkItem {
		return bulkItem{Index: backing, ID: a.ID, Status: status, Error: &itemError{Type: typ, Reason: reason, Index: backing, IndexUUID: "esfake-index-uuid", Shard: "0"}}
	}
	if a.ID != "" && s.reject[a.ID] {
		return fail(http.StatusBadRequest, "document_parsing_exception",
			"[1:2] failed to parse: document with id '"+a.ID+"' rejected by the test")
	}
	if a.ID != "" && s.throttle[a.ID] > 0 {
		s.throttle[a.ID]--
		return bulkItem{Index: backing, ID: a.ID, Status: http.StatusTooManyRequests, Error: &itemError{Type: "es_rejected_execution_exception",
			Reason: "rejected execution of primary operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, primary_operation_bytes=1024, max_coordinating_and_primary_bytes=0]"}}
	}
	if name == "update" {
		return fail(http.StatusBadRequest, "illegal_argument_exception", "esfake does not implement update")
	}
	if ds && name != "create" {
		return fail(http.StatusBadRequest, "illegal_argument_exception",
			"only write ops with an op_type of create are allowed in data streams")
	}
	docs := s.docs[a.Index]
	if name == "delete" {
		if d, ok := docs[a.ID]; ok {
			delete(docs, a.ID)
			return bulkItem{Index: backing, ID: a.ID, Version: d.Version + 1, Result: "deleted", Shards: &shards{2, 1, 0}, Status: http.StatusOK}
		}
		return bulkItem{Index: backing, ID: a.ID, Version: 1, Result: "not_found", Shards: &shards{2, 1, 0}, Status: http.StatusNotFound}
	}
	// Validate without building the document (keeps the double fast enough
	// for benchmarks): valid JSON, an object, and for a data stream an
	// @timestamp key (found textually).
	if src := bytes.TrimSpace(source); !sinktest.ValidJSON(src) || len(src) == 0 || src[0] != '{' {
		return fail(http.StatusBadRequest, "document_parsing_exception", "[1:1] failed to parse: source is not a JSON object")
	}
	if ds && !bytes.Contains(source, []byte(`"@timestamp"`)) {
		return fail(http.StatusBadRequest, "document_parsing_exception", "[1:1] failed to parse: data stream timestamp field [@timestamp] is missing")
	}
	if a.ID == "" {
		s.nextAuto++
		a.ID = fmt.Sprintf("esfake-auto-%d", s.nextAuto)
	}
	if docs == nil {
		docs = map[string]*Doc{}
		s.docs[a.Index] = docs
	}
	old, exists := docs[a.ID]
	if exists && (name == "create" || a.OpType == "create") {
		return fail(http.StatusConflict, "version_conflict_engine_exception",
			fmt.Sprintf("[%s]: version conflict, document already exists (current version [%d])", a.ID, old.Version))
	}
	d := &Doc{Index: backing, Target: a.Index, ID: a.ID, Version: 1}
	if !s.opts.DiscardSources {
		d.Source = append(json.RawMessage(nil), source...)
	}
	status, result := http.StatusCreated, "created"
	if exists {
		d.Version = old.Version + 1
		status, result = http.StatusOK, "updated"
	}
	docs[a.ID] = d
	if !s.seen[a.ID] {
		s.seen[a.ID] = true
		s.accepted = append(s.accepted, a.ID)
	}
	seq := len(docs) - 1
	return bulkItem{Index: backing, ID: a.ID, Version: d.Version, Result: result, Shards: &shards{2, 1, 0}, SeqNo: &seq, PrimaryTerm: 1, Status: status}
}

// errorBody is the Elasticsearch error envelope.
func errorBody(status int, typ, reason string) (int, []byte) {
	cause := map[string]string{"type": typ, "reason": reason}
	out, _ := json.Marshal(map[string]any{
		"error":  map[string]any{"root_cause": []any{cause}, "type": typ, "reason": reason},
		"status": status,
	})
	return status, out
}

func writeError(w http.ResponseWriter, status int, typ, reason string) {
	_, body := errorBody(status, typ, reason)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeFault writes a scripted whole-request failure with the body
// Elasticsearch sends for that status.
func writeFault(w http.ResponseWriter, status int) {
	switch status {
	case http.StatusTooManyRequests:
		writeError(w, status, "es_rejected_execution_exception", "rejected execution of coordinating operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, coordinating_operation_bytes=1048576, max_coordinating_and_primary_bytes=0]")
	case http.StatusServiceUnavailable:
		writeError(w, status, "cluster_block_exception", "blocked by: [SERVICE_UNAVAILABLE/2/no master];")
	case http.StatusUnauthorized:
		writeError(w, status, "security_exception", "unable to authenticate with provided credentials")
	case http.StatusForbidden:
		writeError(w, status, "security_exception", "action [indices:data/write/bulk] is unauthorized for API key id [test] of user [castellan]")
	case http.StatusRequestEntityTooLarge:
		w.WriteHeader(status)
	default:
		writeError(w, status, "esfake_fault", "scripted failure "+strconv.Itoa(status))
	}
}
