package entra

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/castellan-itdr/castellan/sinks/secret"
)

// Authentication methods (auth.method).
const (
	AuthClientSecret      = "client_secret"
	AuthClientCertificate = "client_certificate"
	AuthManagedIdentity   = "managed_identity"
	AuthWorkloadIdentity  = "workload_identity"
)

// Clouds (cloud).
const (
	CloudPublic = "public"
	CloudUSGov  = "usgov"
	CloudChina  = "china"
)

// Resource names (resources).
const (
	ResourceSignIns          = "signins"
	ResourceDirectoryAudits  = "directory_audits"
	ResourceRiskDetections   = "risk_detections"
	ResourceRiskyUsers       = "risky_users"
	maxPageSizeSignIns       = 1000
	maxPageSizeRiskDetection = 500
)

// AllResources lists every resource, in polling order.
var AllResources = []string{ResourceSignIns, ResourceDirectoryAudits, ResourceRiskDetections, ResourceRiskyUsers}

// Config configures the entra source: Microsoft Graph polled for sign-ins,
// directory audits and Identity Protection risk.
type Config struct {
	// TenantID is the Entra tenant, as a GUID (it also enters event ids; a
	// GUID keeps them equal to the Event Hubs source's).
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
	// Resources to poll: signins, directory_audits, risk_detections,
	// risky_users. Default all.
	Resources []string `yaml:"resources"`
	// PollInterval is the time between polls. Default 1m.
	PollInterval time.Duration `yaml:"poll_interval"`
	// Overlap is how far before the newest record already handed off each
	// poll queries again, for records Graph ingests late. Default 10m.
	Overlap time.Duration `yaml:"overlap"`
	// PageSize is $top. Default 1000 (risk detections at most 500).
	PageSize int `yaml:"page_size"`
	// StartAt is how far back the first poll (no checkpoint) reaches.
	// Default 24h.
	StartAt time.Duration `yaml:"start_at"`
	// Users configures the users poll (see UsersConfig); default on, 6h.
	Users UsersConfig `yaml:"users"`
}

// Auth configures the credential.
type Auth struct {
	// Method is client_secret, client_certificate, managed_identity or
	// workload_identity.
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

// NewDefaultConfig returns the defaults: public cloud, client-secret
// auth, every resource, poll every minute with 10 minutes of overlap,
// pages of 1000, a first poll reaching 24 hours back.
func NewDefaultConfig() *Config {
	return &Config{
		Auth:         Auth{Method: AuthClientSecret},
		Cloud:        CloudPublic,
		Resources:    append([]string(nil), AllResources...),
		PollInterval: time.Minute,
		Overlap:      10 * time.Minute,
		PageSize:     1000,
		StartAt:      24 * time.Hour,
	}
}

// Validate reports every problem, each as "field: problem". It reads no
// file and opens no connection except to check that a certificate file
// exists.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.TenantID == "" {
		add("tenant_id: required")
	}
	switch c.Auth.Method {
	case AuthClientSecret:
		if c.ClientID == "" {
			add("client_id: required")
		}
		if c.Auth.ClientSecret == "" {
			add("auth.client_secret: required for method client_secret")
		}
	case AuthClientCertificate:
		if c.ClientID == "" {
			add("client_id: required")
		}
		if c.Auth.CertificateFile == "" {
			add("auth.certificate_file: required for method client_certificate")
		} else if _, err := os.Stat(c.Auth.CertificateFile); err != nil {
			add("auth.certificate_file: %v", err)
		}
	case AuthManagedIdentity:
		// client_id optional: a user-assigned identity; none = system-assigned.
	case AuthWorkloadIdentity:
		if c.Auth.TokenFile == "" && os.Getenv("AZURE_FEDERATED_TOKEN_FILE") == "" {
			add("auth.token_file: required for method workload_identity (or AZURE_FEDERATED_TOKEN_FILE)")
		}
	case "":
		add("auth.method: required (client_secret, client_certificate, managed_identity or workload_identity)")
	default:
		add("auth.method: must be client_secret, client_certificate, managed_identity or workload_identity, not %q", c.Auth.Method)
	}
	if c.Auth.Method != AuthClientSecret && c.Auth.ClientSecret != "" {
		add("auth.client_secret: only for method client_secret")
	}
	switch c.Cloud {
	case "", CloudPublic, CloudUSGov, CloudChina:
	default:
		add("cloud: must be public, usgov or china, not %q", c.Cloud)
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
		case u.Scheme == "http" && !isLoopback(u.Hostname()):
			add("%s: plain http is allowed only for localhost", field)
		}
	}
	checkURL("graph_url", c.GraphURL)
	checkURL("authority_host", c.AuthorityHost)
	seen := map[string]bool{}
	for i, r := range c.Resources {
		if _, ok := resources[r]; !ok {
			add("resources[%d]: unknown resource %q (signins, directory_audits, risk_detections, risky_users)", i, r)
		} else if seen[r] {
			add("resources[%d]: %q listed twice", i, r)
		}
		seen[r] = true
	}
	if c.PollInterval < time.Second {
		add("poll_interval: must be at least 1s, not %s", c.PollInterval)
	}
	if c.Overlap < 0 {
		add("overlap: must not be negative")
	}
	if c.PageSize < 1 || c.PageSize > maxPageSizeSignIns {
		add("page_size: must be 1..%d, not %d", maxPageSizeSignIns, c.PageSize)
	}
	if c.StartAt <= 0 {
		add("start_at: must be positive, not %s", c.StartAt)
	}
	errs = append(errs, c.Users.validate()...)
	return errors.Join(errs...)
}

// resourceList is the configured resources, or all.
func (c *Config) resourceList() []string {
	if len(c.Resources) == 0 {
		return AllResources
	}
	return c.Resources
}

func isLoopback(host string) bool {
	switch host {
	case "localhost", "127.0.0.1", "::1", "[::1]":
		return true
	}
	return false
}
