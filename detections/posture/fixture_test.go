package posture

import (
	"strconv"
	"time"

	"github.com/castellan-itdr/castellan/mappings/directory"
)

// The clean fixture: a small domain where every assessment passes. Cases
// mutate a fresh copy into a positive or a negative sample.

const dom = "S-1-5-21-1000-2000-3000"

var fixtureNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func ago(days int) time.Time { return fixtureNow.Add(-time.Duration(days) * 24 * time.Hour) }

func sid(rid int) string { return dom + "-" + strconv.Itoa(rid) }

const base = "DC=corp,DC=test"

func dn(cn string) string { return "CN=" + cn + ",CN=Users," + base }

func allow(trustee string, mask directory.AccessMask, objectType string) directory.ACE {
	t := directory.ACEAccessAllowed
	if objectType != "" {
		t = directory.ACEAccessAllowedObject
	}
	return directory.ACE{Type: t, Mask: mask, Trustee: trustee, ObjectType: objectType}
}

func user(name string, rid int, uac directory.UAC) directory.User {
	return directory.User{Account: directory.Account{
		DN: dn(name), SAMAccountName: name, SID: sid(rid), ObjectClass: "user",
		UAC: directory.UACNormalAccount | uac, PrimaryGroupID: directory.RidDomainUsers,
		PwdLastSet: ago(10), LastLogon: ago(1), WhenCreated: ago(400),
	}}
}

func group(name string, sidv string, members ...string) directory.Group {
	return directory.Group{DN: dn(name), Name: name, SID: sidv, GroupType: -2147483646, Members: members}
}

