package ldap

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/sinks/secret"
)

func TestConfigValidate(t *testing.T) {
	good := func() *Config {
		c := NewDefaultConfig()
		c.URL, c.BindDN, c.Password = "ldaps://dc1.example.com", "svc@example.com", secret.Secret("hunter2-secret")
		return c
	}
	if err := good().Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	cases := []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.URL = "" }, "url: required"},
		{func(c *Config) { c.URL = "ldap://dc1" }, "url: ldap:// sends the password in clear text"},
		{func(c *Config) { c.URL, c.StartTLS = "ldap://dc1", true }, ""},
		{func(c *Config) { c.StartTLS = true }, "start_tls: not with ldaps://"},
		{func(c *Config) { c.URL = "https://dc1" }, "url: scheme must be ldaps or ldap"},
		{func(c *Config) { c.URL = "ldaps://dc1/DC=x" }, "url: no path expected"},
		{func(c *Config) { c.BindDN = "" }, "bind_dn: required"},
		{func(c *Config) { c.Password = "" }, "password: required"},
		{func(c *Config) { c.CAFile = "/nonexistent/ca.pem" }, "ca_file:"},
		{func(c *Config) { c.PageSize = 0 }, "page_size: must be 1..100000"},
		{func(c *Config) { c.Timeout = -time.Second }, "timeout: must be positive"},
	}
	for _, tc := range cases {
		c := good()
		tc.edit(c)
		err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: unexpected %v", c, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: err = %v, want %q", c, err, tc.want)
		}
	}
	// Every problem at once, and the password never in the text.
	c := &Config{Password: "hunter2-secret"}
	err := c.Validate()
	if err == nil || strings.Count(err.Error(), "\n") < 3 || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("joined errors = %v", err)
	}
	if s := fmt.Sprintf("%v %+v", c, c); strings.Contains(s, "hunter2") {
		t.Errorf("config prints its password: %s", s)
	}
}

func TestAttrConversions(t *testing.T) {
	// 2026-11-28T10:00:00Z as FILETIME.
	if got := fileTime(134403336000000000); !got.Equal(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("fileTime = %v", got)
	}
	if !fileTime(0).IsZero() || !fileTime(0x7FFFFFFFFFFFFFFF).IsZero() || !fileTime(-1).IsZero() {
		t.Error("0, never and negative FILETIMEs must be zero times")
	}
	for desc, want := range map[string]struct {
		base string
		end  int
		ok   bool
	}{
		"member;range=0-1499": {"member", 1499, true},
		"member;range=1500-*": {"member", -1, true},
		"member":              {"member", 0, false},
		"Member;Range=3-x":    {"Member", 0, false},
	} {
		b, e, ok := parseRange(desc)
		if b != want.base || e != want.end || ok != want.ok {
			t.Errorf("parseRange(%q) = %q %d %v, want %+v", desc, b, e, ok, want)
		}
	}
	links := parseGPLink("[LDAP://cn={31B2F340-016D-11D2-945F-00C04FB984F9},cn=policies,cn=system,DC=lab,DC=test;0][LDAP://CN={X},CN=Policies,CN=System,DC=lab,DC=test;3]")
	if len(links) != 2 || links[0].dn != "cn={31B2F340-016D-11D2-945F-00C04FB984F9},cn=policies,cn=system,DC=lab,DC=test" || links[0].options != 0 || links[1].options != 3 {
		t.Errorf("parseGPLink = %+v", links)
	}
	if dnToDNS("DC=Lab,DC=Test") != "lab.test" || dnToDNS("not a dn") != "" {
		t.Error("dnToDNS")
	}
}
