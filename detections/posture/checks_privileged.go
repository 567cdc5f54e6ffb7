package posture

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/mappings/directory"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

const day = 24 * time.Hour

func privilegedAssessments() []*Assessment {
	return []*Assessment{
		{
			ID: "kerberoastable-privileged", Title: "Privileged accounts with a service principal name",
			Severity: schema.SeverityCritical, Category: CategoryPrivileged, Technique: "T1558.003",
			MDI:         "Unsecure account attributes (SPN on a user account) — privileged",
			Description: "Enabled privileged user accounts with a servicePrincipalName: any domain user can request a ticket for them and crack the password offline into domain admin.",
			Remediation: []string{"Remove the SPN from the privileged account (setspn -D) and run the service under a gMSA that is not privileged.", "Reset the account's password to 25+ random characters now: it may already be cracked."},
			check: func(v *view) []hit {
				return v.userHits(func(a *directory.Account) string {
					if !roastable(a) || !v.accountPrivileged(a) {
						return ""
					}
					return spnEvidence(a) + "; privileged through " + v.privilegeText(a)
				})
			},
		},
		{
			ID: "privileged-password-never-expires", Title: "Privileged accounts whose password never expires",
			Severity: schema.SeverityMedium, Category: CategoryPrivileged, Technique: "T1078.002",
			MDI:         "(retired MDI assessment \"Do not expire passwords\"; PingCastle P-AdminPwdNeverExpires)",
			Description: "Enabled privileged accounts with DONT_EXPIRE_PASSWORD (userAccountControl 0x10000): a leaked password stays valid for ever.",
			Remediation: []string{"Clear \"Password never expires\" (Set-ADUser -PasswordNeverExpires $false) or move the account to a fine-grained policy with rotation.", "Prefer smart-card or Windows Hello logon for admins."},
			check: func(v *view) []hit {
				return v.userHits(func(a *directory.Account) string {
					if !a.Enabled() || !a.UAC.DontExpire() || !v.accountPrivileged(a) {
						return ""
					}
					return uacEvidence(a, directory.UACDontExpirePassword) + "; privileged through " + v.privilegeText(a)
				})
			},
		},
		{
			ID: "krbtgt-password-age", Title: "krbtgt password older than 180 days",
			Severity: schema.SeverityHigh, Category: CategoryPrivileged, Technique: "T1558.001",
			MDI:         "Change password for krbtgt account",
			Description: fmt.Sprintf("The krbtgt account's pwdLastSet is more than %d days ago: a golden ticket forged with a stolen krbtgt key stays valid until the password changes twice.", krbtgtMaxDays),
			Remediation: []string{"Reset the krbtgt password with Microsoft's New-KrbtgtKeys.ps1 script.", "Wait for replication and the maximum ticket lifetime (10 h by default), then reset it a second time."},
			check: func(v *view) []hit {
				return v.userHits(func(a *directory.Account) string {
					if !v.wellKnown(a, directory.RidKrbtgt) {
						return ""
					}
					return v.passwordAge(a.PwdLastSet, a.DN, krbtgtMaxDays)
				})
			},
		},
		{
			ID: "builtin-admin-password-age", Title: "Built-in Administrator password older than 180 days",
			Severity: schema.SeverityMedium, Category: CategoryPrivileged, Technique: "T1078.002",
			MDI:         "Change password of built-in domain Administrator account",
			Description: fmt.Sprintf("The built-in Administrator account (RID 500) has pwdLastSet more than %d days ago. It cannot be locked out, so an old password is a standing target.", adminPasswordMaxDays),
			Remediation: []string{"Reset the built-in Administrator password to a long random one kept in a vault.", "Use named admin accounts for daily work and keep RID 500 for break-glass."},
			check: func(v *view) []hit {
				return v.userHits(func(a *directory.Account) string {
					if !v.wellKnown(a, directory.RidAdministrator) {
						return ""
					}
					return v.passwordAge(a.PwdLastSet, a.DN+" (RID 500)", adminPasswordMaxDays)
				})
			},
		},
		{
			ID: "dc-password-age", Title: "Domain controller machine password older than 45 days",
			Severity: schema.SeverityMedium, Category: CategoryPrivileged, Technique: "T1558.002",
			MDI:         "Change Domain Controller computer account old password",
			Description: fmt.Sprintf("A DC's computer account has pwdLastSet more than %d days ago: DCs rotate it every 30 days, so the DC is broken, restored from an old backup, or its hash was pinned by an attacker (silver tickets for the DC).", dcPasswordMaxDays),
			Remediation: []string{"Check the DC's health and replication (repadmin /showrepl, dcdiag).", "Reset the machine password on the DC: Reset-ComputerMachinePassword -Server <other DC>."},
			check: func(v *view) []hit {
				return v.computerHits(func(c *directory.Computer) string {
					if !isDC(&c.Account, c) {
						return ""
					}
					return v.passwordAge(c.PwdLastSet, "DC "+c.DN, dcPasswordMaxDays)
				})
			},
		},
		{
			ID: "dormant-privileged", Title: "Dormant accounts in sensitive groups",
			Severity: schema.SeverityMedium, Category: CategoryPrivileged, Technique: "T1078.002",
			MDI:         "Dormant entities in sensitive groups",
			Description: fmt.Sprintf("Enabled privileged accounts with no logon (lastLogonTimestamp) in %d days, or never, and created over %d days ago: unused privilege an attacker can take over unnoticed.", dormantDays, dormantDays),
			Remediation: []string{"Remove the account from the privileged groups, or disable it.", "Delete it after confirming nobody needs it."},
			check: func(v *view) []hit {
				return v.userHits(func(a *directory.Account) string {
					if !a.Enabled() || !v.accountPrivileged(a) || a.RID() == directory.RidKrbtgt {
						return ""
					}
					last := a.LastLogon
					if !last.IsZero() && v.age(last) <= dormantDays*day {
						return ""
					}
					if last.IsZero() && (a.WhenCreated.IsZero() || v.age(a.WhenCreated) <= dormantDays*day) {
						return ""
					}
					ev := fmt.Sprintf("lastLogonTimestamp %s on %s", date(last), a.DN)
					if !last.IsZero() {
						ev += " (" + days(v.age(last)) + " ago)"
					} else {
						ev += fmt.Sprintf(" (whenCreated %s)", date(a.WhenCreated))
					}
					return ev + "; privileged through " + v.privilegeText(a)
				})
			},
		},
		{
			ID: "dcsync-rights", Title: "Non-admin principals with DCSync rights",
			Severity: schema.SeverityCritical, Category: CategoryPrivileged, Technique: "T1003.006",
			MDI:         "Remove non-admin accounts with DCSync permissions",
			Description: "The domain root's DACL grants DS-Replication-Get-Changes and DS-Replication-Get-Changes-All (or full control) to a principal that is not a domain controller or tier-0 admin: it can pull every password hash, krbtgt's included.",
			Remediation: []string{"Remove the replication ACEs for the principal from the domain root (dsacls \"DC=…\" /R <principal>, or ADSI Edit → Security).", "If it is an Entra Connect account using password hash sync, keep it but protect it as tier 0."},
			check: func(v *view) []hit {
				sd := v.s.Domain.ACL
				if sd == nil {
					return nil
				}
				type rights struct {
					changes, all []directory.ACE
				}
				per := map[string]*rights{}
				var order []string
				for _, ace := range sd.DACL {
					if v.tier0(ace.Trustee) {
						continue
					}
					c := ace.Grants(directory.RightExtendedRight, directory.GUIDReplicationGetChanges)
					all := ace.Grants(directory.RightExtendedRight, directory.GUIDReplicationGetChangesAll)
					if !c && !all {
						continue
					}
					r := per[ace.Trustee]
					if r == nil {
						r = &rights{}
						per[ace.Trustee] = r
						order = append(order, ace.Trustee)
					}
					if c {
						r.changes = append(r.changes, ace)
					}
					if all {
						r.all = append(r.all, ace)
					}
				}
				var hits []hit
				for _, sid := range order {
					r := per[sid]
					if len(r.changes) == 0 || len(r.all) == 0 {
						continue
					}
					aces := []string{v.aceText(r.changes[0])}
					if r.all[0] != r.changes[0] {
						aces = append(aces, v.aceText(r.all[0]))
					}
					hits = append(hits, hit{[]string{v.entity(sid)}, fmt.Sprintf("domain root %s DACL: %s", v.s.Domain.DN, strings.Join(aces, "; "))})
				}
				return hits
			},
		},
		{
			ID: "adminsdholder-acl", Title: "Non-privileged principals in the AdminSDHolder ACL",
			Severity: schema.SeverityHigh, Category: CategoryPrivileged, Technique: "T1098",
			MDI:         "Remove access rights on suspicious accounts with the AdminSDHolder permission",
			Description: "CN=AdminSDHolder's DACL grants write, full control, WriteDacl or WriteOwner to a principal that is not a tier-0 admin: SDProp copies that ACE onto every protected admin account and group within the hour (a classic persistence backdoor).",
			Remediation: []string{"Remove the ACE from CN=AdminSDHolder,CN=System (dsacls or ADSI Edit).", "Wait for SDProp (or run it) and check the protected objects lost the ACE; investigate how it got there."},
			check: func(v *view) []hit {
				dn := "CN=AdminSDHolder,CN=System," + v.s.Domain.DN
				return v.writeACEHits(v.s.Domain.AdminSDHolder, dn, dn, func(sid string) bool {
					return v.aclTrusted(sid)
				})
			},
		},
		{
			ID: "domain-root-write", Title: "Non-privileged principals that can modify the domain root",
			Severity: schema.SeverityCritical, Category: CategoryPrivileged, Technique: "T1484",
			MDI:         "(PingCastle P-DelegationDangerous / BloodHound GenericAll, WriteDacl on the domain)",
			Description: "The domain root's DACL grants full control, WriteDacl, WriteOwner or write to every property to a non-privileged principal: it can grant itself DCSync or link a GPO to the whole domain.",
			Remediation: []string{"Remove the ACE from the domain root.", "Delegate narrowly instead (specific properties on specific OUs)."},
			check: func(v *view) []hit {
				return v.writeACEHits(v.s.Domain.ACL, v.s.Domain.DN, "domain root "+v.s.Domain.DN, func(sid string) bool {
					return v.tier0(sid) || sid == directory.SIDPrincipalSelf || sid == directory.SIDCreatorOwner
				})
			},
		},
		{
			ID: "dnsadmins-members", Title: "Non-privileged members of DnsAdmins",
			Severity: schema.SeverityHigh, Category: CategoryPrivileged, Technique: "T1068",
			MDI:         "Unsafe permissions on the DnsAdmins group",
			Description: "Members of DnsAdmins who are not already tier-0 admins: they can make the DNS service on a DC load a DLL of their choice (ServerLevelPluginDll) and run code as SYSTEM on the DC.",
			Remediation: []string{"Remove the members from DnsAdmins; manage DNS through tier-0 admins only.", "Monitor changes to DnsAdmins membership and the ServerLevelPluginDll registry value."},
			check: func(v *view) []hit {
				var hits []hit
				for i := range v.s.Groups {
					g := &v.s.Groups[i]
					if !strings.EqualFold(g.Name, "DnsAdmins") {
						continue
					}
					for _, m := range g.EffectiveMembers {
						p := v.byDN[strings.ToLower(m)]
						if p != nil && v.tier0(p.sid) {
							continue
						}
						hits = append(hits, hit{[]string{m}, fmt.Sprintf("%s is a member of %s (%s) and not a tier-0 admin", m, g.Name, v.viaText(p, g))})
					}
				}
				return hits
			},
		},
		{
			ID: "operator-group-members", Title: "Members of built-in operator groups",
			Severity: schema.SeverityMedium, Category: CategoryPrivileged, Technique: "T1078.002",
			MDI:         "Locate accounts in built-in Operator Groups",
			Description: "Members of Account Operators, Server Operators, Print Operators or Backup Operators: each group can log on to DCs and has a known path to domain admin (backup the DIT, load drivers, change services, edit non-protected groups).",
			Remediation: []string{"Empty the operator groups; grant the needed tasks through scoped delegation instead.", "Treat any member that must stay as tier 0."},
			check: func(v *view) []hit {
				var hits []hit
				for _, sid := range operatorSIDs {
					p := v.bySID[sid]
					if p == nil || p.group == nil {
						continue
					}
					for _, m := range p.group.EffectiveMembers {
						hits = append(hits, hit{[]string{m}, fmt.Sprintf("%s is a member of %s (%s)", m, p.group.Name, v.viaText(v.byDN[strings.ToLower(m)], p.group))})
					}
				}
				return hits
			},
		},
		{
			ID: "service-account-privileged", Title: "Service accounts in privileged groups",
			Severity: schema.SeverityHigh, Category: CategoryPrivileged, Technique: "T1078.002",
			MDI:         "Identify service accounts in privileged groups",
			Description: "Enabled service accounts — managed service accounts, or user accounts with an SPN or a service-like name (svc, service, sa_) — that are members of privileged groups directly or through nesting: their passwords sit in service configurations on ordinary servers.",
			Remediation: []string{"Remove the service account from privileged groups and grant only the rights the service needs.", "Move the service to a gMSA."},
			check: func(v *view) []hit {
				return v.userHits(func(a *directory.Account) string {
					if !a.Enabled() || a.RID() == directory.RidKrbtgt || a.RID() == directory.RidAdministrator || !v.accountPrivileged(a) {
						return ""
					}
					why := serviceAccountReason(a)
					if why == "" {
						return ""
					}
					return fmt.Sprintf("%s is a service account (%s) and privileged through %s", a.DN, why, v.privilegeText(a))
				})
			},
		},
	}
}