func fixture() *directory.Snapshot {
	admin := user("Administrator", 500, directory.UACNotDelegated)
	krbtgt := user("krbtgt", 502, directory.UACAccountDisable)
	guest := user("Guest", 501, directory.UACAccountDisable|directory.UACPasswdNotReqd)
	guest.PrimaryGroupID = directory.RidDomainGuests
	bob := user("da-bob", 1101, directory.UACNotDelegated)
	alice := user("alice", 1102, 0)
	alice.EncTypes = directory.EncAES128 | directory.EncAES256

	dc := directory.Computer{Account: directory.Account{
		DN: "CN=DC1,OU=Domain Controllers," + base, SAMAccountName: "DC1$", SID: sid(1000), ObjectClass: "computer",
		UAC: directory.UACServerTrustAccount | directory.UACTrustedForDelegation, PrimaryGroupID: directory.RidDomainControllers,
		PwdLastSet: ago(10), LastLogon: ago(1), WhenCreated: ago(400),
		SPNs: []string{"ldap/dc1.corp.test", "HOST/DC1", "cifs/dc1.corp.test"},
	}, DNSHostName: "dc1.corp.test", IsDC: true}
	ws := directory.Computer{Account: directory.Account{
		DN: "CN=WS1,CN=Computers," + base, SAMAccountName: "WS1$", SID: sid(1200), ObjectClass: "computer",
		UAC: directory.UACWorkstationTrustAccount, PrimaryGroupID: directory.RidDomainComputers,
		PwdLastSet: ago(10), LastLogon: ago(1), WhenCreated: ago(400), SPNs: []string{"HOST/ws1.corp.test", "HOST/WS1"},
	}, DNSHostName: "ws1.corp.test", LAPS: directory.LAPS{Windows: true, WindowsExpiry: fixtureNow.Add(10 * 24 * time.Hour), SchemaWindows: true}}

	s := &directory.Snapshot{
		ID: "fixture", Taken: fixtureNow,
		Domain: directory.Domain{
			DN: base, DNSName: "corp.test", NetBIOS: "CORP", SID: dom, MachineAccountQuota: 0,
			PasswordPolicy: directory.PasswordPolicy{MinLength: 14, Properties: directory.PwdComplex, LockoutThreshold: 10},
			ACL: &directory.SecurityDescriptor{Owner: sid(512), DACLPresent: true, DACL: []directory.ACE{
				allow(directory.SIDEnterpriseDCs, directory.RightExtendedRight, directory.GUIDReplicationGetChangesAll),
				allow(directory.SIDEnterpriseDCs, directory.RightExtendedRight, directory.GUIDReplicationGetChanges),
				allow(directory.SIDBuiltinAdministrators, directory.RightExtendedRight, directory.GUIDReplicationGetChangesAll),
				allow(directory.SIDBuiltinAdministrators, directory.RightExtendedRight, directory.GUIDReplicationGetChanges),
				allow(sid(512), directory.RightsFullControl, ""),
				allow(directory.SIDSystem, directory.RightsFullControl, ""),
				allow(directory.SIDAuthenticatedUsers, directory.RightReadProperty|directory.RightListChildren|directory.RightReadControl, ""),
				allow(directory.SIDAuthenticatedUsers, directory.RightExtendedRight, directory.GUIDReplicationGetChanges), // harmless alone? no: only with -All
			}},
			AdminSDHolder: &directory.SecurityDescriptor{Owner: sid(512), DACLPresent: true, DACL: []directory.ACE{
				allow(directory.SIDSystem, directory.RightsFullControl, ""),
				allow(sid(512), directory.RightsFullControl, ""),
				allow(directory.SIDBuiltinAdministrators, directory.RightsFullControl, ""),
				allow(directory.SIDAuthenticatedUsers, directory.RightReadProperty|directory.RightReadControl, ""),
				allow(directory.SIDPrincipalSelf, directory.RightWriteProperty, directory.GUIDPersonalInformation),
			}},
		},
		Users:     []directory.User{admin, krbtgt, guest, bob, alice},
		Computers: []directory.Computer{dc, ws},
		Groups: []directory.Group{
			group("Domain Admins", sid(512), admin.DN, bob.DN),
			group("Enterprise Admins", sid(519), admin.DN),
			group("Domain Users", sid(513)),
			group("Domain Guests", sid(514)),
			group("Domain Computers", sid(515)),
			group("Domain Controllers", sid(516)),
			group("Protected Users", sid(525), admin.DN, bob.DN),
			group("Administrators", directory.SIDBuiltinAdministrators, dn("Domain Admins"), dn("Enterprise Admins")),
			group("Account Operators", directory.SIDAccountOperators),
			group("Server Operators", directory.SIDServerOperators),
			group("Print Operators", directory.SIDPrintOperators),
			group("Backup Operators", directory.SIDBackupOperators),
			group("DnsAdmins", sid(1150), admin.DN),
			group("Helpdesk", sid(1151), alice.DN),
		},
		GPOs: []directory.GPO{{
			DN: "CN={31B2F340-016D-11D2-945F-00C04FB984F9},CN=Policies,CN=System," + base, GUID: "{31B2F340-016D-11D2-945F-00C04FB984F9}", DisplayName: "Default Domain Policy",
			ACL: &directory.SecurityDescriptor{Owner: sid(512), DACLPresent: true, DACL: []directory.ACE{
				allow(sid(512), directory.RightsFullControl, ""),
				allow(sid(519), directory.RightsFullControl, ""),
				allow(directory.SIDSystem, directory.RightsFullControl, ""),
				allow(directory.SIDAuthenticatedUsers, directory.RightReadProperty|directory.RightReadControl|directory.RightListChildren, ""),
				allow(directory.SIDAuthenticatedUsers, directory.RightExtendedRight, directory.GUIDApplyGroupPolicy),
				{Type: directory.ACEAccessAllowed, Flags: directory.ACEInheritOnly | directory.ACEContainerInherit, Mask: directory.RightsFullControl, Trustee: directory.SIDCreatorOwner},
			}},
		}},
		CertTemplates: []directory.CertTemplate{{
			DN: "CN=User,CN=Certificate Templates,CN=Public Key Services,CN=Services,CN=Configuration," + base, Name: "User", SchemaVersion: 1,
			EKUs: []string{directory.EKUClientAuth, "1.3.6.1.4.1.311.10.3.4"}, PublishedBy: []string{"corp-CA"},
			ACL: &directory.SecurityDescriptor{Owner: sid(519), DACLPresent: true, DACL: []directory.ACE{
				allow(sid(512), directory.RightsFullControl, ""),
				allow(sid(519), directory.RightsFullControl, ""),
				allow(sid(513), directory.RightExtendedRight, directory.GUIDCertificateEnrollment),
				allow(directory.SIDAuthenticatedUsers, directory.RightReadProperty|directory.RightReadControl, ""),
			}},
		}},
		EnrollmentServices: []directory.EnrollmentService{{DN: "CN=corp-CA,CN=Enrollment Services,CN=Public Key Services,CN=Services,CN=Configuration," + base, Name: "corp-CA", Templates: []string{"User"}}},
		Entra: &directory.Entra{
			TenantID: "tenant-1",
			Users: []directory.EntraUser{
				{ID: "u-cloudadmin", UPN: "cloudadmin@corp.test", Enabled: true, Registration: &directory.AuthRegistration{MFARegistered: true, Methods: []string{"fido2"}}},
				{ID: "u-alice", UPN: "alice@corp.test", Enabled: true, OnPremisesSID: alice.SID, OnPremisesSync: true, Registration: &directory.AuthRegistration{MFARegistered: false}},
				{ID: "u-bob", UPN: "bob@corp.test", Enabled: true, OnPremisesSID: bob.SID, OnPremisesSync: true, Registration: &directory.AuthRegistration{MFARegistered: true}},
			},
			Roles: []directory.EntraRole{{
				ID: directory.RoleGlobalAdministrator, TemplateID: directory.RoleGlobalAdministrator, DisplayName: "Global Administrator", BuiltIn: true, Privileged: true,
				Assignments: []directory.EntraRoleAssignment{
					{ID: "a1", Kind: directory.AssignmentEligible, PrincipalID: "u-cloudadmin", PrincipalType: "user", PrincipalName: "cloudadmin@corp.test", DirectoryScopeID: "/"},
					{ID: "a2", Kind: directory.AssignmentActive, PrincipalID: "u-cloudadmin", PrincipalType: "user", PrincipalName: "cloudadmin@corp.test", DirectoryScopeID: "/", Start: ago(1), End: fixtureNow.Add(7 * time.Hour), ViaPIM: true},
				},
			}, {
				ID: "r-reader", TemplateID: "88d8e3e3-8f55-4a1e-953a-9b9898b8876b", DisplayName: "Directory Readers", BuiltIn: true,
				Assignments: []directory.EntraRoleAssignment{{ID: "a3", Kind: directory.AssignmentActive, PrincipalID: "u-alice", PrincipalType: "user", PrincipalName: "alice@corp.test"}},
			}},
		},
	}
	return s
}

// mutate helpers.

func (f fx) user(name string) *directory.Account {
	for i := range f.s.Users {
		if f.s.Users[i].SAMAccountName == name {
			return &f.s.Users[i].Account
		}
	}
	panic("no user " + name)
}

func (f fx) computer(name string) *directory.Computer {
	for i := range f.s.Computers {
		if f.s.Computers[i].SAMAccountName == name {
			return &f.s.Computers[i]
		}
	}
	panic("no computer " + name)
}

func (f fx) group(name string) *directory.Group {
	for i := range f.s.Groups {
		if f.s.Groups[i].Name == name {
			return &f.s.Groups[i]
		}
	}
	panic("no group " + name)
}

// addUser appends a user and returns it.
func (f fx) addUser(u directory.User) *directory.Account {
	f.s.Users = append(f.s.Users, u)
	return &f.s.Users[len(f.s.Users)-1].Account
}

func (f fx) addMember(groupName, memberDN string) {
	g := f.group(groupName)
	g.Members = append(g.Members, memberDN)
}

type fx struct{ s *directory.Snapshot }
