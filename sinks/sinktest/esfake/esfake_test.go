package esfake

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func do(t *testing.T, s *Server, method, path, body string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

type bulkResp struct {
	Errors bool                         `json:"errors"`
	Items  []map[string]json.RawMessage `json:"items"`
}

type item struct {
	Index   string `json:"_index"`
	ID      string `json:"_id"`
	Version int    `json:"_version"`
	Result  string `json:"result"`
	Status  int    `json:"status"`
	Error   *struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
}

func items(t *testing.T, b []byte) (bool, []string, []item) {
	t.Helper()
	var r bulkResp
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	var ops []string
	var out []item
	for _, m := range r.Items {
		if len(m) != 1 {
			t.Fatalf("item with %d keys", len(m))
		}
		for op, raw := range m {
			var it item
			if err := json.Unmarshal(raw, &it); err != nil {
				t.Fatal(err)
			}
			ops = append(ops, op)
			out = append(out, it)
		}
	}
	return r.Errors, ops, out
}

func TestInfoAndProductHeader(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	resp, b := do(t, s, "GET", "/", "")
	if resp.StatusCode != 200 || resp.Header.Get("X-Elastic-Product") != "Elasticsearch" || !strings.Contains(string(b), `"number":"8.19.0"`) {
		t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, b)
	}
	s2 := New(Options{NoProductHeader: true})
	defer s2.Close()
	if resp, _ := do(t, s2, "GET", "/", ""); resp.Header.Get("X-Elastic-Product") != "" {
		t.Fatal("product header sent with NoProductHeader")
	}
}

func TestBulkPerItemOutcomes(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	s.Reject("bad")
	s.Throttle("busy")
	ts := `{"@timestamp":"2025-01-01T00:00:00Z","message":"m"}`
	body := strings.Join([]string{
		`{"create":{"_index":"logs-castellan.alert-default","_id":"a"}}`, ts,
		`{"create":{"_index":"logs-castellan.alert-default","_id":"a"}}`, ts,
		`{"create":{"_index":"logs-castellan.alert-default","_id":"busy"}}`, ts,
		`{"create":{"_index":"logs-castellan.alert-default","_id":"bad"}}`, ts,
		`{"index":{"_index":"logs-castellan.alert-default","_id":"b"}}`, ts,
		`{"create":{"_index":"logs-castellan.alert-default","_id":"nots"}}`, `{"message":"m"}`,
		`{"index":{"_index":"castellan-incidents-default","_id":"inc"}}`, `{"v":1}`,
		`{"index":{"_index":"castellan-incidents-default","_id":"inc"}}`, `{"v":2}`,
		`{"create":{"_index":"logs-castellan.alert-default","_id":"broken"}}`, `{"v":`,
	}, "\n") + "\n"
	resp, b := do(t, s, "POST", "/_bulk", body)
	if resp.StatusCode != 200 || resp.Header.Get("X-Elastic-Product") != "Elasticsearch" {
		t.Fatalf("status %d", resp.StatusCode)
	}
	errs, ops, its := items(t, b)
	want := []struct {
		op     string
		status int
		typ    string
	}{
		{"create", 201, ""}, {"create", 409, "version_conflict_engine_exception"},
		{"create", 429, "es_rejected_execution_exception"}, {"create", 400, "document_parsing_exception"},
		{"index", 400, "illegal_argument_exception"}, {"create", 400, "document_parsing_exception"},
		{"index", 201, ""}, {"index", 200, ""}, {"create", 400, "document_parsing_exception"},
	}
	if !errs || len(its) != len(want) {
		t.Fatalf("errors=%v, %d items: %s", errs, len(its), b)
	}
	for i, w := range want {
		typ := ""
		if its[i].Error != nil {
			typ = its[i].Error.Type
		}
		if ops[i] != w.op || its[i].Status != w.status || typ != w.typ {
			t.Errorf("item %d: %s %d %s; want %s %d %s", i, ops[i], its[i].Status, typ, w.op, w.status, w.typ)
		}
	}
	if its[0].Index != ".ds-logs-castellan.alert-default-2025.01.01-000001" || its[7].Version != 2 || its[7].Result != "updated" {
		t.Errorf("backing index %q, overwrite %+v", its[0].Index, its[7])
	}
	if got := strings.Join(s.Accepted(), ","); got != "a,inc" {
		t.Errorf("accepted %s", got)
	}
	if d, ok := s.Document("castellan-incidents-default", "inc"); !ok || string(d.Source) != `{"v":2}` || d.Version != 2 {
		t.Errorf("stored incident %+v", d)
	}
	// A throttled id succeeds on its next attempt; a rejected one never does.
	_, b = do(t, s, "POST", "/logs-castellan.alert-default/_bulk",
		`{"create":{"_id":"busy"}}`+"\n"+ts+"\n"+`{"create":{"_id":"bad"}}`+"\n"+ts+"\n")
	_, _, its = items(t, b)
	if its[0].Status != 201 || its[1].Status != 400 {
		t.Errorf("retry: %+v", its)
	}
	if got := strings.Join(s.Accepted(), ","); got != "a,inc,busy" {
		t.Errorf("accepted %s", got)
	}
	// Only errors=false when every item succeeded.
	_, b = do(t, s, "POST", "/_bulk", `{"create":{"_index":"logs-x-default","_id":"z"}}`+"\n"+ts+"\n")
	if errs, _, _ := items(t, b); errs {
		t.Error("errors true for a clean request")
	}
}

