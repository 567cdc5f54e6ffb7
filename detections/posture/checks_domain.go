package posture

import (
	"fmt"
	"strings"

	"github.com/castellan-itdr/castellan/mappings/directory"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

func domainAssessments() []*Assessment {
	return []*Assessment{
		{
			ID: "machine-account-quota", Title: "Users can join computers to the domain (machine account quota above 0)",
			Severity: schema.SeverityMedium, Category: CategoryDomain, Technique: "T1136.002",
			MDI:         "Unsecure domain configurations (ms-DS-MachineAccountQuota)",
			Description: "ms-DS-MachineAccountQuota on the domain root is above 0 (10 by default): every authenticated user can create computer accounts, the first step of RBCD, noPac and relay attacks.",
			Remediation: []string{"Set ms-DS-MachineAccountQuota to 0 (Set-ADDomain -Replace @{\"ms-DS-MachineAccountQuota\"=\"0\"}).", "Delegate computer joins to a dedicated group on the target OU."},
			check: func(v *view) []hit {
				if q := v.s.Domain.MachineAccountQuota; q > 0 {
					return []hit{{[]string{v.s.Domain.DN}, fmt.Sprintf("ms-DS-MachineAccountQuota %d on %s", q, v.s.Domain.DN)}}
				}
				return nil
			},
		},
		{
			ID: "password-policy-weak", Title: "Weak default domain password policy",
			Severity: schema.SeverityMedium, Category: CategoryDomain, Technique: "T1110",
			MDI:         "(PingCastle A-MinPwdLen; ANSSI vuln3_password_policy)",
			Description: "The default domain policy allows passwords shorter than 8 characters or without complexity: password spraying and cracking succeed quickly.",
			Remediation: []string{"Set the minimum password length to 14 (or at least 8 with complexity) in the Default Domain Policy.", "Use fine-grained password policies for admins and service accounts; block common passwords."},
			check: func(v *view) []hit {
				p := v.s.Domain.PasswordPolicy
				var why []string
				if p.MinLength < 8 {
					why = append(why, fmt.Sprintf("minPwdLength %d (below 8)", p.MinLength))
				}
				if !p.Complexity() {
					why = append(why, fmt.Sprintf("pwdProperties 0x%X lacks DOMAIN_PASSWORD_COMPLEX (0x1)", p.Properties))
				}
				if len(why) == 0 {
					return nil
				}
				return []hit{{[]string{v.s.Domain.DN}, strings.Join(why, "; ") + " on " + v.s.Domain.DN}}
			},
		},
		{
			ID: "trust-sid-filtering-disabled", Title: "Inbound trusts without SID filtering",
			Severity: schema.SeverityHigh, Category: CategoryDomain, Technique: "T1134.005",
			MDI:         "(PingCastle T-SIDFiltering)",
			Description: "Inbound trusts to domains outside the forest that do not filter SID history (no TRUST_ATTRIBUTE_QUARANTINED_DOMAIN on external trusts, or TREAT_AS_EXTERNAL cleared on forest trusts): an admin of the trusted domain can forge membership of this domain's Domain Admins.",
			Remediation: []string{"Enable SID filtering: netdom trust <trusting> /domain:<trusted> /quarantine:yes (external) or /EnableSIDHistory:no (forest).", "Keep SID history enabled only during a migration window."},
			check: func(v *view) []hit {
				var hits []hit
				for _, t := range v.s.Trusts {
					if !t.Inbound() || t.Attributes&directory.TrustWithinForest != 0 || t.SIDFiltering() {
						continue
					}
					hits = append(hits, hit{[]string{t.DN}, fmt.Sprintf("trustAttributes 0x%X on %s (partner %s, direction %d): SID filtering off", t.Attributes, t.DN, t.Partner, t.Direction)})
				}
				return hits
			},
		},
		{
			ID: "gpo-writable-by-unprivileged", Title: "GPOs that unprivileged principals can modify",
			Severity: schema.SeverityHigh, Category: CategoryGPO, Technique: "T1484.001",
			MDI:         "GPO can be modified by unprivileged accounts",
			Description: "A Group Policy container whose DACL grants full control, write to all properties, WriteDacl or WriteOwner to a principal that is not a tier-0 admin (Domain Admins, Enterprise Admins, Administrators, SYSTEM, DCs), or whose owner is not one: that principal can push code to every computer the GPO applies to.",
			Remediation: []string{"Remove the ACE (Group Policy Management → Delegation → Advanced), keeping edit rights for Domain Admins and dedicated GPO admins only.", "Set the owner to Domain Admins.", "Check the SYSVOL folder's NTFS permissions match."},
			check: func(v *view) []hit {
				var hits []hit
				for i := range v.s.GPOs {
					g := &v.s.GPOs[i]
					what := fmt.Sprintf("GPO %q %s", g.DisplayName, g.DN)
					if g.ACL != nil && g.ACL.Owner != "" && !v.tier0(g.ACL.Owner) {
						hits = append(hits, hit{[]string{v.entity(g.ACL.Owner), g.DN}, fmt.Sprintf("%s owner is %s, not a tier-0 admin", what, v.name(g.ACL.Owner))})
					}
					hits = append(hits, v.writeACEHits(g.ACL, g.DN, what, func(sid string) bool {
						return v.aclTrusted(sid)
					})...)
				}
				return hits
			},
		},
	}
}
