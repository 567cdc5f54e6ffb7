package entracred

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/castellan-itdr/castellan/connector/sources/entra/entraauth"
)

func TestCloud(t *testing.T) {
	for _, tc := range []struct {
		s    entraauth.Settings
		want string
	}{
		{entraauth.Settings{}, cloud.AzurePublic.ActiveDirectoryAuthorityHost},
		{entraauth.Settings{Cloud: entraauth.CloudUSGov}, cloud.AzureGovernment.ActiveDirectoryAuthorityHost},
		{entraauth.Settings{Cloud: entraauth.CloudChina}, cloud.AzureChina.ActiveDirectoryAuthorityHost},
		{entraauth.Settings{Cloud: entraauth.CloudUSGov, AuthorityHost: "https://127.0.0.1:8443"}, "https://127.0.0.1:8443/"},
	} {
		if got := Cloud(tc.s).ActiveDirectoryAuthorityHost; got != tc.want {
			t.Errorf("%+v: authority %s, want %s", tc.s, got, tc.want)
		}
	}
}

// noNet fails any request: building a credential must not call out.
type noNet struct{ t *testing.T }

func (n noNet) Do(r *http.Request) (*http.Response, error) {
	n.t.Errorf("network call to %s", r.URL)
	return nil, http.ErrNotSupported
}

func TestNewPerMethod(t *testing.T) {
	opts := azcore.ClientOptions{Transport: noNet{t}}
	base := entraauth.Settings{TenantID: "t", ClientID: "c"}
	for _, tc := range []struct {
		auth entraauth.Auth
		want any
	}{
		{entraauth.Auth{Method: entraauth.AuthClientSecret, ClientSecret: "s"}, &azidentity.ClientSecretCredential{}},
		{entraauth.Auth{Method: entraauth.AuthManagedIdentity}, &azidentity.ManagedIdentityCredential{}},
	} {
		s := base
		s.Auth = tc.auth
		cred, err := New(s, opts)
		if err != nil || reflect.TypeOf(cred) != reflect.TypeOf(tc.want) {
			t.Errorf("%s: %T %v", tc.auth.Method, cred, err)
		}
	}
	// An empty method is not defaulted here: callers apply WithDefaults.
	if _, err := New(base, opts); err == nil || !strings.Contains(err.Error(), "auth.method") {
		t.Errorf("empty method: %v", err)
	}
}
