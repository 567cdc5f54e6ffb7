// Package seed plants identity misconfigurations in the Samba lab for
// posture tests: a Kerberoastable Domain Admin, an AS-REP-roastable user,
// an unconstrained-delegation computer, a PASSWD_NOTREQD user, a non-admin
// with DCSync rights, reversible-encryption and DES-only users, and nested
// groups. Every object gets a unique name (sambalab.Unique) and every
// function returns what it created plus a cleanup func that removes it
// (also registered with t.Cleanup, so calling it is optional; it is
// idempotent).
//
// Seeding goes through the running DC over LDAPS (go-ldap, bound as the lab
// Administrator), exactly as an administrator's tool would; it never touches
// sam.ldb. It needs no client packages beyond the lab's own.
//
// What Samba will not let a test seed: an old pwdLastSet. Like Windows,
// Samba accepts only 0 ("must change") or -1 ("now") for pwdLastSet
// ("setup_last_set_field: pwdLastSet must be 0 or -1 only!"), so a password
// can only be made old by waiting. Posture tests evaluate password age
// against an injected clock instead (e.g. now + 200 days makes every seeded
// password, krbtgt's and the DC's 200 days old).
package seed

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/castellan-itdr/castellan/internal/sambalab"
	"github.com/castellan-itdr/castellan/mappings/directory"
)

// Password is the password of every seeded account (meets the lab's
// complexity policy).
const Password = "Seed-Passw0rd!42"

// Account is a seeded user or computer.
type Account struct {
	Name string // sAMAccountName (computers: with the trailing $)
	DN   string
	SID  string
	// SPN is the servicePrincipalName given, if any.
	SPN string
}

// Seeder seeds objects into the lab through one admin LDAPS connection.
type Seeder struct {
	t      testing.TB
	env    map[string]string
	conn   *goldap.Conn
	BaseDN string
	// DomainSID is the lab domain's SID.
	DomainSID string
}

// New connects to the lab (sambalab.Env) as Administrator over LDAPS.
func New(t testing.TB) *Seeder {
	t.Helper()
	env := sambalab.Env(t)
	pem, err := os.ReadFile(env["LAB_CA_PEM"])
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	u, err := url.Parse(env["LAB_LDAPS_URL"])
	if err != nil {
		t.Fatalf("seed: LAB_LDAPS_URL: %v", err)
	}
	conn, err := goldap.DialURL(env["LAB_LDAPS_URL"], goldap.DialWithTLSConfig(&tls.Config{RootCAs: pool, ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}))
	if err != nil {
		t.Fatalf("seed: connect %s: %v", env["LAB_LDAPS_URL"], err)
	}
	conn.SetTimeout(30 * time.Second)
	if err := conn.Bind("Administrator@"+strings.ToLower(env["LAB_REALM"]), env["LAB_ADMIN_PASS"]); err != nil {
		conn.Close()
		t.Fatalf("seed: bind as Administrator: %v", err)
	}
	s := &Seeder{t: t, env: env, conn: conn, BaseDN: env["LAB_BASE_DN"]}
	t.Cleanup(func() { conn.Close() })
	e := s.read(s.BaseDN, "objectSid")
	if s.DomainSID, err = directory.SIDString(e.GetRawAttributeValue("objectSid")); err != nil {
		t.Fatalf("seed: domain SID: %v", err)
	}
	return s
}

// Env is the lab environment (sambalab.Env).
func (s *Seeder) Env() map[string]string { return s.env }

func (s *Seeder) read(dn string, attrs ...string) *goldap.Entry {
	s.t.Helper()
	res, err := s.conn.Search(goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", attrs, nil))
	if err != nil || len(res.Entries) != 1 {
		s.t.Fatalf("seed: read %s: %v", dn, err)
	}
	return res.Entries[0]
}

// once makes a cleanup idempotent and registers it with t.Cleanup.
func (s *Seeder) once(f func()) func() {
	var o sync.Once
	c := func() { o.Do(f) }
	s.t.Cleanup(c)
	return c
}

func (s *Seeder) del(dn string) {
	if err := s.conn.Del(goldap.NewDelRequest(dn, nil)); err != nil && !goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) {
		s.t.Errorf("seed: delete %s: %v", dn, err)
	}
}

func unicodePwd(p string) string {
	u := utf16.Encode([]rune(`"` + p + `"`))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return string(b)
}

// User creates an enabled user named prefix+random with the given extra
// userAccountControl bits (NORMAL_ACCOUNT is always set) and SPN ("" for
// none). It returns the account and its cleanup.
func (s *Seeder) User(prefix string, uac directory.UAC, spn string) (Account, func()) {
	s.t.Helper()
	return s.userNamed(sambalab.Unique(prefix), uac, spn)
}

func (s *Seeder) sidOf(dn string) string {
	s.t.Helper()
	sid, err := directory.SIDString(s.read(dn, "objectSid").GetRawAttributeValue("objectSid"))
	if err != nil {
		s.t.Fatalf("seed: objectSid of %s: %v", dn, err)
	}
	return sid
}

