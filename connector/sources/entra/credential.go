package entra

import (
	"fmt"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// endpoints of one cloud: the Graph base URL (with version) and the
// azidentity cloud configuration.
type endpoints struct {
	graphURL string
	cloud    cloud.Configuration
}

var clouds = map[string]endpoints{
	CloudPublic: {"https://graph.microsoft.com/v1.0", cloud.AzurePublic},
	CloudUSGov:  {"https://graph.microsoft.us/v1.0", cloud.AzureGovernment},
	CloudChina:  {"https://microsoftgraph.chinacloudapi.cn/v1.0", cloud.AzureChina},
}

// endpointsOf resolves the cloud and the overrides of cfg.
func endpointsOf(cfg *Config) endpoints {
	name := cfg.Cloud
	if name == "" {
		name = CloudPublic
	}
	e := clouds[name]
	if cfg.GraphURL != "" {
		e.graphURL = strings.TrimRight(cfg.GraphURL, "/")
	}
	if cfg.AuthorityHost != "" {
		e.cloud.ActiveDirectoryAuthorityHost = strings.TrimRight(cfg.AuthorityHost, "/") + "/"
	}
	return e
}

// newCredential builds the configured credential. It reads the
// certificate file (client_certificate) but makes no network call: tokens
// are requested on first use. opts may carry a test transport.
func newCredential(cfg *Config, opts azcore.ClientOptions) (azcore.TokenCredential, error) {
	e := endpointsOf(cfg)
	opts.Cloud = e.cloud
	// A custom authority (a sovereign or a test host) has no instance
	// metadata to discover.
	noDiscovery := cfg.AuthorityHost != ""
	switch cfg.Auth.Method {
	case AuthClientSecret:
		return azidentity.NewClientSecretCredential(cfg.TenantID, cfg.ClientID, cfg.Auth.ClientSecret.Value(),
			&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: noDiscovery})
	case AuthClientCertificate:
		data, err := os.ReadFile(cfg.Auth.CertificateFile)
		if err != nil {
			return nil, fmt.Errorf("auth.certificate_file: %w", err)
		}
		var pw []byte
		if p := cfg.Auth.CertificatePassword.Value(); p != "" {
			pw = []byte(p)
		}
		certs, key, err := azidentity.ParseCertificates(data, pw)
		if err != nil {
			return nil, fmt.Errorf("auth.certificate_file: %w", err)
		}
		return azidentity.NewClientCertificateCredential(cfg.TenantID, cfg.ClientID, certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: noDiscovery})
	case AuthManagedIdentity:
		o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts}
		if cfg.ClientID != "" {
			o.ID = azidentity.ClientID(cfg.ClientID)
		}
		return azidentity.NewManagedIdentityCredential(o)
	case AuthWorkloadIdentity:
		return azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: opts, TenantID: cfg.TenantID, ClientID: cfg.ClientID,
			TokenFilePath: cfg.Auth.TokenFile, DisableInstanceDiscovery: noDiscovery,
		})
	}
	return nil, fmt.Errorf("auth.method: unknown %q", cfg.Auth.Method)
}
