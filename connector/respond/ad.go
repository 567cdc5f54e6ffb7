package respond

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/go-ldap/ldap/v3"

	"github.com/castellan-itdr/castellan/connector/config"
	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/sinks/secret"
)

// userAccountControl flags (MS-ADTS 2.2.16).
const (
	uacAccountDisable        = 0x0002
	uacServerTrustAccount    = 0x2000
	uacPartialSecretsAccount = 0x04000000
)

// Well-known RIDs.
const (
	ridAdministrator = 500
	ridKrbtgt        = 502
	ridDCs           = 516
	ridRODCs         = 521
)

// privilegedDomainRIDs and privilegedBuiltinSIDs are the groups whose
// members, direct or nested, hold domain-wide privilege:
// Domain/Schema/Enterprise Admins, Group Policy Creator Owners, Key
// Admins, Enterprise Key Admins; Administrators, Account/Server/Print/
// Backup Operators.
var (
	privilegedDomainRIDs  = []int{512, 518, 519, 520, 526, 527}
	privilegedBuiltinSIDs = []string{"S-1-5-32-544", "S-1-5-32-548", "S-1-5-32-549", "S-1-5-32-550", "S-1-5-32-551"}
)

// inChain is LDAP_MATCHING_RULE_IN_CHAIN (transitive membership).
const inChain = "1.2.840.113556.1.4.1941"

// AD is an Active Directory domain acted on over LDAPS: it resolves
// accounts, refuses protected ones and offers disable_user, enable_user,
// force_password_change, cancel_password_change, reset_password,
// remove_from_privileged_groups and add_to_groups.
type AD struct {
	url       string
	bind      string
	password  secret.Secret
	baseDN    string
	tls       *tls.Config
	timeout   time.Duration
	protected []string // protected group names or DNs

	mu        sync.Mutex
	domainSID string
	netbios   string
	// lastFail and failErr let actions fail fast for a while after the DC
	// could not be reached, so a pipeline running rule responses does not
	// stall on one dial timeout per alert.
	lastFail time.Time
	failErr  error
}

// failFast is how long after a failed connection new actions fail at once.
const failFast = 30 * time.Second

// NewAD returns the AD directory of cfg. It reads the CA file but does
// not connect: each action dials, binds and closes.
func NewAD(cfg config.ResponseAD, protectedGroups []string) (*AD, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Scheme != "ldaps" || u.Host == "" {
		return nil, fmt.Errorf("response.ad.url: must be ldaps://host[:port], not %q", cfg.URL)
	}
	tc := &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("response.ad.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("response.ad.ca_file: no PEM certificate in %s", cfg.CAFile)
		}
		tc.RootCAs = pool
	}
	return &AD{url: cfg.URL, bind: cfg.Bind, password: cfg.Password, baseDN: cfg.BaseDN, tls: tc,
		timeout: 15 * time.Second, protected: protectedGroups}, nil
}

// Name implements Directory.
func (d *AD) Name() string { return "ad" }

// dial connects and binds.
func (d *AD) dial(ctx context.Context) (*ldap.Conn, error) {
	timeout := d.timeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	if timeout <= 0 {
		return nil, context.DeadlineExceeded
	}
	d.mu.Lock()
	if !d.lastFail.IsZero() && time.Since(d.lastFail) < failFast {
		err := d.failErr
		d.mu.Unlock()
		return nil, fmt.Errorf("%w (not retried for %s after the failure)", err, failFast)
	}
	d.mu.Unlock()
	c, err := ldap.DialURL(d.url, ldap.DialWithTLSConfig(d.tls), ldap.DialWithDialer(&net.Dialer{Timeout: timeout}))
	if err != nil {
		err = fmt.Errorf("connect %s: %w", d.url, err)
		d.mu.Lock()
		d.lastFail, d.failErr = time.Now(), err
		d.mu.Unlock()
		return nil, err
	}
	d.mu.Lock()
	d.lastFail = time.Time{}
	d.mu.Unlock()
	c.SetTimeout(timeout)
	if err := c.Bind(d.bind, d.password.Value()); err != nil {
		c.Close()
		return nil, fmt.Errorf("bind as %s: %w", d.bind, err)
	}
	return c, nil
}

