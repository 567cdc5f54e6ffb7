package sentinel

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/internal/azcloud"
	"github.com/castellan-itdr/castellan/mappings/asim"
	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/sinks/delivery"
	"github.com/castellan-itdr/castellan/sinks/secret"
)

// Type is the sink type name used in config keys.
const Type = "sentinel"

// Limits of the Logs Ingestion API.
const (
	// ServiceMaxCallBytes is the service's limit on one request body
	// (compressed size when gzip): "Maximum allowed content length:
	// 1048576 bytes (1 MB)".
	ServiceMaxCallBytes = 1 << 20
	// DefaultMaxCallBytes keeps a margin below the service limit.
	DefaultMaxCallBytes = 1_000_000
	// DefaultMaxUncompressedCallBytes caps the inflated size of one call;
	// the service is reported to refuse gzip bodies that inflate past about
	// 50 MiB.
	DefaultMaxUncompressedCallBytes = 32 << 20
	maxUncompressedCallBytes        = 50 << 20
	minCallBytes                    = 16 << 10
)

// Config configures the Sentinel sink.
type Config struct {
	// Endpoint is the logs ingestion URL of the Data Collection Endpoint
	// (https://<dce>.<region>-1.ingest.monitor.azure.com), or of the DCR
	// itself for a DCR with its own endpoint.
	Endpoint string `yaml:"endpoint"`
	// RuleID is the immutable id of the Data Collection Rule (dcr-…).
	RuleID string `yaml:"rule_id"`
	// Streams names the DCR stream of each record kind.
	Streams Streams `yaml:"streams"`
	// Cloud is public, usgov or china.
	Cloud string `yaml:"cloud"`
	// Auth says how the sink signs in to Entra ID.
	Auth Auth `yaml:"auth"`
	// MaxCallBytes bounds the body of one upload on the wire (gzip); at
	// most the service's 1,048,576.
	MaxCallBytes int `yaml:"max_call_bytes"`
	// MaxUncompressedCallBytes bounds the JSON of one upload before gzip.
	MaxUncompressedCallBytes int `yaml:"max_uncompressed_call_bytes"`
	// Timeout bounds one upload call.
	Timeout time.Duration `yaml:"timeout"`
	// Select chooses record kinds and a minimum severity.
	Select delivery.Selection `yaml:",inline"`
}

// Streams are the DCR stream names per record kind.
type Streams struct {
	Events    string `yaml:"events"`
	Alerts    string `yaml:"alerts"`
	Incidents string `yaml:"incidents"`
	Findings  string `yaml:"findings"`
	Actions   string `yaml:"actions"`
}

// Auth is the Entra ID identity the sink uses. It needs the Monitoring
// Metrics Publisher role on the DCR.
type Auth struct {
	// Method is client_secret, client_certificate, managed_identity or
	// workload_identity.
	Method   string `yaml:"method"`
	TenantID string `yaml:"tenant_id"`
	// ClientID is the application (client) id; for managed_identity the
	// client id of a user-assigned identity (empty: system-assigned).
	ClientID     string        `yaml:"client_id"`
	ClientSecret secret.Secret `yaml:"client_secret"`
	// CertificateFile is a PEM or PKCS#12 file holding the certificate and
	// its private key.
	CertificateFile     string        `yaml:"certificate_file"`
	CertificatePassword secret.Secret `yaml:"certificate_password"`
	// TokenFile is the federated token file of workload identity (default
	// $AZURE_FEDERATED_TOKEN_FILE).
	TokenFile string `yaml:"token_file"`
	// AuthorityHost overrides the cloud's Entra authority
	// (https://login.microsoftonline.com/ for public).
	AuthorityHost string `yaml:"authority_host"`
}

// NewDefaultConfig returns the defaults: the Castellan streams, the public
// cloud, 1,000,000-byte calls, a 30 s timeout, alerts and incidents.
func NewDefaultConfig() *Config {
	return &Config{
		Streams: Streams{
			Events: asim.EventsStream, Alerts: asim.AlertsStream, Incidents: asim.IncidentsStream,
			Findings: asim.FindingsStream, Actions: asim.ActionsStream,
		},
		Cloud:                    azcloud.Public,
		MaxCallBytes:             DefaultMaxCallBytes,
		MaxUncompressedCallBytes: DefaultMaxUncompressedCallBytes,
		Timeout:                  30 * time.Second,
		Select:                   delivery.Selection{Kinds: []string{schema.RecordAlert, schema.RecordIncident}},
	}
}

var ruleIDPattern = regexp.MustCompile(`^dcr-[0-9a-f]{32}$`)

