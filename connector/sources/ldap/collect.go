package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/castellan-itdr/castellan/mappings/directory"
)

// sdFlagsOwnerDACL asks for the owner and DACL only (OWNER_SECURITY_INFORMATION
// | DACL_SECURITY_INFORMATION): reading the SACL needs SeSecurityPrivilege,
// and without the control a non-admin gets no nTSecurityDescriptor at all.
const sdFlagsOwnerDACL = 0x1 | 0x4

// Progress is reported after each kind of object is read.
type Progress struct {
	Kind    string        // "users", "groups", "gpos", …
	Count   int           // objects of that kind read
	Elapsed time.Duration // since Collect began
}

// Collector reads snapshots from one domain controller.
type Collector struct {
	cfg      Config
	logger   *slog.Logger
	progress func(Progress)
	now      func() time.Time
}

// Option configures a Collector.
type Option func(*Collector)

// WithLogger sets the logger (default slog.Default()). Each kind of object
// read is logged at Info with its count.
func WithLogger(l *slog.Logger) Option { return func(c *Collector) { c.logger = l } }

// WithProgress calls fn after each kind of object is read.
func WithProgress(fn func(Progress)) Option { return func(c *Collector) { c.progress = fn } }

// New validates cfg and returns a Collector. Zero PageSize and Timeout take
// the defaults.
func New(cfg Config, opts ...Option) (*Collector, error) {
	def := NewDefaultConfig()
	if cfg.PageSize == 0 {
		cfg.PageSize = def.PageSize
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = def.Timeout
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ldap: config: %w", err)
	}
	c := &Collector{cfg: cfg, logger: slog.Default(), now: time.Now}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// session is one Collect's connection and partial snapshot.
type session struct {
	*Collector
	conn  *goldap.Conn
	snap  *directory.Snapshot
	start time.Time
	// schemaNC is the schema partition.
	schemaNC string
	links    map[string][]string // lower GPO DN → DNs linking it
}

// Collect connects, binds, reads the directory and returns the resolved
// snapshot. It fails on connection, bind or search errors; unreadable
// individual values become snapshot warnings.
func (c *Collector) Collect(ctx context.Context) (*directory.Snapshot, error) {
	start := c.now()
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	s := &session{Collector: c, conn: conn, start: start, links: map[string][]string{},
		snap: &directory.Snapshot{Taken: start.UTC(), Source: c.cfg.URL, Counts: map[string]int{}}}
	steps := []struct {
		kind string
		fn   func(context.Context) (int, error)
	}{
		{"rootdse", s.rootDSE},
		{"domain", s.domain},
		{"admin_sd_holder", s.adminSDHolder},
		{"groups", s.groups},
		{"accounts", s.accounts},
		{"trusts", s.trusts},
		{"gp_links", s.gpLinks},
		{"gpos", s.gpos},
		{"cert_templates", s.certTemplates},
		{"enrollment_services", s.enrollmentServices},
	}
	for _, st := range steps {
		n, err := st.fn(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("ldap: %s: %w", st.kind, ctx.Err())
			}
			return nil, fmt.Errorf("ldap: read %s from %s: %w", st.kind, c.cfg.URL, err)
		}
		if st.kind == "accounts" {
			s.report("users", len(s.snap.Users))
			s.report("computers", len(s.snap.Computers))
			continue
		}
		if st.kind != "rootdse" && st.kind != "domain" && st.kind != "admin_sd_holder" {
			s.report(st.kind, n)
		}
	}
	s.snap.ID = strings.ToLower(s.snap.Domain.DNSName) + "/" + start.UTC().Format("20060102T150405Z")
	s.snap.Resolve()
	return s.snap, nil
}

func (s *session) report(kind string, n int) {
	s.snap.Counts[kind] = n
	p := Progress{Kind: kind, Count: n, Elapsed: s.now().Sub(s.start)}
	s.logger.Info("ldap: read directory objects", "kind", kind, "count", n, "elapsed", p.Elapsed.Round(time.Millisecond))
	if s.progress != nil {
		s.progress(p)
	}
}