// Modify replaces attributes of dn (values as strings).
func (s *Seeder) Modify(dn string, replace map[string][]string) {
	s.t.Helper()
	m := goldap.NewModifyRequest(dn, nil)
	for k, v := range replace {
		m.Replace(k, v)
	}
	if err := s.conn.Modify(m); err != nil {
		s.t.Fatalf("seed: modify %s: %v", dn, err)
	}
}

// AddMember adds memberDN to groupDN (removed again by the member's
// deletion or the group's).
func (s *Seeder) AddMember(groupDN, memberDN string) {
	s.t.Helper()
	m := goldap.NewModifyRequest(groupDN, nil)
	m.Add("member", []string{memberDN})
	if err := s.conn.Modify(m); err != nil {
		s.t.Fatalf("seed: add %s to %s: %v", memberDN, groupDN, err)
	}
}

// Group creates a global security group named prefix+random.
func (s *Seeder) Group(prefix string) (Account, func()) {
	s.t.Helper()
	name := sambalab.Unique(prefix)
	dn := "CN=" + name + ",CN=Users," + s.BaseDN
	add := goldap.NewAddRequest(dn, nil)
	add.Attribute("objectClass", []string{"top", "group"})
	add.Attribute("sAMAccountName", []string{name})
	add.Attribute("groupType", []string{"-2147483646"}) // global security
	if err := s.conn.Add(add); err != nil {
		s.t.Fatalf("seed: add group %s: %v", name, err)
	}
	cleanup := s.once(func() { s.del(dn) })
	return Account{Name: name, DN: dn, SID: s.sidOf(dn)}, cleanup
}

// DomainAdminsDN is CN=Domain Admins,CN=Users,<base>.
func (s *Seeder) DomainAdminsDN() string { return "CN=Domain Admins,CN=Users," + s.BaseDN }

// KerberoastableAdmin creates a user with an SPN (HTTP/<name>.lab.test) in
// Domain Admins.
func (s *Seeder) KerberoastableAdmin() (Account, func()) {
	s.t.Helper()
	name := sambalab.Unique("sdkrbadm")
	a, cleanup := s.userNamed(name, 0, "HTTP/"+name+"."+strings.ToLower(s.env["LAB_REALM"]))
	s.AddMember(s.DomainAdminsDN(), a.DN)
	return a, cleanup
}

// userNamed is User with an exact name.
func (s *Seeder) userNamed(name string, uac directory.UAC, spn string) (Account, func()) {
	s.t.Helper()
	dn := "CN=" + name + ",CN=Users," + s.BaseDN
	add := goldap.NewAddRequest(dn, nil)
	add.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "user"})
	add.Attribute("sAMAccountName", []string{name})
	add.Attribute("userPrincipalName", []string{name + "@" + strings.ToLower(s.env["LAB_REALM"])})
	add.Attribute("unicodePwd", []string{unicodePwd(Password)})
	add.Attribute("userAccountControl", []string{strconv.FormatUint(uint64(directory.UACNormalAccount|uac), 10)})
	if spn != "" {
		add.Attribute("servicePrincipalName", []string{spn})
	}
	if err := s.conn.Add(add); err != nil {
		s.t.Fatalf("seed: add user %s: %v", name, err)
	}
	cleanup := s.once(func() { s.del(dn) })
	return Account{Name: name, DN: dn, SID: s.sidOf(dn), SPN: spn}, cleanup
}

// ASREPRoastable creates a DONT_REQ_PREAUTH user. (Samba's KDC honours the
// flag only with [kdc] require-preauth = false; the directory attribute is
// what posture reads.)
func (s *Seeder) ASREPRoastable() (Account, func()) {
	return s.User("sdasrep", directory.UACDontReqPreauth, "")
}

// PasswordNotRequired creates a PASSWD_NOTREQD user.
func (s *Seeder) PasswordNotRequired() (Account, func()) {
	return s.User("sdnopwd", directory.UACPasswdNotReqd, "")
}

// ReversibleEncryption creates an ENCRYPTED_TEXT_PWD_ALLOWED user.
func (s *Seeder) ReversibleEncryption() (Account, func()) {
	return s.User("sdrevenc", directory.UACEncryptedTextPwdAllowed, "")
}

// DESOnly creates a USE_DES_KEY_ONLY user whose
// msDS-SupportedEncryptionTypes allows only DES (0x3).
func (s *Seeder) DESOnly() (Account, func()) {
	s.t.Helper()
	a, cleanup := s.User("sddes", directory.UACUseDESKeyOnly, "")
	s.Modify(a.DN, map[string][]string{"msDS-SupportedEncryptionTypes": {"3"}})
	return a, cleanup
}

