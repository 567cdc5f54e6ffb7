package posture

import (
	"fmt"
	"strings"

	"github.com/castellan-itdr/castellan/mappings/directory"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

func adcsAssessments() []*Assessment {
	enrollFix := "Remove enrollment rights for broad groups (Domain Users, Authenticated Users, Domain Computers, Everyone) on the template; grant them to a dedicated group."
	return []*Assessment{
		{
			ID: "adcs-esc1", Title: "Certificate templates that let the requester choose the subject (ESC1)",
			Severity: schema.SeverityCritical, Category: CategoryADCS, Technique: "T1649",
			MDI:         "Prevent users to request a certificate valid for arbitrary users based on the certificate template (ESC1)",
			Description: "A published template with CT_FLAG_ENROLLEE_SUPPLIES_SUBJECT (msPKI-Certificate-Name-Flag 0x1), an EKU that allows domain logon (client authentication, PKINIT, smart card logon, any purpose or none), no manager approval and no authorized signatures, enrollable by unprivileged principals: any of them can get a logon certificate for a Domain Admin.",
			Remediation: []string{"Clear \"Supply in the request\" on the template (Subject Name tab → Build from this Active Directory information).", "Or require CA certificate manager approval (msPKI-Enrollment-Flag 0x2).", enrollFix},
			check: func(v *view) []hit {
				return v.templateHits(func(t *directory.CertTemplate) string {
					if !t.EnrolleeSuppliesSubject() || !t.ClientAuthentication() {
						return ""
					}
					return fmt.Sprintf("msPKI-Certificate-Name-Flag 0x%X (ENROLLEE_SUPPLIES_SUBJECT), EKUs %s", t.NameFlag, usagesText(t))
				})
			},
		},
		{
			ID: "adcs-esc2", Title: "Certificate templates with the Any Purpose EKU or no EKU (ESC2)",
			Severity: schema.SeverityHigh, Category: CategoryADCS, Technique: "T1649",
			MDI:         "Prevent users to request a certificate valid for arbitrary users based on the certificate template (ESC2)",
			Description: "A published template whose EKUs are Any Purpose (2.5.29.37.0) or empty, without manager approval or authorized signatures, enrollable by unprivileged principals: the certificate works for client authentication, code signing and as an enrollment agent.",
			Remediation: []string{"Set specific EKUs on the template (e.g. only Client Authentication where that is the purpose).", "Require manager approval.", enrollFix},
			check: func(v *view) []hit {
				return v.templateHits(func(t *directory.CertTemplate) string {
					if !t.AnyPurpose() {
						return ""
					}
					return "EKUs " + usagesText(t)
				})
			},
		},
		{
			ID: "adcs-esc3", Title: "Enrollment agent templates open to unprivileged users (ESC3)",
			Severity: schema.SeverityHigh, Category: CategoryADCS, Technique: "T1649",
			MDI:         "Misconfigured enrollment agent certificate template (ESC3)",
			Description: "A published template with the Certificate Request Agent EKU (1.3.6.1.4.1.311.20.2.1), no manager approval and no authorized signatures, enrollable by unprivileged principals: the certificate lets them request certificates on behalf of any user.",
			Remediation: []string{"Restrict enrollment on the agent template to the enrollment agents that need it.", "Configure enrollment agent restrictions on the CA (certsrv → Enrollment Agents).", "Require manager approval."},
			check: func(v *view) []hit {
				return v.templateHits(func(t *directory.CertTemplate) string {
					if !t.RequestAgent() {
						return ""
					}
					return "EKUs " + usagesText(t) + " include Certificate Request Agent"
				})
			},
		},
		{
			ID: "adcs-esc4-acl", Title: "Certificate templates that unprivileged principals can modify (ESC4)",
			Severity: schema.SeverityHigh, Category: CategoryADCS, Technique: "T1649",
			MDI:         "Misconfigured certificate templates ACL (ESC4)",
			Description: "A certificate template whose DACL grants full control, write to all properties, WriteDacl or WriteOwner to a principal that is not a tier-0 admin: it can turn the template into an ESC1 template and back.",
			Remediation: []string{"Remove the ACE from the template (certtmpl.msc → Security).", "Leave write access to Enterprise Admins and Domain Admins only."},
			check: func(v *view) []hit {
				var hits []hit
				for i := range v.s.CertTemplates {
					t := &v.s.CertTemplates[i]
					hits = append(hits, v.writeACEHits(t.ACL, t.DN, fmt.Sprintf("certificate template %q", t.Name), func(sid string) bool {
						return v.aclTrusted(sid)
					})...)
				}
				return hits
			},
		},
		{
			ID: "adcs-esc4-owner", Title: "Certificate templates owned by unprivileged principals (ESC4)",
			Severity: schema.SeverityHigh, Category: CategoryADCS, Technique: "T1649",
			MDI:         "Misconfigured certificate templates owner (ESC4)",
			Description: "A certificate template whose owner is not a tier-0 admin (Enterprise Admins, Domain Admins, Administrators, SYSTEM): the owner can always rewrite the DACL and so the template.",
			Remediation: []string{"Take ownership of the template as Enterprise Admins (certtmpl.msc → Security → Advanced → Owner)."},
			check: func(v *view) []hit {
				var hits []hit
				for i := range v.s.CertTemplates {
					t := &v.s.CertTemplates[i]
					if t.ACL == nil || t.ACL.Owner == "" || v.tier0(t.ACL.Owner) {
						continue
					}
					hits = append(hits, hit{[]string{v.entity(t.ACL.Owner), t.DN}, fmt.Sprintf("certificate template %q %s owner is %s, not a tier-0 admin", t.Name, t.DN, v.name(t.ACL.Owner))})
				}
				return hits
			},
		},
	}
}

// templateHits lists published templates that match(t) describes (""
// when the template is not of the kind), have no manager approval and no
// authorized signatures, and that an unprivileged principal can enroll in.
func (v *view) templateHits(match func(t *directory.CertTemplate) string) []hit {
	var hits []hit
	for i := range v.s.CertTemplates {
		t := &v.s.CertTemplates[i]
		if len(t.PublishedBy) == 0 || t.ManagerApproval() || t.RASignatures > 0 {
			continue
		}
		why := match(t)
		if why == "" {
			continue
		}
		for _, ace := range v.enrollACEs(t) {
			hits = append(hits, hit{[]string{t.DN, v.entity(ace.Trustee)}, fmt.Sprintf("template %q (published by %s): %s; msPKI-Enrollment-Flag 0x%X (no manager approval), msPKI-RA-Signature %d; enrollment granted by %s",
				t.Name, strings.Join(t.PublishedBy, ", "), why, t.EnrollmentFlag, t.RASignatures, v.aceText(ace))})
		}
	}
	return hits
}

// enrollACEs are the template's ACEs granting Certificate-Enrollment or
// Certificate-AutoEnrollment to unprivileged principals, one per trustee.
func (v *view) enrollACEs(t *directory.CertTemplate) []directory.ACE {
	if t.ACL == nil {
		return nil
	}
	var out []directory.ACE
	seen := map[string]bool{}
	for _, ace := range t.ACL.DACL {
		if seen[ace.Trustee] || v.privileged(ace.Trustee) {
			continue
		}
		if ace.Grants(directory.RightExtendedRight, directory.GUIDCertificateEnrollment) || ace.Grants(directory.RightExtendedRight, directory.GUIDCertificateAutoEnrollment) {
			seen[ace.Trustee] = true
			out = append(out, ace)
		}
	}
	return out
}

var ekuNames = map[string]string{
	directory.EKUClientAuth: "Client Authentication", directory.EKUPKINITClient: "PKINIT Client Authentication",
	directory.EKUSmartcardLogon: "Smart Card Logon", directory.EKUAnyPurpose: "Any Purpose",
	directory.EKUCertRequestAgent: "Certificate Request Agent", directory.EKUServerAuth: "Server Authentication",
}

func usagesText(t *directory.CertTemplate) string {
	u := t.Usages()
	if len(u) == 0 {
		return "none (any purpose)"
	}
	out := make([]string, len(u))
	for i, o := range u {
		if n := ekuNames[o]; n != "" {
			out[i] = o + " (" + n + ")"
		} else {
			out[i] = o
		}
	}
	return strings.Join(out, ", ")
}
