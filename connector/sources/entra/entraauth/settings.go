package entraauth

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/castellan-itdr/castellan/internal/azcloud"
	"github.com/castellan-itdr/castellan/sinks/secret"
)

// Authentication methods (auth.method), as package azcloud names them.
const (
	AuthClientSecret      = azcloud.AuthClientSecret
	AuthClientCertificate = azcloud.AuthClientCertificate
	AuthManagedIdentity   = azcloud.AuthManagedIdentity
	AuthWorkloadIdentity  = azcloud.AuthWorkloadIdentity
)

// Clouds (cloud), as package azcloud names them.
const (
	CloudPublic = azcloud.Public
	CloudUSGov  = azcloud.USGov
	CloudChina  = azcloud.China
)

// Graph base URLs (with version) of each cloud.
var graphURLs = map[string]string{
	CloudPublic: "https://graph.microsoft.com/v1.0",
	CloudUSGov:  "https://graph.microsoft.us/v1.0",
	CloudChina:  "https://microsoftgraph.chinacloudapi.cn/v1.0",
}

// Settings are an Entra tenant and the app (or managed identity) that
// reaches Microsoft Graph in it. Components embed them inline, so the keys
// sit at the component's top level:
//
//	tenant_id: 4b9ae7e1-2a8f-4c6e-9a1e-5f0d3c2b1a00
//	client_id: 9d6f6a53-0000-4000-8000-1234567890ab
//	auth: { method: client_secret, client_secret: "${env:GRAPH_SECRET}" }
//	cloud: public
type Settings struct {
	// TenantID is the Entra tenant, as a GUID.
	TenantID string `yaml:"tenant_id"`
	// ClientID is the application (client) id of the app registration, or
	// of a user-assigned managed identity.
	ClientID string `yaml:"client_id"`
	// Auth selects and configures the credential.
	Auth Auth `yaml:"auth"`
	// Cloud is public (default), usgov or china: the Graph endpoint and the
	// Entra authority.
	Cloud string `yaml:"cloud"`
	// GraphURL overrides the Graph base URL including the version, e.g.
	// "http://127.0.0.1:8080/v1.0" for a local double (plain http only on
	// localhost).
	GraphURL string `yaml:"graph_url"`
	// AuthorityHost overrides the Entra authority, e.g. a token endpoint
	// double ("https://127.0.0.1:8443/").
	AuthorityHost string `yaml:"authority_host"`
}

// Auth configures the credential.
type Auth struct {
	// Method is client_secret (default), client_certificate,
	// managed_identity or workload_identity.
	Method string `yaml:"method"`
	// ClientSecret is the app's secret (client_secret).
	ClientSecret secret.Secret `yaml:"client_secret"`
	// CertificateFile is a PEM or PKCS#12 file holding the certificate and
	// its private key (client_certificate).
	CertificateFile string `yaml:"certificate_file"`
	// CertificatePassword decrypts a PKCS#12 file (client_certificate).
	CertificatePassword secret.Secret `yaml:"certificate_password"`
	// TokenFile is the federated token file (workload_identity); default
	// $AZURE_FEDERATED_TOKEN_FILE.
	TokenFile string `yaml:"token_file"`
}

// Default returns the default settings: client-secret auth in the public
// cloud.
func Default() Settings {
	return Settings{Auth: Auth{Method: AuthClientSecret}, Cloud: CloudPublic}
}

// WithDefaults returns s with the defaults of [Default] in the settings it
// leaves empty (auth.method, cloud), for settings decoded from scratch
// rather than over [Default].
func (s Settings) WithDefaults() Settings {
	d := Default()
	if s.Auth.Method == "" {
		s.Auth.Method = d.Auth.Method
	}
	if s.Cloud == "" {
		s.Cloud = d.Cloud
	}
	return s
}

// Validate reports every problem, each as "field: problem" (fields
// relative to where the settings are embedded, e.g. "auth.client_secret").
// It reads no file and opens no connection except to check that a
// certificate file exists. Secrets are never part of a message.
func (s Settings) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if s.TenantID == "" {
		add("tenant_id: required")
	}
	switch s.Auth.Method {
	case AuthClientSecret:
		if s.ClientID == "" {
			add("client_id: required")
		}
		if s.Auth.ClientSecret == "" {
			add("auth.client_secret: required for method client_secret")
		}
	case AuthClientCertificate:
		if s.ClientID == "" {
			add("client_id: required")
		}
		if s.Auth.CertificateFile == "" {
			add("auth.certificate_file: required for method client_certificate")
		} else if _, err := os.Stat(s.Auth.CertificateFile); err != nil {
			add("auth.certificate_file: %v", err)
		}
	case AuthManagedIdentity:
		// client_id optional: a user-assigned identity; none = system-assigned.
	case AuthWorkloadIdentity:
		if s.Auth.TokenFile == "" && os.Getenv("AZURE_FEDERATED_TOKEN_FILE") == "" {
			add("auth.token_file: required for method workload_identity (or AZURE_FEDERATED_TOKEN_FILE)")
		}
	case "":
		add("auth.method: required (client_secret, client_certificate, managed_identity or workload_identity)")
	default:
		add("auth.method: must be client_secret, client_certificate, managed_identity or workload_identity, not %q", s.Auth.Method)
	}
	if s.Auth.Method != AuthClientSecret && s.Auth.ClientSecret != "" {
		add("auth.client_secret: only for method client_secret")
	}
	switch s.Cloud {
	case "", CloudPublic, CloudUSGov, CloudChina:
	default:
		add("cloud: must be public, usgov or china, not %q", s.Cloud)
	}
	checkURL := func(field, v string) {
		if v == "" {
			return
		}
		u, err := url.Parse(v)
		switch {
		case err != nil:
			add("%s: %v", field, err)
		case u.Scheme != "https" && u.Scheme != "http", u.Host == "":
			add("%s: must be an absolute http(s) URL, not %q", field, v)
		case u.Scheme == "http" && !IsLoopback(u.Hostname()):
			add("%s: plain http is allowed only for localhost", field)
		}
	}
	checkURL("graph_url", s.GraphURL)
	checkURL("authority_host", s.AuthorityHost)
	return errors.Join(errs...)
}

// CloudName is the configured cloud, public when empty.
func (s Settings) CloudName() string {
	if s.Cloud == "" {
		return CloudPublic
	}
	return s.Cloud
}

// GraphEndpoint is the Graph base URL with version, without a trailing
// slash: graph_url, or the cloud's.
func (s Settings) GraphEndpoint() string {
	if s.GraphURL != "" {
		return strings.TrimRight(s.GraphURL, "/")
	}
	return graphURLs[s.CloudName()]
}

// IsLoopback reports whether host names this machine (where plain http is
// allowed, for test doubles).
func IsLoopback(host string) bool {
	switch host {
	case "localhost", "127.0.0.1", "::1", "[::1]":
		return true
	}
	return false
}