// Validate reports every problem. It makes no network calls.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch {
	case c.Endpoint == "":
		add("endpoint: required (the logs ingestion URL of the Data Collection Endpoint)")
	default:
		if err := httpsURL(c.Endpoint); err != nil {
			add("endpoint: %v", err)
		}
	}
	switch {
	case c.RuleID == "":
		add("rule_id: required (the immutable id of the Data Collection Rule, dcr-…)")
	case !ruleIDPattern.MatchString(c.RuleID):
		add("rule_id: %q is not a DCR immutable id (dcr- and 32 lower-case hex digits; not the ARM resource id)", c.RuleID)
	}
	for _, s := range []struct{ key, v string }{{"events", c.Streams.Events}, {"alerts", c.Streams.Alerts}, {"incidents", c.Streams.Incidents}, {"findings", c.Streams.Findings}, {"actions", c.Streams.Actions}} {
		if !strings.HasPrefix(s.v, "Custom-") || len(s.v) == len("Custom-") {
			add("streams.%s: %q must name a DCR stream declaration starting with Custom-", s.key, s.v)
		}
	}
	if _, err := cloudConfig(c.Cloud, ""); err != nil {
		add("cloud: %v", err)
	}
	for _, err := range c.Auth.validate() {
		errs = append(errs, fmt.Errorf("auth.%w", err))
	}
	if c.MaxCallBytes < minCallBytes || c.MaxCallBytes > ServiceMaxCallBytes {
		add("max_call_bytes: %d out of range [%d, %d] (the service limit is 1 MiB per call)", c.MaxCallBytes, minCallBytes, ServiceMaxCallBytes)
	}
	if c.MaxUncompressedCallBytes < c.MaxCallBytes || c.MaxUncompressedCallBytes > maxUncompressedCallBytes {
		add("max_uncompressed_call_bytes: %d out of range [max_call_bytes, %d]", c.MaxUncompressedCallBytes, maxUncompressedCallBytes)
	}
	if c.Timeout < 0 {
		add("timeout: must be >= 0")
	}
	if err := c.Select.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(c.Select.Kinds) == 0 {
		add("kinds: required for sentinel (event, alert, incident, finding, action)")
	}
	return errors.Join(errs...)
}

func (a *Auth) validate() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	need := func(key, v string) {
		if v == "" {
			add("%s: required for method %s", key, a.Method)
		}
	}
	unused := func(key string, set bool) {
		if set {
			add("%s: not used by method %s", key, a.Method)
		}
	}
	switch a.Method {
	case azcloud.AuthClientSecret:
		need("tenant_id", a.TenantID)
		need("client_id", a.ClientID)
		need("client_secret", a.ClientSecret.Value())
		unused("certificate_file", a.CertificateFile != "")
		unused("certificate_password", a.CertificatePassword != "")
		unused("token_file", a.TokenFile != "")
	case azcloud.AuthClientCertificate:
		need("tenant_id", a.TenantID)
		need("client_id", a.ClientID)
		need("certificate_file", a.CertificateFile)
		unused("client_secret", a.ClientSecret != "")
		unused("token_file", a.TokenFile != "")
	case azcloud.AuthManagedIdentity:
		unused("tenant_id", a.TenantID != "")
		unused("client_secret", a.ClientSecret != "")
		unused("certificate_file", a.CertificateFile != "")
		unused("certificate_password", a.CertificatePassword != "")
		unused("token_file", a.TokenFile != "")
		unused("authority_host", a.AuthorityHost != "")
	case azcloud.AuthWorkloadIdentity:
		// tenant_id, client_id and token_file default to the AZURE_TENANT_ID,
		// AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE the AKS webhook sets.
		unused("client_secret", a.ClientSecret != "")
		unused("certificate_file", a.CertificateFile != "")
		unused("certificate_password", a.CertificatePassword != "")
	case "":
		add("method: required (client_secret, client_certificate, managed_identity or workload_identity)")
	default:
		add("method: unknown %q (want client_secret, client_certificate, managed_identity or workload_identity)", a.Method)
	}
	if a.AuthorityHost != "" && a.Method != azcloud.AuthManagedIdentity {
		if err := httpsURL(a.AuthorityHost); err != nil {
			add("authority_host: %v", err)
		}
	}
	return errs
}

func httpsURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("not a URL: %v", err)
	case u.Scheme != "https":
		return fmt.Errorf("%q must be an https URL (bearer tokens are only sent over TLS)", s)
	case u.Host == "":
		return fmt.Errorf("%q has no host", s)
	}
	return nil
}
