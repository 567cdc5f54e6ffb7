package posture_test

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/connector/sources/ldap"
	"github.com/castellan-itdr/castellan/detections/posture"
	"github.com/castellan-itdr/castellan/internal/sambalab/seed"
	"github.com/castellan-itdr/castellan/mappings/directory"
	"github.com/castellan-itdr/castellan/sinks/secret"
)

// labSnapshot collects the Samba lab over LDAPS as Administrator.
func labSnapshot(t *testing.T, env map[string]string) *directory.Snapshot {
	t.Helper()
	cfg := *ldap.NewDefaultConfig()
	cfg.URL = env["LAB_LDAPS_URL"]
	cfg.CAFile = env["LAB_CA_PEM"]
	cfg.BindDN = env["LAB_ADMIN"]
	cfg.Password = secret.Secret(env["LAB_ADMIN_PASS"])
	cfg.Timeout = 20 * time.Second
	c, err := ldap.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	snap, err := c.Collect(ctx)
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	return snap
}

// assessmentsNaming returns the ids of the failed assessments with a
// finding that names entity, sorted.
func assessmentsNaming(run posture.Run, entity string) []string {
	var ids []string
	for _, res := range run.Results {
		for _, f := range res.Findings {
			if slices.ContainsFunc(f.Entities, func(e string) bool { return strings.EqualFold(e, entity) }) {
				ids = append(ids, res.Assessment.ID)
				break
			}
		}
	}
	sort.Strings(ids)
	return ids
}

