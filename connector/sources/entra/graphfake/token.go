package graphfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// TokenServer is a TLS double of the Entra ID (v2.0) authority for one
// tenant and one confidential client, as azidentity's
// ClientSecretCredential uses it (reference §4.6 item 8): the OpenID
// configuration and the client-credentials token endpoint. A wrong secret
// gets AADSTS7000215 as Entra answers it. Safe for concurrent use.
type TokenServer struct {
	srv                      *httptest.Server
	tenant, clientID, secret string
	// Token is the access token issued.
	Token string

	mu     sync.Mutex
	issued int
	scopes []string
}

// NewTokenServer starts the authority over TLS (azidentity requires
// https). Use Client() as the credential's transport and URL() as its
// authority host.
func NewTokenServer(tenant, clientID, secret, token string) *TokenServer {
	t := &TokenServer{tenant: tenant, clientID: clientID, secret: secret, Token: token}
	t.srv = httptest.NewTLSServer(http.HandlerFunc(t.serve))
	return t
}

// URL is the authority host, with a trailing slash.
func (t *TokenServer) URL() string { return t.srv.URL + "/" }

// Client returns an HTTP client trusting the server's certificate.
func (t *TokenServer) Client() *http.Client { return t.srv.Client() }

// Close shuts the server down.
func (t *TokenServer) Close() { t.srv.Close() }

// Issued returns how many tokens were issued and the scopes requested.
func (t *TokenServer) Issued() (int, []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.issued, append([]string(nil), t.scopes...)
}

func (t *TokenServer) serve(w http.ResponseWriter, r *http.Request) {
	base := t.srv.URL + "/" + t.tenant
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/"+t.tenant+"/v2.0/.well-known/openid-configuration":
		_ = json.NewEncoder(w).Encode(map[string]any{
			"token_endpoint":         base + "/oauth2/v2.0/token",
			"authorization_endpoint": base + "/oauth2/v2.0/authorize",
			"issuer":                 base + "/v2.0",
		})
	case r.Method == http.MethodPost && r.URL.Path == "/"+t.tenant+"/oauth2/v2.0/token":
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if r.PostForm.Get("grant_type") != "client_credentials" {
			t.oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003: unsupported grant type", 70003)
			return
		}
		if r.PostForm.Get("client_id") != t.clientID {
			t.oauthError(w, http.StatusBadRequest, "unauthorized_client", fmt.Sprintf("AADSTS700016: Application with identifier '%s' was not found in the directory.", r.PostForm.Get("client_id")), 700016)
			return
		}
		if r.PostForm.Get("client_secret") != t.secret {
			t.oauthError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided.", 7000215)
			return
		}
		t.mu.Lock()
		t.issued++
		t.scopes = append(t.scopes, r.PostForm.Get("scope"))
		t.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{
			"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": t.Token,
		})
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"not_found","error_description":"` + strings.ReplaceAll(r.URL.Path, `"`, "") + `"}`))
	}
}

func (t *TokenServer) oauthError(w http.ResponseWriter, status int, code, desc string, n int) {
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": code, "error_description": desc, "error_codes": []int{n}})
}