func (s *session) warn(format string, a ...any) {
	s.snap.Warnings = append(s.snap.Warnings, fmt.Sprintf(format, a...))
	s.snap.Counts["warnings"]++
}

// dial connects (with TLS) and binds. Errors name the server and the
// account, never the password.
func (c *Collector) dial(ctx context.Context) (*goldap.Conn, error) {
	u, _ := url.Parse(c.cfg.URL) // validated
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.cfg.ServerName}
	if tlsCfg.ServerName == "" {
		tlsCfg.ServerName = u.Hostname()
	}
	if c.cfg.CAFile != "" {
		pem, err := os.ReadFile(c.cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ldap: ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ldap: ca_file %s: no PEM certificate", c.cfg.CAFile)
		}
		tlsCfg.RootCAs = pool
	}
	dialer := &net.Dialer{Timeout: c.cfg.Timeout}
	if d, ok := ctx.Deadline(); ok {
		dialer.Deadline = d
	}
	conn, err := goldap.DialURL(c.cfg.URL, goldap.DialWithDialer(dialer), goldap.DialWithTLSConfig(tlsCfg))
	if err != nil {
		return nil, fmt.Errorf("ldap: connect to %s: %w", c.cfg.URL, err)
	}
	conn.SetTimeout(c.cfg.Timeout)
	if c.cfg.StartTLS {
		if err := conn.StartTLS(tlsCfg); err != nil {
			conn.Close()
			return nil, fmt.Errorf("ldap: StartTLS with %s: %w", c.cfg.URL, err)
		}
	}
	if err := conn.Bind(c.cfg.BindDN, c.cfg.Password.Value()); err != nil {
		conn.Close()
		return nil, fmt.Errorf("ldap: bind to %s as %q: %w", c.cfg.URL, c.cfg.BindDN, redactErr(err, c.cfg.Password.Value()))
	}
	return conn, nil
}

// redactErr guarantees the password never leaves in an error text (servers
// do not echo it, but a library could).
func redactErr(err error, password string) error {
	if password == "" || !strings.Contains(err.Error(), password) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), password, "[REDACTED]"))
}

// search runs a paged search, handing every entry to fn. withSD adds the
// SD flags control (for nTSecurityDescriptor). A missing base
// (noSuchObject) is reported by missing=true, not as an error.
func (s *session) search(ctx context.Context, base string, scope int, filter string, attrs []string, withSD bool, fn func(*goldap.Entry) error) (missing bool, err error) {
	paging := goldap.NewControlPaging(uint32(s.cfg.PageSize))
	controls := []goldap.Control{paging}
	if withSD {
		controls = append(controls, &goldap.ControlMicrosoftSDFlags{ControlValue: sdFlagsOwnerDACL})
	}
	for {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		req := goldap.NewSearchRequest(base, scope, goldap.NeverDerefAliases, 0, 0, false, filter, attrs, controls)
		res, err := s.conn.Search(req)
		s.snap.Counts["ldap_requests"]++
		if err != nil {
			if goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) {
				return true, nil
			}
			return false, fmt.Errorf("search %q under %q: %w", filter, base, err)
		}
		for _, e := range res.Entries {
			if err := fn(e); err != nil {
				return false, err
			}
		}
		pr, ok := goldap.FindControl(res.Controls, goldap.ControlTypePaging).(*goldap.ControlPaging)
		if !ok || len(pr.Cookie) == 0 {
			return false, nil
		}
		paging.SetCookie(pr.Cookie)
	}
}

// base reads one object (scope base); nil when it does not exist.
func (s *session) base(ctx context.Context, dn string, attrs []string, withSD bool) (*goldap.Entry, error) {
	var got *goldap.Entry
	_, err := s.search(ctx, dn, goldap.ScopeBaseObject, "(objectClass=*)", attrs, withSD, func(e *goldap.Entry) error {
		got = e
		return nil
	})
	return got, err
}

