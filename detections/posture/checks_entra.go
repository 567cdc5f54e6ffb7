package posture

import (
	"fmt"
	"sort"
	"strings"

	"github.com/castellan-itdr/castellan/mappings/directory"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

func entraAssessments() []*Assessment {
	return []*Assessment{
		{
			ID: "entra-permanent-privileged-role", Title: "Entra privileged roles held permanently",
			Severity: schema.SeverityMedium, Category: CategoryEntra, Technique: "T1098.003",
			MDI:         "(Entra ID recommendation: use PIM for privileged roles)",
			Description: "Active assignments of privileged Entra roles (Global Administrator, Privileged Role Administrator, …) without an end date that did not come from a PIM activation: the privilege is standing rather than just-in-time.",
			Remediation: []string{"Convert the assignment to a PIM eligible assignment with approval and MFA on activation.", "Keep two cloud-only break-glass Global Administrators permanent, excluded from this finding by policy."},
			check: func(v *view) []hit {
				var hits []hit
				for _, r := range v.s.Entra.Roles {
					if !privilegedRole(r) {
						continue
					}
					for _, a := range r.Assignments {
						if a.Kind != directory.AssignmentActive || !a.Permanent() || a.ViaPIM {
							continue
						}
						hits = append(hits, hit{[]string{entraPrincipal(a)}, fmt.Sprintf("role %q (%s) assigned active to %s %s with no end date (assignment %s, scope %q, since %s), not a PIM activation",
							r.DisplayName, roleTemplate(r), a.PrincipalType, entraPrincipal(a), a.ID, a.DirectoryScopeID, date(a.Start))})
					}
				}
				return hits
			},
			Needs: NeedsEntra,
		},
		{
			ID: "entra-privileged-no-mfa", Title: "Privileged Entra users without MFA registered",
			Severity: schema.SeverityHigh, Category: CategoryEntra, Technique: "T1078.004",
			MDI:         "(Entra ID recommendation: require MFA for administrative roles)",
			Description: "Enabled users holding or eligible for a privileged Entra role whose authentication-method registration (userRegistrationDetails) shows no MFA method: a phished password is enough to take the role.",
			Remediation: []string{"Have the user register phishing-resistant MFA (FIDO2, Windows Hello, certificate).", "Enforce a Conditional Access policy requiring MFA (or an authentication strength) for all directory roles."},
			check: func(v *view) []hit {
				var hits []hit
				for _, u := range v.privilegedEntraUsers() {
					if u.user == nil || !u.user.Enabled || u.user.Registration == nil || u.user.Registration.MFARegistered {
						continue
					}
					methods := "none"
					if len(u.user.Registration.Methods) > 0 {
						methods = strings.Join(u.user.Registration.Methods, ", ")
					}
					hits = append(hits, hit{[]string{u.user.UPN}, fmt.Sprintf("userRegistrationDetails of %s: isMfaRegistered false (methods registered: %s); holds %s", u.user.UPN, methods, strings.Join(u.roles, ", "))})
				}
				return hits
			},
			Needs: NeedsEntra,
		},
		{
			ID: "ad-entra-privileged-overlap", Title: "Accounts privileged in both Active Directory and Entra ID",
			Severity: schema.SeverityHigh, Category: CategoryEntra, Technique: "T1078",
			MDI:         "Entra ID privileged users who are also privileged in AD",
			Description: "A synchronized Entra user (onPremisesSecurityIdentifier) holding or eligible for a privileged Entra role whose on-premises account is privileged in AD: compromising either side gives both, defeating tier separation.",
			Remediation: []string{"Use separate, cloud-only accounts for Entra administration.", "Remove the privileged role from the synchronized account, or the AD privilege from it."},
			check: func(v *view) []hit {
				var hits []hit
				for _, u := range v.privilegedEntraUsers() {
					if u.user == nil || u.user.OnPremisesSID == "" {
						continue
					}
					p := v.bySID[u.user.OnPremisesSID]
					if p == nil || p.account == nil || !v.accountPrivileged(p.account) {
						continue
					}
					hits = append(hits, hit{[]string{u.user.UPN, p.dn}, fmt.Sprintf("Entra user %s (onPremisesSecurityIdentifier %s) holds %s; AD account %s is privileged through %s",
						u.user.UPN, u.user.OnPremisesSID, strings.Join(u.roles, ", "), p.dn, v.privilegeText(p.account))})
				}
				return hits
			},
			Needs: NeedsEntra,
		},
	}
}

func privilegedRole(r directory.EntraRole) bool {
	if r.Privileged {
		return true
	}
	_, ok := directory.PrivilegedEntraRoles[r.TemplateID]
	return ok
}

func roleTemplate(r directory.EntraRole) string {
	if r.TemplateID != "" {
		return "template " + r.TemplateID
	}
	return "id " + r.ID
}

func entraPrincipal(a directory.EntraRoleAssignment) string {
	if a.PrincipalName != "" {
		return a.PrincipalName
	}
	return a.PrincipalID
}

type entraPrivUser struct {
	user  *directory.EntraUser
	roles []string // "Global Administrator (active)"
}

// privilegedEntraUsers lists the users assigned (active or eligible) to a
// privileged role, in UPN order.
func (v *view) privilegedEntraUsers() []entraPrivUser {
	e := v.s.Entra
	byID := map[string]*directory.EntraUser{}
	for i := range e.Users {
		byID[e.Users[i].ID] = &e.Users[i]
	}
	per := map[string]*entraPrivUser{}
	for _, r := range e.Roles {
		if !privilegedRole(r) {
			continue
		}
		for _, a := range r.Assignments {
			u := byID[a.PrincipalID]
			if u == nil {
				continue
			}
			pu := per[u.ID]
			if pu == nil {
				pu = &entraPrivUser{user: u}
				per[u.ID] = pu
			}
			pu.roles = append(pu.roles, fmt.Sprintf("%s (%s)", r.DisplayName, a.Kind))
		}
	}
	out := make([]entraPrivUser, 0, len(per))
	for _, pu := range per {
		out = append(out, *pu)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].user.UPN < out[j].user.UPN })
	return out
}
