package entra

// The tests in this file run the real msgraph-sdk-go client (NewGraphPager)
// against the local Graph double; the rest of the package's tests use an
// in-memory Pager.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/connector/sources/entra/graphfake"
	mapping "github.com/castellan-itdr/castellan/mappings/entra"
)

// staticCred is a TokenCredential with a fixed token.
type staticCred string

func (c staticCred) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(c), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func newFakePager(t *testing.T, fake *graphfake.Server, token string) Pager {
	t.Helper()
	p, err := NewGraphPager(staticCred(token), fake.URL())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func fakeConfig(fake *graphfake.Server) *Config {
	c := testConfig()
	c.GraphURL = fake.URL()
	return c
}

func TestGraphPagingAndFidelity(t *testing.T) {
	fake := graphfake.New()
	defer fake.Close()
	fake.RequireToken("tok")
	var raws [][]byte
	for i := range 7 {
		raws = append(raws, signIn(fmt.Sprintf("s%02d", i), t0.Add(-time.Duration(i+1)*time.Minute)))
	}
	// The reference example, with nulls, floats, nested lists.
	ref, err := os.ReadFile("../../../mappings/entra/testdata/signIns.graph.json")
	if err != nil {
		t.Fatal(err)
	}
	var page struct{ Value []json.RawMessage }
	if err := json.Unmarshal(ref, &page); err != nil {
		t.Fatal(err)
	}
	for _, v := range page.Value {
		// Re-date them into the window.
		var m map[string]any
		_ = json.Unmarshal(v, &m)
		m["createdDateTime"] = t0.Add(-30 * time.Minute).Format(time.RFC3339Nano)
		b, _ := json.Marshal(m)
		raws = append(raws, b)
	}
	if err := fake.Add(graphfake.SignIns, raws...); err != nil {
		t.Fatal(err)
	}

	st := newStore()
	start(t, fakeConfig(fake), newFakePager(t, fake, "tok"), st) // $top 3 → 4 pages of 11

	// Every record arrives, mapped exactly as mappings/entra maps the JSON
	// Graph served: the SDK round trip loses nothing.
	m := mapping.Mapper{TenantID: testTenant}
	want := map[string]bool{}
	for _, raw := range raws {
		ev, err := m.FromSignIn(raw)
		if err != nil {
			t.Fatal(err)
		}
		want[ev.ID] = true
		found := false
		st.mu.Lock()
		for _, b := range st.batches {
			for _, got := range b.Events {
				if got.ID == ev.ID {
					found = true
					if !reflect.DeepEqual(got, ev) {
						t.Errorf("record %s changed through the SDK:\ngot  %s\nwant %s", ev.Event.RecordID, js(got), js(ev))
					}
				}
			}
		}
		st.mu.Unlock()
		if !found {
			t.Errorf("record %s not delivered", ev.Event.RecordID)
		}
	}
	if len(st.delivered(t)) != len(raws) {
		t.Errorf("delivered %d of %d", len(st.delivered(t)), len(raws))
	}
	reqs := fake.Requests()
	if len(reqs) != 4 {
		t.Errorf("%d requests, want 4 pages", len(reqs))
	}
	first := reqs[0]
	if f := first.Query.Get("$filter"); f != "createdDateTime ge 2020-03-12T20:00:00Z" {
		t.Errorf("$filter %q", f)
	}
	if first.Query.Get("$top") != "3" || first.Auth != "Bearer tok" {
		t.Errorf("first request %+v", first)
	}
	for _, r := range reqs[1:] {
		if r.Query.Get("$skiptoken") == "" || r.Status != http.StatusOK || r.Auth != "Bearer tok" {
			t.Errorf("next page request %+v", r)
		}
	}
}

// TestGraphExactlyOnce is the acceptance test: each sign-in is
// ingested exactly once across overlapping polls, late arrivals, 429
// storms (within and beyond the SDK's retries, on the first page and
// mid-listing) and a restart from the committed checkpoint.
func TestGraphExactlyOnce(t *testing.T) {
	fake := graphfake.New()
	defer fake.Close()
	add := func(id string, at time.Time) {
		t.Helper()
		if err := fake.Add(graphfake.SignIns, signIn(id, at)); err != nil {
			t.Fatal(err)
		}
	}
	base := t0.Add(-time.Hour)
	var all []string
	addN := func(prefix string, n int, from time.Time) {
		for i := range n {
			id := fmt.Sprintf("%s%02d", prefix, i)
			add(id, from.Add(time.Duration(i)*time.Second))
			all = append(all, id)
		}
	}
	st := newStore()
	cfg := fakeConfig(fake)

	addN("a", 8, base)
	// A short storm on the first page: the SDK's retry handler waits the
	// Retry-After (1 s each) and succeeds within the poll.
	fake.Throttle(2, "1")
	began := time.Now()
	h := start(t, cfg, newFakePager(t, fake, "tok"), st)
	if d := time.Since(began); d < 2*time.Second {
		t.Errorf("Retry-After not honoured: the poll took %s", d)
	}
	if n := h.counter("source_poll_errors"); n != 0 {
		t.Errorf("short storm failed the poll (%d errors)", n)
	}

	// Late arrivals within the overlap plus new records; then a storm
	// longer than the retries, starting mid-listing (page 2).
	addN("late", 3, base.Add(-5*time.Minute))
	addN("b", 6, base.Add(time.Minute))
	fake.Pass(1)
	fake.Throttle(maxRetries+1, "0")
	h.poll()
	if n := h.counter("source_poll_errors"); n != 1 {
		t.Errorf("long storm: %d poll errors, want 1", n)
	}
	h.poll() // recovers

	// Restart from the committed checkpoint; meanwhile more late and new
	// records, and a storm on the restarted source's first poll.
	h.stop()
	addN("late2", 2, base.Add(30*time.Second))
	addN("c", 4, base.Add(2*time.Minute))
	fake.Throttle(maxRetries+1, "0")
	h2 := start(t, cfg, newFakePager(t, fake, "tok"), st)
	h2.poll()
	h2.poll()

	sort.Strings(all)
	if got := st.delivered(t); strings.Join(got, ",") != strings.Join(all, ",") {
		t.Errorf("delivered %v\nwant      %v", got, all)
	}
	if n := fake.Count(http.StatusTooManyRequests); n != 2+2*(maxRetries+1) {
		t.Errorf("fake answered %d 429s", n)
	}
}

func TestGraphErrors(t *testing.T) {
	fake := graphfake.New()
	defer fake.Close()
	for i := range 5 {
		if err := fake.Add(graphfake.DirectoryAudits, fmt.Appendf(nil, `{"id":"d%d","activityDateTime":"2020-03-13T19:0%d:00Z"}`, i, i)); err != nil {
			t.Fatal(err)
		}
	}
	p := newFakePager(t, fake, "tok")
	q := Query{Resource: ResourceDirectoryAudits, Since: t0.Add(-time.Hour), Top: 2}
	count := func() (int, error) {
		n := 0
		err := p.List(context.Background(), q, func([]byte) error { n++; return nil })
		return n, err
	}
	if n, err := count(); err != nil || n != 5 {
		t.Fatalf("listing: %d %v", n, err)
	}
	if r := fake.Requests()[0]; r.Query.Get("$orderby") != "activityDateTime asc" {
		t.Errorf("directory audits not ordered: %v", r.Query)
	}

	// A first-page error and a page-2 error both surface as ODataError
	// with Graph's code (the page iterator's error mapping is registered).
	for name, pass := range map[string]int{"first page": 0, "page 2": 1} {
		fake.Pass(pass)
		fake.Fail(1, http.StatusBadRequest, "Request_UnsupportedQuery", "")
		_, err := count()
		var oe *odataerrors.ODataError
		if !errors.As(err, &oe) || oe.ResponseStatusCode != 400 || *oe.GetErrorEscaped().GetCode() != "Request_UnsupportedQuery" {
			t.Errorf("%s: %T %v", name, err, err)
		}
	}

	// The callback's error stops the listing and is returned.
	stop := errors.New("stop")
	if err := p.List(context.Background(), q, func([]byte) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("callback error: %v", err)
	}

	// A wrong token: 401, counted and logged by the source, retried next poll.
	fake.RequireToken("right")
	st := newStore()
	cfg := fakeConfig(fake)
	cfg.Resources = []string{ResourceDirectoryAudits}
	h := start(t, cfg, newFakePager(t, fake, "wrong"), st)
	if n := h.counter("source_poll_errors"); n != 1 || fake.Count(http.StatusUnauthorized) != 1 {
		t.Errorf("401: %d poll errors, %d 401s", n, fake.Count(http.StatusUnauthorized))
	}
}

// TestClientSecretThroughTokenFake runs azidentity's client-secret
// credential against the TLS token double, and Graph calls with its token.
func TestClientSecretThroughTokenFake(t *testing.T) {
	idp := graphfake.NewTokenServer(testTenant, "client", "s3cret", "issued-token")
	defer idp.Close()
	fake := graphfake.New()
	defer fake.Close()
	fake.RequireToken("issued-token")
	if err := fake.Add(graphfake.RiskyUsers, []byte(`{"id":"u1","riskLastUpdatedDateTime":"2020-03-13T19:00:00Z","riskLevel":"high"}`)); err != nil {
		t.Fatal(err)
	}
	cfg := fakeConfig(fake)
	cfg.AuthorityHost = idp.URL()
	cred, err := newCredential(cfg, azcore.ClientOptions{Transport: idp.Client()})
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewGraphPager(cred, fake.URL())
	if err != nil {
		t.Fatal(err)
	}
	q := Query{Resource: ResourceRiskyUsers, Since: t0.Add(-time.Hour), Top: 10}
	for range 2 {
		n := 0
		if err := p.List(context.Background(), q, func([]byte) error { n++; return nil }); err != nil || n != 1 {
			t.Fatalf("list: %d %v", n, err)
		}
	}
	issued, scopes := idp.Issued()
	if issued != 1 {
		t.Errorf("%d tokens issued for two calls, want 1 (cached)", issued)
	}
	if len(scopes) == 0 || !strings.Contains(scopes[0], "https://graph.microsoft.com/.default") {
		t.Errorf("scopes %v", scopes)
	}

	cfg.Auth.ClientSecret = "wrong"
	bad, err := newCredential(cfg, azcore.ClientOptions{Transport: idp.Client()})
	if err != nil {
		t.Fatal(err)
	}
	p, _ = NewGraphPager(bad, fake.URL())
	err = p.List(context.Background(), q, func([]byte) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Errorf("bad secret: %v", err)
	}
}

// TestCredentialPerMethod builds every credential without network.
func TestCredentialPerMethod(t *testing.T) {
	dir := t.TempDir()
	certFile := filepath.Join(dir, "app.pem")
	writeCert(t, certFile)
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("federated"), 0o600); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A transport that fails the test if anything is sent.
	noNet := &failTransport{t: t}
	tests := []struct {
		name    string
		auth    Auth
		client  string
		want    any
		wantErr string
	}{
		{"client secret", Auth{Method: AuthClientSecret, ClientSecret: "x"}, "client", &azidentity.ClientSecretCredential{}, ""},
		{"client certificate", Auth{Method: AuthClientCertificate, CertificateFile: certFile}, "client", &azidentity.ClientCertificateCredential{}, ""},
		{"certificate garbage", Auth{Method: AuthClientCertificate, CertificateFile: garbage}, "client", nil, "auth.certificate_file"},
		{"certificate missing", Auth{Method: AuthClientCertificate, CertificateFile: filepath.Join(dir, "none")}, "client", nil, "auth.certificate_file"},
		{"system managed identity", Auth{Method: AuthManagedIdentity}, "", &azidentity.ManagedIdentityCredential{}, ""},
		{"user managed identity", Auth{Method: AuthManagedIdentity}, "mi-client", &azidentity.ManagedIdentityCredential{}, ""},
		{"workload identity", Auth{Method: AuthWorkloadIdentity, TokenFile: tokenFile}, "client", &azidentity.WorkloadIdentityCredential{}, ""},
		{"unknown", Auth{Method: "magic"}, "client", nil, "auth.method"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Auth, cfg.ClientID = tc.auth, tc.client
			cred, err := newCredential(cfg, azcore.ClientOptions{Transport: noNet})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if reflect.TypeOf(cred) != reflect.TypeOf(tc.want) {
				t.Errorf("credential %T, want %T", cred, tc.want)
			}
		})
	}
	// Sovereign clouds pick their Graph endpoint.
	for cloudName, want := range map[string]string{"": "https://graph.microsoft.com/v1.0", CloudUSGov: "https://graph.microsoft.us/v1.0", CloudChina: "https://microsoftgraph.chinacloudapi.cn/v1.0"} {
		cfg := testConfig()
		cfg.Cloud = cloudName
		if got := endpointsOf(cfg).graphURL; got != want {
			t.Errorf("cloud %q: %s", cloudName, got)
		}
	}
	// New builds the whole client without network.
	cfg := testConfig()
	if _, err := New(cfg, component.SourceSettings{Next: newStore()}); err != nil {
		t.Fatal(err)
	}
}

type failTransport struct{ t *testing.T }

func (f *failTransport) Do(r *http.Request) (*http.Response, error) {
	f.t.Errorf("network call during construction: %s %s", r.Method, r.URL)
	return nil, errors.New("no network")
}

func writeCert(t *testing.T, path string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "castellan-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	out = append(out, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})...)
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }
