package ldap

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/internal/sambalab"
	"github.com/castellan-itdr/castellan/internal/sambalab/seed"
	"github.com/castellan-itdr/castellan/mappings/directory"
	"github.com/castellan-itdr/castellan/sinks/secret"
)

// labConfig is LDAPS to the lab as user (Administrator by default).
func labConfig(env map[string]string, user, pass string) Config {
	cfg := *NewDefaultConfig()
	cfg.URL = env["LAB_LDAPS_URL"]
	cfg.CAFile = env["LAB_CA_PEM"]
	cfg.BindDN = user + "@" + strings.ToLower(env["LAB_REALM"])
	cfg.Password = secret.Secret(pass)
	cfg.Timeout = 20 * time.Second
	return cfg
}

func collect(t *testing.T, cfg Config) (*directory.Snapshot, []Progress) {
	t.Helper()
	var progress []Progress
	c, err := New(cfg, WithProgress(func(p Progress) { progress = append(progress, p) }))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	begin := time.Now()
	snap, err := c.Collect(ctx)
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	t.Logf("collected %v in %v; warnings: %q", snap.Counts, time.Since(begin).Round(time.Millisecond), snap.Warnings)
	return snap, progress
}

// TestCollectLab collects the Samba lab as Administrator and checks facts
// every freshly provisioned Samba domain has, plus objects it seeds.
func TestCollectLab(t *testing.T) {
	s := seed.New(t)
	env := s.Env()
	outer, inner, nested, _ := s.Nested()
	roast, _ := s.KerberoastableAdmin()
	asrep, _ := s.ASREPRoastable()
	nopwd, _ := s.PasswordNotRequired()
	rev, _ := s.ReversibleEncryption()
	des, _ := s.DESOnly()
	unc, _ := s.UnconstrainedComputer()

	snap, progress := collect(t, labConfig(env, "Administrator", env["LAB_ADMIN_PASS"]))
	d := snap.Domain
	if d.SID != s.DomainSID || d.DN != env["LAB_BASE_DN"] || d.DNSName != strings.ToLower(env["LAB_REALM"]) || d.NetBIOS != env["LAB_DOMAIN"] {
		t.Errorf("domain = %s %s %s %s; want %s %s %s %s", d.SID, d.DN, d.DNSName, d.NetBIOS,
			s.DomainSID, env["LAB_BASE_DN"], strings.ToLower(env["LAB_REALM"]), env["LAB_DOMAIN"])
	}
	if d.MachineAccountQuota != 10 {
		t.Errorf("MachineAccountQuota = %d, want Samba's default 10", d.MachineAccountQuota)
	}
	// Samba's provisioned defaults: 7 characters, 42 days, complexity on,
	// no lockout (lockoutThreshold 0).
	if pp := d.PasswordPolicy; pp.MinLength != 7 || pp.MaxAge != 42*24*time.Hour || !pp.Complexity() || pp.LockoutThreshold != 0 {
		t.Errorf("password policy = %+v", pp)
	}
	if d.FunctionalLevel < 2 || d.ConfigurationDN != "CN=Configuration,"+d.DN {
		t.Errorf("functional level %d, configuration %q", d.FunctionalLevel, d.ConfigurationDN)
	}

	admin := snap.User(d.SID + "-500")
	if admin == nil || !strings.EqualFold(admin.SAMAccountName, "Administrator") || !slices.Contains(admin.PrivilegedGroups, directory.PrivDomainAdmins) {
		t.Errorf("Administrator = %+v, want a member of Domain Admins", admin)
	}
	if da := snap.GroupByRID(directory.RidDomainAdmins); da == nil || !slices.Contains(da.EffectiveMembers, admin.DN) || da.Privileged != directory.PrivDomainAdmins {
		t.Errorf("Domain Admins = %+v", da)
	}
	if g := snap.Group("DnsAdmins"); g == nil || g.Privileged != directory.PrivDnsAdmins {
		t.Errorf("DnsAdmins = %+v, want a privileged group", g)
	}
	if g := snap.GroupByRID(directory.RidProtectedUsers); g == nil || g.Name != "Protected Users" {
		t.Errorf("Protected Users = %+v", g)
	}
	if g := snap.User(d.SID + "-501"); g == nil || g.Enabled() {
		t.Errorf("Guest = %+v, want present and disabled (Samba default)", g)
	}
	krb := snap.Krbtgt()
	if krb == nil || krb.SAMAccountName != "krbtgt" || krb.Enabled() || krb.PwdLastSet.IsZero() {
		t.Errorf("krbtgt = %+v, want present, disabled, with pwdLastSet", krb)
	}

	var dc *directory.Computer
	for i := range snap.Computers {
		if strings.EqualFold(snap.Computers[i].SAMAccountName, env["LAB_DC_NAME"]+"$") {
			dc = &snap.Computers[i]
		}
	}
	if dc == nil || !dc.IsDC || !dc.UAC.TrustedForDelegation() || !dc.UAC.ServerTrust() || dc.PrimaryGroupID != directory.RidDomainControllers ||
		!slices.Contains(dc.PrivilegedGroups, directory.PrivDomainControllers) {
		t.Errorf("DC %s = %+v, want a DC trusted for delegation in Domain Controllers", env["LAB_DC_NAME"], dc)
	}

	ddp := -1
	for i, g := range snap.GPOs {
		if strings.EqualFold(g.GUID, "{31B2F340-016D-11D2-945F-00C04FB984F9}") {
			ddp = i
		}
	}
	if ddp < 0 {
		t.Fatalf("Default Domain Policy GPO not found among %d GPOs", len(snap.GPOs))
	}
	if g := snap.GPOs[ddp]; g.DisplayName != "Default Domain Policy" || g.ACL == nil || len(g.ACL.DACL) == 0 || !slices.Contains(g.LinkedTo, d.DN) {
		t.Errorf("Default Domain Policy = %+v", g)
	}

	if h := d.AdminSDHolder; h == nil || len(h.DACL) < 5 || h.Owner != d.SID+"-512" {
		t.Errorf("AdminSDHolder SD = %+v, want ≥ 5 ACEs, owned by Domain Admins", h)
	}
	replicators := map[string][]string{}
	for _, a := range d.ACL.DACL {
		if a.Grants(directory.RightExtendedRight, directory.GUIDReplicationGetChangesAll) && a.ObjectType == directory.GUIDReplicationGetChangesAll {
			replicators["all"] = append(replicators["all"], a.TrusteeName)
		}
		if a.Grants(directory.RightExtendedRight, directory.GUIDReplicationGetChanges) && a.ObjectType == directory.GUIDReplicationGetChanges {
			replicators["changes"] = append(replicators["changes"], a.TrusteeName)
		}
	}
	if !slices.Contains(replicators["all"], "Domain Controllers") || !slices.Contains(replicators["all"], "Administrators") ||
		!slices.Contains(replicators["changes"], "ENTERPRISE DOMAIN CONTROLLERS") {
		t.Errorf("replication rights on the domain root: %q", replicators)
	}

	// Seeded objects.
	u := snap.User(nested.DN)
	if u == nil || !slices.Contains(u.EffectiveGroups, outer.DN) || slices.Contains(u.MemberOf, outer.DN) || !slices.Contains(u.MemberOf, inner.DN) {
		t.Errorf("nested user %s: memberOf %q, effective %q; want effective (not direct) member of %s", nested.Name, u.MemberOf, u.EffectiveGroups, outer.Name)
	}
	if g := snap.Group(outer.DN); g == nil || !slices.Contains(g.EffectiveMembers, nested.DN) || g.Privileged != "" {
		t.Errorf("outer group %s = %+v", outer.Name, g)
	}
	if r := snap.User(roast.DN); r == nil || !slices.Equal(r.SPNs, []string{roast.SPN}) || !slices.Contains(r.PrivilegedGroups, directory.PrivDomainAdmins) {
		t.Errorf("kerberoastable admin = %+v", r)
	}
	checkUAC := func(a seed.Account, want func(directory.UAC) bool, what string) *directory.User {
		t.Helper()
		u := snap.User(a.DN)
		if u == nil || !want(u.UAC) || u.Privileged() || u.SID != a.SID {
			t.Errorf("%s user %s = %+v", what, a.Name, u)
		}
		return u
	}
	checkUAC(asrep, directory.UAC.DontReqPreauth, "DONT_REQ_PREAUTH")
	checkUAC(nopwd, directory.UAC.PasswordNotRequired, "PASSWD_NOTREQD")
	checkUAC(rev, directory.UAC.EncryptedTextPwdAllowed, "reversible encryption")
	if u := checkUAC(des, directory.UAC.UseDESKeyOnly, "DES only"); u != nil && !u.EncTypes.DESOnly() {
		t.Errorf("DES-only user enc types = %v", u.EncTypes.Names())
	}
	if c := snap.Computer(unc.DN); c == nil || c.IsDC || !c.UAC.TrustedForDelegation() || c.Privileged() {
		t.Errorf("unconstrained computer %s = %+v", unc.Name, c)
	}
	// Ordinary users are not flagged.
	if u := snap.User(nested.DN); u != nil && (u.UAC.DontReqPreauth() || u.UAC.PasswordNotRequired() || u.Privileged()) {
		t.Errorf("plain user %s flagged: %v %q", nested.Name, u.UAC, u.PrivilegedGroups)
	}

	var kinds []string
	for _, p := range progress {
		kinds = append(kinds, p.Kind)
		if snap.Counts[p.Kind] != p.Count {
			t.Errorf("progress %s = %d, counts say %d", p.Kind, p.Count, snap.Counts[p.Kind])
		}
	}
	for _, k := range []string{"users", "computers", "groups", "gpos", "trusts", "cert_templates", "enrollment_services"} {
		if !slices.Contains(kinds, k) {
			t.Errorf("no progress for %s (got %q)", k, kinds)
		}
	}
	if snap.Counts["sd_parse_errors"] != 0 {
		t.Errorf("security descriptors that did not parse: %q", snap.Warnings)
	}
}

// TestCollectLabNonAdmin reads the lab as an ordinary user over StartTLS:
// the SD flags control must still return the security descriptors, and the
// DCSync grant seeded on the domain root must show up as an ACE naming the
// seeded user.
func TestCollectLabNonAdmin(t *testing.T) {
	s := seed.New(t)
	env := s.Env()
	reader, _ := s.User("ldapreader", 0, "")
	dcsync, cleanup := s.DCSync()

	cfg := labConfig(env, reader.Name, seed.Password)
	cfg.URL = env["LAB_LDAP_URL"]
	cfg.StartTLS = true
	snap, _ := collect(t, cfg)
	if snap.Domain.ACL == nil || snap.Domain.AdminSDHolder == nil || snap.Domain.ACL.Owner == "" {
		t.Fatalf("non-admin got no security descriptors: %q", snap.Warnings)
	}
	for _, g := range snap.GPOs {
		if g.ACL == nil {
			t.Errorf("GPO %s: no ACL", g.DisplayName)
		}
	}
	var rights []string
	for _, a := range snap.Domain.ACL.DACL {
		if a.Trustee == dcsync.SID && a.Grants(directory.RightExtendedRight, a.ObjectType) {
			rights = append(rights, a.ObjectTypeName())
			if a.TrusteeName != dcsync.Name {
				t.Errorf("trustee name = %q, want %q", a.TrusteeName, dcsync.Name)
			}
		}
	}
	slices.Sort(rights)
	if want := []string{"DS-Replication-Get-Changes", "DS-Replication-Get-Changes-All"}; !slices.Equal(rights, want) {
		t.Errorf("rights of %s on the domain root = %q, want %q", dcsync.Name, rights, want)
	}
	if u := snap.User(dcsync.DN); u == nil || u.Privileged() {
		t.Errorf("DCSync user %s must be an ordinary user: %+v", dcsync.Name, u)
	}

	// After cleanup, the grant is gone.
	cleanup()
	snap, _ = collect(t, cfg)
	for _, a := range snap.Domain.ACL.DACL {
		if a.Trustee == dcsync.SID {
			t.Errorf("ACE for %s left on the domain root after cleanup: %v", dcsync.Name, a)
		}
	}
}

// TestCollectBindFailure: a wrong password fails with a message naming the
// server and account, never the password.
func TestCollectBindFailure(t *testing.T) {
	env := sambalab.Env(t)
	const wrong = "Wr0ng-Secret-Value!"
	c, err := New(labConfig(env, "Administrator", wrong))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Collect(context.Background())
	if err == nil {
		t.Fatal("bind with a wrong password succeeded")
	}
	msg := err.Error()
	if strings.Contains(msg, wrong) || !strings.Contains(msg, "bind to "+env["LAB_LDAPS_URL"]) || !strings.Contains(msg, "Invalid Credentials") {
		t.Errorf("error = %q", msg)
	}
}

// TestCollectCancel: a cancelled context stops the collection promptly.
func TestCollectCancel(t *testing.T) {
	env := sambalab.Env(t)
	c, err := New(labConfig(env, "Administrator", env["LAB_ADMIN_PASS"]), WithProgress(func(Progress) {}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Collect(ctx); err == nil {
		t.Fatal("Collect with a cancelled context succeeded")
	}
}

// TestCollectLabADCS seeds an ESC1-shaped template (enrollee supplies
// subject, client authentication, Domain Users may enroll, Domain Users may
// write it: ESC4) published by a seeded CA, plus an unpublished template,
// and collects them with small pages (several round trips per search).
func TestCollectLabADCS(t *testing.T) {
	s := seed.New(t)
	env := s.Env()
	domainUsers := s.DomainSID + "-513"
	esc1, _ := s.CertTemplate(seed.TemplateSpec{EnrolleeSuppliesSubject: true, EKUs: []string{directory.EKUClientAuth}, WriteSID: domainUsers})
	quiet, _ := s.CertTemplate(seed.TemplateSpec{EKUs: []string{directory.EKUServerAuth}, ManagerApproval: true})
	ca, _ := s.EnrollmentService(esc1.Name)

	cfg := labConfig(env, "Administrator", env["LAB_ADMIN_PASS"])
	cfg.PageSize = 3
	snap, _ := collect(t, cfg)
	var got1, got2 *directory.CertTemplate
	for i := range snap.CertTemplates {
		switch snap.CertTemplates[i].Name {
		case esc1.Name:
			got1 = &snap.CertTemplates[i]
		case quiet.Name:
			got2 = &snap.CertTemplates[i]
		}
	}
	if got1 == nil || got2 == nil {
		t.Fatalf("seeded templates not collected (%d templates)", len(snap.CertTemplates))
	}
	if !got1.EnrolleeSuppliesSubject() || !got1.ClientAuthentication() || got1.ManagerApproval() || got1.SchemaVersion != 2 ||
		!slices.Equal(got1.PublishedBy, []string{ca.Name}) {
		t.Errorf("ESC1 template = %+v", got1)
	}
	if got2.EnrolleeSuppliesSubject() || got2.ClientAuthentication() || !got2.ManagerApproval() || len(got2.PublishedBy) != 0 {
		t.Errorf("benign template = %+v", got2)
	}
	enroll, write := false, false
	for _, a := range got1.ACL.DACL {
		if a.Trustee != domainUsers {
			continue
		}
		enroll = enroll || a.Grants(directory.RightExtendedRight, directory.GUIDCertificateEnrollment)
		write = write || a.Grants(directory.RightWriteProperty, directory.GUIDPKICertificateNameFlag)
	}
	if !enroll || !write {
		t.Errorf("Domain Users on %s: enroll %v, write %v; ACL %v", esc1.Name, enroll, write, got1.ACL.DACL)
	}
	var es *directory.EnrollmentService
	for i := range snap.EnrollmentServices {
		if snap.EnrollmentServices[i].Name == ca.Name {
			es = &snap.EnrollmentServices[i]
		}
	}
	if es == nil || !slices.Equal(es.Templates, []string{esc1.Name}) || es.ACL == nil {
		t.Errorf("enrollment service = %+v", es)
	}
	// Paging with 3 per page returned every group exactly once.
	seen := map[string]bool{}
	for _, g := range snap.Groups {
		if seen[g.DN] {
			t.Errorf("group %s twice", g.DN)
		}
		seen[g.DN] = true
	}
	if snap.Counts["ldap_requests"] < len(snap.Groups)/3 {
		t.Errorf("%d LDAP requests for %d groups in pages of 3: paging not in effect", snap.Counts["ldap_requests"], len(snap.Groups))
	}
	if len(snap.Groups) < 20 {
		t.Errorf("%d groups with 3-entry pages; a Samba domain has more than 20 built-in groups", len(snap.Groups))
	}
}
