package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/castellan-itdr/castellan/connector/sources/entra/entraauth"
)

// Response modes (response.mode and a rule's response.mode).
const (
	ResponseDryRun  = "dry_run"
	ResponseEnforce = "enforce"
	// DefaultResponseJournal is the default response.journal path.
	DefaultResponseJournal = "castellan-response.db"
)

// Response configures response actions (package connector/respond): the
// directories acted on and the guard rails.
type Response struct {
	// Mode is the global switch for rule-triggered actions: dry_run
	// (default) or enforce. A rule's own "mode: enforce" takes effect only
	// when this is enforce too. Operator commands are dry runs unless given
	// --enforce, whatever this says.
	Mode string `yaml:"mode"`
	// AD is the Active Directory domain, reached over LDAPS. Nil: no AD
	// actions.
	AD *ResponseAD `yaml:"ad"`
	// Entra is the Entra ID tenant, reached through Microsoft Graph. Nil: no
	// Entra actions.
	Entra *ResponseEntra `yaml:"entra"`
	// ProtectedAccounts are never acted on (break-glass accounts): AD
	// sAMAccountName, DOMAIN\name, UPN, DN or SID; Entra UPN or object id.
	ProtectedAccounts []string `yaml:"protected_accounts"`
	// ProtectedGroups (AD group names or DNs): their members, direct or
	// nested, are never acted on.
	ProtectedGroups []string `yaml:"protected_groups"`
	// RateLimit caps enforced actions per hour.
	RateLimit RateLimit `yaml:"rate_limit"`
	// Journal is the file that keeps the rate-limit window and what each
	// enforced action needs to be undone; default castellan-response.db.
	Journal string `yaml:"journal"`
}

// ResponseAD is an AD domain acted on over LDAPS.
type ResponseAD struct {
	// URL is ldaps://host[:port]; plain ldap:// is refused (passwords and
	// unicodePwd must not cross the wire in clear).
	URL string `yaml:"url"`
	// Bind is the account that acts (a DN or user@domain), with write
	// access to userAccountControl, pwdLastSet, the reset-password right
	// and group membership.
	Bind     string `yaml:"bind"`
	Password Secret `yaml:"password"`
	// CAFile is a PEM bundle trusted for the DC's certificate; empty uses
	// the system roots.
	CAFile string `yaml:"ca_file"`
	// BaseDN is the domain's naming context, e.g. DC=corp,DC=example.
	BaseDN string `yaml:"base_dn"`
}

// ResponseEntra is an Entra ID tenant acted on through Microsoft Graph:
// the same settings, defaults and validation as the entra source and
// posture.entra (package entraauth) — tenant_id, client_id, auth {method:
// client_secret (default) | client_certificate | managed_identity |
// workload_identity, …}, cloud, graph_url, authority_host. Settings the
// file leaves empty take entraauth's defaults: use WithDefaults.
type ResponseEntra = entraauth.Settings

// movedKeys maps a key that no longer exists (full path) to what replaced
// it; the decoder words the unknown-key error with it.
var movedKeys = map[string]string{
	"response.entra.client_secret":        "auth.client_secret, with auth.method client_secret (auth: {method: client_secret, client_secret: …})",
	"response.entra.certificate_file":     "auth.certificate_file, with auth.method client_certificate (auth: {method: client_certificate, certificate_file: …})",
	"response.entra.certificate_password": "auth.certificate_password, with auth.method client_certificate",
}

// RateLimit caps enforced actions in any one-hour window; 0 means no cap.
type RateLimit struct {
	PerHour        int `yaml:"per_hour"`
	PerRulePerHour int `yaml:"per_rule_per_hour"`
}

// DefaultResponse is the response section of [Default]: dry run, at most
// 20 enforced actions an hour and 5 per rule.
func DefaultResponse() Response {
	return Response{Mode: ResponseDryRun, RateLimit: RateLimit{PerHour: 20, PerRulePerHour: 5}, Journal: DefaultResponseJournal}
}

// validate checks the response section; problems go under "response.".
func (r *Response) validate(v *validation) {
	v.oneOf("response.mode", r.Mode, []string{ResponseDryRun, ResponseEnforce})
	if strings.TrimSpace(r.Journal) == "" {
		v.add("response.journal", ErrRequired)
	}
	if r.RateLimit.PerHour < 0 {
		v.add("response.rate_limit.per_hour", errors.New("must not be negative"))
	}
	if r.RateLimit.PerRulePerHour < 0 {
		v.add("response.rate_limit.per_rule_per_hour", errors.New("must not be negative"))
	}
	v.entries("response.protected_accounts", r.ProtectedAccounts)
	v.entries("response.protected_groups", r.ProtectedGroups)
	if a := r.AD; a != nil {
		if a.URL == "" {
			v.add("response.ad.url", ErrRequired)
		} else if u, err := url.Parse(a.URL); err != nil || u.Scheme != "ldaps" || u.Host == "" {
			v.add("response.ad.url", fmt.Errorf("must be ldaps://host[:port] (got %q)", a.URL))
		}
		if a.Bind == "" {
			v.add("response.ad.bind", ErrRequired)
		}
		if a.Password == "" {
			v.add("response.ad.password", ErrRequired)
		}
		if a.BaseDN == "" {
			v.add("response.ad.base_dn", ErrRequired)
		}
	}
	if e := r.Entra; e != nil {
		for _, err := range leaves(e.WithDefaults().Validate()) {
			v.errs = append(v.errs, prefixed("response.entra", err))
		}
	}
}
