package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/castellan-itdr/castellan/connector/sources/entra/entraauth"
)

func TestResponseDecodeAndDefaults(t *testing.T) {
	c, err := Parse([]byte(`
sinks: {file: {path: out.jsonl}}
response:
  mode: enforce
  ad: {url: "ldaps://dc1.corp.example:636", bind: "svc-castellan@corp.example", password: "pw", ca_file: ca.pem, base_dn: "DC=corp,DC=example"}
  entra: {tenant_id: t, client_id: c, auth: {client_secret: s3cret}, graph_url: "http://127.0.0.1:9/v1.0"}
  protected_accounts: [breakglass, "LAB\\emergency"]
  protected_groups: [Tier0]
  rate_limit: {per_hour: 3}
`), "c.yaml", testRegistry())
	if err != nil {
		t.Fatal(err)
	}
	r := c.Response
	if r.Mode != ResponseEnforce || r.AD == nil || r.AD.URL != "ldaps://dc1.corp.example:636" || r.AD.Password.Value() != "pw" {
		t.Errorf("decoded %+v", r)
	}
	if r.Entra == nil || r.Entra.Auth.ClientSecret.Value() != "s3cret" || !slices.Equal(r.ProtectedAccounts, []string{"breakglass", `LAB\emergency`}) {
		t.Errorf("decoded %+v", r)
	}
	// Unset keys keep their defaults (response.entra: the entra source's).
	if e := r.Entra.WithDefaults(); e.Auth.Method != entraauth.AuthClientSecret || e.Cloud != entraauth.CloudPublic {
		t.Errorf("entra defaults %+v", e)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	if r.RateLimit.PerHour != 3 || r.RateLimit.PerRulePerHour != 5 || r.Journal != DefaultResponseJournal {
		t.Errorf("rate limit / journal %+v %q", r.RateLimit, r.Journal)
	}
	if d := Default().Response; d.Mode != ResponseDryRun || d.AD != nil || d.Entra != nil {
		t.Errorf("default response %+v: want dry_run and no directory", d)
	}
}

func TestResponseStrictAndValidated(t *testing.T) {
	_, err := Parse([]byte("response: {mdoe: enforce}\n"), "c.yaml", testRegistry())
	if err == nil || !strings.Contains(err.Error(), `response: unknown field "mdoe"`) {
		t.Errorf("unknown key: %v", err)
	}
	c, err := Parse([]byte(`
sinks: {file: {path: out.jsonl}}
response:
  mode: yes-please
  ad: {url: "ldap://dc1:389", base_dn: ""}
  entra: {tenant_id: t, graph_url: "http://graph.example/v1.0"}
  rate_limit: {per_hour: -1}
  protected_accounts: [""]
`), "c.yaml", testRegistry())
	if err != nil {
		t.Fatal(err)
	}
	got := Problems(c.Validate())
	for _, want := range []string{
		`response.mode: must be one of dry_run, enforce (got "yes-please")`,
		`response.ad.url: must be ldaps://host[:port] (got "ldap://dc1:389")`,
		"response.ad.bind: required",
		"response.ad.password: required",
		"response.ad.base_dn: required",
		"response.entra.client_id: required",
		"response.entra.auth.client_secret: required for method client_secret",
		"response.entra.graph_url: plain http is allowed only for localhost",
		"response.rate_limit.per_hour: must not be negative",
		"response.protected_accounts[0]: must not be empty",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("missing problem %q in:\n%s", want, strings.Join(got, "\n"))
		}
	}
}

