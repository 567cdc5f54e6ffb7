package dcefake

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/monitor/ingestion/azlogs"

	"github.com/castellan-itdr/castellan/mappings/asim"
)

const stream = asim.AlertsStream

func row(id string) string {
	return `{"TimeGenerated":"2025-01-01T10:00:00Z","EventId":"` + id + `","RuleId":"r","RiskScore":47,"Entities":{"users":["a"]}}`
}

func gz(t *testing.T, s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(s))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type req struct {
	method, path, query, token, encoding, ctype string
	body                                        []byte
}

func do(t *testing.T, s *Server, r req) (int, http.Header, string) {
	t.Helper()
	if r.method == "" {
		r.method = http.MethodPost
	}
	if r.path == "" {
		r.path = "/dataCollectionRules/" + RuleID + "/streams/" + stream
	}
	if r.query == "" {
		r.query = "api-version=2023-01-01"
	}
	if r.token == "" {
		r.token = "Bearer " + Token
	}
	if r.ctype == "" {
		r.ctype = "application/json"
	}
	hr, _ := http.NewRequest(r.method, s.URL()+r.path+"?"+r.query, bytes.NewReader(r.body))
	if r.token != "-" {
		hr.Header.Set("Authorization", r.token)
	}
	hr.Header.Set("Content-Type", r.ctype)
	if r.encoding != "" {
		hr.Header.Set("Content-Encoding", r.encoding)
	}
	resp, err := s.Client().Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// errCode checks the documented error envelope and returns its code.
func errCode(t *testing.T, h http.Header, body string) string {
	t.Helper()
	var env struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &env); err != nil || env.Error.Code == "" || env.Error.Message == "" {
		t.Fatalf("body %q is not the {\"error\":{\"code\",\"message\"}} envelope", body)
	}
	if h.Get("x-ms-error-code") != env.Error.Code {
		t.Errorf("x-ms-error-code %q != body code %q", h.Get("x-ms-error-code"), env.Error.Code)
	}
	return env.Error.Code
}

func TestWire(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	ok := "[" + row("a1") + "," + row("a2") + "]"
	cases := []struct {
		name   string
		r      req
		status int
		code   string
		msg    string
	}{
		{"plain json", req{body: []byte(ok)}, 204, "", ""},
		{"gzip json", req{body: gz(t, "["+row("a3")+"]"), encoding: "gzip"}, 204, "", ""},
		{"empty array", req{body: []byte("[]")}, 204, "", ""},
		{"no token", req{token: "-", body: []byte(ok)}, 401, "OperationFailed", ""},
		{"wrong token", req{token: "Bearer nope", body: []byte(ok)}, 401, "OperationFailed", ""},
		{"basic auth", req{token: "Basic Zm9vOmJhcg==", body: []byte(ok)}, 401, "OperationFailed", ""},
		{"unknown dcr", req{path: "/dataCollectionRules/dcr-ffffffffffffffffffffffffffffffff/streams/" + stream, body: []byte(ok)}, 404, "NotFound", "dcr-ffff"},
		{"unknown stream", req{path: "/dataCollectionRules/" + RuleID + "/streams/Custom-Nope", body: []byte(ok)}, 404, "NotFound", "Custom-Nope"},
		{"wrong api-version", req{query: "api-version=2021-11-01-preview", body: []byte(ok)}, 404, "NotFound", ""},
		{"GET", req{method: http.MethodGet}, 404, "NotFound", ""},
		{"object not array", req{body: []byte(row("x"))}, 400, "InvalidPayload", "array"},
		{"array of non-objects", req{body: []byte(`[1,2]`)}, 400, "InvalidPayload", ""},
		{"unknown column", req{body: []byte(`[{"EventId":"x","Bogus":1}]`)}, 400, "InvalidPayload", "Bogus"},
		{"string into int", req{body: []byte(`[{"EventId":"x","RiskScore":"high"}]`)}, 400, "InvalidPayload", "RiskScore"},
		{"bad datetime", req{body: []byte(`[{"EventId":"x","TimeGenerated":"yesterday"}]`)}, 400, "InvalidPayload", "TimeGenerated"},
		{"not gzip", req{body: []byte(ok), encoding: "gzip"}, 400, "InvalidPayload", "gzip"},
		{"bad encoding", req{body: []byte(ok), encoding: "br"}, 400, "InvalidPayload", "br"},
		{"bad content type", req{body: []byte(ok), ctype: "text/plain"}, 400, "InvalidPayload", "Content-Type"},
		{"over 1 MiB raw", req{body: []byte("[" + strings.Repeat(" ", MaxBodyBytes) + "]")}, 413, "ContentLengthLimitExceeded", "Maximum allowed content length: 1048576 bytes (1 MB). Provided content length: 1048578 bytes."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, h, body := do(t, s, c.r)
			if status != c.status {
				t.Fatalf("status %d (%s), want %d", status, body, c.status)
			}
			if c.status == 204 {
				if body != "" {
					t.Errorf("204 with a body %q", body)
				}
				return
			}
			if code := errCode(t, h, body); code != c.code {
				t.Errorf("code %q, want %q", code, c.code)
			}
			if !strings.Contains(body, c.msg) {
				t.Errorf("body %q lacks %q", body, c.msg)
			}
		})
	}
	if got := strings.Join(s.Accepted(), ","); got != "a1,a2,a3" {
		t.Errorf("accepted %q, want a1,a2,a3 (only the 204 calls store)", got)
	}
	if rows := s.Rows(stream); len(rows) != 3 || !strings.Contains(string(rows[2]), `"a3"`) {
		t.Errorf("rows %s", rows)
	}
	if s.DedupesByID() {
		t.Error("Logs Ingestion does not deduplicate")
	}
}