// TestSambaLabSeededMisconfigurations seeds misconfigurations into the real
// DC, collects it over LDAPS and asserts exactly which assessments name
// each seeded entity (other tests share the lab, so every assertion is
// scoped to the objects this test created, plus the lab's documented
// defaults).
func TestSambaLabSeededMisconfigurations(t *testing.T) {
	s := seed.New(t)
	env := s.Env()

	kadmin, _ := s.KerberoastableAdmin()
	asrep, _ := s.ASREPRoastable()
	nopass, _ := s.PasswordNotRequired()
	revers, _ := s.ReversibleEncryption()
	des, _ := s.DESOnly()
	uncon, _ := s.UnconstrainedComputer()
	dcsync, _ := s.DCSync()
	backup, _ := s.User("pbackup", 0, "")
	s.AddMember("CN=Backup Operators,CN=Builtin,"+s.BaseDN, backup.DN)
	noexp, _ := s.User("pnoexp", directory.UACDontExpirePassword, "")
	s.AddMember(s.DomainAdminsDN(), noexp.DN)
	clean, _ := s.User("pclean", 0, "")

	snap := labSnapshot(t, env)
	run := posture.Check(snap, posture.Options{})

	want := map[string][]string{
		// SPN + Domain Admins: roastable twice over, a service account in
		// DA, and (like every admin) delegable and outside Protected Users.
		kadmin.DN: {"kerberoastable-privileged", "kerberoastable-user", "privileged-delegable", "privileged-not-protected-users", "service-account-privileged"},
		asrep.DN:  {"asrep-roastable"},
		nopass.DN: {"password-not-required"},
		revers.DN: {"reversible-encryption"},
		des.DN:    {"des-enabled"},
		// A lab computer has no LAPS either.
		uncon.DN:  {"laps-missing", "unconstrained-delegation"},
		dcsync.DN: {"dcsync-rights"},
		backup.DN: {"operator-group-members", "privileged-delegable", "privileged-not-protected-users"},
		noexp.DN:  {"privileged-delegable", "privileged-not-protected-users", "privileged-password-never-expires"},
		clean.DN:  nil,
	}
	for dn, ids := range want {
		if got := assessmentsNaming(run, dn); !slices.Equal(got, ids) {
			t.Errorf("%s: assessments %v, want %v", dn, got, ids)
		}
	}

	// The evidence is the attribute or ACE that proves it.
	evidence := map[string]string{}
	for _, f := range run.Failed() {
		for _, e := range f.Entities {
			evidence[f.AssessmentID+" "+strings.ToLower(e)] = f.Evidence
		}
	}
	for key, want := range map[string]string{
		"unconstrained-delegation " + strings.ToLower(uncon.DN):   "userAccountControl 0x80000 (TRUSTED_FOR_DELEGATION) on " + uncon.DN,
		"asrep-roastable " + strings.ToLower(asrep.DN):            "userAccountControl 0x400000 (DONT_REQ_PREAUTH) on " + asrep.DN,
		"password-not-required " + strings.ToLower(nopass.DN):     "userAccountControl 0x20 (PASSWD_NOTREQD) on " + nopass.DN,
		"dcsync-rights " + strings.ToLower(dcsync.DN):             "1131f6ad-9c07-11d1-f79f-00c04fc2dcd2(DS-Replication-Get-Changes-All)",
		"kerberoastable-privileged " + strings.ToLower(kadmin.DN): "servicePrincipalName " + kadmin.SPN,
	} {
		if got := evidence[key]; !strings.Contains(got, want) {
			t.Errorf("%s: evidence %q lacks %q", key, got, want)
		}
	}

	// Lab defaults: a fresh Samba domain has ms-DS-MachineAccountQuota 10
	// and minPwdLength 7, and its Administrator is delegable and outside
	// Protected Users. Those are real findings.
	for id, entity := range map[string]string{
		"machine-account-quota":          snap.Domain.DN,
		"password-policy-weak":           snap.Domain.DN,
		"privileged-delegable":           "CN=Administrator,CN=Users," + snap.Domain.DN,
		"privileged-not-protected-users": "CN=Administrator,CN=Users," + snap.Domain.DN,
	} {
		if !slices.Contains(assessmentsNaming(run, entity), id) {
			t.Errorf("lab default: %s should name %s", id, entity)
		}
	}
	if !strings.Contains(evidence["machine-account-quota "+strings.ToLower(snap.Domain.DN)], "ms-DS-MachineAccountQuota 10") {
		t.Errorf("MAQ evidence: %q", evidence["machine-account-quota "+strings.ToLower(snap.Domain.DN)])
	}

	// Clean baseline: the objects provisioned with the domain (RIDs up to
	// 1102 on Samba: the built-in accounts, the DC, DnsAdmins and
	// DnsUpdateProxy; every later object gets a higher RID) and well-known
	// principals raise none of the seeded checks. Objects other tests create
	// concurrently have higher RIDs and are left alone.
	const lastProvisionedRID = 1102
	baseline := func(entity string) bool {
		sid := ""
		if u := snap.User(entity); u != nil {
			sid = u.SID
		} else if c := snap.Computer(entity); c != nil {
			sid = c.SID
		} else if g := snap.Group(entity); g != nil {
			sid = g.SID
		} else {
			return strings.HasPrefix(entity, "S-1-") || strings.Contains(entity, "(S-1-") // a well-known principal
		}
		return directory.DomainOf(sid) != snap.Domain.SID || directory.RID(sid) <= lastProvisionedRID
	}
	for _, id := range []string{"unconstrained-delegation", "asrep-roastable", "password-not-required", "reversible-encryption", "des-enabled",
		"kerberoastable-user", "kerberoastable-privileged", "dcsync-rights", "operator-group-members", "privileged-password-never-expires",
		"constrained-delegation-protocol-transition", "rbcd-sensitive", "guest-enabled", "non-default-primary-group", "unsafe-sid-history",
		"adminsdholder-acl", "domain-root-write", "gpo-writable-by-unprivileged", "dnsadmins-members", "service-account-privileged"} {
		for _, res := range run.Results {
			if res.Assessment.ID != id {
				continue
			}
			for _, f := range res.Findings {
				if baseline(f.Entities[0]) {
					t.Errorf("clean lab: %s names %v: %s", id, f.Entities, f.Evidence)
				}
			}
		}
	}

	// Age checks with a clock 200 days on (Samba, like Windows, will not
	// let a test backdate pwdLastSet): krbtgt, Administrator and the DC.
	later := posture.Check(snap, posture.Options{Now: snap.Taken.Add(200 * 24 * time.Hour)})
	dc := ""
	for _, c := range snap.Computers {
		if c.IsDC {
			dc = c.DN
		}
	}
	for id, entity := range map[string]string{
		"krbtgt-password-age":        "CN=krbtgt,CN=Users," + snap.Domain.DN,
		"builtin-admin-password-age": "CN=Administrator,CN=Users," + snap.Domain.DN,
		"dc-password-age":            dc,
	} {
		if !slices.Contains(assessmentsNaming(later, entity), id) {
			t.Errorf("200 days on: %s should name %s", id, entity)
		}
		if slices.Contains(assessmentsNaming(run, entity), id) {
			t.Errorf("today: %s names %s", id, entity)
		}
	}
	t.Logf("lab score %d (%d findings); 200 days on %d", run.Score.Total, len(run.Failed()), later.Score.Total)
}