// serviceAccountReason says why an account looks like a service account
// ("" if it does not).
func serviceAccountReason(a *directory.Account) string {
	oc := strings.ToLower(a.ObjectClass)
	if strings.HasPrefix(oc, "msds-") && strings.HasSuffix(oc, "serviceaccount") {
		return "objectClass " + a.ObjectClass
	}
	if len(a.SPNs) > 0 {
		return "servicePrincipalName " + a.SPNs[0]
	}
	n := strings.ToLower(a.SAMAccountName)
	for _, p := range []string{"svc", "service", "sa_", "sa-", "srv_", "srv-"} {
		if strings.HasPrefix(n, p) || strings.HasSuffix(n, strings.Trim(p, "_-")) {
			return fmt.Sprintf("name %q", a.SAMAccountName)
		}
	}
	return ""
}

// privilegeText names the privileged groups an account belongs to.
func (v *view) privilegeText(a *directory.Account) string {
	if len(a.PrivilegedGroups) > 0 {
		return strings.Join(a.PrivilegedGroups, ", ")
	}
	var names []string
	p := v.bySID[a.SID]
	if p != nil {
		for _, g := range v.groupsOf(p) {
			if v.isTier0Direct(g) || slices.Contains(operatorSIDs, g) {
				names = append(names, strings.TrimSuffix(v.name(g), " ("+g+")"))
			}
		}
	}
	if len(names) == 0 {
		return "a privileged group"
	}
	return strings.Join(names, ", ")
}