// sd parses an nTSecurityDescriptor value; a bad one is a warning.
func (s *session) sd(what, dn string, raw []byte) *directory.SecurityDescriptor {
	if len(raw) == 0 {
		s.warn("%s %s: no nTSecurityDescriptor returned (no read permission?)", what, dn)
		return nil
	}
	sd, err := directory.ParseSecurityDescriptor(raw)
	if err != nil {
		s.warn("%s %s: %v", what, dn, err)
		s.snap.Counts["sd_parse_errors"]++
		return nil
	}
	return sd
}

func (s *session) sid(what, dn string, raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	v, err := directory.SIDString(raw)
	if err != nil {
		s.warn("%s %s: objectSid: %v", what, dn, err)
		return ""
	}
	return v
}

func (s *session) rootDSE(ctx context.Context) (int, error) {
	e, err := s.base(ctx, "", []string{"defaultNamingContext", "configurationNamingContext", "schemaNamingContext",
		"rootDomainNamingContext", "domainFunctionality", "forestFunctionality", "dnsHostName"}, false)
	if err != nil {
		return 0, err
	}
	if e == nil {
		return 0, errors.New("no RootDSE")
	}
	a := attr{e}
	d := &s.snap.Domain
	d.DN = s.cfg.BaseDN
	if d.DN == "" {
		d.DN = a.str("defaultNamingContext")
	}
	if d.DN == "" {
		return 0, errors.New("RootDSE has no defaultNamingContext; set base_dn")
	}
	d.ConfigurationDN = a.str("configurationNamingContext")
	s.schemaNC = a.str("schemaNamingContext")
	d.Forest = dnToDNS(a.str("rootDomainNamingContext"))
	d.DNSName = dnToDNS(d.DN)
	d.FunctionalLevel = a.int("domainFunctionality")
	d.ForestFunctionalLevel = a.int("forestFunctionality")
	return 1, nil
}

// dnToDNS turns DC=lab,DC=test into lab.test.
func dnToDNS(dn string) string {
	parsed, err := goldap.ParseDN(dn)
	if err != nil {
		return ""
	}
	var parts []string
	for _, rdn := range parsed.RDNs {
		for _, at := range rdn.Attributes {
			if strings.EqualFold(at.Type, "DC") {
				parts = append(parts, at.Value)
			}
		}
	}
	return strings.ToLower(strings.Join(parts, "."))
}

