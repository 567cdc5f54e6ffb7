package seed

import (
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/castellan-itdr/castellan/mappings/directory"
)

// TestSeedAndCleanup: seeded objects carry the attributes asked for, and
// cleanup (twice: it is idempotent) removes them.
func TestSeedAndCleanup(t *testing.T) {
	s := New(t)
	exists := func(dn string) bool {
		_, err := s.conn.Search(goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{"dn"}, nil))
		if err != nil && !goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) {
			t.Fatal(err)
		}
		return err == nil
	}
	des, cleanDES := s.DESOnly()
	e := s.read(des.DN, "userAccountControl", "msDS-SupportedEncryptionTypes", "objectSid")
	if e.GetAttributeValue("userAccountControl") != "2097664" || e.GetAttributeValue("msDS-SupportedEncryptionTypes") != "3" {
		t.Errorf("DES-only user: uac %s, enc types %s", e.GetAttributeValue("userAccountControl"), e.GetAttributeValue("msDS-SupportedEncryptionTypes"))
	}
	if sid, _ := directory.SIDString(e.GetRawAttributeValue("objectSid")); sid != des.SID || directory.DomainOf(sid) != s.DomainSID {
		t.Errorf("SID %s, account says %s, domain %s", sid, des.SID, s.DomainSID)
	}
	outer, inner, user, cleanNested := s.Nested()
	for _, dn := range []string{des.DN, outer.DN, inner.DN, user.DN} {
		if !exists(dn) {
			t.Errorf("%s not created", dn)
		}
	}
	cleanDES()
	cleanDES()
	cleanNested()
	for _, dn := range []string{des.DN, outer.DN, inner.DN, user.DN} {
		if exists(dn) {
			t.Errorf("%s still there after cleanup", dn)
		}
	}
}
