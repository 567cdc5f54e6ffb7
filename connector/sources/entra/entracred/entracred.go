package entracred

import (
	"fmt"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/castellan-itdr/castellan/connector/sources/entra/entraauth"
	"github.com/castellan-itdr/castellan/internal/azcloud"
)

// Cloud is the azidentity cloud configuration of s: its cloud's, with the
// authority_host override.
func Cloud(s entraauth.Settings) cloud.Configuration {
	c, _ := azcloud.Configuration(s.CloudName()) // s is validated: a known cloud
	if s.AuthorityHost != "" {
		c.ActiveDirectoryAuthorityHost = strings.TrimRight(s.AuthorityHost, "/") + "/"
	}
	return c
}

// New builds the credential of s (validated: see entraauth.Settings.Validate;
// an empty auth.method is an error, not a default). It reads the
// certificate file (client_certificate) but makes no network call: tokens
// are requested on first use. opts may carry a test transport; its Cloud
// is replaced by [Cloud] of s.
func New(s entraauth.Settings, opts azcore.ClientOptions) (azcore.TokenCredential, error) {
	opts.Cloud = Cloud(s)
	// A custom authority (a sovereign or a test host) has no instance
	// metadata to discover.
	noDiscovery := s.AuthorityHost != ""
	switch s.Auth.Method {
	case entraauth.AuthClientSecret:
		return azidentity.NewClientSecretCredential(s.TenantID, s.ClientID, s.Auth.ClientSecret.Value(),
			&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: noDiscovery})
	case entraauth.AuthClientCertificate:
		data, err := os.ReadFile(s.Auth.CertificateFile)
		if err != nil {
			return nil, fmt.Errorf("auth.certificate_file: %w", err)
		}
		var pw []byte
		if p := s.Auth.CertificatePassword.Value(); p != "" {
			pw = []byte(p)
		}
		certs, key, err := azidentity.ParseCertificates(data, pw)
		if err != nil {
			return nil, fmt.Errorf("auth.certificate_file: %w", err)
		}
		return azidentity.NewClientCertificateCredential(s.TenantID, s.ClientID, certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: noDiscovery})
	case entraauth.AuthManagedIdentity:
		o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts}
		if s.ClientID != "" {
			o.ID = azidentity.ClientID(s.ClientID)
		}
		return azidentity.NewManagedIdentityCredential(o)
	case entraauth.AuthWorkloadIdentity:
		return azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: opts, TenantID: s.TenantID, ClientID: s.ClientID,
			TokenFilePath: s.Auth.TokenFile, DisableInstanceDiscovery: noDiscovery,
		})
	}
	return nil, fmt.Errorf("auth.method: unknown %q", s.Auth.Method)
}