func (s *session) domain(ctx context.Context) (int, error) {
	d := &s.snap.Domain
	e, err := s.base(ctx, d.DN, []string{"objectSid", "ms-DS-MachineAccountQuota", "minPwdLength", "maxPwdAge",
		"minPwdAge", "pwdHistoryLength", "pwdProperties", "lockoutThreshold", "lockoutDuration",
		"lockOutObservationWindow", "msDS-Behavior-Version", "gPLink", "whenCreated", "nTSecurityDescriptor"}, true)
	if err != nil {
		return 0, err
	}
	if e == nil {
		return 0, fmt.Errorf("domain object %s not found", d.DN)
	}
	a := attr{e}
	d.SID = s.sid("domain", d.DN, a.raw("objectSid"))
	if d.SID == "" {
		return 0, fmt.Errorf("domain object %s has no objectSid", d.DN)
	}
	d.MachineAccountQuota = a.int("ms-DS-MachineAccountQuota")
	if a.has("msDS-Behavior-Version") {
		d.FunctionalLevel = a.int("msDS-Behavior-Version")
	}
	d.PasswordPolicy = directory.PasswordPolicy{
		MinLength:        a.int("minPwdLength"),
		MaxAge:           a.interval("maxPwdAge"),
		MinAge:           a.interval("minPwdAge"),
		HistoryCount:     a.int("pwdHistoryLength"),
		Properties:       a.uint32("pwdProperties"),
		LockoutThreshold: a.int("lockoutThreshold"),
		LockoutDuration:  a.interval("lockoutDuration"),
		LockoutWindow:    a.interval("lockOutObservationWindow"),
	}
	d.WhenCreated = a.generalized("whenCreated")
	d.ACL = s.sd("domain", d.DN, a.raw("nTSecurityDescriptor"))
	for _, l := range parseGPLink(a.str("gPLink")) {
		d.GPLinks = append(d.GPLinks, directory.GPLink{GPODN: l.dn, Disabled: l.options&1 != 0, Enforced: l.options&2 != 0})
	}
	// NetBIOS name from the partitions container.
	if d.ConfigurationDN != "" {
		_, err := s.search(ctx, "CN=Partitions,"+d.ConfigurationDN, goldap.ScopeSingleLevel,
			"(&(objectClass=crossRef)(nCName="+goldap.EscapeFilter(d.DN)+"))", []string{"nETBIOSName", "dnsRoot"}, false,
			func(e *goldap.Entry) error {
				a := attr{e}
				d.NetBIOS = a.str("nETBIOSName")
				if r := a.str("dnsRoot"); r != "" {
					d.DNSName = strings.ToLower(r)
				}
				return nil
			})
		if err != nil {
			return 0, err
		}
	}
	return 1, nil
}

func (s *session) adminSDHolder(ctx context.Context) (int, error) {
	dn := "CN=AdminSDHolder,CN=System," + s.snap.Domain.DN
	e, err := s.base(ctx, dn, []string{"nTSecurityDescriptor"}, true)
	if err != nil {
		return 0, err
	}
	if e == nil {
		s.warn("AdminSDHolder %s not found", dn)
		return 0, nil
	}
	s.snap.Domain.AdminSDHolder = s.sd("AdminSDHolder", dn, attr{e}.raw("nTSecurityDescriptor"))
	return 1, nil
}

var groupAttrs = []string{"sAMAccountName", "objectSid", "description", "groupType", "adminCount", "member", "memberOf"}

func (s *session) groups(ctx context.Context) (int, error) {
	_, err := s.search(ctx, s.snap.Domain.DN, goldap.ScopeWholeSubtree, "(objectClass=group)", groupAttrs, false, func(e *goldap.Entry) error {
		a := attr{e}
		g := directory.Group{
			DN: e.DN, SID: s.sid("group", e.DN, a.raw("objectSid")), Name: a.str("sAMAccountName"),
			Description: a.str("description"), GroupType: int32(a.int64("groupType")), AdminCount: a.int("adminCount"),
			Members: a.strs("member"), MemberOf: a.strs("memberOf"),
		}
		members, err := s.rangedMembers(ctx, e, g.Members)
		if err != nil {
			return err
		}
		g.Members = members
		s.snap.Groups = append(s.snap.Groups, g)
		return nil
	})
	return len(s.snap.Groups), err
}

// rangedMembers completes a member attribute the server returned in
// ranges ("member;range=0-1499"; AD's MaxValRange), fetching the rest.
func (s *session) rangedMembers(ctx context.Context, e *goldap.Entry, members []string) ([]string, error) {
	for _, at := range e.Attributes {
		base, end, ok := parseRange(at.Name)
		if !ok || !strings.EqualFold(base, "member") {
			continue
		}
		members = append(members, at.Values...)
		for end >= 0 {
			next := fmt.Sprintf("member;range=%d-*", end+1)
			got, err := s.base(ctx, e.DN, []string{next}, false)
			if err != nil {
				return nil, err
			}
			end = -1
			if got == nil {
				break
			}
			for _, a2 := range got.Attributes {
				if b, e2, ok := parseRange(a2.Name); ok && strings.EqualFold(b, "member") {
					members = append(members, a2.Values...)
					end = e2
				}
			}
			if len(members) > 10_000_000 {
				return nil, fmt.Errorf("group %s: more than 10 million members", e.DN)
			}
		}
	}
	return members, nil
}

