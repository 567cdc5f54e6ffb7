package config

import (
	"slices"
	"strings"
	"testing"
)

func TestResponseDecodeAndDefaults(t *testing.T) {
	c, err := Parse([]byte(`
sinks: {file: {path: out.jsonl}}
response:
  mode: enforce
  ad: {url: "ldaps://dc1.corp.example:636", bind: "svc-castellan@corp.example", password: "pw", ca_file: ca.pem, base_dn: "DC=corp,DC=example"}
  entra: {tenant_id: t, client_id: c, client_secret: s3cret, graph_url: "http://127.0.0.1:9/v1.0"}
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
	if r.Entra == nil || r.Entra.ClientSecret.Value() != "s3cret" || !slices.Equal(r.ProtectedAccounts, []string{"breakglass", `LAB\emergency`}) {
		t.Errorf("decoded %+v", r)
	}
	// Unset keys keep their defaults.
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
		"response.entra.client_secret: client_secret or certificate_file is required",
		"response.entra.graph_url: plain http is allowed only for localhost",
		"response.rate_limit.per_hour: must not be negative",
		"response.protected_accounts[0]: must not be empty",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("missing problem %q in:\n%s", want, strings.Join(got, "\n"))
		}
	}
}