// viaText says whether a member is direct or nested.
func (v *view) viaText(p *principal, g *directory.Group) string {
	if p == nil {
		return "member"
	}
	if slices.ContainsFunc(g.Members, func(m string) bool { return strings.EqualFold(m, p.dn) }) {
		return "direct member"
	}
	if p.account != nil && p.account.PrimaryGroupID != 0 && v.ridSID(p.account.PrimaryGroupID) == g.SID {
		return "primary group"
	}
	return "nested member"
}

// aceText renders an ACE with its trustee named.
func (v *view) aceText(a directory.ACE) string {
	if a.TrusteeName == "" {
		if n := strings.TrimSuffix(v.name(a.Trustee), " ("+a.Trustee+")"); n != a.Trustee {
			a.TrusteeName = n
		}
	}
	return "ACE " + a.String()
}

// controlACE reports whether an ACE gives control of its object: full
// control, WriteDacl, WriteOwner, or WriteProperty on all properties.
func controlACE(a directory.ACE) bool {
	if !a.Allow() || !a.AppliesToObject() {
		return false
	}
	m := a.Mask.Effective()
	if m.Has(directory.RightWriteDacl) || m.Has(directory.RightWriteOwner) {
		return true
	}
	return a.ObjectType == "" && m.Has(directory.RightWriteProperty)
}

// writeACEHits lists the ACEs of sd that give control of the object to a
// principal trusted() does not accept, one hit per trustee.
func (v *view) writeACEHits(sd *directory.SecurityDescriptor, objectDN, what string, trusted func(string) bool) []hit {
	if sd == nil {
		return nil
	}
	var hits []hit
	seen := map[string]bool{}
	for _, ace := range sd.DACL {
		if !controlACE(ace) || trusted(ace.Trustee) || seen[ace.Trustee] {
			continue
		}
		seen[ace.Trustee] = true
		hits = append(hits, hit{[]string{v.entity(ace.Trustee), objectDN}, fmt.Sprintf("%s DACL: %s", what, v.aceText(ace))})
	}
	return hits
}