var accountAttrs = []string{"objectClass", "sAMAccountName", "objectSid", "userPrincipalName", "displayName", "description",
	"userAccountControl", "msDS-SupportedEncryptionTypes", "servicePrincipalName", "pwdLastSet", "lastLogonTimestamp",
	"whenCreated", "accountExpires", "adminCount", "primaryGroupID", "sIDHistory", "memberOf",
	"msDS-AllowedToDelegateTo", "msDS-AllowedToActOnBehalfOfOtherIdentity", "msDS-KeyCredentialLink",
	"dNSHostName", "operatingSystem", "operatingSystemVersion",
	"ms-Mcs-AdmPwdExpirationTime", "msLAPS-PasswordExpirationTime"}

func (s *session) accounts(ctx context.Context) (int, error) {
	legacy, windows, err := s.lapsSchema(ctx)
	if err != nil {
		return 0, err
	}
	_, err = s.search(ctx, s.snap.Domain.DN, goldap.ScopeWholeSubtree, "(objectClass=user)", accountAttrs, false, func(e *goldap.Entry) error {
		a := attr{e}
		acct := directory.Account{
			DN: e.DN, SAMAccountName: a.str("sAMAccountName"), SID: s.sid("account", e.DN, a.raw("objectSid")),
			UPN: a.str("userPrincipalName"), DisplayName: a.str("displayName"), Description: a.str("description"),
			ObjectClass: a.mostSpecificClass(), UAC: directory.UAC(a.uint32("userAccountControl")),
			EncTypes: directory.EncTypes(a.uint32("msDS-SupportedEncryptionTypes")), SPNs: a.strs("servicePrincipalName"),
			PwdLastSet: a.fileTime("pwdLastSet"), LastLogon: a.fileTime("lastLogonTimestamp"),
			WhenCreated: a.generalized("whenCreated"), AccountExpires: a.fileTime("accountExpires"),
			AdminCount: a.int("adminCount"), PrimaryGroupID: a.uint32("primaryGroupID"),
			MemberOf: a.strs("memberOf"), AllowedToDelegateTo: a.strs("msDS-AllowedToDelegateTo"),
			HasKeyCredentials: a.has("msDS-KeyCredentialLink"),
		}
		for _, raw := range a.raws("sIDHistory") {
			if v := s.sid("sIDHistory of", e.DN, raw); v != "" {
				acct.SIDHistory = append(acct.SIDHistory, v)
			}
		}
		if raw := a.raw("msDS-AllowedToActOnBehalfOfOtherIdentity"); len(raw) > 0 {
			acct.AllowedToActOnBehalf = s.sd("msDS-AllowedToActOnBehalfOfOtherIdentity of", e.DN, raw)
		}
		managed := a.hasClass("msDS-GroupManagedServiceAccount") || a.hasClass("msDS-ManagedServiceAccount")
		if !a.hasClass("computer") || managed {
			s.snap.Users = append(s.snap.Users, directory.User{Account: acct})
			return nil
		}
		c := directory.Computer{Account: acct, DNSHostName: a.str("dNSHostName"),
			OS: a.str("operatingSystem"), OSVersion: a.str("operatingSystemVersion")}
		c.IsRODC = acct.UAC.Has(directory.UACPartialSecretsAccount) || acct.PrimaryGroupID == directory.RidReadOnlyDCs
		c.IsDC = acct.UAC.ServerTrust() || acct.PrimaryGroupID == directory.RidDomainControllers || c.IsRODC
		c.LAPS = directory.LAPS{SchemaLegacy: legacy, SchemaWindows: windows,
			Legacy: a.has("ms-Mcs-AdmPwdExpirationTime"), LegacyExpiry: a.fileTime("ms-Mcs-AdmPwdExpirationTime"),
			Windows: a.has("msLAPS-PasswordExpirationTime"), WindowsExpiry: a.fileTime("msLAPS-PasswordExpirationTime")}
		s.snap.Computers = append(s.snap.Computers, c)
		return nil
	})
	return len(s.snap.Users) + len(s.snap.Computers), err
}