var userAttrs = []string{"distinguishedName", "sAMAccountName", "userPrincipalName", "objectSid",
	"userAccountControl", "primaryGroupID", "pwdLastSet", "memberOf"}

// search runs a subtree (or base) search.
func search(c *ldap.Conn, base string, scope int, filter string, attrs ...string) ([]*ldap.Entry, error) {
	res, err := c.Search(ldap.NewSearchRequest(base, scope, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil))
	if err != nil {
		if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			return nil, nil
		}
		return nil, err
	}
	return res.Entries, nil
}

// domainInfo reads (once) the domain SID and NetBIOS name.
func (d *AD) domainInfo(c *ldap.Conn) (sid, netbios string, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.domainSID != "" {
		return d.domainSID, d.netbios, nil
	}
	es, err := search(c, d.baseDN, ldap.ScopeBaseObject, "(objectClass=*)", "objectSid")
	if err != nil || len(es) == 0 {
		return "", "", fmt.Errorf("read domain %s: %v", d.baseDN, errors.Join(err, errIf(len(es) == 0, "not found")))
	}
	sid = decodeSID(es[0].GetRawAttributeValue("objectSid"))
	if sid == "" {
		return "", "", fmt.Errorf("domain %s has no objectSid", d.baseDN)
	}
	netbios = strings.ToUpper(strings.TrimPrefix(strings.SplitN(d.baseDN, ",", 2)[0], "DC="))
	if root, err := search(c, "", ldap.ScopeBaseObject, "(objectClass=*)", "configurationNamingContext"); err == nil && len(root) == 1 {
		if cfgNC := root[0].GetAttributeValue("configurationNamingContext"); cfgNC != "" {
			xr, err := search(c, "CN=Partitions,"+cfgNC, ldap.ScopeSingleLevel,
				"(&(objectClass=crossRef)(nCName="+ldap.EscapeFilter(d.baseDN)+"))", "nETBIOSName")
			if err == nil && len(xr) == 1 && xr[0].GetAttributeValue("nETBIOSName") != "" {
				netbios = xr[0].GetAttributeValue("nETBIOSName")
			}
		}
	}
	d.domainSID, d.netbios = sid, netbios
	return sid, netbios, nil
}

func errIf(cond bool, msg string) error {
	if cond {
		return errors.New(msg)
	}
	return nil
}

// Resolve implements Directory: identity is a SID (S-1-5-…), a DN, a UPN
// (user@domain), DOMAIN\name or a sAMAccountName.
func (d *AD) Resolve(ctx context.Context, identity string) (Subject, error) {
	c, err := d.dial(ctx)
	if err != nil {
		return Subject{}, err
	}
	defer c.Close()
	_, netbios, err := d.domainInfo(c)
	if err != nil {
		return Subject{}, err
	}
	e, err := d.find(c, identity)
	if err != nil {
		return Subject{}, err
	}
	s := d.subject(e, netbios)
	if s.Protected == "" {
		s.Protected, err = d.protectedMember(c, e.DN)
		if err != nil {
			return Subject{}, err
		}
	}
	return s, nil
}