// response.entra takes the entra source's settings (package entraauth):
// every auth method validates with what it needs, and the retired flat
// keys name their replacement.
func TestResponseEntraSharedSettings(t *testing.T) {
	dir := t.TempDir()
	cert := filepath.Join(dir, "app.pem")
	if err := os.WriteFile(cert, []byte("checked to exist, parsed when the credential is built"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CASTELLAN_TEST_GRAPH_SECRET", secretValue)
	t.Setenv("AZURE_FEDERATED_TOKEN_FILE", "")
	valid := map[string]string{
		"managed identity (system-assigned)": `{tenant_id: t, auth: {method: managed_identity}}`,
		"managed identity (user-assigned)":   `{tenant_id: t, client_id: mi, auth: {method: managed_identity}}`,
		"client secret":                      `{tenant_id: t, client_id: c, auth: {method: client_secret, client_secret: "${env:CASTELLAN_TEST_GRAPH_SECRET}"}}`,
		"client secret, default method":      `{tenant_id: t, client_id: c, auth: {client_secret: s}}`,
		"client certificate":                 `{tenant_id: t, client_id: c, auth: {method: client_certificate, certificate_file: ` + cert + `, certificate_password: pw}}`,
		"workload identity":                  `{tenant_id: t, client_id: c, auth: {method: workload_identity, token_file: /var/run/secrets/azure/tokens/token}}`,
		"sovereign cloud":                    `{tenant_id: t, auth: {method: managed_identity}, cloud: usgov}`,
	}
	for name, entra := range valid {
		t.Run(name, func(t *testing.T) {
			c, err := Parse([]byte("sinks: {file: {path: out.jsonl}}\nresponse:\n  entra: "+entra+"\n"), "c.yaml", testRegistry())
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			if name == "client secret" {
				e := c.Response.Entra
				if e.Auth.Method != entraauth.AuthClientSecret || e.Auth.ClientSecret.Value() != secretValue {
					t.Errorf("decoded %+v", e.Auth)
				}
				y, _ := yaml.Marshal(c)
				if out := fmt.Sprintf("%v %+v\n%s", c.Response, *e, y); strings.Contains(out, secretValue) || !strings.Contains(out, "[REDACTED]") {
					t.Errorf("secret shown: %s", out)
				}
			}
		})
	}

	invalid := map[string]struct{ entra, want string }{
		"managed identity with a secret": {`{tenant_id: t, auth: {method: managed_identity, client_secret: s}}`,
			"response.entra.auth.client_secret: only for method client_secret"},
		"missing certificate": {`{tenant_id: t, client_id: c, auth: {method: client_certificate, certificate_file: ` + filepath.Join(dir, "none.pem") + `}}`,
			"response.entra.auth.certificate_file: stat "},
		"workload identity without token": {`{tenant_id: t, client_id: c, auth: {method: workload_identity}}`,
			"response.entra.auth.token_file: required for method workload_identity"},
		"unknown method": {`{tenant_id: t, auth: {method: password}}`,
			`response.entra.auth.method: must be client_secret, client_certificate, managed_identity or workload_identity, not "password"`},
		"unknown cloud": {`{tenant_id: t, auth: {method: managed_identity}, cloud: mars}`,
			`response.entra.cloud: must be public, usgov or china, not "mars"`},
		"no tenant": {`{auth: {method: managed_identity}}`, "response.entra.tenant_id: required"},
	}
	for name, tc := range invalid {
		t.Run(name, func(t *testing.T) {
			c, err := Parse([]byte("sinks: {file: {path: out.jsonl}}\nresponse:\n  entra: "+tc.entra+"\n"), "c.yaml", testRegistry())
			if err != nil {
				t.Fatal(err)
			}
			if got := Problems(c.Validate()); !slices.ContainsFunc(got, func(p string) bool { return strings.HasPrefix(p, tc.want) }) {
				t.Errorf("problems %q, want %q", got, tc.want)
			}
		})
	}

	// The flat keys of old releases are errors naming the new key.
	for old, want := range map[string]string{
		"client_secret: " + secretValue:  `c.yaml:4: response.entra: unknown field "client_secret" (moved to auth.client_secret, with auth.method client_secret`,
		"certificate_file: /etc/app.pem": `c.yaml:4: response.entra: unknown field "certificate_file" (moved to auth.certificate_file, with auth.method client_certificate`,
		"certificate_password: pw":       `c.yaml:4: response.entra: unknown field "certificate_password" (moved to auth.certificate_password`,
	} {
		_, err := Parse([]byte("response:\n  entra:\n    tenant_id: t\n    "+old+"\n"), "c.yaml", testRegistry())
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), secretValue) {
			t.Errorf("%s: %v\nwant %q", old, err, want)
		}
	}
	// Elsewhere the keys are plain unknown fields.
	_, err := Parse([]byte("response:\n  ad: {client_secret: x}\n"), "c.yaml", testRegistry())
	if err == nil || strings.Contains(err.Error(), "moved") || !strings.Contains(err.Error(), `unknown field "client_secret"`) {
		t.Errorf("ad: %v", err)
	}
}

// The response.entra examples of docs/response.md decode and validate.
func TestResponseDocExamples(t *testing.T) {
	b, err := os.ReadFile("../../docs/response.md")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("CASTELLAN_AD_PASSWORD", "x")
	t.Setenv("CASTELLAN_GRAPH_SECRET", secretValue)
	var blocks []string
	for _, part := range strings.Split(string(b), "```yaml\n")[1:] {
		if block, _, _ := strings.Cut(part, "```"); strings.HasPrefix(block, "response:\n") && strings.Contains(block, "  entra:") {
			blocks = append(blocks, block)
		}
	}
	if len(blocks) != 2 {
		t.Fatalf("%d response examples with entra, want 2 (full, managed identity)", len(blocks))
	}
	methods := []string{entraauth.AuthClientSecret, entraauth.AuthManagedIdentity}
	for i, block := range blocks {
		c, err := Parse([]byte("sinks: {file: {path: out.jsonl}}\n"+block), "response.md", testRegistry())
		if err != nil {
			t.Fatalf("%v\n%s", err, block)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%v\n%s", err, block)
		}
		if e := c.Response.Entra.WithDefaults(); e.Auth.Method != methods[i] {
			t.Errorf("example %d: method %q, want %q", i, e.Auth.Method, methods[i])
		}
	}
}