// lapsSchema reports whether the legacy and Windows LAPS attributes exist.
func (s *session) lapsSchema(ctx context.Context) (legacy, windows bool, err error) {
	if s.schemaNC == "" {
		return false, false, nil
	}
	_, err = s.search(ctx, s.schemaNC, goldap.ScopeSingleLevel,
		"(|(lDAPDisplayName=ms-Mcs-AdmPwdExpirationTime)(lDAPDisplayName=msLAPS-PasswordExpirationTime))",
		[]string{"lDAPDisplayName"}, false, func(e *goldap.Entry) error {
			switch strings.ToLower(attr{e}.str("lDAPDisplayName")) {
			case "ms-mcs-admpwdexpirationtime":
				legacy = true
			case "mslaps-passwordexpirationtime":
				windows = true
			}
			return nil
		})
	return legacy, windows, err
}

func (s *session) trusts(ctx context.Context) (int, error) {
	_, err := s.search(ctx, "CN=System,"+s.snap.Domain.DN, goldap.ScopeWholeSubtree, "(objectClass=trustedDomain)",
		[]string{"trustPartner", "flatName", "securityIdentifier", "trustDirection", "trustType", "trustAttributes",
			"msDS-SupportedEncryptionTypes", "whenCreated"}, false, func(e *goldap.Entry) error {
			a := attr{e}
			s.snap.Trusts = append(s.snap.Trusts, directory.Trust{
				DN: e.DN, Partner: a.str("trustPartner"), FlatName: a.str("flatName"),
				SID: s.sid("trust", e.DN, a.raw("securityIdentifier")), Direction: a.int("trustDirection"),
				Type: a.int("trustType"), Attributes: a.uint32("trustAttributes"),
				EncTypes: directory.EncTypes(a.uint32("msDS-SupportedEncryptionTypes")), WhenCreated: a.generalized("whenCreated"),
			})
			return nil
		})
	return len(s.snap.Trusts), err
}

// gpLinks collects every gPLink in the domain (domain head, OUs) so GPOs
// can name where they apply.
func (s *session) gpLinks(ctx context.Context) (int, error) {
	n := 0
	_, err := s.search(ctx, s.snap.Domain.DN, goldap.ScopeWholeSubtree, "(gPLink=*)", []string{"gPLink"}, false, func(e *goldap.Entry) error {
		for _, l := range parseGPLink(attr{e}.str("gPLink")) {
			k := strings.ToLower(l.dn)
			s.links[k] = append(s.links[k], e.DN)
			n++
		}
		return nil
	})
	return n, err
}

func (s *session) gpos(ctx context.Context) (int, error) {
	_, err := s.search(ctx, "CN=Policies,CN=System,"+s.snap.Domain.DN, goldap.ScopeSingleLevel, "(objectClass=groupPolicyContainer)",
		[]string{"cn", "displayName", "gPCFileSysPath", "versionNumber", "flags", "whenChanged", "nTSecurityDescriptor"}, true,
		func(e *goldap.Entry) error {
			a := attr{e}
			g := directory.GPO{DN: e.DN, GUID: a.str("cn"), DisplayName: a.str("displayName"),
				FileSysPath: a.str("gPCFileSysPath"), Version: a.int("versionNumber"), Flags: a.int("flags"),
				WhenChanged: a.generalized("whenChanged"), ACL: s.sd("GPO", e.DN, a.raw("nTSecurityDescriptor")),
				LinkedTo: s.links[strings.ToLower(e.DN)]}
			sort.Strings(g.LinkedTo)
			s.snap.GPOs = append(s.snap.GPOs, g)
			return nil
		})
	return len(s.snap.GPOs), err
}

