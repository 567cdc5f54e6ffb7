package posture

import (
	"fmt"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/mappings/directory"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Age thresholds of the password and logon assessments.
const (
	krbtgtMaxDays        = 180
	adminPasswordMaxDays = 180
	dcPasswordMaxDays    = 45
	dormantDays          = 180
	lapsStaleDays        = 30 // past the LAPS expiry: not rotated for over a month
)

func accountAssessments() []*Assessment {
	return []*Assessment{
		{
			ID: "asrep-roastable", Title: "Accounts that do not require Kerberos pre-authentication",
			Severity: schema.SeverityHigh, Category: CategoryAccounts, Technique: "T1558.004",
			MDI:         "Unsecure account attributes (Kerberos pre-authentication not required)",
			Description: "Enabled accounts with DONT_REQ_PREAUTH (userAccountControl 0x400000): anyone can request an AS-REP for them and crack the password offline (AS-REP roasting).",
			Remediation: []string{"Clear \"Do not require Kerberos preauthentication\" on the account (Set-ADAccountControl -DoesNotRequirePreAuth $false).", "If an application needs it, give the account a long random password and monitor AS requests for it."},
			check: func(v *view) []hit {
				return v.uacHits(directory.UACDontReqPreauth, false)
			},
		},
		{
			ID: "password-not-required", Title: "Accounts that may have an empty password",
			Severity: schema.SeverityMedium, Category: CategoryAccounts, Technique: "T1078.002",
			MDI:         "Unsecure account attributes (password not required)",
			Description: "Enabled accounts with PASSWD_NOTREQD (userAccountControl 0x20): the password policy does not apply and the password may be blank.",
			Remediation: []string{"Clear the flag: Set-ADAccountControl -PasswordNotRequired $false.", "Reset the account's password to one that meets the policy."},
			check: func(v *view) []hit {
				return v.uacHits(directory.UACPasswdNotReqd, false)
			},
		},
		{
			ID: "reversible-encryption", Title: "Passwords stored with reversible encryption",
			Severity: schema.SeverityMedium, Category: CategoryAccounts, Technique: "T1003.006",
			MDI:         "Unsecure account attributes (reversible encryption)",
			Description: "Accounts with ENCRYPTED_TEXT_PWD_ALLOWED (userAccountControl 0x80), or a domain policy that stores every password reversibly (pwdProperties 0x10): the cleartext password is recoverable by anyone who can replicate or read the DIT.",
			Remediation: []string{"Clear \"Store password using reversible encryption\" on the account (or pwdProperties bit 0x10 in the domain policy).", "Reset the affected passwords: the reversible copy stays until the next change."},
			check: func(v *view) []hit {
				hits := v.uacHits(directory.UACEncryptedTextPwdAllowed, false)
				if v.s.Domain.PasswordPolicy.ReversibleEncryption() {
					hits = append(hits, hit{entities: []string{v.s.Domain.DN},
						evidence: fmt.Sprintf("pwdProperties 0x%X includes DOMAIN_PASSWORD_STORE_CLEARTEXT (0x10) on %s", v.s.Domain.PasswordPolicy.Properties, v.s.Domain.DN)})
				}
				return hits
			},
		},
		{
			ID: "des-enabled", Title: "Accounts limited to DES Kerberos keys",
			Severity: schema.SeverityMedium, Category: CategoryAccounts, Technique: "T1558",
			MDI:         "Unsecure account attributes (DES-only / weak encryption)",
			Description: "Enabled accounts with USE_DES_KEY_ONLY (userAccountControl 0x200000) or msDS-SupportedEncryptionTypes allowing only DES: their tickets use a cipher broken in hours.",
			Remediation: []string{"Clear \"Use only Kerberos DES encryption types\" (Set-ADAccountControl -UseDESKeyOnly $false).", "Set msDS-SupportedEncryptionTypes to 0x18 (AES128+AES256) and reset the password so AES keys exist."},
			check: func(v *view) []hit {
				var hits []hit
				v.accounts(func(a *directory.Account, _ *directory.Computer) {
					if !a.Enabled() {
						return
					}
					switch {
					case a.UAC.UseDESKeyOnly():
						hits = append(hits, hit{[]string{a.DN}, uacEvidence(a, directory.UACUseDESKeyOnly)})
					case a.EncTypes.DESOnly():
						hits = append(hits, hit{[]string{a.DN}, encEvidence(a)})
					}
				})
				return hits
			},
		},
		{
			ID: "rc4-only", Title: "Accounts without AES Kerberos keys (RC4 only)",
			Severity: schema.SeverityLow, Category: CategoryAccounts, Technique: "T1558.003",
			MDI:         "Unsecure account attributes (AES not enabled) / Weak cipher usage",
			Description: "Enabled accounts whose msDS-SupportedEncryptionTypes enables RC4-HMAC but no AES type: their service tickets are RC4, the cipher Kerberoasting cracks fastest.",
			Remediation: []string{"Set msDS-SupportedEncryptionTypes to 0x18 (AES128+AES256), or 0x1C while RC4 clients remain.", "Reset the password so AES keys are generated."},
			check: func(v *view) []hit {
				var hits []hit
				v.accounts(func(a *directory.Account, _ *directory.Computer) {
					if a.Enabled() && a.EncTypes.RC4Only() && !a.EncTypes.DESOnly() {
						hits = append(hits, hit{[]string{a.DN}, encEvidence(a)})
					}
				})
				return hits
			},
		},
		{
			ID: "kerberoastable-user", Title: "User accounts with a service principal name (Kerberoastable)",
			Severity: schema.SeverityMedium, Category: CategoryAccounts, Technique: "T1558.003",
			MDI:         "Unsecure account attributes (SPN on a user account)",
			Description: "Enabled user accounts (not computers, not krbtgt, not managed service accounts) with a servicePrincipalName: any domain user can request a service ticket encrypted with the account's password and crack it offline.",
			Remediation: []string{"Move the service to a group managed service account (gMSA), whose 240-character password cannot be cracked.", "Otherwise give the account a password of 25+ random characters, enable AES only, and remove SPNs no longer used."},
			check: func(v *view) []hit {
				return v.userHits(func(a *directory.Account) string {
					if !roastable(a) {
						return ""
					}
					return spnEvidence(a)
				})
			},
		},
		{
			ID: "guest-enabled", Title: "Built-in Guest account is enabled",
			Severity: schema.SeverityMedium, Category: CategoryAccounts, Technique: "T1078.001",
			MDI:         "Built-in Active Directory Guest account is enabled",
			Description: "The domain's Guest account (RID 501) is enabled: anyone can authenticate without a password and read the directory.",
			Remediation: []string{"Disable the Guest account (Disable-ADAccount Guest).", "Check the Guest account is not a member of any group beyond Domain Guests."},
			check: func(v *view) []hit {
				return v.userHits(func(a *directory.Account) string {
					if !v.wellKnown(a, directory.RidGuest) || !a.Enabled() {
						return ""
					}
					return fmt.Sprintf("userAccountControl 0x%X (%s) on %s (RID 501) lacks ACCOUNTDISABLE (0x2)", uint32(a.UAC), a.UAC, a.DN)
				})
			},
		},
		{
			ID: "non-default-primary-group", Title: "Accounts with a non-default primary group",
			Severity: schema.SeverityMedium, Category: CategoryAccounts, Technique: "T1098",
			MDI:         "Accounts with non-default Primary Group ID",
			Description: "Users whose primaryGroupID is not 513 (Domain Users; 514 for Guest), computers not 515 (Domain Computers) and DCs not 516/521: the primary group does not show in the group's member attribute, a known way to hide privileged membership.",
			Remediation: []string{"Set primaryGroupID back to the default (513 for users, 515 for computers) after adding the account to the intended group explicitly.", "Review why the primary group was changed."},
			check: func(v *view) []hit {
				var hits []hit
				v.accounts(func(a *directory.Account, c *directory.Computer) {
					want := []uint32{directory.RidDomainUsers}
					switch {
					case isDC(a, c):
						want = []uint32{directory.RidDomainControllers, directory.RidReadOnlyDCs}
					case c != nil || a.UAC.Has(directory.UACWorkstationTrustAccount):
						want = []uint32{directory.RidDomainComputers}
					case a.RID() == directory.RidGuest:
						want = []uint32{directory.RidDomainGuests}
					case strings.HasPrefix(strings.ToLower(a.ObjectClass), "msds-") && strings.HasSuffix(strings.ToLower(a.ObjectClass), "serviceaccount"):
						want = []uint32{directory.RidDomainComputers}
					}
					if a.PrimaryGroupID == 0 {
						return
					}
					for _, w := range want {
						if a.PrimaryGroupID == w {
							return
						}
					}
					g := v.name(v.ridSID(a.PrimaryGroupID))
					hits = append(hits, hit{[]string{a.DN}, fmt.Sprintf("primaryGroupID %d (%s) on %s; default is %d", a.PrimaryGroupID, g, a.DN, want[0])})
				})
				return hits
			},
		},
		{
			ID: "unsafe-sid-history", Title: "Accounts with unsafe SID history",
			Severity: schema.SeverityHigh, Category: CategoryAccounts, Technique: "T1134.005",
			MDI:         "Unsecure SID History attributes",
			Description: "Accounts or groups whose sIDHistory holds a SID of this domain, a well-known privileged SID (RID below 1000, builtin groups) or a SID of a privileged principal: the account gets those rights in every access check.",
			Remediation: []string{"Clear sIDHistory once the migration it served is complete (Set-ADUser -Remove @{sIDHistory=...}).", "Enable SID filtering (quarantine) on external trusts."},
			check: func(v *view) []hit {
				var hits []hit
				check := func(dn string, hist []string) {
					for _, sid := range hist {
						var why string
						switch {
						case directory.DomainOf(sid) == v.domainSID && v.domainSID != "":
							why = "a SID of this same domain"
						case strings.HasPrefix(sid, "S-1-5-32-"):
							why = "a builtin group SID"
						case directory.DomainOf(sid) != "" && directory.RID(sid) < 1000:
							why = fmt.Sprintf("a well-known RID %d of another domain", directory.RID(sid))
						case v.privileged(sid):
							why = "a privileged principal's SID"
						default:
							continue
						}
						hits = append(hits, hit{[]string{dn}, fmt.Sprintf("sIDHistory %s (%s) on %s: %s", sid, v.name(sid), dn, why)})
					}
				}
				v.accounts(func(a *directory.Account, _ *directory.Computer) { check(a.DN, a.SIDHistory) })
				return hits
			},
		},
		{
			ID: "laps-missing", Title: "Computers without LAPS",
			Severity: schema.SeverityMedium, Category: CategoryAccounts, Technique: "T1078.003",
			MDI:         "Microsoft LAPS usage",
			Description: "Enabled non-DC computers where neither ms-Mcs-AdmPwdExpirationTime (Microsoft LAPS) nor msLAPS-PasswordExpirationTime (Windows LAPS) is set: their local administrator password is probably shared, so one stolen hash opens every machine.",
			Remediation: []string{"Deploy Windows LAPS (built into Windows since April 2023) with a GPO or Intune policy that backs the password up to AD.", "Check the computer applies the policy (Get-LapsADPassword)."},
			check: func(v *view) []hit {
				return v.computerHits(func(c *directory.Computer) string {
					if !c.Enabled() || isDC(&c.Account, c) || c.LAPS.Managed() {
						return ""
					}
					return fmt.Sprintf("neither ms-Mcs-AdmPwdExpirationTime nor msLAPS-PasswordExpirationTime is set on %s (schema: legacy LAPS %s, Windows LAPS %s)", c.DN, present(c.LAPS.SchemaLegacy), present(c.LAPS.SchemaWindows))
				})
			},
		},
		{
			ID: "laps-stale", Title: "Computers whose LAPS password is not rotated",
			Severity: schema.SeverityLow, Category: CategoryAccounts, Technique: "T1078.003",
			MDI:         "Microsoft LAPS usage (password not changed in 60 days)",
			Description: fmt.Sprintf("Enabled non-DC computers whose LAPS password expired more than %d days ago: the client no longer rotates it (policy removed, machine offline or broken).", lapsStaleDays),
			Remediation: []string{"Check the machine is alive and applies the LAPS policy; force a rotation (Reset-LapsPassword).", "Disable or remove computers that are gone."},
			check: func(v *view) []hit {
				return v.computerHits(func(c *directory.Computer) string {
					if !c.Enabled() || isDC(&c.Account, c) || !c.LAPS.Managed() {
						return ""
					}
					exp := c.LAPS.Expiry()
					if exp.IsZero() || v.age(exp) <= lapsStaleDays*day {
						return ""
					}
					attr := "msLAPS-PasswordExpirationTime"
					if !c.LAPS.WindowsExpiry.Equal(exp) {
						attr = "ms-Mcs-AdmPwdExpirationTime"
					}
					return fmt.Sprintf("%s %s on %s: expired %s ago", attr, exp.UTC().Format("2006-01-02T15:04Z"), c.DN, days(v.age(exp)))
				})
			},
		},
	}
}

// userHits lists the user accounts that describe(a) reports ("" for none),
// one hit naming the account each.
func (v *view) userHits(describe func(a *directory.Account) string) []hit {
	var hits []hit
	for i := range v.s.Users {
		a := &v.s.Users[i].Account
		if why := describe(a); why != "" {
			hits = append(hits, hit{[]string{a.DN}, why})
		}
	}
	return hits
}

// computerHits lists the computers that describe(c) reports ("" for none),
// one hit naming the computer each.
func (v *view) computerHits(describe func(c *directory.Computer) string) []hit {
	var hits []hit
	for i := range v.s.Computers {
		c := &v.s.Computers[i]
		if why := describe(c); why != "" {
			hits = append(hits, hit{[]string{c.DN}, why})
		}
	}
	return hits
}

// wellKnown reports the account of this domain with the given RID.
func (v *view) wellKnown(a *directory.Account, rid uint32) bool {
	return a.RID() == rid && directory.DomainOf(a.SID) == v.domainSID
}

// passwordAge describes a pwdLastSet older than maxDays (or never set) on
// what, and returns "" for a recent one.
func (v *view) passwordAge(set time.Time, what string, maxDays int) string {
	age := v.age(set)
	if !set.IsZero() && age <= time.Duration(maxDays)*day {
		return ""
	}
	return fmt.Sprintf("pwdLastSet %s on %s: %s ago (limit %d days)", date(set), what, days(age), maxDays)
}

// uacHits lists enabled accounts with a UAC bit (computers too unless
// usersOnly).
func (v *view) uacHits(bit directory.UAC, usersOnly bool) []hit {
	var hits []hit
	v.accounts(func(a *directory.Account, c *directory.Computer) {
		if (usersOnly && c != nil) || !a.Enabled() || !a.UAC.Has(bit) {
			return
		}
		hits = append(hits, hit{[]string{a.DN}, uacEvidence(a, bit)})
	})
	return hits
}

// roastable reports an enabled user (not krbtgt, not a managed service
// account) with an SPN.
func roastable(a *directory.Account) bool {
	if !a.Enabled() || len(a.SPNs) == 0 || a.RID() == directory.RidKrbtgt {
		return false
	}
	oc := strings.ToLower(a.ObjectClass)
	return oc != "computer" && !strings.HasPrefix(oc, "msds-")
}

func spnEvidence(a *directory.Account) string {
	spns := a.SPNs
	more := ""
	if len(spns) > 5 {
		more = fmt.Sprintf(" (+%d more)", len(spns)-5)
		spns = spns[:5]
	}
	enc := "msDS-SupportedEncryptionTypes not set (RC4 service tickets)"
	if a.EncTypes.Set() {
		enc = fmt.Sprintf("msDS-SupportedEncryptionTypes 0x%X (%s)", uint32(a.EncTypes), strings.Join(a.EncTypes.Names(), ", "))
	}
	return fmt.Sprintf("servicePrincipalName %s%s on user %s; %s; password last set %s", strings.Join(spns, ", "), more, a.DN, enc, date(a.PwdLastSet))
}

func encEvidence(a *directory.Account) string {
	return fmt.Sprintf("msDS-SupportedEncryptionTypes 0x%X (%s) on %s", uint32(a.EncTypes), strings.Join(a.EncTypes.Names(), ", "), a.DN)
}

func present(b bool) string {
	if b {
		return "present"
	}
	return "absent"
}