func TestBulkWholeRequestErrors(t *testing.T) {
	s := New(Options{MaxContentLength: 1000})
	defer s.Close()
	cases := []struct {
		name, body, ct string
		status         int
		typ            string
	}{
		{"malformed action", "{nope\n{}\n", "application/json", 400, "x_content_parse_exception"},
		{"no trailing newline", `{"create":{"_index":"i","_id":"1"}}` + "\n{}", "application/json", 400, "illegal_argument_exception"},
		{"no index", `{"create":{"_id":"1"}}` + "\n{}\n", "application/json", 400, "action_request_validation_exception"},
		{"content type", `{"create":{"_index":"i"}}` + "\n{}\n", "text/plain", 406, "illegal_argument_exception"},
		{"too large", `{"create":{"_index":"i"}}` + "\n{\"x\":\"" + strings.Repeat("a", 1000) + "\"}\n", "application/json", 413, ""},
	}
	for _, c := range cases {
		resp, b := do(t, s, "POST", "/_bulk", c.body, "Content-Type", c.ct)
		if resp.StatusCode != c.status || (c.typ != "" && !strings.Contains(string(b), `"type":"`+c.typ+`"`)) {
			t.Errorf("%s: %d %s", c.name, resp.StatusCode, b)
		}
	}
	if n := len(s.Accepted()); n != 0 {
		t.Errorf("%d stored by failed requests", n)
	}
}

func TestAuth(t *testing.T) {
	s := New(Options{APIKey: "kid:ksecret", Username: "elastic", Password: "pw"})
	defer s.Close()
	apikey := "ApiKey " + base64.StdEncoding.EncodeToString([]byte("kid:ksecret"))
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("elastic:pw"))
	for _, c := range []struct {
		auth   string
		status int
	}{
		{apikey, 200}, {basic, 200}, {"", 401},
		{"ApiKey " + base64.StdEncoding.EncodeToString([]byte("kid:wrong")), 401},
		{"Basic " + base64.StdEncoding.EncodeToString([]byte("elastic:wrong")), 401},
		{"Bearer x", 401},
	} {
		var hdr []string
		if c.auth != "" {
			hdr = []string{"Authorization", c.auth}
		}
		resp, b := do(t, s, "GET", "/", "", hdr...)
		if resp.StatusCode != c.status {
			t.Errorf("%q: %d", c.auth, resp.StatusCode)
		}
		if c.status == 401 && (!strings.Contains(string(b), "security_exception") || resp.Header.Get("WWW-Authenticate") == "") {
			t.Errorf("%q: 401 body %s headers %v", c.auth, b, resp.Header)
		}
	}
}

func TestTemplates(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	if resp, _ := do(t, s, "GET", "/_index_template/castellan", ""); resp.StatusCode != 404 {
		t.Fatalf("missing template: %d", resp.StatusCode)
	}
	resp, b := do(t, s, "PUT", "/_index_template/castellan", `{"index_patterns":["castellan-*"],"priority":200,"composed_of":["castellan@mappings"]}`)
	if resp.StatusCode != 400 || !strings.Contains(string(b), "invalid_index_template_exception") {
		t.Fatalf("missing component accepted: %d %s", resp.StatusCode, b)
	}
	if resp, b := do(t, s, "PUT", "/_component_template/castellan@mappings", `{"template":{"mappings":{}}}`); resp.StatusCode != 200 {
		t.Fatalf("component: %d %s", resp.StatusCode, b)
	}
	body := `{"index_patterns":["castellan-*"],"priority":200,"data_stream":{},"composed_of":["logs@mappings","castellan@mappings","castellan@custom"],"ignore_missing_component_templates":["castellan@custom"]}`
	if resp, b := do(t, s, "PUT", "/_index_template/castellan", body); resp.StatusCode != 200 {
		t.Fatalf("index template: %d %s", resp.StatusCode, b)
	}
	resp, b = do(t, s, "GET", "/_index_template/castellan", "")
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"name":"castellan"`) || !strings.Contains(string(b), `"priority":200`) {
		t.Fatalf("get: %d %s", resp.StatusCode, b)
	}
	if raw, ok := s.IndexTemplate("castellan"); !ok || string(raw) != body {
		t.Fatalf("stored %s", raw)
	}
	if !s.IsDataStream("castellan-x") || s.IsDataStream("other") || !s.IsDataStream("logs-a-b") {
		t.Fatal("data stream resolution")
	}
	if resp, _ := do(t, s, "PUT", "/_index_template/clash", `{"index_patterns":["castellan-*"],"priority":200}`); resp.StatusCode != 400 {
		t.Fatal("same-priority overlap accepted")
	}
}

func TestFaults(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	s.FailNext(1, 429, 2*time.Second)
	resp, b := do(t, s, "POST", "/_bulk", `{"create":{"_index":"logs-a-b","_id":"1"}}`+"\n"+`{"@timestamp":"2025-01-01T00:00:00Z"}`+"\n")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" || !strings.Contains(string(b), `"status":429`) {
		t.Fatalf("429: %d %v %s", resp.StatusCode, resp.Header, b)
	}
	if len(s.Accepted()) != 0 {
		t.Fatal("a failed request stored documents")
	}
	s.DropResponses(1)
	req, _ := http.NewRequest("POST", s.URL()+"/_bulk", strings.NewReader(`{"create":{"_index":"logs-a-b","_id":"1"}}`+"\n"+`{"@timestamp":"2025-01-01T00:00:00Z"}`+"\n"))
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("dropped response answered")
	}
	if got := s.Accepted(); len(got) != 1 || got[0] != "1" {
		t.Fatalf("dropped request not processed: %v", got)
	}
}
