package directory

import (
	"reflect"
	"testing"
)

const testDomainSID = "S-1-5-21-1-2-3"

// nestedSnapshot: A ∋ B ∋ U (and B ∋ A: a cycle), Domain Admins ∋ B,
// computer C with primary group 516.
func nestedSnapshot() *Snapshot {
	return &Snapshot{
		Domain:    Domain{DN: "DC=lab,DC=test", SID: testDomainSID},
		Users:     []User{{Account: Account{DN: "CN=U,DC=lab,DC=test", SAMAccountName: "u", SID: testDomainSID + "-1105", PrimaryGroupID: 513, MemberOf: []string{"CN=B,DC=lab,DC=test"}}}},
		Computers: []Computer{{Account: Account{DN: "CN=DC1,DC=lab,DC=test", SAMAccountName: "DC1$", SID: testDomainSID + "-1000", PrimaryGroupID: 516}, IsDC: true}},
		Groups: []Group{
			{DN: "CN=A,DC=lab,DC=test", Name: "A", SID: testDomainSID + "-1101", Members: []string{"CN=B,DC=lab,DC=test"}},
			{DN: "CN=B,DC=lab,DC=test", Name: "B", SID: testDomainSID + "-1102", Members: []string{"cn=u,dc=lab,dc=test", "CN=A,DC=lab,DC=test"}},
			{DN: "CN=Domain Admins,DC=lab,DC=test", Name: "Domain Admins", SID: testDomainSID + "-512", Members: []string{"CN=B,DC=lab,DC=test", "CN=S-1-5-21-9-9-9-1000,CN=ForeignSecurityPrincipals,DC=lab,DC=test"}},
			{DN: "CN=Domain Users,DC=lab,DC=test", Name: "Domain Users", SID: testDomainSID + "-513"},
			{DN: "CN=Domain Controllers,DC=lab,DC=test", Name: "Domain Controllers", SID: testDomainSID + "-516"},
		},
	}
}

func TestResolveNested(t *testing.T) {
	s := nestedSnapshot()
	s.Resolve()
	u := s.User("u")
	want := []string{"CN=A,DC=lab,DC=test", "CN=B,DC=lab,DC=test", "CN=Domain Admins,DC=lab,DC=test", "CN=Domain Users,DC=lab,DC=test"}
	if !reflect.DeepEqual(u.EffectiveGroups, want) {
		t.Errorf("U effective groups = %q, want %q", u.EffectiveGroups, want)
	}
	if !reflect.DeepEqual(u.PrivilegedGroups, []string{PrivDomainAdmins}) {
		t.Errorf("U privileged groups = %q", u.PrivilegedGroups)
	}
	da := s.GroupByRID(RidDomainAdmins)
	if want := []string{"CN=S-1-5-21-9-9-9-1000,CN=ForeignSecurityPrincipals,DC=lab,DC=test", "CN=U,DC=lab,DC=test"}; !reflect.DeepEqual(da.EffectiveMembers, want) {
		t.Errorf("Domain Admins effective members = %q, want %q", da.EffectiveMembers, want)
	}
	if c := s.Computer("DC1$"); !reflect.DeepEqual(c.PrivilegedGroups, []string{PrivDomainControllers}) {
		t.Errorf("DC1 privileged groups = %q", c.PrivilegedGroups)
	}
	if !s.PrivilegedSID(testDomainSID+"-1101") || s.PrivilegedSID(testDomainSID+"-513") {
		t.Error("PrivilegedSID: group A (nested in Domain Admins) must be privileged, Domain Users not")
	}
	if g := s.Group("A"); !reflect.DeepEqual(g.EffectiveGroups, []string{"CN=B,DC=lab,DC=test", "CN=Domain Admins,DC=lab,DC=test"}) {
		t.Errorf("A effective groups (cycle A∋B∋A) = %q", g.EffectiveGroups)
	}
	if s.SIDName(testDomainSID+"-1105") != "u" || s.SIDName(SIDAuthenticatedUsers) != "Authenticated Users" || s.SIDName(testDomainSID+"-519") != "Enterprise Admins" {
		t.Error("SIDName")
	}
}

func TestUACAndEncTypes(t *testing.T) {
	u := UACNormalAccount | UACDontReqPreauth | UACTrustedForDelegation | 0x80000000
	if !u.DontReqPreauth() || !u.TrustedForDelegation() || u.Disabled() || u.PasswordNotRequired() {
		t.Errorf("flags of %v", u)
	}
	if got := u.String(); got != "NORMAL_ACCOUNT|TRUSTED_FOR_DELEGATION|DONT_REQ_PREAUTH|0x80000000" {
		t.Errorf("String = %q", got)
	}
	if e := EncDESCBCMD5; !e.DESOnly() || e.RC4Only() {
		t.Error("DES only")
	}
	if e := EncRC4 | EncAES256; e.RC4Only() || !e.AES() {
		t.Error("RC4+AES")
	}
}

func TestSIDRoundTrip(t *testing.T) {
	for _, s := range []string{"S-1-5-21-3623811015-3361044348-30300820-1013", "S-1-5-32-544", "S-1-1-0", "S-1-5-18"} {
		b, err := EncodeSID(s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := SIDString(b)
		if err != nil || got != s {
			t.Errorf("round trip %s = %s, %v", s, got, err)
		}
	}
	// BUILTIN\Administrators as stored in objectSid.
	raw := []byte{1, 2, 0, 0, 0, 0, 0, 5, 0x20, 0, 0, 0, 0x20, 0x02, 0, 0}
	if got, err := SIDString(raw); err != nil || got != "S-1-5-32-544" {
		t.Errorf("SIDString = %q, %v", got, err)
	}
	for _, bad := range [][]byte{nil, {1, 1, 0, 0, 0, 0, 0, 5}, {2, 0, 0, 0, 0, 0, 0, 5}, {1, 16, 0, 0, 0, 0, 0, 5}} {
		if _, err := SIDString(bad); err == nil {
			t.Errorf("SIDString(%x) accepted", bad)
		}
	}
}
