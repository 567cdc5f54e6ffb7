package posture

import (
	"fmt"
	"strings"

	"github.com/castellan-itdr/castellan/mappings/directory"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

func delegationAssessments() []*Assessment {
	return []*Assessment{
		{
			ID: "unconstrained-delegation", Title: "Unconstrained Kerberos delegation on non-DC accounts",
			Severity: schema.SeverityHigh, Category: CategoryDelegation, Technique: "T1558",
			MDI:         "Unsecure Kerberos delegation (unconstrained)",
			Description: "Enabled computers or users other than domain controllers with TRUSTED_FOR_DELEGATION (userAccountControl 0x80000): every user who authenticates to them leaves a forwardable TGT in memory, and coercing a DC to authenticate (printer bug, PetitPotam) yields the DC's TGT.",
			Remediation: []string{"Replace unconstrained delegation with constrained delegation (msDS-AllowedToDelegateTo) or resource-based delegation to the exact services needed.", "Clear \"Trust this computer for delegation to any service\" (Set-ADAccountControl -TrustedForDelegation $false).", "Mark admin accounts \"sensitive and cannot be delegated\" or add them to Protected Users."},
			check: func(v *view) []hit {
				var hits []hit
				v.accounts(func(a *directory.Account, c *directory.Computer) {
					if a.Enabled() && a.UAC.TrustedForDelegation() && !isDC(a, c) {
						hits = append(hits, hit{[]string{a.DN}, uacEvidence(a, directory.UACTrustedForDelegation)})
					}
				})
				return hits
			},
		},
		{
			ID: "constrained-delegation-protocol-transition", Title: "Constrained delegation with protocol transition to sensitive services",
			Severity: schema.SeverityHigh, Category: CategoryDelegation, Technique: "T1558",
			MDI:         "Unsecure Kerberos delegation (KCD with protocol transition to a privileged service)",
			Description: "Accounts with TRUSTED_TO_AUTH_FOR_DELEGATION (userAccountControl 0x1000000) whose msDS-AllowedToDelegateTo names a service on a domain controller or of a privileged account: whoever controls the account can impersonate any user, Domain Admins included, to that service without their password (S4U2self + S4U2proxy).",
			Remediation: []string{"Remove the DC or privileged services from msDS-AllowedToDelegateTo.", "If delegation is needed, clear \"Use any authentication protocol\" (TRUSTED_TO_AUTH_FOR_DELEGATION) so only Kerberos-authenticated users are delegated.", "Protect the delegating account as tier 0 while the setting remains."},
			check: func(v *view) []hit {
				owners := v.spnOwners()
				var hits []hit
				v.accounts(func(a *directory.Account, c *directory.Computer) {
					if !a.Enabled() || !a.UAC.TrustedToAuthForDelegation() || isDC(a, c) {
						return
					}
					var bad []string
					for _, spn := range a.AllowedToDelegateTo {
						switch o := owners[strings.ToLower(spn)]; {
						case v.spnTargetsDC(spn):
							bad = append(bad, spn+" (a domain controller)")
						case o != nil && v.sensitive(o):
							bad = append(bad, spn+" (registered on privileged "+o.SAMAccountName+")")
						}
					}
					if len(bad) > 0 {
						hits = append(hits, hit{[]string{a.DN}, fmt.Sprintf("%s; msDS-AllowedToDelegateTo %s", uacEvidence(a, directory.UACTrustedToAuthForDelegation), strings.Join(bad, ", "))})
					}
				})
				return hits
			},
		},
		{
			ID: "rbcd-sensitive", Title: "Resource-based constrained delegation to sensitive objects",
			Severity: schema.SeverityHigh, Category: CategoryDelegation, Technique: "T1558",
			MDI:         "Unsecure Kerberos delegation (RBCD on sensitive entities)",
			Description: "Domain controllers, krbtgt or privileged accounts whose msDS-AllowedToActOnBehalfOfOtherIdentity lets another principal delegate to them: that principal can get a service ticket to them as any user.",
			Remediation: []string{"Clear msDS-AllowedToActOnBehalfOfOtherIdentity on the object (Set-ADComputer -PrincipalsAllowedToDelegateToAccount $null).", "Find out who wrote it: it is a common privilege-escalation step after taking over a computer account."},
			check: func(v *view) []hit {
				var hits []hit
				v.accounts(func(a *directory.Account, c *directory.Computer) {
					sd := a.AllowedToActOnBehalf
					if sd == nil || !(v.sensitive(a) || isDC(a, c)) {
						return
					}
					for _, ace := range sd.DACL {
						if !ace.Allow() {
							continue
						}
						hits = append(hits, hit{[]string{a.DN, v.entity(ace.Trustee)}, fmt.Sprintf("msDS-AllowedToActOnBehalfOfOtherIdentity on sensitive %s allows %s (%s)", a.DN, v.name(ace.Trustee), v.aceText(ace))})
					}
				})
				return hits
			},
		},
		{
			ID: "privileged-delegable", Title: "Privileged accounts that can be delegated",
			Severity: schema.SeverityMedium, Category: CategoryDelegation, Technique: "T1558",
			MDI:         "Ensure privileged accounts are not delegated",
			Description: "Enabled privileged user accounts without NOT_DELEGATED (\"Account is sensitive and cannot be delegated\", userAccountControl 0x100000) and outside Protected Users: a server trusted for delegation receives their forwardable tickets.",
			Remediation: []string{"Set \"Account is sensitive and cannot be delegated\" (Set-ADAccountControl -AccountNotDelegated $true).", "Or add the account to Protected Users (see privileged-not-protected-users)."},
			check: func(v *view) []hit {
				var hits []hit
				for i := range v.s.Users {
					a := &v.s.Users[i].Account
					if !a.Enabled() || a.RID() == directory.RidKrbtgt || !v.accountPrivileged(a) || a.UAC.NotDelegated() || v.inGroup(a, v.ridSID(directory.RidProtectedUsers)) {
						continue
					}
					hits = append(hits, hit{[]string{a.DN}, fmt.Sprintf("userAccountControl 0x%X (%s) on %s lacks NOT_DELEGATED (0x100000) and the account is not in Protected Users; privileged through %s", uint32(a.UAC), a.UAC, a.DN, v.privilegeText(a))})
				}
				return hits
			},
		},
		{
			ID: "privileged-not-protected-users", Title: "Privileged accounts outside Protected Users",
			Severity: schema.SeverityLow, Category: CategoryDelegation, Technique: "T1550.002",
			MDI:         "(Purple Knight: privileged users not in Protected Users)",
			Description: "Enabled privileged user accounts that are not members of Protected Users (RID 525): their NTLM hashes and RC4/DES keys are cached and usable, and their tickets can be delegated.",
			Remediation: []string{"Add interactive admin accounts to Protected Users (domain functional level 2012 R2 or later).", "Test first: members cannot use NTLM, DES/RC4 or delegation."},
			check: func(v *view) []hit {
				pu := v.ridSID(directory.RidProtectedUsers)
				var hits []hit
				for i := range v.s.Users {
					a := &v.s.Users[i].Account
					if !a.Enabled() || a.RID() == directory.RidKrbtgt || !v.accountPrivileged(a) || v.inGroup(a, pu) {
						continue
					}
					hits = append(hits, hit{[]string{a.DN}, fmt.Sprintf("%s is not a member of Protected Users (%s); privileged through %s", a.DN, pu, v.privilegeText(a))})
				}
				return hits
			},
		},
	}
}

// spnOwners maps lower-case SPNs to the account that registered them.
func (v *view) spnOwners() map[string]*directory.Account {
	m := map[string]*directory.Account{}
	v.accounts(func(a *directory.Account, _ *directory.Computer) {
		for _, s := range a.SPNs {
			m[strings.ToLower(s)] = a
		}
	})
	return m
}
