package sentinel

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/monitor/ingestion/azlogs"
	"gopkg.in/yaml.v3"

	"github.com/castellan-itdr/castellan/internal/azcloud"
)

const validRule = "dcr-0123456789abcdef0123456789abcdef"

func validConfig() *Config {
	c := NewDefaultConfig()
	c.Endpoint = "https://castellan-dce-abcd.westeurope-1.ingest.monitor.azure.com"
	c.RuleID = validRule
	c.Auth = Auth{Method: azcloud.AuthClientSecret, TenantID: "tenant", ClientID: "client", ClientSecret: "s3cr3t-value"}
	return c
}

func TestValidate(t *testing.T) {
	if err := validConfig().Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	cases := []struct {
		name string
		edit func(c *Config)
		want []string
	}{
		{"defaults need endpoint, rule and auth", func(c *Config) { *c = *NewDefaultConfig() },
			[]string{"endpoint: required", "rule_id: required", "auth.method: required"}},
		{"plain http endpoint", func(c *Config) { c.Endpoint = "http://dce.example" }, []string{"endpoint:", "https"}},
		{"ARM id as rule id", func(c *Config) {
			c.RuleID = "/subscriptions/x/resourceGroups/y/providers/Microsoft.Insights/dataCollectionRules/z"
		}, []string{"rule_id:", "not a DCR immutable id"}},
		{"stream without Custom-", func(c *Config) { c.Streams.Alerts = "CastellanAlerts" }, []string{"streams.alerts:"}},
		{"unknown cloud", func(c *Config) { c.Cloud = "mars" }, []string{"cloud: unknown cloud \"mars\""}},
		{"unknown method", func(c *Config) { c.Auth.Method = "password" }, []string{"auth.method: unknown"}},
		{"client_secret fields", func(c *Config) { c.Auth = Auth{Method: azcloud.AuthClientSecret} },
			[]string{"auth.tenant_id: required for method client_secret", "auth.client_id: required", "auth.client_secret: required"}},
		{"client_certificate fields", func(c *Config) { c.Auth = Auth{Method: azcloud.AuthClientCertificate, ClientSecret: "x"} },
			[]string{"auth.tenant_id: required", "auth.client_id: required", "auth.certificate_file: required", "auth.client_secret: not used"}},
		{"managed identity with tenant", func(c *Config) { c.Auth = Auth{Method: azcloud.AuthManagedIdentity, TenantID: "t"} },
			[]string{"auth.tenant_id: not used by method managed_identity"}},
		{"http authority", func(c *Config) { c.Auth.AuthorityHost = "http://login.example" }, []string{"auth.authority_host:"}},
		{"call bytes over the service limit", func(c *Config) { c.MaxCallBytes = 2 << 20 }, []string{"max_call_bytes:"}},
		{"uncompressed cap", func(c *Config) { c.MaxUncompressedCallBytes = 100 }, []string{"max_uncompressed_call_bytes:"}},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, []string{"timeout:"}},
		{"actions stream without Custom-", func(c *Config) { c.Streams.Actions = "" }, []string{"streams.actions:"}},
		{"unknown kind", func(c *Config) { c.Select.Kinds = []string{"alert", "actions"} }, []string{"kinds: unknown record kind \"actions\""}},
		{"no kinds", func(c *Config) { c.Select.Kinds = nil }, []string{"kinds: required"}},
		{"bad severity", func(c *Config) { c.Select.MinSeverity = "dire" }, []string{"min_severity:"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := validConfig()
			c.edit(cfg)
			err := cfg.Validate()
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	every := validConfig()
	every.Select.Kinds = []string{"event", "alert", "incident", "finding", "action"}
	if err := every.Validate(); err != nil {
		t.Errorf("every kind: %v", err)
	}
	for _, a := range []Auth{
		{Method: azcloud.AuthClientCertificate, TenantID: "t", ClientID: "c", CertificateFile: "/etc/cert.pem"},
		{Method: azcloud.AuthManagedIdentity},
		{Method: azcloud.AuthManagedIdentity, ClientID: "user-assigned"},
		{Method: azcloud.AuthWorkloadIdentity},
		{Method: azcloud.AuthWorkloadIdentity, TenantID: "t", ClientID: "c", TokenFile: "/var/run/token"},
	} {
		cfg := validConfig()
		cfg.Auth = a
		if err := cfg.Validate(); err != nil {
			t.Errorf("%+v: %v", a, err)
		}
	}
}

func TestConfigYAML(t *testing.T) {
	src := `
endpoint: https://dce.westeurope-1.ingest.monitor.azure.com
rule_id: ` + validRule + `
cloud: usgov
auth: { method: client_secret, tenant_id: t, client_id: c, client_secret: hush }
kinds: [event, alert, incident, action]
min_severity: medium
streams: { actions: Custom-MyActions }
`
	c := NewDefaultConfig()
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Auth.ClientSecret.Value() != "hush" || c.Cloud != azcloud.USGov || len(c.Select.Kinds) != 4 || c.Streams.Alerts != "Custom-CastellanAlerts" ||
		c.Streams.Actions != "Custom-MyActions" || c.Streams.Findings != "Custom-CastellanFindings" {
		t.Errorf("decoded %+v", c)
	}
}

// writeCert writes a self-signed certificate and its key as PEM.
func writeCert(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "castellan"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cert.pem")
	pemBytes := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})...)
	if err := os.WriteFile(path, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestNewCredentialPerMethod(t *testing.T) {
	for _, k := range []string{"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	cert := writeCert(t)
	token := filepath.Join(t.TempDir(), "token")
	_ = os.WriteFile(token, []byte("federated"), 0o600)
	cases := []struct {
		name    string
		auth    Auth
		cloud   string
		wantT   string
		wantErr string
	}{
		{"client secret", Auth{Method: azcloud.AuthClientSecret, TenantID: "tenant", ClientID: "client", ClientSecret: "s3cr3t-value"}, "public", "*azidentity.ClientSecretCredential", ""},
		{"client secret usgov", Auth{Method: azcloud.AuthClientSecret, TenantID: "tenant", ClientID: "client", ClientSecret: "s3cr3t-value"}, "usgov", "*azidentity.ClientSecretCredential", ""},
		{"client secret missing", Auth{Method: azcloud.AuthClientSecret, TenantID: "tenant"}, "public", "", "needs tenant_id, client_id and client_secret"},
		{"certificate", Auth{Method: azcloud.AuthClientCertificate, TenantID: "tenant", ClientID: "client", CertificateFile: cert}, "china", "*azidentity.ClientCertificateCredential", ""},
		{"certificate missing file", Auth{Method: azcloud.AuthClientCertificate, TenantID: "tenant", ClientID: "client", CertificateFile: "/nonexistent.pem", CertificatePassword: "s3cr3t-value"}, "public", "", "read certificate"},
		{"certificate not a cert", Auth{Method: azcloud.AuthClientCertificate, TenantID: "tenant", ClientID: "client", CertificateFile: token, CertificatePassword: "s3cr3t-value"}, "public", "", "certificate"},
		{"managed system", Auth{Method: azcloud.AuthManagedIdentity}, "public", "*azidentity.ManagedIdentityCredential", ""},
		{"managed user", Auth{Method: azcloud.AuthManagedIdentity, ClientID: "client"}, "public", "*azidentity.ManagedIdentityCredential", ""},
		{"workload", Auth{Method: azcloud.AuthWorkloadIdentity, TenantID: "tenant", ClientID: "client", TokenFile: token}, "public", "*azidentity.WorkloadIdentityCredential", ""},
		{"workload without env", Auth{Method: azcloud.AuthWorkloadIdentity}, "public", "", "workload identity"},
		{"authority override", Auth{Method: azcloud.AuthClientSecret, TenantID: "tenant", ClientID: "client", ClientSecret: "x", AuthorityHost: "https://login.example/"}, "public", "*azidentity.ClientSecretCredential", ""},
		{"unknown cloud", Auth{Method: azcloud.AuthManagedIdentity}, "mars", "", "unknown cloud"},
		{"unknown method", Auth{Method: "kerberos"}, "public", "", "unknown auth method"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cred, err := NewCredential(c.auth, c.cloud)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err %v, want %q", err, c.wantErr)
				}
				if strings.Contains(err.Error(), "s3cr3t-value") {
					t.Errorf("error shows the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%T", cred); got != c.wantT {
				t.Errorf("type %s, want %s", got, c.wantT)
			}
		})
	}
	_ = azidentity.ClientID("")
}

func TestCloudAudiences(t *testing.T) {
	for name, want := range map[string]string{"public": "https://monitor.azure.com/", "usgov": "https://monitor.azure.us/", "china": "https://monitor.azure.cn/"} {
		c, err := cloudConfig(name, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Services[azlogs.ServiceNameIngestion].Audience; got != want {
			t.Errorf("%s: audience %q, want %q", name, got, want)
		}
	}
	c, _ := cloudConfig("china", "https://login.example/")
	if c.ActiveDirectoryAuthorityHost != "https://login.example/" || cloud.AzureChina.ActiveDirectoryAuthorityHost == "https://login.example/" {
		t.Error("authority override must apply to a copy only")
	}
}

// Secrets never show in printed configs, logs or errors.
func TestSecretsNeverPrinted(t *testing.T) {
	const sec, pw = "s3cr3t-value", "p4ssw0rd-value"
	c := validConfig()
	c.Auth.CertificatePassword = pw
	var out strings.Builder
	fmt.Fprintf(&out, "%v %+v %#v %s\n", c, c, c, c.Auth.ClientSecret)
	b, _ := json.Marshal(c)
	out.Write(b)
	y, _ := yaml.Marshal(c)
	out.Write(y)
	slog.New(slog.NewTextHandler(&out, nil)).Info("config", "cfg", c, "auth", c.Auth)
	slog.New(slog.NewJSONHandler(&out, nil)).Info("config", "cfg", c)
	c.Auth.Method = azcloud.AuthManagedIdentity // invalid mix: errors name the fields, not values
	if err := c.Validate(); err != nil {
		out.WriteString(err.Error())
	}
	c.Auth = Auth{Method: azcloud.AuthClientCertificate, TenantID: "t", ClientID: "c", CertificateFile: "/nonexistent", CertificatePassword: pw}
	if _, err := New(c); err != nil {
		out.WriteString(err.Error())
	} else {
		t.Error("New with a missing certificate succeeded")
	}
	if s := out.String(); strings.Contains(s, sec) || strings.Contains(s, pw) {
		t.Errorf("a secret leaked:\n%s", s)
	}
	if !strings.Contains(out.String(), "[REDACTED]") {
		t.Error("expected [REDACTED] in the printed config")
	}
}