func TestLimitIsOnTheCompressedBody(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	// 3 MB of JSON that gzips far below 1 MiB is accepted...
	var b strings.Builder
	b.WriteString("[")
	for i := 0; b.Len() < 3<<20; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(row("big"))
	}
	b.WriteString("]")
	body := gz(t, b.String())
	if status, _, msg := do(t, s, req{body: body, encoding: "gzip"}); status != 204 {
		t.Fatalf("gzip %d bytes (%d inflated): %d %s", len(body), b.Len(), status, msg)
	}
	c := s.Calls()[0]
	if !c.Gzip || c.BodyBytes != len(body) || c.DecompressedBytes != b.Len() || c.Rows < 1000 {
		t.Errorf("call record %+v", c)
	}
	// ...and past the decompressed cap it is refused.
	s2 := New(Options{MaxDecompressedBytes: 1 << 20})
	defer s2.Close()
	status, h, msg := do(t, s2, req{body: body, encoding: "gzip"})
	if status != 413 || errCode(t, h, msg) != "PayloadSizeLimitExceeded" {
		t.Errorf("decompressed cap: %d %s", status, msg)
	}
}

func TestFaults(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	body := []byte("[" + row("f1") + "]")

	s.FailNext(2, 429, 1500*time.Millisecond)
	for range 2 {
		status, h, _ := do(t, s, req{body: body})
		if status != 429 || h.Get("Retry-After") != "2" {
			t.Fatalf("429: %d Retry-After %q", status, h.Get("Retry-After"))
		}
	}
	s.FailFor(time.Hour, 503, 0)
	if status, _, _ := do(t, s, req{body: body}); status != 503 {
		t.Fatalf("503: %d", status)
	}
	s.FailFor(0, 0, 0)

	s.DenyAccess(true)
	status, h, msg := do(t, s, req{body: body})
	if status != 403 || errCode(t, h, msg) != "OperationFailed" || !strings.Contains(msg, "PipelineAccessResult: AccessGranted: False") {
		t.Fatalf("403: %d %s", status, msg)
	}
	s.DenyAccess(false)

	s.Reject("bad")
	status, h, msg = do(t, s, req{body: []byte("[" + row("good") + "," + row("bad") + "]")})
	if status != 400 || errCode(t, h, msg) != "InvalidPayload" || !strings.Contains(msg, "bad") {
		t.Fatalf("reject: %d %s", status, msg)
	}
	if len(s.Accepted()) != 0 {
		t.Fatalf("a rejected request stored rows: %v", s.Accepted())
	}

	// A dropped response: stored, but the client gets no answer.
	s.DropResponses(1)
	hr, _ := http.NewRequest(http.MethodPost, s.URL()+"/dataCollectionRules/"+RuleID+"/streams/"+stream+"?api-version=2023-01-01", bytes.NewReader(body))
	hr.Header.Set("Authorization", "Bearer "+Token)
	hr.Header.Set("Content-Type", "application/json")
	if resp, err := s.Client().Do(hr); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped response answered %d", resp.StatusCode)
	}
	if got := s.Accepted(); len(got) != 1 || got[0] != "f1" {
		t.Fatalf("the dropped request was not stored: %v", got)
	}
	// Resending stores a duplicate: no deduplication.
	if status, _, _ := do(t, s, req{body: body}); status != 204 {
		t.Fatal(status)
	}
	if got := s.Accepted(); len(got) != 2 {
		t.Fatalf("want the duplicate stored: %v", got)
	}
	if s.MeanBodyBytes() != float64(len(body)) {
		t.Errorf("MeanBodyBytes %v, want %d", s.MeanBodyBytes(), len(body))
	}
}

// TestAzlogsClient drives the double with the real azlogs v1.1.0 client over
// TLS: the scope and headers it sends and the errors it returns.
func TestAzlogsClient(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	cred := &fake.TokenCredential{}
	newClient := func() *azlogs.Client {
		c, err := azlogs.NewClient(s.URL(), cred, &azlogs.ClientOptions{ClientOptions: azcore.ClientOptions{
			Transport: s.Client(), Retry: policy.RetryOptions{MaxRetries: -1}}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := newClient()
	enc := "gzip"
	ctx := context.Background()
	if _, err := c.Upload(ctx, RuleID, stream, gz(t, "["+row("z1")+"]"), &azlogs.UploadOptions{ContentEncoding: &enc}); err != nil {
		t.Fatalf("upload: %v", err)
	}
	_, err := c.Upload(ctx, RuleID, "Custom-Nope", []byte("["+row("z2")+"]"), nil)
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != 404 || re.ErrorCode != "NotFound" {
		t.Fatalf("unknown stream: %v", err)
	}
	s.FailNext(1, 429, time.Second)
	_, err = c.Upload(ctx, RuleID, stream, []byte("["+row("z3")+"]"), nil)
	if !errors.As(err, &re) || re.StatusCode != 429 || re.RawResponse.Header.Get("Retry-After") != "1" {
		t.Fatalf("429: %v", err)
	}
	cred.SetError(errors.New("no token"))
	if _, err = newClient().Upload(ctx, RuleID, stream, []byte("["+row("z4")+"]"), nil); err == nil {
		t.Fatal("upload without a token succeeded")
	}
	if got := strings.Join(s.Accepted(), ","); got != "z1" {
		t.Errorf("accepted %q", got)
	}
}