func (s *session) pkiBase(container string) string {
	if s.snap.Domain.ConfigurationDN == "" {
		return ""
	}
	return "CN=" + container + ",CN=Public Key Services,CN=Services," + s.snap.Domain.ConfigurationDN
}

func (s *session) certTemplates(ctx context.Context) (int, error) {
	base := s.pkiBase("Certificate Templates")
	if base == "" {
		return 0, nil
	}
	_, err := s.search(ctx, base, goldap.ScopeSingleLevel, "(objectClass=pKICertificateTemplate)",
		[]string{"cn", "displayName", "msPKI-Template-Schema-Version", "msPKI-Certificate-Name-Flag", "msPKI-Enrollment-Flag",
			"msPKI-Private-Key-Flag", "msPKI-RA-Signature", "pKIExtendedKeyUsage", "msPKI-Certificate-Application-Policy",
			"msPKI-RA-Application-Policies", "nTSecurityDescriptor"}, true,
		func(e *goldap.Entry) error {
			a := attr{e}
			s.snap.CertTemplates = append(s.snap.CertTemplates, directory.CertTemplate{
				DN: e.DN, Name: a.str("cn"), DisplayName: a.str("displayName"),
				SchemaVersion: a.int("msPKI-Template-Schema-Version"), NameFlag: a.uint32("msPKI-Certificate-Name-Flag"),
				EnrollmentFlag: a.uint32("msPKI-Enrollment-Flag"), PrivateKeyFlag: a.uint32("msPKI-Private-Key-Flag"),
				RASignatures: a.int("msPKI-RA-Signature"), EKUs: a.strs("pKIExtendedKeyUsage"),
				ApplicationPolicies:   a.strs("msPKI-Certificate-Application-Policy"),
				RAApplicationPolicies: a.strs("msPKI-RA-Application-Policies"),
				ACL:                   s.sd("certificate template", e.DN, a.raw("nTSecurityDescriptor")),
			})
			return nil
		})
	return len(s.snap.CertTemplates), err
}

func (s *session) enrollmentServices(ctx context.Context) (int, error) {
	base := s.pkiBase("Enrollment Services")
	if base == "" {
		return 0, nil
	}
	_, err := s.search(ctx, base, goldap.ScopeSingleLevel, "(objectClass=pKIEnrollmentService)",
		[]string{"cn", "dNSHostName", "certificateTemplates", "flags", "cACertificate", "nTSecurityDescriptor"}, true,
		func(e *goldap.Entry) error {
			a := attr{e}
			es := directory.EnrollmentService{DN: e.DN, Name: a.str("cn"), DNSHostName: a.str("dNSHostName"),
				Templates: a.strs("certificateTemplates"), Flags: a.uint32("flags"),
				ACL: s.sd("enrollment service", e.DN, a.raw("nTSecurityDescriptor"))}
			if raw := a.raw("cACertificate"); len(raw) > 0 {
				if cert, err := x509.ParseCertificate(raw); err == nil {
					es.CASubject = subject(cert.Subject)
				} else {
					s.warn("enrollment service %s: cACertificate: %v", e.DN, err)
				}
			}
			s.snap.EnrollmentServices = append(s.snap.EnrollmentServices, es)
			return nil
		})
	// Which CAs publish each template.
	for i := range s.snap.CertTemplates {
		t := &s.snap.CertTemplates[i]
		for _, es := range s.snap.EnrollmentServices {
			for _, name := range es.Templates {
				if strings.EqualFold(name, t.Name) {
					t.PublishedBy = append(t.PublishedBy, es.Name)
				}
			}
		}
	}
	return len(s.snap.EnrollmentServices), err
}

func subject(n pkix.Name) string { return n.String() }
