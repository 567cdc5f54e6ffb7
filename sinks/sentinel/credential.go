package sentinel

import (
	"fmt"
	"os"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/castellan-itdr/castellan/internal/azcloud"

	// azlogs registers the ingestion audience of each cloud in its init.
	_ "github.com/Azure/azure-sdk-for-go/sdk/monitor/ingestion/azlogs"
)

// cloudConfig returns the azcore cloud of a config name, with the Entra
// authority overridden when authorityHost is set. azlogs adds each cloud's
// Logs Ingestion audience (https://monitor.azure.com/, .us/, .cn/) to these
// configurations; the token scope is that audience + "/.default".
func cloudConfig(name, authorityHost string) (cloud.Configuration, error) {
	if name == "" {
		name = azcloud.Public
	}
	c, ok := azcloud.Configuration(name)
	if !ok {
		return c, fmt.Errorf("unknown cloud %q (want public, usgov or china)", name)
	}
	if authorityHost != "" {
		c.ActiveDirectoryAuthorityHost = authorityHost // c is a copy; Services is shared and left alone
	}
	return c, nil
}

// NewCredential builds the azidentity credential of an Auth for a cloud. It
// makes no network calls; tokens are fetched on first use. Errors never
// contain a secret.
func NewCredential(a Auth, cloudName string) (azcore.TokenCredential, error) {
	cc, err := cloudConfig(cloudName, a.AuthorityHost)
	if err != nil {
		return nil, fmt.Errorf("sentinel: %w", err)
	}
	co := azcore.ClientOptions{Cloud: cc}
	switch a.Method {
	case azcloud.AuthClientSecret:
		if a.TenantID == "" || a.ClientID == "" || a.ClientSecret == "" {
			return nil, fmt.Errorf("sentinel: client_secret auth needs tenant_id, client_id and client_secret")
		}
		cred, err := azidentity.NewClientSecretCredential(a.TenantID, a.ClientID, a.ClientSecret.Value(),
			&azidentity.ClientSecretCredentialOptions{ClientOptions: co})
		if err != nil {
			return nil, fmt.Errorf("sentinel: client secret credential: %w", err)
		}
		return cred, nil
	case azcloud.AuthClientCertificate:
		if a.TenantID == "" || a.ClientID == "" || a.CertificateFile == "" {
			return nil, fmt.Errorf("sentinel: client_certificate auth needs tenant_id, client_id and certificate_file")
		}
		data, err := os.ReadFile(a.CertificateFile)
		if err != nil {
			return nil, fmt.Errorf("sentinel: read certificate: %w", err)
		}
		var pw []byte
		if a.CertificatePassword != "" {
			pw = []byte(a.CertificatePassword.Value())
		}
		certs, key, err := azidentity.ParseCertificates(data, pw)
		if err != nil {
			return nil, fmt.Errorf("sentinel: certificate %s: %w", a.CertificateFile, err)
		}
		cred, err := azidentity.NewClientCertificateCredential(a.TenantID, a.ClientID, certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: co, SendCertificateChain: true})
		if err != nil {
			return nil, fmt.Errorf("sentinel: client certificate credential: %w", err)
		}
		return cred, nil
	case azcloud.AuthManagedIdentity:
		opts := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: co}
		if a.ClientID != "" {
			opts.ID = azidentity.ClientID(a.ClientID)
		}
		cred, err := azidentity.NewManagedIdentityCredential(opts)
		if err != nil {
			return nil, fmt.Errorf("sentinel: managed identity credential: %w", err)
		}
		return cred, nil
	case azcloud.AuthWorkloadIdentity:
		cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: co, TenantID: a.TenantID, ClientID: a.ClientID, TokenFilePath: a.TokenFile})
		if err != nil {
			return nil, fmt.Errorf("sentinel: workload identity credential: %w", err)
		}
		return cred, nil
	default:
		return nil, fmt.Errorf("sentinel: unknown auth method %q", a.Method)
	}
}
