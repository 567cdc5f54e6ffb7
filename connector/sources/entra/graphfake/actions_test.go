package graphfake

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestActionEndpoints(t *testing.T) {
	s := New()
	defer s.Close()
	s.AddUser(User{ID: "11111111-1111-1111-1111-111111111111", UserPrincipalName: "ann@contoso.com", AccountEnabled: true})
	do := func(method, path, body, auth string, gz bool) (int, string) {
		t.Helper()
		var rd io.Reader = strings.NewReader(body)
		if gz {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			_, _ = zw.Write([]byte(body))
			_ = zw.Close()
			rd = &b
		}
		req, _ := http.NewRequest(method, s.URL()+path, rd)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if gz {
			req.Header.Set("Content-Encoding", "gzip")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	const tok = "Bearer x"
	for _, tc := range []struct {
		method, path, body, auth string
		gz                       bool
		status                   int
		inBody                   string
	}{
		{"PATCH", "/users/ann@contoso.com", `{"accountEnabled":false}`, "", false, 401, "InvalidAuthenticationToken"},
		{"PATCH", "/users/nobody@contoso.com", `{"accountEnabled":false}`, tok, false, 404, "Request_ResourceNotFound"},
		{"PATCH", "/users/ann@contoso.com", `{"accountEnabled":"no"}`, tok, false, 400, "accountEnabled"},
		{"PATCH", "/users/ann@contoso.com", `{"accountEnabld":false}`, tok, false, 400, "accountEnabld"},
		{"PATCH", "/users/ann@contoso.com", `[]`, tok, false, 400, "JSON object"},
		{"PATCH", "/users/ann@contoso.com", `{"@odata.type":"#microsoft.graph.user","accountEnabled":false}`, tok, true, 204, ""},
		{"GET", "/users/11111111-1111-1111-1111-111111111111?$select=accountEnabled", "", tok, false, 200, `"accountEnabled":false`},
		{"POST", "/users/ann@contoso.com/revokeSignInSessions", "", tok, false, 200, `"value":true`},
		{"POST", "/identityProtection/riskyUsers/confirmCompromised", `{"userIds":[]}`, tok, false, 400, "userIds"},
		{"POST", "/identityProtection/riskyUsers/confirmCompromised", `{"userIds":["22222222-2222-2222-2222-222222222222"]}`, tok, false, 404, "Request_ResourceNotFound"},
		{"GET", "/identityProtection/riskyUsers/11111111-1111-1111-1111-111111111111", "", tok, false, 404, "Request_ResourceNotFound"},
		{"POST", "/identityProtection/riskyUsers/confirmCompromised", `{"userIds":["11111111-1111-1111-1111-111111111111"]}`, tok, true, 204, ""},
		{"GET", "/identityProtection/riskyUsers/11111111-1111-1111-1111-111111111111", "", tok, false, 200, `"riskState":"confirmedCompromised"`},
		{"POST", "/identityProtection/riskyUsers/dismiss", `{"userIds":["11111111-1111-1111-1111-111111111111"],"x":1}`, tok, false, 400, "'x'"},
		{"POST", "/identityProtection/riskyUsers/dismiss", `{"userIds":["11111111-1111-1111-1111-111111111111"]}`, tok, false, 204, ""},
	} {
		st, body := do(tc.method, tc.path, tc.body, tc.auth, tc.gz)
		if st != tc.status || !strings.Contains(body, tc.inBody) {
			t.Errorf("%s %s %s → %d %s; want %d with %q", tc.method, tc.path, tc.body, st, body, tc.status, tc.inBody)
		}
	}
	u, _ := s.User("11111111-1111-1111-1111-111111111111")
	if u.AccountEnabled || s.Revocations(u.ID) != 1 {
		t.Errorf("state %+v, revocations %d", u, s.Revocations(u.ID))
	}
	if st, lvl := s.Risk(u.ID); st != "dismissed" || lvl != "none" {
		t.Errorf("risk %s/%s", st, lvl)
	}
	reqs := s.ActionRequests()
	if len(reqs) != 14 || reqs[4].Body != `{"@odata.type":"#microsoft.graph.user","accountEnabled":false}` || !reqs[4].Gzipped || reqs[4].Status != 204 {
		t.Errorf("%d requests recorded; the gzipped PATCH: %+v", len(reqs), reqs[min(4, len(reqs)-1)])
	}
}
