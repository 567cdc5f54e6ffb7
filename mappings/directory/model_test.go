package directory

import (
	"fmt"
	"testing"
	"time"
)

func TestTrustHelpers(t *testing.T) {
	cases := []struct {
		attrs     uint32
		filtering bool
	}{
		{0, false},                     // external trust without quarantine
		{TrustQuarantinedDomain, true}, // external, SID filtering on
		{TrustForestTransitive, true},  // forest trust filters by default
		{TrustForestTransitive | TrustTreatAsExternal, false},
		{TrustWithinForest, false},
	}
	for _, c := range cases {
		tr := Trust{Attributes: c.attrs, Direction: 3}
		if tr.SIDFiltering() != c.filtering || !tr.Inbound() || !tr.Outbound() {
			t.Errorf("attributes 0x%x: SIDFiltering = %v, want %v", c.attrs, tr.SIDFiltering(), c.filtering)
		}
	}
}

func TestCertTemplateHelpers(t *testing.T) {
	esc1 := CertTemplate{NameFlag: CTNameFlagEnrolleeSuppliesSubject, EKUs: []string{EKUClientAuth}}
	if !esc1.EnrolleeSuppliesSubject() || !esc1.ClientAuthentication() || esc1.AnyPurpose() || esc1.ManagerApproval() {
		t.Errorf("ESC1 template: %+v", esc1)
	}
	noEKU := CertTemplate{}
	if !noEKU.NoEKU() || !noEKU.AnyPurpose() || !noEKU.ClientAuthentication() {
		t.Error("a template without EKU is any-purpose")
	}
	// Application policies win over pKIExtendedKeyUsage.
	agent := CertTemplate{EKUs: []string{EKUClientAuth}, ApplicationPolicies: []string{EKUCertRequestAgent}, EnrollmentFlag: CTEnrollPendAllRequests}
	if !agent.RequestAgent() || agent.ClientAuthentication() || !agent.ManagerApproval() {
		t.Errorf("request agent template: %+v", agent)
	}
	server := CertTemplate{EKUs: []string{EKUServerAuth}}
	if server.ClientAuthentication() || server.AnyPurpose() {
		t.Error("server-auth template allows client authentication")
	}
}

func TestLAPSAndPolicy(t *testing.T) {
	now := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	l := LAPS{Legacy: true, LegacyExpiry: now, Windows: true, WindowsExpiry: now.Add(time.Hour)}
	if !l.Managed() || !l.Expiry().Equal(now.Add(time.Hour)) || (LAPS{}).Managed() {
		t.Errorf("LAPS %+v", l)
	}
	p := PasswordPolicy{Properties: PwdComplex | PwdStoreCleartext}
	if !p.Complexity() || !p.ReversibleEncryption() || (PasswordPolicy{}).Complexity() {
		t.Error("pwdProperties decoding")
	}
}

func TestPrivilegedGroupName(t *testing.T) {
	for sid, want := range map[string]string{
		"S-1-5-32-544": PrivAdministrators, "S-1-5-32-551": PrivBackupOperators,
		testDomainSID + "-512": PrivDomainAdmins, testDomainSID + "-519": PrivEnterpriseAdmins,
		testDomainSID + "-526": PrivKeyAdmins, testDomainSID + "-520": PrivGPCreatorOwners,
		testDomainSID + "-513": "", "S-1-5-32-545": "", testDomainSID + "-1103": "",
	} {
		if got := PrivilegedGroupName(sid, ""); got != want {
			t.Errorf("PrivilegedGroupName(%s) = %q, want %q", sid, got, want)
		}
	}
	if PrivilegedGroupName(testDomainSID+"-1101", "DnsAdmins") != PrivDnsAdmins {
		t.Error("DnsAdmins by name")
	}
	if WellKnownSIDName(testDomainSID+"-525") != "Protected Users" || WellKnownSIDName("S-1-5-21-1-2-3-4-5-512") != "" {
		t.Error("WellKnownSIDName")
	}
	if !DomainRID(testDomainSID+"-512", testDomainSID, RidDomainAdmins) || DomainRID(testDomainSID+"-512", "", 512) || DomainOf(testDomainSID+"-512") != testDomainSID {
		t.Error("DomainRID / DomainOf")
	}
}

// BenchmarkResolve: nested membership of a 20,000-account domain with
// 2,000 groups in 500 chains nested four deep, every chain top in a
// common group, one chain under Domain Admins.
func BenchmarkResolve(b *testing.B) {
	s := &Snapshot{Domain: Domain{DN: "DC=big,DC=test", SID: testDomainSID}}
	const groups, users = 2000, 20000
	dn := func(g int) string { return fmt.Sprintf("CN=G%d,DC=big,DC=test", g) }
	for g := 0; g < groups; g++ {
		grp := Group{DN: dn(g), Name: fmt.Sprintf("G%d", g), SID: fmt.Sprintf("%s-%d", testDomainSID, 5000+g)}
		if g%4 != 0 {
			grp.Members = []string{dn(g - 1)} // chain: G(4k) ∈ G(4k+1) ∈ G(4k+2) ∈ G(4k+3)
		}
		s.Groups = append(s.Groups, grp)
	}
	all := Group{DN: "CN=All,DC=big,DC=test", Name: "All", SID: testDomainSID + "-4999"}
	for g := 3; g < groups; g += 4 {
		all.Members = append(all.Members, dn(g))
	}
	s.Groups = append(s.Groups, all, Group{DN: "CN=Domain Admins,DC=big,DC=test", Name: "Domain Admins", SID: testDomainSID + "-512",
		Members: []string{dn(7)}})
	for u := 0; u < users; u++ {
		udn := fmt.Sprintf("CN=U%d,DC=big,DC=test", u)
		s.Users = append(s.Users, User{Account: Account{DN: udn, SAMAccountName: fmt.Sprintf("u%d", u), SID: fmt.Sprintf("%s-%d", testDomainSID, 10000+u), PrimaryGroupID: 513}})
		for _, g := range []int{u % groups, (u * 7) % groups} {
			s.Groups[g].Members = append(s.Groups[g].Members, udn)
		}
	}
	s.Resolve()
	if u := s.User("CN=U4,DC=big,DC=test"); len(u.PrivilegedGroups) != 1 {
		b.Fatalf("U4 (in G4 → … → G7 ∈ Domain Admins) privileged groups = %q", u.PrivilegedGroups)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.Resolve()
	}
}

// Flag words name their known bits in table order; UAC and access masks
// show the rest as hex (upper- and lower-case), encryption types drop it.
func TestFlagNames(t *testing.T) {
	if got := (UACAccountDisable | UACNormalAccount | 0xA0000000).String(); got != "ACCOUNTDISABLE|NORMAL_ACCOUNT|0xA0000000" {
		t.Errorf("UAC: %q", got)
	}
	if got := fmt.Sprint((RightReadControl | RightSelf | 0xe000).Names()); got != "[Self ReadControl 0xe000]" {
		t.Errorf("AccessMask: %s", got)
	}
	if got := fmt.Sprint((EncRC4 | EncAES256 | 0x40).Names()); got != "[RC4-HMAC AES256-CTS-HMAC-SHA1-96]" {
		t.Errorf("EncTypes: %s", got)
	}
}
