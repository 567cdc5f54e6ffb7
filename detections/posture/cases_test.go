package posture

import (
	"time"

	"github.com/castellan-itdr/castellan/mappings/directory"
)

// sample is one side of an assessment's test: a mutation of the clean
// fixture, and (for positives) the entity the finding must name.
type sample struct {
	mutate func(f fx)
	entity string
}

type assessmentCase struct {
	pos, neg sample
}

var svcDN = dn("svc-sql")

// cases holds a positive and a negative sample for every assessment; the
// meta-test fails when one is missing.
var cases = map[string]assessmentCase{
	"unconstrained-delegation": {
		pos: sample{func(f fx) { f.computer("WS1$").UAC |= directory.UACTrustedForDelegation }, "CN=WS1,CN=Computers," + base},
		neg: sample{func(f fx) { // a DC (already has it) and a disabled computer
			c := f.computer("WS1$")
			c.UAC |= directory.UACTrustedForDelegation | directory.UACAccountDisable
		}, ""},
	},
	"constrained-delegation-protocol-transition": {
		pos: sample{func(f fx) {
			c := f.computer("WS1$")
			c.UAC |= directory.UACTrustedToAuthForDelegation
			c.AllowedToDelegateTo = []string{"cifs/dc1.corp.test", "http/web.corp.test"}
		}, "CN=WS1,CN=Computers," + base},
		neg: sample{func(f fx) {
			c := f.computer("WS1$")
			c.UAC |= directory.UACTrustedToAuthForDelegation
			c.AllowedToDelegateTo = []string{"http/web.corp.test"} // not sensitive
			w := f.computer("DC1$")                                // and Kerberos-only delegation to a DC is another assessment's business
			_ = w
		}, ""},
	},
	"rbcd-sensitive": {
		pos: sample{func(f fx) {
			f.computer("DC1$").AllowedToActOnBehalf = &directory.SecurityDescriptor{DACLPresent: true, DACL: []directory.ACE{allow(sid(1200), directory.RightsFullControl, "")}}
		}, "CN=DC1,OU=Domain Controllers," + base},
		neg: sample{func(f fx) { // RBCD on an ordinary workstation
			f.computer("WS1$").AllowedToActOnBehalf = &directory.SecurityDescriptor{DACLPresent: true, DACL: []directory.ACE{allow(sid(1102), directory.RightsFullControl, "")}}
		}, ""},
	},
	"privileged-delegable": {
		pos: sample{func(f fx) {
			f.user("da-bob").UAC &^= directory.UACNotDelegated
			f.group("Protected Users").Members = []string{dn("Administrator")}
		}, dn("da-bob")},
		neg: sample{func(f fx) { // no NOT_DELEGATED, but in Protected Users
			f.user("da-bob").UAC &^= directory.UACNotDelegated
		}, ""},
	},
	"privileged-not-protected-users": {
		pos: sample{func(f fx) { f.group("Protected Users").Members = []string{dn("Administrator")} }, dn("da-bob")},
		neg: sample{func(f fx) { // an unprivileged user outside Protected Users, and a disabled admin
			f.group("Protected Users").Members = []string{dn("Administrator")}
			f.user("da-bob").UAC |= directory.UACAccountDisable
		}, ""},
	},
	"asrep-roastable": {
		pos: sample{func(f fx) { f.user("alice").UAC |= directory.UACDontReqPreauth }, dn("alice")},
		neg: sample{func(f fx) { f.user("krbtgt").UAC |= directory.UACDontReqPreauth }, ""}, // disabled (Samba labs set it on krbtgt)
	},
	"password-not-required": {
		pos: sample{func(f fx) { f.user("alice").UAC |= directory.UACPasswdNotReqd }, dn("alice")},
		neg: sample{func(f fx) {}, ""}, // Guest has it but is disabled
	},
	"reversible-encryption": {
		pos: sample{func(f fx) { f.user("alice").UAC |= directory.UACEncryptedTextPwdAllowed }, dn("alice")},
		neg: sample{func(f fx) {
			f.user("alice").UAC |= directory.UACEncryptedTextPwdAllowed | directory.UACAccountDisable
			f.s.Domain.PasswordPolicy.Properties |= directory.PwdNoClearChange
		}, ""},
	},
	"des-enabled": {
		pos: sample{func(f fx) { f.user("alice").EncTypes = directory.EncDESCBCMD5 }, dn("alice")},
		neg: sample{func(f fx) { f.user("alice").EncTypes = directory.EncDESCBCMD5 | directory.EncAES256 }, ""},
	},
	"rc4-only": {
		pos: sample{func(f fx) { f.user("alice").EncTypes = directory.EncRC4 }, dn("alice")},
		neg: sample{func(f fx) { f.user("alice").EncTypes = directory.EncRC4 | directory.EncAES128 | directory.EncAES256 }, ""},
	},
	"kerberoastable-user": {
		pos: sample{func(f fx) { f.user("alice").SPNs = []string{"MSSQLSvc/sql1.corp.test:1433"} }, dn("alice")},
		neg: sample{func(f fx) { // SPNs on computers and on a disabled user
			f.user("Guest").SPNs = []string{"http/x"}
		}, ""},
	},
	"guest-enabled": {
		pos: sample{func(f fx) { f.user("Guest").UAC &^= directory.UACAccountDisable }, dn("Guest")},
		neg: sample{func(f fx) { // an enabled account named guest that is not RID 501
			f.addUser(user("guest2", 1300, 0))
		}, ""},
	},
	"non-default-primary-group": {
		pos: sample{func(f fx) { f.user("alice").PrimaryGroupID = directory.RidDomainAdmins }, dn("alice")},
		neg: sample{func(f fx) {}, ""}, // users 513, Guest 514, computers 515, DC 516
	},
	"unsafe-sid-history": {
		pos: sample{func(f fx) { f.user("alice").SIDHistory = []string{sid(512)} }, dn("alice")},
		neg: sample{func(f fx) { f.user("alice").SIDHistory = []string{"S-1-5-21-9-9-9-1604"} }, ""}, // a migrated ordinary user
	},
	"laps-missing": {
		pos: sample{func(f fx) { f.computer("WS1$").LAPS = directory.LAPS{SchemaWindows: true} }, "CN=WS1,CN=Computers," + base},
		neg: sample{func(f fx) { // legacy LAPS counts too
			f.computer("WS1$").LAPS = directory.LAPS{Legacy: true, LegacyExpiry: fixtureNow.Add(24 * time.Hour)}
		}, ""},
	},
	"laps-stale": {
		pos: sample{func(f fx) { f.computer("WS1$").LAPS.WindowsExpiry = ago(45) }, "CN=WS1,CN=Computers," + base},
		neg: sample{func(f fx) { f.computer("WS1$").LAPS.WindowsExpiry = ago(5) }, ""},
	},
	"kerberoastable-privileged": {
		pos: sample{func(f fx) { f.user("da-bob").SPNs = []string{"http/admin.corp.test"} }, dn("da-bob")},
		neg: sample{func(f fx) { f.user("alice").SPNs = []string{"http/app.corp.test"} }, ""},
	},
	"privileged-password-never-expires": {
		pos: sample{func(f fx) { f.user("da-bob").UAC |= directory.UACDontExpirePassword }, dn("da-bob")},
		neg: sample{func(f fx) { f.user("alice").UAC |= directory.UACDontExpirePassword }, ""},
	},
	"krbtgt-password-age": {
		pos: sample{func(f fx) { f.user("krbtgt").PwdLastSet = ago(400) }, dn("krbtgt")},
		neg: sample{func(f fx) { f.user("krbtgt").PwdLastSet = ago(179) }, ""},
	},
	"builtin-admin-password-age": {
		pos: sample{func(f fx) { f.user("Administrator").PwdLastSet = ago(200) }, dn("Administrator")},
		neg: sample{func(f fx) { f.user("Administrator").PwdLastSet = ago(170); f.user("alice").PwdLastSet = ago(900) }, ""},
	},
	"dc-password-age": {
		pos: sample{func(f fx) { f.computer("DC1$").PwdLastSet = ago(60) }, "CN=DC1,OU=Domain Controllers," + base},
		neg: sample{func(f fx) { f.computer("DC1$").PwdLastSet = ago(40); f.computer("WS1$").PwdLastSet = ago(90) }, ""},
	},
	"dormant-privileged": {
		pos: sample{func(f fx) { f.user("da-bob").LastLogon = ago(200) }, dn("da-bob")},
		neg: sample{func(f fx) { // a dormant ordinary user; a new admin that never logged on
			f.user("alice").LastLogon = ago(300)
			b := f.user("da-bob")
			b.LastLogon, b.WhenCreated = time.Time{}, ago(3)
		}, ""},
	},
	"dcsync-rights": {
		pos: sample{func(f fx) {
			f.s.Domain.ACL.DACL = append(f.s.Domain.ACL.DACL,
				allow(sid(1102), directory.RightExtendedRight, directory.GUIDReplicationGetChanges),
				allow(sid(1102), directory.RightExtendedRight, directory.GUIDReplicationGetChangesAll))
		}, dn("alice")},
		neg: sample{func(f fx) { // Get-Changes alone (no secrets), and the -All right to a DA
			f.s.Domain.ACL.DACL = append(f.s.Domain.ACL.DACL,
				allow(sid(1102), directory.RightExtendedRight, directory.GUIDReplicationGetChanges),
				allow(sid(1101), directory.RightExtendedRight, directory.GUIDReplicationGetChangesAll),
				allow(sid(1101), directory.RightExtendedRight, directory.GUIDReplicationGetChanges))
		}, ""},
	},
	"adminsdholder-acl": {
		pos: sample{func(f fx) {
			f.s.Domain.AdminSDHolder.DACL = append(f.s.Domain.AdminSDHolder.DACL, allow(sid(1151), directory.RightGenericAll, ""))
		}, dn("Helpdesk")},
		neg: sample{func(f fx) { // read rights only
			f.s.Domain.AdminSDHolder.DACL = append(f.s.Domain.AdminSDHolder.DACL, allow(sid(1151), directory.RightReadProperty|directory.RightReadControl, ""))
		}, ""},
	},
	"domain-root-write": {
		pos: sample{func(f fx) {
			f.s.Domain.ACL.DACL = append(f.s.Domain.ACL.DACL, allow(sid(1102), directory.RightWriteDacl, ""))
		}, dn("alice")},
		neg: sample{func(f fx) { // write of one property only, inherit-only full control
			f.s.Domain.ACL.DACL = append(f.s.Domain.ACL.DACL, allow(sid(1102), directory.RightWriteProperty, directory.GUIDGPLink),
				directory.ACE{Type: directory.ACEAccessAllowed, Flags: directory.ACEInheritOnly | directory.ACEContainerInherit, Mask: directory.RightGenericAll, Trustee: sid(1102)})
		}, ""},
	},
	"dnsadmins-members": {
		pos: sample{func(f fx) { f.addMember("DnsAdmins", dn("Helpdesk")) }, dn("alice")}, // nested through Helpdesk
		neg: sample{func(f fx) { f.addMember("DnsAdmins", dn("da-bob")) }, ""},
	},
	"operator-group-members": {
		pos: sample{func(f fx) { f.addMember("Backup Operators", dn("alice")) }, dn("alice")},
		neg: sample{func(f fx) { f.addMember("Helpdesk", dn("da-bob")) }, ""},
	},
	"service-account-privileged": {
		pos: sample{func(f fx) {
			u := user("svc-sql", 1400, 0)
			f.addUser(u)
			f.addMember("Domain Admins", svcDN)
		}, svcDN},
		neg: sample{func(f fx) { f.addUser(user("svc-sql", 1400, 0)) }, ""}, // not privileged
	},
	"machine-account-quota": {
		pos: sample{func(f fx) { f.s.Domain.MachineAccountQuota = 10 }, base},
		neg: sample{func(f fx) { f.s.Domain.MachineAccountQuota = 0 }, ""},
	},
	"password-policy-weak": {
		pos: sample{func(f fx) { f.s.Domain.PasswordPolicy.MinLength = 7 }, base},
		neg: sample{func(f fx) { f.s.Domain.PasswordPolicy.MinLength = 8 }, ""},
	},
	"trust-sid-filtering-disabled": {
		pos: sample{func(f fx) {
			f.s.Trusts = []directory.Trust{{DN: "CN=partner.test,CN=System," + base, Partner: "partner.test", Direction: 3, Type: 2, Attributes: 0}}
		}, "CN=partner.test,CN=System," + base},
		neg: sample{func(f fx) {
			f.s.Trusts = []directory.Trust{
				{DN: "CN=partner.test,CN=System," + base, Partner: "partner.test", Direction: 3, Type: 2, Attributes: directory.TrustQuarantinedDomain},
				{DN: "CN=out.test,CN=System," + base, Partner: "out.test", Direction: 2, Type: 2},
				{DN: "CN=child.corp.test,CN=System," + base, Partner: "child.corp.test", Direction: 3, Type: 2, Attributes: directory.TrustWithinForest},
			}
		}, ""},
	},
	"gpo-writable-by-unprivileged": {
		pos: sample{func(f fx) {
			f.s.GPOs[0].ACL.DACL = append(f.s.GPOs[0].ACL.DACL, allow(sid(1102), directory.RightGenericWrite, ""))
		}, dn("alice")},
		neg: sample{func(f fx) { // edit delegated to a privileged principal, read to a user
			f.s.GPOs[0].ACL.DACL = append(f.s.GPOs[0].ACL.DACL, allow(sid(1101), directory.RightGenericAll, ""), allow(sid(1102), directory.RightReadProperty, ""))
		}, ""},
	},
	"adcs-esc1": {
		pos: sample{func(f fx) { f.s.CertTemplates[0].NameFlag = directory.CTNameFlagEnrolleeSuppliesSubject }, f0Template},
		neg: sample{func(f fx) { // manager approval blocks it
			t := &f.s.CertTemplates[0]
			t.NameFlag = directory.CTNameFlagEnrolleeSuppliesSubject
			t.EnrollmentFlag = directory.CTEnrollPendAllRequests
		}, ""},
	},
	"adcs-esc2": {
		pos: sample{func(f fx) { f.s.CertTemplates[0].EKUs = []string{directory.EKUAnyPurpose} }, f0Template},
		neg: sample{func(f fx) { // unpublished
			f.s.CertTemplates[0].EKUs = nil
			f.s.CertTemplates[0].PublishedBy = nil
		}, ""},
	},
	"adcs-esc3": {
		pos: sample{func(f fx) { f.s.CertTemplates[0].EKUs = []string{directory.EKUCertRequestAgent} }, f0Template},
		neg: sample{func(f fx) { // only admins may enroll
			t := &f.s.CertTemplates[0]
			t.EKUs = []string{directory.EKUCertRequestAgent}
			t.ACL.DACL = t.ACL.DACL[:2]
		}, ""},
	},
	"adcs-esc4-acl": {
		pos: sample{func(f fx) {
			t := &f.s.CertTemplates[0]
			t.ACL.DACL = append(t.ACL.DACL, allow(directory.SIDAuthenticatedUsers, directory.RightWriteOwner, ""))
		}, "Authenticated Users (S-1-5-11)"},
		neg: sample{func(f fx) {
			t := &f.s.CertTemplates[0]
			t.ACL.DACL = append(t.ACL.DACL, allow(directory.SIDAuthenticatedUsers, directory.RightWriteProperty, directory.GUIDPKIEnrollmentFlag+"x"), allow(sid(1101), directory.RightWriteDacl, ""))
		}, ""},
	},
	"adcs-esc4-owner": {
		pos: sample{func(f fx) { f.s.CertTemplates[0].ACL.Owner = sid(513) }, dn("Domain Users")},
		neg: sample{func(f fx) { f.s.CertTemplates[0].ACL.Owner = sid(512) }, ""},
	},
	"entra-permanent-privileged-role": {
		pos: sample{func(f fx) {
			r := &f.s.Entra.Roles[0]
			r.Assignments = append(r.Assignments, directory.EntraRoleAssignment{ID: "a9", Kind: directory.AssignmentActive, PrincipalID: "u-cloudadmin", PrincipalType: "user", PrincipalName: "cloudadmin@corp.test", Start: ago(100)})
		}, "cloudadmin@corp.test"},
		neg: sample{func(f fx) { // time-bound active assignment
			r := &f.s.Entra.Roles[0]
			r.Assignments = append(r.Assignments, directory.EntraRoleAssignment{ID: "a9", Kind: directory.AssignmentActive, PrincipalID: "u-cloudadmin", PrincipalName: "cloudadmin@corp.test", Start: ago(1), End: fixtureNow.Add(24 * time.Hour)})
		}, ""},
	},
	"entra-privileged-no-mfa": {
		pos: sample{func(f fx) {
			r := &f.s.Entra.Roles[0]
			r.Assignments = append(r.Assignments, directory.EntraRoleAssignment{ID: "a9", Kind: directory.AssignmentEligible, PrincipalID: "u-alice", PrincipalName: "alice@corp.test"})
		}, "alice@corp.test"},
		neg: sample{func(f fx) { f.s.Entra.Users[0].Registration = nil }, ""}, // unknown registration is not a finding
	},
	"ad-entra-privileged-overlap": {
		pos: sample{func(f fx) {
			r := &f.s.Entra.Roles[0]
			r.Assignments = append(r.Assignments, directory.EntraRoleAssignment{ID: "a9", Kind: directory.AssignmentEligible, PrincipalID: "u-bob", PrincipalName: "bob@corp.test"})
		}, "bob@corp.test"},
		neg: sample{func(f fx) { // alice: synced with a privileged role, but not privileged in AD
			r := &f.s.Entra.Roles[0]
			r.Assignments = append(r.Assignments, directory.EntraRoleAssignment{ID: "a9", Kind: directory.AssignmentEligible, PrincipalID: "u-alice", PrincipalName: "alice@corp.test"})
		}, ""},
	},
}

var f0Template = "CN=User,CN=Certificate Templates,CN=Public Key Services,CN=Services,CN=Configuration," + base
