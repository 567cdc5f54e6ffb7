package entra

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/castellan-itdr/castellan/connector/config"
	"github.com/castellan-itdr/castellan/connector/respond"
	"github.com/castellan-itdr/castellan/connector/sources/entra/entraauth"
	"github.com/castellan-itdr/castellan/connector/sources/entra/graphfake"
)

// appServiceIdentity is the App Service managed identity endpoint
// (IDENTITY_ENDPOINT + IDENTITY_HEADER, api-version 2019-08-01): GET with
// the header X-IDENTITY-HEADER and the query resource (and client_id for
// a user-assigned identity), answered with access_token, expires_on (unix
// seconds, as a string), resource and token_type.
type appServiceIdentity struct {
	srv           *httptest.Server
	header, token string
	mu            sync.Mutex
	clientIDs     []string // client_id of each request ("" = system-assigned)
}

func newAppServiceIdentity(t *testing.T, token string) *appServiceIdentity {
	a := &appServiceIdentity{header: "identity-header-1", token: token}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	t.Setenv("IDENTITY_ENDPOINT", a.srv.URL+"/msi/token")
	t.Setenv("IDENTITY_HEADER", a.header)
	return a
}

func (a *appServiceIdentity) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method != http.MethodGet || r.URL.Path != "/msi/token":
		w.WriteHeader(http.StatusNotFound)
		return
	case r.Header.Get("X-IDENTITY-HEADER") != a.header:
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"statusCode":401,"message":"Unauthorized request"}`))
		return
	case q.Get("api-version") != "2019-08-01" || q.Get("resource") != "https://graph.microsoft.com":
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"statusCode":400,"message":"bad api-version or resource"}`))
		return
	}
	a.mu.Lock()
	a.clientIDs = append(a.clientIDs, q.Get("client_id"))
	a.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]string{
		"access_token": a.token, "token_type": "Bearer", "resource": q.Get("resource"),
		"expires_on": strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10),
	})
}

func (a *appServiceIdentity) requests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.clientIDs...)
}

// A daemon on Azure acts on Entra with its managed identity: the same
// auth block as the entra source, the token from the identity endpoint,
// the action through Graph.
func TestManagedIdentityActs(t *testing.T) {
	for _, clientID := range []string{"", "mi-client-1"} {
		name := "system-assigned"
		if clientID != "" {
			name = "user-assigned"
		}
		t.Run(name, func(t *testing.T) {
			g := graphfake.New()
			t.Cleanup(g.Close)
			g.RequireToken("mi-tok")
			g.AddUser(graphfake.User{ID: annID, UserPrincipalName: "ann@contoso.com", AccountEnabled: true})
			mi := newAppServiceIdentity(t, "mi-tok")
			d, err := New(config.ResponseEntra{TenantID: "tenant-1", ClientID: clientID,
				Auth: entraauth.Auth{Method: entraauth.AuthManagedIdentity}, GraphURL: g.URL()}, azcore.ClientOptions{})
			if err != nil {
				t.Fatal(err)
			}
			r := respond.New(respond.Options{Directories: []respond.Directory{d}})
			want(t, do(t, r, respond.DisableUser, "ann@contoso.com", respond.Enforce), respond.Succeeded, "account disabled")
			if u, _ := g.User(annID); u.AccountEnabled {
				t.Fatal("still enabled")
			}
			got := mi.requests()
			if len(got) == 0 || got[0] != clientID {
				t.Errorf("identity endpoint saw client ids %q, want %q", got, clientID)
			}
		})
	}
	// A token the Graph double does not accept fails the action, so the
	// test above proves the managed identity's token was used.
	g := graphfake.New()
	t.Cleanup(g.Close)
	g.RequireToken("other-tok")
	g.AddUser(graphfake.User{ID: annID, UserPrincipalName: "ann@contoso.com", AccountEnabled: true})
	newAppServiceIdentity(t, "mi-tok")
	d, err := New(config.ResponseEntra{TenantID: "tenant-1", Auth: entraauth.Auth{Method: entraauth.AuthManagedIdentity}, GraphURL: g.URL()}, azcore.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := respond.New(respond.Options{Directories: []respond.Directory{d}})
	if rec := do(t, r, respond.DisableUser, "ann@contoso.com", respond.Enforce); rec.Result == respond.Succeeded {
		t.Fatalf("acted with a token Graph refuses: %+v", rec)
	}
	if u, _ := g.User(annID); !u.AccountEnabled {
		t.Fatal("disabled with a refused token")
	}
}

// New validates with the entra source's rules and builds every credential
// method without a network call.
func TestNewValidatesAndBuildsEveryMethod(t *testing.T) {
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte("federated"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AZURE_FEDERATED_TOKEN_FILE", "")
	base := config.ResponseEntra{TenantID: "tenant-1", ClientID: "client-1", GraphURL: "http://127.0.0.1:1/v1.0"}
	for name, tc := range map[string]struct {
		auth    entraauth.Auth
		wantErr string
	}{
		"client secret":              {entraauth.Auth{Method: entraauth.AuthClientSecret, ClientSecret: "s"}, ""},
		"default method is secret":   {entraauth.Auth{ClientSecret: "s"}, ""},
		"workload identity":          {entraauth.Auth{Method: entraauth.AuthWorkloadIdentity, TokenFile: token}, ""},
		"secret missing":             {entraauth.Auth{Method: entraauth.AuthClientSecret}, "auth.client_secret: required for method client_secret"},
		"certificate missing":        {entraauth.Auth{Method: entraauth.AuthClientCertificate, CertificateFile: filepath.Join(dir, "none.pem")}, "auth.certificate_file"},
		"certificate garbage":        {entraauth.Auth{Method: entraauth.AuthClientCertificate, CertificateFile: token}, "auth.certificate_file"},
		"workload identity no token": {entraauth.Auth{Method: entraauth.AuthWorkloadIdentity}, "auth.token_file: required"},
		"unknown method":             {entraauth.Auth{Method: "password"}, "auth.method: must be"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := base
			cfg.Auth = tc.auth
			d, err := New(cfg, azcore.ClientOptions{})
			if tc.wantErr == "" {
				if err != nil || d == nil {
					t.Fatalf("%v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
		})
	}
	// The cloud picks the Graph endpoint, as for the source.
	d, err := New(config.ResponseEntra{TenantID: "t", Cloud: entraauth.CloudUSGov, Auth: entraauth.Auth{Method: entraauth.AuthManagedIdentity}}, azcore.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.client.GetAdapter().GetBaseUrl(); got != "https://graph.microsoft.us/v1.0" {
		t.Errorf("usgov base url %s", got)
	}
}
