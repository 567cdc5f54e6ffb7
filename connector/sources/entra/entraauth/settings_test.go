package entraauth

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		s    Settings
		want []string // substrings; none = valid
	}{
		{"client secret", Settings{TenantID: "t", ClientID: "c", Auth: Auth{Method: AuthClientSecret, ClientSecret: "s"}}, nil},
		{"managed identity alone", Settings{TenantID: "t", Auth: Auth{Method: AuthManagedIdentity}}, nil},
		{"empty", Settings{}, []string{"tenant_id: required", "auth.method: required"}},
		{"secret missing", Settings{TenantID: "t", Auth: Auth{Method: AuthClientSecret}},
			[]string{"client_id: required", "auth.client_secret: required for method client_secret"}},
		{"certificate not found", Settings{TenantID: "t", ClientID: "c",
			Auth: Auth{Method: AuthClientCertificate, CertificateFile: filepath.Join(t.TempDir(), "none.pem")}},
			[]string{"auth.certificate_file: stat"}},
		{"secret with managed identity", Settings{TenantID: "t", Auth: Auth{Method: AuthManagedIdentity, ClientSecret: "s"}},
			[]string{"auth.client_secret: only for method client_secret"}},
		{"bad cloud and urls", Settings{TenantID: "t", Auth: Auth{Method: AuthManagedIdentity}, Cloud: "mars",
			GraphURL: "http://graph.example/v1.0", AuthorityHost: "login"},
			[]string{`cloud: must be public, usgov or china, not "mars"`, "graph_url: plain http is allowed only for localhost", "authority_host: must be an absolute"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("valid, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%v\nwant %q", err, w)
				}
			}
		})
	}
	// A secret never appears in a message.
	err := Settings{Auth: Auth{Method: AuthManagedIdentity, ClientSecret: "hunter2-secret"}}.Validate()
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("message %v", err)
	}
}

func TestDefaultsAndEndpoint(t *testing.T) {
	s := Settings{TenantID: "t"}.WithDefaults()
	if s.Auth.Method != AuthClientSecret || s.Cloud != CloudPublic || s != (Settings{TenantID: "t", Auth: Auth{Method: AuthClientSecret}, Cloud: CloudPublic}) {
		t.Errorf("defaults %+v", s)
	}
	if s := (Settings{Auth: Auth{Method: AuthManagedIdentity}, Cloud: CloudChina}).WithDefaults(); s.Auth.Method != AuthManagedIdentity || s.Cloud != CloudChina {
		t.Errorf("defaults overrode %+v", s)
	}
	for _, tc := range []struct {
		s    Settings
		want string
	}{
		{Settings{}, "https://graph.microsoft.com/v1.0"},
		{Settings{Cloud: CloudUSGov}, "https://graph.microsoft.us/v1.0"},
		{Settings{Cloud: CloudChina}, "https://microsoftgraph.chinacloudapi.cn/v1.0"},
		{Settings{Cloud: CloudUSGov, GraphURL: "http://127.0.0.1:9/v1.0/"}, "http://127.0.0.1:9/v1.0"},
	} {
		if got := tc.s.GraphEndpoint(); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.s, got, tc.want)
		}
	}
}
