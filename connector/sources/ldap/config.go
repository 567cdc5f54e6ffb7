package ldap

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/castellan-itdr/castellan/sinks/secret"
)

// Config configures the LDAP collector.
type Config struct {
	// URL is the domain controller: ldaps://dc1.example.com (port 636) or
	// ldap://dc1.example.com with start_tls.
	URL string `yaml:"url"`
	// StartTLS upgrades an ldap:// connection with StartTLS. Simple binds
	// never travel in clear text: ldap:// without start_tls is rejected.
	StartTLS bool `yaml:"start_tls"`
	// BindDN is the account: a DN, a UPN (svc-posture@example.com) or
	// DOMAIN\name. Any authenticated user can read what posture needs.
	BindDN string `yaml:"bind_dn"`
	// Password is the account's password.
	Password secret.Secret `yaml:"password"`
	// CAFile is a PEM bundle that verifies the DC's certificate; default the
	// system roots.
	CAFile string `yaml:"ca_file"`
	// ServerName overrides the name checked in the DC's certificate
	// (default: the URL's host).
	ServerName string `yaml:"server_name"`
	// BaseDN is the domain naming context; default the RootDSE's
	// defaultNamingContext.
	BaseDN string `yaml:"base_dn"`
	// PageSize is the Simple Paged Results page size. Default 500 (AD's
	// MaxPageSize is 1000).
	PageSize int `yaml:"page_size"`
	// Timeout bounds connecting and each LDAP request. Default 30s.
	Timeout time.Duration `yaml:"timeout"`
}

// NewDefaultConfig returns the defaults: pages of 500, 30 s timeout.
func NewDefaultConfig() *Config {
	return &Config{PageSize: 500, Timeout: 30 * time.Second}
}

// Validate reports every problem, each as "field: problem". It opens no
// connection; it checks that ca_file exists.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.URL == "" {
		add("url: required (ldaps://dc.example.com or ldap://dc.example.com with start_tls)")
	} else if u, err := url.Parse(c.URL); err != nil {
		add("url: %v", err)
	} else {
		switch {
		case u.Host == "":
			add("url: no host in %q", c.URL)
		case u.Scheme == "ldaps" && c.StartTLS:
			add("start_tls: not with ldaps:// (already TLS)")
		case u.Scheme == "ldap" && !c.StartTLS:
			add("url: ldap:// sends the password in clear text; use ldaps:// or set start_tls: true")
		case u.Scheme != "ldap" && u.Scheme != "ldaps":
			add("url: scheme must be ldaps or ldap, not %q", u.Scheme)
		}
		if u.Path != "" && u.Path != "/" {
			add("url: no path expected (set base_dn), got %q", u.Path)
		}
	}
	if c.BindDN == "" {
		add("bind_dn: required (a DN, a UPN or DOMAIN\\name)")
	}
	if c.Password == "" {
		add("password: required (simple bind; anonymous binds cannot read a directory)")
	}
	if c.CAFile != "" {
		if _, err := os.Stat(c.CAFile); err != nil {
			add("ca_file: %v", err)
		}
	}
	if c.PageSize < 1 || c.PageSize > 100000 {
		add("page_size: must be 1..100000, not %d", c.PageSize)
	}
	if c.Timeout <= 0 {
		add("timeout: must be positive, not %s", c.Timeout)
	}
	return errors.Join(errs...)
}
