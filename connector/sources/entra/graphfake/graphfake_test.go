package graphfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

type page struct {
	Context  string            `json:"@odata.context"`
	Value    []json.RawMessage `json:"value"`
	NextLink string            `json:"@odata.nextLink"`
	Error    *struct {
		Code, Message string
	} `json:"error"`
}

func get(t *testing.T, rawURL, token string) (int, http.Header, page) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, rawURL, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var p page
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("%s: %v: %s", rawURL, err, b)
	}
	return resp.StatusCode, resp.Header, p
}

func ids(p page) string {
	var out []string
	for _, v := range p.Value {
		var m struct{ ID string }
		_ = json.Unmarshal(v, &m)
		out = append(out, m.ID)
	}
	return strings.Join(out, ",")
}

func seeded(t *testing.T) *Server {
	t.Helper()
	s := New()
	t.Cleanup(s.Close)
	for i := range 5 {
		rec := fmt.Sprintf(`{"id":"s%d","createdDateTime":"2020-03-13T19:0%d:00.1234567Z","status":{"errorCode":0}}`, i, i)
		if err := s.Add(SignIns, []byte(rec)); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestFilterOrderPaging(t *testing.T) {
	s := seeded(t)
	q := url.Values{"$filter": {"createdDateTime ge 2020-03-13T19:01:00Z"}, "$top": {"2"}}
	status, _, p := get(t, s.URL()+"/auditLogs/signIns?"+q.Encode(), "t")
	if status != 200 || ids(p) != "s4,s3" || !strings.HasSuffix(p.Context, "#auditLogs/signIns") {
		t.Fatalf("page 1: %d %s %+v", status, ids(p), p)
	}
	if !strings.HasPrefix(p.NextLink, s.srv.URL+"/v1.0/auditLogs/signIns?") || !strings.Contains(p.NextLink, "%24skiptoken=") {
		t.Fatalf("next link not absolute on the fake: %s", p.NextLink)
	}
	// Records added while paging do not shift the pages.
	if err := s.Add(SignIns, []byte(`{"id":"late","createdDateTime":"2020-03-13T19:03:30Z"}`)); err != nil {
		t.Fatal(err)
	}
	_, _, p2 := get(t, p.NextLink, "t")
	if ids(p2) != "s2,s1" {
		t.Errorf("page 2: %s", ids(p2))
	}
	if p2.NextLink != "" {
		t.Errorf("last page has a next link: %s", p2.NextLink)
	}
	// A skiptoken is good once.
	if status, _, p := get(t, p.NextLink, "t"); status != 400 || p.Error == nil {
		t.Errorf("reused skiptoken: %d %+v", status, p)
	}
	// A new query sees the late record; ascending order; gt/lt bounds.
	q = url.Values{"$filter": {"createdDateTime gt 2020-03-13T19:02:00Z and createdDateTime lt 2020-03-13T19:04:00Z"}, "$orderby": {"createdDateTime asc"}}
	if _, _, p := get(t, s.URL()+"/auditLogs/signIns?"+q.Encode(), "t"); ids(p) != "s2,s3,late" {
		t.Errorf("bounded ascending query: %s", ids(p))
	}
}

func TestRejections(t *testing.T) {
	s := seeded(t)
	for name, tc := range map[string]struct {
		query string
		token string
		path  string
		want  int
		code  string
	}{
		"no token":          {"", "", SignIns, 401, "InvalidAuthenticationToken"},
		"filter on userId":  {"$filter=" + url.QueryEscape("userId eq 'x'"), "t", SignIns, 400, "Request_UnsupportedQuery"},
		"wrong date prop":   {"$filter=" + url.QueryEscape("createdDateTime ge 2020-01-01T00:00:00Z"), "t", DirectoryAudits, 400, "Request_UnsupportedQuery"},
		"bad literal":       {"$filter=" + url.QueryEscape("createdDateTime ge yesterday"), "t", SignIns, 400, "Request_UnsupportedQuery"},
		"orderby other":     {"$orderby=userId", "t", SignIns, 400, "Request_UnsupportedQuery"},
		"unknown parameter": {"$expand=x", "t", SignIns, 400, "Request_UnsupportedQuery"},
		"bad top":           {"$top=0", "t", SignIns, 400, "Request_BadRequest"},
		"unknown resource":  {"", "t", "noSuchCollection", 404, "Request_ResourceNotFound"},
	} {
		t.Run(name, func(t *testing.T) {
			status, _, p := get(t, s.URL()+"/"+tc.path+"?"+tc.query, tc.token)
			if status != tc.want || p.Error == nil || p.Error.Code != tc.code {
				t.Errorf("%d %+v, want %d %s", status, p.Error, tc.want, tc.code)
			}
		})
	}
	s.RequireToken("right")
	if status, _, _ := get(t, s.URL()+"/"+SignIns, "wrong"); status != 401 {
		t.Errorf("wrong token: %d", status)
	}
	if err := s.Add(SignIns, []byte(`{"id":"x"}`)); err == nil {
		t.Error("record without date accepted")
	}
}

func TestScriptedFaults(t *testing.T) {
	s := seeded(t)
	s.Pass(1)
	s.Throttle(2, "7")
	s.Fail(1, 503, "ServiceUnavailable", "")
	want := []int{200, 429, 429, 503, 200}
	for i, w := range want {
		status, h, p := get(t, s.URL()+"/"+SignIns, "t")
		if status != w {
			t.Fatalf("request %d: %d, want %d", i, status, w)
		}
		if w == 429 && (h.Get("Retry-After") != "7" || p.Error == nil || p.Error.Code != "TooManyRequests") {
			t.Errorf("429 without Retry-After or envelope: %v %+v", h, p.Error)
		}
	}
	if s.Count(429) != 2 || len(s.Requests()) != 5 {
		t.Errorf("request log: %+v", s.Requests())
	}
}

func TestRiskDetectionPageSizes(t *testing.T) {
	s := New()
	defer s.Close()
	for i := range 600 {
		if err := s.Add(RiskDetections, fmt.Appendf(nil, `{"id":"r%d","detectedDateTime":"2020-03-13T19:00:00Z"}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, p := get(t, s.URL()+"/"+RiskDetections, "t"); len(p.Value) != 20 {
		t.Errorf("default page %d, want 20", len(p.Value))
	}
	if _, _, p := get(t, s.URL()+"/"+RiskDetections+"?%24top=999", "t"); len(p.Value) != 500 {
		t.Errorf("max page %d, want 500", len(p.Value))
	}
}