// find looks the identity up; exactly one account must match.
func (d *AD) find(c *ldap.Conn, identity string) (*ldap.Entry, error) {
	id := strings.TrimSpace(identity)
	base, scope, filter := d.baseDN, ldap.ScopeWholeSubtree, ""
	switch {
	case strings.HasPrefix(strings.ToUpper(id), "S-1-"):
		filter = "(objectSid=" + ldap.EscapeFilter(id) + ")"
	case strings.Contains(id, "=") && strings.Contains(id, ","):
		base, scope, filter = id, ldap.ScopeBaseObject, "(objectClass=*)"
	case strings.Contains(id, `\`):
		filter = "(sAMAccountName=" + ldap.EscapeFilter(id[strings.LastIndex(id, `\`)+1:]) + ")"
	case strings.Contains(id, "@"):
		local := id[:strings.LastIndex(id, "@")]
		filter = "(|(userPrincipalName=" + ldap.EscapeFilter(id) + ")(&(!(userPrincipalName=*))(sAMAccountName=" + ldap.EscapeFilter(local) + ")))"
	default:
		filter = "(sAMAccountName=" + ldap.EscapeFilter(id) + ")"
	}
	es, err := search(c, base, scope, "(&(objectClass=user)"+filter+")", userAttrs...)
	if err != nil {
		return nil, err
	}
	switch len(es) {
	case 0:
		return nil, fmt.Errorf("no user or computer account %q under %s", identity, d.baseDN)
	case 1:
		return es[0], nil
	}
	return nil, fmt.Errorf("%q matches %d accounts; give the DN or SID", identity, len(es))
}

// subject builds the Subject of an account entry, with its built-in
// protection (Administrator, krbtgt, domain controllers).
func (d *AD) subject(e *ldap.Entry, netbios string) Subject {
	sam := e.GetAttributeValue("sAMAccountName")
	sid := decodeSID(e.GetRawAttributeValue("objectSid"))
	uac, _ := strconv.ParseInt(e.GetAttributeValue("userAccountControl"), 10, 64)
	pgid, _ := strconv.Atoi(e.GetAttributeValue("primaryGroupID"))
	upn := e.GetAttributeValue("userPrincipalName")
	s := Subject{
		Directory: "ad",
		Key:       e.DN,
		User:      schema.User{Name: sam, Domain: netbios, ID: sid, UPN: upn, IsMachine: strings.HasSuffix(sam, "$")},
		Aliases:   []string{sam, netbios + `\` + sam, upn, e.DN, sid},
	}
	rid := ridOf(sid)
	isDC := uac&uacServerTrustAccount != 0 || uac&uacPartialSecretsAccount != 0 || pgid == ridDCs || pgid == ridRODCs ||
		strings.HasSuffix(strings.ToLower(e.DN), strings.ToLower(",OU=Domain Controllers,"+d.baseDN))
	switch {
	case rid == ridAdministrator:
		s.Protected = "built-in Administrator (RID 500)"
	case rid == ridKrbtgt || strings.HasPrefix(strings.ToLower(sam), "krbtgt"):
		s.Protected = "krbtgt (RID 502): the KDC's account"
	case isDC:
		s.Protected = "domain controller account"
		s.User.IsDC = true
	}
	return s
}

// protectedMember reports the first configured protected group the
// account belongs to, directly or nested. A protected group that does not
// exist is an error: fail closed.
func (d *AD) protectedMember(c *ldap.Conn, dn string) (string, error) {
	for _, g := range d.protected {
		gdn := g
		if !strings.Contains(g, "=") {
			es, err := search(c, d.baseDN, ldap.ScopeWholeSubtree,
				"(&(objectClass=group)(|(sAMAccountName="+ldap.EscapeFilter(g)+")(cn="+ldap.EscapeFilter(g)+")))", "distinguishedName")
			if err != nil {
				return "", err
			}
			if len(es) != 1 {
				return "", fmt.Errorf("response.protected_groups: %q matches %d groups (want exactly one; refusing to act without the check)", g, len(es))
			}
			gdn = es[0].DN
		}
		es, err := search(c, dn, ldap.ScopeBaseObject, "(memberOf:"+inChain+":="+ldap.EscapeFilter(gdn)+")", "distinguishedName")
		if err != nil {
			return "", fmt.Errorf("check protected group %s: %w", gdn, err)
		}
		if len(es) > 0 {
			return "member of protected group " + gdn, nil
		}
	}
	return "", nil
}

// Actions implements Directory.
func (d *AD) Actions() []Action {
	return []Action{
		adAction{DisableUser, d, d.setDisabled(true)},
		adAction{EnableUser, d, d.setDisabled(false)},
		adAction{ForcePasswordChange, d, d.setMustChange(true)},
		adAction{CancelPasswordChange, d, d.setMustChange(false)},
		adAction{ResetPassword, d, d.resetPassword},
		adAction{RemoveFromPrivilegedGroups, d, d.removePrivileged},
		adAction{AddToGroups, d, d.addToGroups},
	}
}

type adRun func(c *ldap.Conn, s Subject, params map[string][]string, apply bool) (Change, error)

type adAction struct {
	name string
	d    *AD
	run  adRun
}

func (a adAction) Name() string { return a.name }

func (a adAction) Run(ctx context.Context, s Subject, params map[string][]string, apply bool) (Change, error) {
	c, err := a.d.dial(ctx)
	if err != nil {
		return Change{}, err
	}
	defer c.Close()
	return a.run(c, s, params, apply)
}

// read reads attributes of the subject's entry.
func read(c *ldap.Conn, dn string, attrs ...string) (*ldap.Entry, error) {
	es, err := search(c, dn, ldap.ScopeBaseObject, "(objectClass=*)", attrs...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dn, err)
	}
	if len(es) != 1 {
		return nil, fmt.Errorf("read %s: the account no longer exists", dn)
	}
	return es[0], nil
}

func readUAC(c *ldap.Conn, dn string) (int64, error) {
	e, err := read(c, dn, "userAccountControl")
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(e.GetAttributeValue("userAccountControl"), 10, 64)
}

type uacState struct {
	Enabled            bool  `json:"enabled"`
	UserAccountControl int64 `json:"userAccountControl"`
}

// setDisabled sets (disable) or clears (enable) ACCOUNTDISABLE.
func (d *AD) setDisabled(disable bool) adRun {
	return func(c *ldap.Conn, s Subject, _ map[string][]string, apply bool) (Change, error) {
		uac, err := readUAC(c, s.Key)
		if err != nil {
			return Change{}, err
		}
		before := State(uacState{uac&uacAccountDisable == 0, uac})
		want := uac &^ uacAccountDisable
		verb, inverse := "enabled", DisableUser
		if disable {
			want, verb, inverse = uac|uacAccountDisable, "disabled", EnableUser
		}
		if want == uac {
			return Change{Before: before, After: before, Note: "account already " + verb}, nil
		}
		ch := Change{Before: before, After: State(uacState{want&uacAccountDisable == 0, want}), Changed: true,
			Note: fmt.Sprintf("account %s (userAccountControl %d → %d)", verb, uac, want), Undo: &Undo{Action: inverse}}
		if !apply {
			return ch, nil
		}
		m := ldap.NewModifyRequest(s.Key, nil)
		m.Replace("userAccountControl", []string{strconv.FormatInt(want, 10)})
		if err := c.Modify(m); err != nil {
			return Change{Before: before}, fmt.Errorf("modify userAccountControl: %w", err)
		}
		got, err := readUAC(c, s.Key)
		if err != nil {
			return ch, err
		}
		ch.After = State(uacState{got&uacAccountDisable == 0, got})
		if (got&uacAccountDisable != 0) != disable {
			return ch, fmt.Errorf("userAccountControl reads %d after the change", got)
		}
		return ch, nil
	}
}

type pwdState struct {
	PwdLastSet         string `json:"pwdLastSet"`
	MustChangePassword bool   `json:"must_change_password"`
	Password           string `json:"password,omitempty"`
}

func readPwdState(c *ldap.Conn, dn string) (pwdState, error) {
	e, err := read(c, dn, "pwdLastSet")
	if err != nil {
		return pwdState{}, err
	}
	v := e.GetAttributeValue("pwdLastSet")
	return pwdState{PwdLastSet: fileTime(v), MustChangePassword: v == "0"}, nil
}

// fileTime renders a FILETIME attribute ("0", or 100 ns since 1601) as
// RFC 3339, keeping "0" as is.
func fileTime(v string) string {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return v
	}
	return time.Unix(0, 0).Add(time.Duration(n-116444736000000000) * 100).UTC().Format(time.RFC3339)
}

// setMustChange sets pwdLastSet to 0 (must change at next logon) or, to
// cancel, to -1 (the DC stamps the current time).
func (d *AD) setMustChange(must bool) adRun {
	return func(c *ldap.Conn, s Subject, _ map[string][]string, apply bool) (Change, error) {
		st, err := readPwdState(c, s.Key)
		if err != nil {
			return Change{}, err
		}
		before := State(st)
		if st.MustChangePassword == must {
			if must {
				return Change{Before: before, After: before, Note: "password change at next logon already required (pwdLastSet 0)"}, nil
			}
			return Change{Before: before, After: before, Note: "no password change is pending"}, nil
		}
		value, note, inverse := "0", "password change required at next logon (pwdLastSet 0)", CancelPasswordChange
		if !must {
			value, note, inverse = "-1", "pending password change cancelled (pwdLastSet set to now)", ForcePasswordChange
		}
		predicted := pwdState{PwdLastSet: "0", MustChangePassword: true}
		if !must {
			predicted = pwdState{PwdLastSet: "now"}
		}
		ch := Change{Before: before, After: State(predicted), Changed: true, Note: note, Undo: &Undo{Action: inverse}}
		if !apply {
			return ch, nil
		}
		m := ldap.NewModifyRequest(s.Key, nil)
		m.Replace("pwdLastSet", []string{value})
		if err := c.Modify(m); err != nil {
			return Change{Before: before}, fmt.Errorf("modify pwdLastSet: %w", err)
		}
		after, err := readPwdState(c, s.Key)
		if err != nil {
			return ch, err
		}
		ch.After = State(after)
		if after.MustChangePassword != must {
			return ch, fmt.Errorf("pwdLastSet reads %s after the change", after.PwdLastSet)
		}
		return ch, nil
	}
}

// resetPassword sets unicodePwd to a random password that is neither
// logged nor recorded (only that a reset happened).
func (d *AD) resetPassword(c *ldap.Conn, s Subject, _ map[string][]string, apply bool) (Change, error) {
	st, err := readPwdState(c, s.Key)
	if err != nil {
		return Change{}, err
	}
	before := State(st)
	ch := Change{Before: before, After: State(pwdState{PwdLastSet: "now", Password: "reset to a random value (not recorded)"}), Changed: true,
		Note: "password reset to a random value that is not recorded", NotReversible: "the old password is not kept; the owner gets a new one from the helpdesk"}
	if !apply {
		return ch, nil
	}
	if !strings.HasPrefix(strings.ToLower(d.url), "ldaps://") {
		return Change{Before: before}, errors.New("a password is only ever sent over LDAPS")
	}
	pw, err := newPassword(24)
	if err != nil {
		return Change{Before: before}, err
	}
	m := ldap.NewModifyRequest(s.Key, nil)
	m.Replace("unicodePwd", []string{encodePassword(pw)})
	if err := c.Modify(m); err != nil {
		// The error never carries the value: go-ldap reports the result code.
		return Change{Before: before}, fmt.Errorf("modify unicodePwd: %w", err)
	}
	after, err := readPwdState(c, s.Key)
	if err != nil {
		return ch, err
	}
	after.Password = "reset to a random value (not recorded)"
	ch.After = State(after)
	return ch, nil
}

type groupState struct {
	PrivilegedGroups []string `json:"privileged_groups"`
	PrimaryGroupID   int      `json:"primary_group_id,omitempty"`
}

// privilegedGroups returns the DNs (lower-cased → as written) of the
// privileged groups and of every group nested in one of them.
func (d *AD) privilegedGroups(c *ldap.Conn) (map[string]string, error) {
	sid, _, err := d.domainInfo(c)
	if err != nil {
		return nil, err
	}
	var f strings.Builder
	f.WriteString("(|")
	for _, rid := range privilegedDomainRIDs {
		fmt.Fprintf(&f, "(objectSid=%s-%d)", sid, rid)
	}
	for _, s := range privilegedBuiltinSIDs {
		fmt.Fprintf(&f, "(objectSid=%s)", s)
	}
	f.WriteString(")")
	roots, err := search(c, d.baseDN, ldap.ScopeWholeSubtree, "(&(objectClass=group)"+f.String()+")", "distinguishedName")
	if err != nil {
		return nil, fmt.Errorf("find privileged groups: %w", err)
	}
	out := map[string]string{}
	var nested strings.Builder
	nested.WriteString("(&(objectClass=group)(|")
	for _, r := range roots {
		out[strings.ToLower(r.DN)] = r.DN
		fmt.Fprintf(&nested, "(memberOf:%s:=%s)", inChain, ldap.EscapeFilter(r.DN))
	}
	nested.WriteString("))")
	if len(roots) == 0 {
		return out, nil
	}
	es, err := search(c, d.baseDN, ldap.ScopeWholeSubtree, nested.String(), "distinguishedName")
	if err != nil {
		return nil, fmt.Errorf("find groups nested in privileged groups: %w", err)
	}
	for _, e := range es {
		out[strings.ToLower(e.DN)] = e.DN
	}
	return out, nil
}

// privilegedMemberships returns the account's direct memberships that
// grant privilege (the group is privileged or nested in one).
func (d *AD) privilegedMemberships(c *ldap.Conn, dn string) ([]string, int, error) {
	priv, err := d.privilegedGroups(c)
	if err != nil {
		return nil, 0, err
	}
	e, err := read(c, dn, "memberOf", "primaryGroupID")
	if err != nil {
		return nil, 0, err
	}
	var got []string
	for _, g := range e.GetAttributeValues("memberOf") {
		if _, ok := priv[strings.ToLower(g)]; ok {
			got = append(got, g)
		}
	}
	slices.Sort(got)
	pgid, _ := strconv.Atoi(e.GetAttributeValue("primaryGroupID"))
	return got, pgid, nil
}

// removePrivileged removes the account from every group that grants it
// privilege, recording the groups so undo can add it back.
func (d *AD) removePrivileged(c *ldap.Conn, s Subject, _ map[string][]string, apply bool) (Change, error) {
	groups, pgid, err := d.privilegedMemberships(c, s.Key)
	if err != nil {
		return Change{}, err
	}
	before := State(groupState{PrivilegedGroups: orEmpty(groups), PrimaryGroupID: pgid})
	primaryNote := ""
	if slices.Contains(privilegedDomainRIDs, pgid) {
		primaryNote = fmt.Sprintf("; WARNING: the primary group (RID %d) is privileged and is not changed by this action", pgid)
	}
	if len(groups) == 0 {
		return Change{Before: before, After: before, Note: "no privileged group memberships" + primaryNote}, nil
	}
	ch := Change{Before: before, After: State(groupState{PrivilegedGroups: []string{}, PrimaryGroupID: pgid}), Changed: true,
		Note: fmt.Sprintf("removed from %d group(s): %s%s", len(groups), strings.Join(groups, "; "), primaryNote),
		Undo: &Undo{Action: AddToGroups, Params: map[string][]string{ParamGroups: groups}}}
	if !apply {
		ch.Note = strings.Replace(ch.Note, "removed from", "remove from", 1)
		return ch, nil
	}
	var removed []string
	for _, g := range groups {
		m := ldap.NewModifyRequest(g, nil)
		m.Delete("member", []string{s.Key})
		if err := c.Modify(m); err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchAttribute) {
			ch.Undo.Params = map[string][]string{ParamGroups: removed}
			ch.Changed = len(removed) > 0
			return ch, fmt.Errorf("remove from %s: %w (removed from %d group(s) before: %s)", g, err, len(removed), strings.Join(removed, "; "))
		}
		removed = append(removed, g)
	}
	left, pgid, err := d.privilegedMemberships(c, s.Key)
	if err != nil {
		return ch, err
	}
	ch.After = State(groupState{PrivilegedGroups: orEmpty(left), PrimaryGroupID: pgid})
	if len(left) > 0 {
		return ch, fmt.Errorf("still a member of %s after the change", strings.Join(left, "; "))
	}
	return ch, nil
}

type membershipState struct {
	MemberOf []string `json:"member_of"`
}

// addToGroups adds the account to the groups in params (undo of
// remove_from_privileged_groups).
func (d *AD) addToGroups(c *ldap.Conn, s Subject, params map[string][]string, apply bool) (Change, error) {
	want := params[ParamGroups]
	if len(want) == 0 {
		return Change{}, errors.New("no groups given")
	}
	e, err := read(c, s.Key, "memberOf")
	if err != nil {
		return Change{}, err
	}
	have := e.GetAttributeValues("memberOf")
	var missing []string
	for _, g := range want {
		if !slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, g) }) {
			missing = append(missing, g)
		}
	}
	before := State(membershipState{MemberOf: filterGroups(have, want)})
	if len(missing) == 0 {
		return Change{Before: before, After: before, Note: "already a member of every group"}, nil
	}
	ch := Change{Before: before, After: State(membershipState{MemberOf: want}), Changed: true,
		Note:          fmt.Sprintf("added to %d group(s): %s", len(missing), strings.Join(missing, "; ")),
		NotReversible: "run remove-from-privileged-groups to remove the memberships again"}
	if !apply {
		ch.Note = strings.Replace(ch.Note, "added to", "add to", 1)
		return ch, nil
	}
	for _, g := range missing {
		m := ldap.NewModifyRequest(g, nil)
		m.Add("member", []string{s.Key})
		if err := c.Modify(m); err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultAttributeOrValueExists) {
			return ch, fmt.Errorf("add to %s: %w", g, err)
		}
	}
	e, err = read(c, s.Key, "memberOf")
	if err != nil {
		return ch, err
	}
	ch.After = State(membershipState{MemberOf: filterGroups(e.GetAttributeValues("memberOf"), want)})
	return ch, nil
}

// filterGroups keeps the groups of have that are in want.
func filterGroups(have, want []string) []string {
	out := []string{}
	for _, h := range have {
		if slices.ContainsFunc(want, func(w string) bool { return strings.EqualFold(h, w) }) {
			out = append(out, h)
		}
	}
	slices.Sort(out)
	return out
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// decodeSID renders a binary SID as S-1-….
func decodeSID(b []byte) string {
	if len(b) < 8 || int(b[1])*4+8 != len(b) {
		return ""
	}
	var auth uint64
	for _, x := range b[2:8] {
		auth = auth<<8 | uint64(x)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "S-%d-%d", b[0], auth)
	for i := 0; i < int(b[1]); i++ {
		fmt.Fprintf(&sb, "-%d", binary.LittleEndian.Uint32(b[8+4*i:]))
	}
	return sb.String()
}

// ridOf returns the last sub-authority of a SID, or -1.
func ridOf(sid string) int {
	i := strings.LastIndex(sid, "-")
	if i < 0 {
		return -1
	}
	n, err := strconv.Atoi(sid[i+1:])
	if err != nil {
		return -1
	}
	return n
}

// Password alphabet: no look-alikes; every class is present.
const (
	pwLower  = "abcdefghijkmnopqrstuvwxyz"
	pwUpper  = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	pwDigits = "23456789"
	pwSymbol = "!#%+-.:=?@^_~"
)

// randomPassword returns n (≥ 8) characters from crypto/rand with at
// least one lower, upper, digit and symbol, satisfying AD complexity.
func randomPassword(n int) (string, error) {
	classes := []string{pwLower, pwUpper, pwDigits, pwSymbol}
	all := strings.Join(classes, "")
	pick := func(set string) (byte, error) {
		i, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		if err != nil {
			return 0, err
		}
		return set[i.Int64()], nil
	}
	out := make([]byte, n)
	for i := range out {
		set := all
		if i < len(classes) {
			set = classes[i]
		}
		c, err := pick(set)
		if err != nil {
			return "", err
		}
		out[i] = c
	}
	// Shuffle so the class positions are not fixed.
	for i := n - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", err
		}
		out[i], out[j.Int64()] = out[j.Int64()], out[i]
	}
	return string(out), nil
}

// encodePassword is the unicodePwd value: the password in double quotes,
// UTF-16LE.
func encodePassword(pw string) string {
	u := utf16.Encode([]rune(`"` + pw + `"`))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		binary.LittleEndian.PutUint16(b[2*i:], r)
	}
	return string(b)
}

// newPassword makes reset passwords (a variable so a test can observe
// the value it must never find in a record).
var newPassword = randomPassword