// UnconstrainedComputer creates a workstation account (not a DC) with
// TRUSTED_FOR_DELEGATION.
func (s *Seeder) UnconstrainedComputer() (Account, func()) {
	s.t.Helper()
	name := strings.ToUpper(sambalab.Unique("sdunc"))
	dn := "CN=" + name + ",CN=Computers," + s.BaseDN
	add := goldap.NewAddRequest(dn, nil)
	add.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "user", "computer"})
	add.Attribute("sAMAccountName", []string{name + "$"})
	add.Attribute("dNSHostName", []string{strings.ToLower(name) + "." + strings.ToLower(s.env["LAB_REALM"])})
	add.Attribute("unicodePwd", []string{unicodePwd(Password)})
	add.Attribute("userAccountControl", []string{strconv.FormatUint(uint64(directory.UACWorkstationTrustAccount|directory.UACTrustedForDelegation), 10)})
	if err := s.conn.Add(add); err != nil {
		s.t.Fatalf("seed: add computer %s: %v", name, err)
	}
	cleanup := s.once(func() { s.del(dn) })
	return Account{Name: name + "$", DN: dn, SID: s.sidOf(dn)}, cleanup
}

// Nested creates group outer ∋ group inner ∋ user: the user is an
// effective (not direct) member of outer.
func (s *Seeder) Nested() (outer, inner, user Account, cleanup func()) {
	s.t.Helper()
	outer, c1 := s.Group("sdouter")
	inner, c2 := s.Group("sdinner")
	user, c3 := s.User("sdnested", 0, "")
	s.AddMember(inner.DN, user.DN)
	s.AddMember(outer.DN, inner.DN)
	return outer, inner, user, s.once(func() { c3(); c2(); c1() })
}

// domainRootMu serializes this process's read-modify-write of the domain
// root DACL.
var domainRootMu sync.Mutex

// DCSync creates an ordinary user and grants it DS-Replication-Get-Changes
// and DS-Replication-Get-Changes-All on the domain root (what
// "samba-tool dsacl set --sddl" would add). Cleanup removes exactly those
// ACEs (by trustee SID) and the user.
func (s *Seeder) DCSync() (Account, func()) {
	s.t.Helper()
	a, delUser := s.User("sddcsync", 0, "")
	aces := []directory.ACE{
		{Type: directory.ACEAccessAllowedObject, Mask: directory.RightExtendedRight, Trustee: a.SID, ObjectType: directory.GUIDReplicationGetChanges},
		{Type: directory.ACEAccessAllowedObject, Mask: directory.RightExtendedRight, Trustee: a.SID, ObjectType: directory.GUIDReplicationGetChangesAll},
	}
	s.editDomainDACL(func(dacl []directory.ACE) []directory.ACE {
		return append(append([]directory.ACE(nil), aces...), dacl...)
	},
		func(dacl []directory.ACE) bool { return countTrustee(dacl, a.SID) == len(aces) })
	cleanup := s.once(func() {
		s.editDomainDACL(func(dacl []directory.ACE) []directory.ACE {
			out := dacl[:0:0]
			for _, x := range dacl {
				if x.Trustee != a.SID {
					out = append(out, x)
				}
			}
			return out
		}, func(dacl []directory.ACE) bool { return countTrustee(dacl, a.SID) == 0 })
		delUser()
	})
	return a, cleanup
}

func countTrustee(dacl []directory.ACE, sid string) int {
	n := 0
	for _, a := range dacl {
		if a.Trustee == sid {
			n++
		}
	}
	return n
}

// editDomainDACL rewrites the domain root's DACL (only the DACL: the SD
// flags control limits the write to DACL_SECURITY_INFORMATION) and checks
// the result, retrying when another test's concurrent edit overwrote it.
func (s *Seeder) editDomainDACL(edit func([]directory.ACE) []directory.ACE, done func([]directory.ACE) bool) {
	s.t.Helper()
	domainRootMu.Lock()
	defer domainRootMu.Unlock()
	sdFlags := []goldap.Control{&goldap.ControlMicrosoftSDFlags{ControlValue: 4}}
	readDACL := func() *directory.SecurityDescriptor {
		res, err := s.conn.Search(goldap.NewSearchRequest(s.BaseDN, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", []string{"nTSecurityDescriptor"}, sdFlags))
		if err != nil || len(res.Entries) != 1 {
			s.t.Fatalf("seed: read domain root SD: %v", err)
		}
		sd, err := directory.ParseSecurityDescriptor(res.Entries[0].GetRawAttributeValue("nTSecurityDescriptor"))
		if err != nil {
			s.t.Fatalf("seed: parse domain root SD: %v", err)
		}
		return sd
	}
	for attempt := 0; attempt < 5; attempt++ {
		sd := readDACL()
		if done(sd.DACL) {
			return
		}
		sd.DACL = edit(sd.DACL)
		sd.Owner, sd.Group, sd.SACL = "", "", nil
		raw, err := sd.Bytes()
		if err != nil {
			s.t.Fatalf("seed: encode domain root SD: %v", err)
		}
		m := goldap.NewModifyRequest(s.BaseDN, sdFlags)
		m.Replace("nTSecurityDescriptor", []string{string(raw)})
		if err := s.conn.Modify(m); err != nil {
			s.t.Fatalf("seed: write domain root SD: %v", err)
		}
		if done(readDACL().DACL) {
			return
		}
	}
	s.t.Fatalf("seed: domain root DACL edit did not stick after 5 attempts (concurrent edits?)")
}

// String renders an account for test logs.
func (a Account) String() string { return fmt.Sprintf("%s (%s)", a.Name, a.SID) }
