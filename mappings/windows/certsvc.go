package windows

import (
	"strings"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Active Directory Certificate Services events (Security log of the CA,
// "Audit Certification Services"). They map to directory_change; the CA
// fields (RequestId, Requester, Attributes, Disposition, Template*, ...) stay
// in Original.

// mapCertServices maps 4882-4899.
func mapCertServices(action string) mapper {
	return func(r *Record, ev *schema.Event) {
		ev.Event.Kind = schema.KindDirectoryChange
		ev.Event.Action = action
		ev.Event.Outcome = schema.OutcomeSuccess
		ev.User = subject(r)
		if ev.User.Name == "" && ev.User.ID == "" {
			ev.User = requester(r.get("Requester"))
		}
		if tmpl := r.get("TemplateInternalName"); tmpl != "" { // 4898, 4899
			dn := r.get("TemplateDSObjectFQDN")
			ev.Directory.Object = schema.DirObject{DN: dn, Name: tmpl, Class: "pKICertificateTemplate"}
			ev.Directory.Operation = "access"
			if r.EventID == 4899 {
				ev.Directory.Operation = "modify"
			}
			return
		}
		if attrs := r.get("Attributes"); attrs != "" { // 4886, 4887
			tmpl, san := requestAttributes(attrs)
			if tmpl != "" {
				ev.Directory.Object = schema.DirObject{Name: tmpl, Class: "pKICertificateTemplate"}
			}
			setName(ev.Original, "CertificateTemplate", tmpl)
			setName(ev.Original, "SubjectAlternativeName", san)
		}
		switch r.EventID {
		case 4882, 4885, 4890:
			ev.Directory.Operation = "modify"
		case 4896:
			ev.Directory.Operation = "delete"
		case 4886, 4887:
			ev.Directory.Operation = "add"
		}
	}
}

// requester splits a "DOMAIN\user" Requester.
func requester(v string) schema.User {
	dom, name, ok := strings.Cut(v, `\`)
	if !ok {
		name, dom = v, ""
	}
	return schema.User{Name: name, Domain: dom, IsMachine: strings.HasSuffix(name, "$")}
}

// requestAttributes reads the template name and the requested subject
// alternative name from a request's Attributes ("CertificateTemplate:User",
// "SAN:upn=admin@corp.local", one per line). A SAN in the request attributes
// is what ESC1/ESC6 abuse.
func requestAttributes(attrs string) (template, san string) {
	for line := range strings.Lines(attrs) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch {
		case strings.EqualFold(k, "CertificateTemplate"):
			template = strings.TrimSpace(v)
		case strings.EqualFold(k, "SAN"):
			san = strings.TrimSpace(v)
		}
	}
	return template, san
}
