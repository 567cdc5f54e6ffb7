package seed

import (
	"strconv"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/castellan-itdr/castellan/internal/sambalab"
	"github.com/castellan-itdr/castellan/mappings/directory"
)

// TemplateSpec describes a seeded AD CS certificate template.
type TemplateSpec struct {
	// EnrolleeSuppliesSubject sets CT_FLAG_ENROLLEE_SUPPLIES_SUBJECT (ESC1).
	EnrolleeSuppliesSubject bool
	// EKUs is pKIExtendedKeyUsage (and the application policies); nil = no
	// EKU at all (ESC2), e.g. {directory.EKUClientAuth} for ESC1.
	EKUs []string
	// ManagerApproval sets CT_FLAG_PEND_ALL_REQUESTS.
	ManagerApproval bool
	// EnrollSID is granted Certificate-Enrollment; default Domain Users.
	EnrollSID string
	// WriteSID, when set, is granted GenericWrite on the template (ESC4).
	WriteSID string
}

func (s *Seeder) pki(container string) string {
	return "CN=" + container + ",CN=Public Key Services,CN=Services,CN=Configuration," + s.BaseDN
}

// CertTemplate creates a pKICertificateTemplate (schema version 2) in the
// configuration partition, with the ACEs of spec added to its DACL. It is
// not published until an EnrollmentService lists it.
func (s *Seeder) CertTemplate(spec TemplateSpec) (Account, func()) {
	s.t.Helper()
	name := sambalab.Unique("sdtmpl")
	dn := "CN=" + name + "," + s.pki("Certificate Templates")
	add := goldap.NewAddRequest(dn, nil)
	add.Attribute("objectClass", []string{"top", "pKICertificateTemplate"})
	add.Attribute("displayName", []string{name})
	add.Attribute("flags", []string{"131680"})
	add.Attribute("revision", []string{"100"})
	add.Attribute("msPKI-Template-Schema-Version", []string{"2"})
	add.Attribute("msPKI-RA-Signature", []string{"0"})
	var nameFlag, enrollFlag uint32
	if spec.EnrolleeSuppliesSubject {
		nameFlag |= directory.CTNameFlagEnrolleeSuppliesSubject
	}
	if spec.ManagerApproval {
		enrollFlag |= directory.CTEnrollPendAllRequests
	}
	add.Attribute("msPKI-Certificate-Name-Flag", []string{strconv.FormatUint(uint64(nameFlag), 10)})
	add.Attribute("msPKI-Enrollment-Flag", []string{strconv.FormatUint(uint64(enrollFlag), 10)})
	if len(spec.EKUs) > 0 {
		add.Attribute("pKIExtendedKeyUsage", spec.EKUs)
		add.Attribute("msPKI-Certificate-Application-Policy", spec.EKUs)
	}
	if err := s.conn.Add(add); err != nil {
		s.t.Fatalf("seed: add certificate template %s: %v", name, err)
	}
	cleanup := s.once(func() { s.del(dn) })
	enroll := spec.EnrollSID
	if enroll == "" {
		enroll = s.DomainSID + "-513"
	}
	aces := []directory.ACE{{Type: directory.ACEAccessAllowedObject, Mask: directory.RightExtendedRight, Trustee: enroll, ObjectType: directory.GUIDCertificateEnrollment}}
	if spec.WriteSID != "" {
		aces = append(aces, directory.ACE{Type: directory.ACEAccessAllowed, Mask: directory.RightGenericWrite, Trustee: spec.WriteSID})
	}
	s.prependACEs(dn, aces)
	return Account{Name: name, DN: dn}, cleanup
}

// EnrollmentService creates a pKIEnrollmentService (an enterprise CA
// entry) that publishes the named templates.
func (s *Seeder) EnrollmentService(templates ...string) (Account, func()) {
	s.t.Helper()
	name := sambalab.Unique("sdca")
	dn := "CN=" + name + "," + s.pki("Enrollment Services")
	add := goldap.NewAddRequest(dn, nil)
	add.Attribute("objectClass", []string{"top", "pKIEnrollmentService"})
	add.Attribute("dNSHostName", []string{"dc1." + s.env["LAB_REALM"]})
	if len(templates) > 0 {
		add.Attribute("certificateTemplates", templates)
	}
	if err := s.conn.Add(add); err != nil {
		s.t.Fatalf("seed: add enrollment service %s: %v", name, err)
	}
	return Account{Name: name, DN: dn}, s.once(func() { s.del(dn) })
}

// prependACEs adds explicit ACEs at the front of an object's DACL (the
// object is this test's own, so no concurrent edits).
func (s *Seeder) prependACEs(dn string, aces []directory.ACE) {
	s.t.Helper()
	sdFlags := []goldap.Control{&goldap.ControlMicrosoftSDFlags{ControlValue: 4}}
	res, err := s.conn.Search(goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"nTSecurityDescriptor"}, sdFlags))
	if err != nil || len(res.Entries) != 1 {
		s.t.Fatalf("seed: read SD of %s: %v", dn, err)
	}
	sd, err := directory.ParseSecurityDescriptor(res.Entries[0].GetRawAttributeValue("nTSecurityDescriptor"))
	if err != nil {
		s.t.Fatalf("seed: parse SD of %s: %v", dn, err)
	}
	sd.DACL = append(append([]directory.ACE(nil), aces...), sd.DACL...)
	sd.Owner, sd.Group, sd.SACL = "", "", nil
	raw, err := sd.Bytes()
	if err != nil {
		s.t.Fatalf("seed: encode SD of %s: %v", dn, err)
	}
	m := goldap.NewModifyRequest(dn, sdFlags)
	m.Replace("nTSecurityDescriptor", []string{string(raw)})
	if err := s.conn.Modify(m); err != nil {
		s.t.Fatalf("seed: write SD of %s: %v", dn, err)
	}
}
