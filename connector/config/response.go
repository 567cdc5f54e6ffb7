package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
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

// ResponseEntra is an Entra ID tenant acted on through Microsoft Graph,
// authenticated as an app with a client secret or certificate.
type ResponseEntra struct {
	TenantID        string `yaml:"tenant_id"`
	ClientID        string `yaml:"client_id"`
	ClientSecret    Secret `yaml:"client_secret"`
	CertificateFile string `yaml:"certificate_file"`
	// CertificatePassword decrypts a PKCS#12 certificate file.
	CertificatePassword Secret `yaml:"certificate_password"`
	// GraphURL overrides https://graph.microsoft.com/v1.0 (a sovereign
	// cloud, or a local double over http on localhost).
	GraphURL string `yaml:"graph_url"`
	// AuthorityHost overrides https://login.microsoftonline.com/.
	AuthorityHost string `yaml:"authority_host"`
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
		if e.TenantID == "" {
			v.add("response.entra.tenant_id", ErrRequired)
		}
		if e.ClientID == "" {
			v.add("response.entra.client_id", ErrRequired)
		}
		switch {
		case e.ClientSecret == "" && e.CertificateFile == "":
			v.add("response.entra.client_secret", errors.New("client_secret or certificate_file is required"))
		case e.ClientSecret != "" && e.CertificateFile != "":
			v.add("response.entra.certificate_file", errors.New("set client_secret or certificate_file, not both"))
		}
		for path, s := range map[string]string{"response.entra.graph_url": e.GraphURL, "response.entra.authority_host": e.AuthorityHost} {
			if s == "" {
				continue
			}
			u, err := url.Parse(s)
			switch {
			case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
				v.add(path, fmt.Errorf("must be an absolute http(s) URL (got %q)", s))
			case u.Scheme == "http" && !isLocalHost(u.Hostname()):
				v.add(path, errors.New("plain http is allowed only for localhost"))
			}
		}
	}
}

func isLocalHost(h string) bool { return h == "localhost" || h == "127.0.0.1" || h == "::1" }
