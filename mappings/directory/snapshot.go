package directory

import "time"

// Snapshot is one collection of a directory at a point in time.
type Snapshot struct {
	// ID identifies this collection (e.g. "lab.test/20261128T103000Z").
	ID string `json:"id"`
	// Taken is when the collection started.
	Taken time.Time `json:"taken"`
	// Source names the collector and server ("ldap://dc1.lab.test").
	Source string `json:"source,omitempty"`

	Domain             Domain              `json:"domain"`
	Users              []User              `json:"users,omitempty"`
	Computers          []Computer          `json:"computers,omitempty"`
	Groups             []Group             `json:"groups,omitempty"`
	Trusts             []Trust             `json:"trusts,omitempty"`
	GPOs               []GPO               `json:"gpos,omitempty"`
	CertTemplates      []CertTemplate      `json:"cert_templates,omitempty"`
	EnrollmentServices []EnrollmentService `json:"enrollment_services,omitempty"`
	// Entra is the cloud side, nil when not collected.
	Entra *Entra `json:"entra,omitempty"`

	// Counts is the number of objects read, per kind ("users", "groups",
	// "gpos", …), as reported by the collector.
	Counts map[string]int `json:"counts,omitempty"`
	// Warnings lists what the collector could not read or parse (an
	// unreadable security descriptor, a partition it had no rights to).
	// Assessments that depend on missing data should say so.
	Warnings []string `json:"warnings,omitempty"`

	index *index
}

// Domain is the domain naming context head and its policy.
type Domain struct {
	DN      string `json:"dn"`                // DC=lab,DC=test
	DNSName string `json:"dns_name"`          // lab.test
	NetBIOS string `json:"netbios,omitempty"` // LAB
	SID     string `json:"sid"`               // S-1-5-21-…
	Forest  string `json:"forest,omitempty"`  // forest root DNS name
	// ConfigurationDN is the configuration partition
	// (CN=Configuration,DC=lab,DC=test).
	ConfigurationDN string `json:"configuration_dn,omitempty"`
	// FunctionalLevel is msDS-Behavior-Version of the domain (0 = 2000,
	// 2 = 2003, 3 = 2008, 4 = 2008 R2, 5 = 2012, 6 = 2012 R2, 7 = 2016).
	FunctionalLevel       int `json:"functional_level"`
	ForestFunctionalLevel int `json:"forest_functional_level"`
	// MachineAccountQuota is ms-DS-MachineAccountQuota (default 10).
	MachineAccountQuota int            `json:"machine_account_quota"`
	PasswordPolicy      PasswordPolicy `json:"password_policy"`
	// ACL is the domain root's nTSecurityDescriptor (DCSync rights live
	// here), nil if it could not be read.
	ACL *SecurityDescriptor `json:"acl,omitempty"`
	// AdminSDHolder is CN=AdminSDHolder,CN=System's security descriptor.
	AdminSDHolder *SecurityDescriptor `json:"admin_sd_holder,omitempty"`
	// GPLinks are the GPO links on the domain head (gPLink), in order.
	GPLinks []GPLink `json:"gp_links,omitempty"`
	// WhenCreated is the domain object's creation time.
	WhenCreated time.Time `json:"when_created,omitempty"`
}

// PasswordPolicy is the default domain password and lockout policy, from the
// domain object.
type PasswordPolicy struct {
	MinLength    int           `json:"min_length"`    // minPwdLength
	MaxAge       time.Duration `json:"max_age"`       // maxPwdAge; 0 = never expires
	MinAge       time.Duration `json:"min_age"`       // minPwdAge
	HistoryCount int           `json:"history_count"` // pwdHistoryLength
	Properties   uint32        `json:"properties"`    // pwdProperties
	// LockoutThreshold is lockoutThreshold; 0 = never locks out.
	LockoutThreshold int           `json:"lockout_threshold"`
	LockoutDuration  time.Duration `json:"lockout_duration"`    // lockoutDuration; 0 = until an admin unlocks
	LockoutWindow    time.Duration `json:"lockout_observation"` // lockOutObservationWindow
}

// pwdProperties bits.
const (
	PwdComplex             = 0x1
	PwdNoAnonChange        = 0x2
	PwdNoClearChange       = 0x4
	PwdLockoutAdmins       = 0x8
	PwdStoreCleartext      = 0x10 // reversible encryption domain-wide
	PwdRefuseMachineChange = 0x20
)

// Complexity reports whether password complexity is required.
func (p PasswordPolicy) Complexity() bool { return p.Properties&PwdComplex != 0 }

// ReversibleEncryption reports whether the domain stores passwords with
// reversible encryption for every account.
func (p PasswordPolicy) ReversibleEncryption() bool { return p.Properties&PwdStoreCleartext != 0 }

// Account is what users and computers share (both are security principals
// with a password).
type Account struct {
	DN             string `json:"dn"`
	SAMAccountName string `json:"sam_account_name"`
	SID            string `json:"sid"`
	UPN            string `json:"upn,omitempty"`
	DisplayName    string `json:"display_name,omitempty"`
	Description    string `json:"description,omitempty"`
	// ObjectClass is the most specific class (user, computer,
	// msDS-GroupManagedServiceAccount, msDS-ManagedServiceAccount, inetOrgPerson).
	ObjectClass string `json:"object_class"`
	// UAC is userAccountControl.
	UAC UAC `json:"uac"`
	// EncTypes is msDS-SupportedEncryptionTypes; 0 = not set (the KDC then
	// assumes RC4 for user accounts).
	EncTypes EncTypes `json:"enc_types"`
	SPNs     []string `json:"spns,omitempty"` // servicePrincipalName
	// PwdLastSet is pwdLastSet; zero when never set or "must change".
	PwdLastSet time.Time `json:"pwd_last_set,omitempty"`
	// LastLogon is lastLogonTimestamp (replicated, up to ~14 days stale);
	// zero when the account never logged on.
	LastLogon   time.Time `json:"last_logon,omitempty"`
	WhenCreated time.Time `json:"when_created,omitempty"`
	// AccountExpires is accountExpires; zero = never.
	AccountExpires time.Time `json:"account_expires,omitempty"`
	// AdminCount is adminCount (1 once SDProp protected it; Samba does not
	// maintain it).
	AdminCount     int      `json:"admin_count"`
	PrimaryGroupID uint32   `json:"primary_group_id"`
	SIDHistory     []string `json:"sid_history,omitempty"`
	// MemberOf is the direct memberOf (DNs), without the primary group.
	MemberOf []string `json:"member_of,omitempty"`
	// AllowedToDelegateTo is msDS-AllowedToDelegateTo (constrained
	// delegation target SPNs).
	AllowedToDelegateTo []string `json:"allowed_to_delegate_to,omitempty"`
	// AllowedToActOnBehalf is msDS-AllowedToActOnBehalfOfOtherIdentity
	// (resource-based constrained delegation): the principals in its DACL
	// may delegate to this account. Nil when unset.
	AllowedToActOnBehalf *SecurityDescriptor `json:"allowed_to_act_on_behalf,omitempty"`
	// HasKeyCredentials reports msDS-KeyCredentialLink is set (shadow
	// credentials / Windows Hello for Business).
	HasKeyCredentials bool `json:"has_key_credentials,omitempty"`

	// Filled by Snapshot.Resolve:

	// EffectiveGroups are the DNs of every group the account belongs to,
	// directly, through nesting, or as primary group; sorted.
	EffectiveGroups []string `json:"effective_groups,omitempty"`
	// PrivilegedGroups are the names (PrivilegedGroupNames) of the
	// privileged groups among EffectiveGroups; sorted.
	PrivilegedGroups []string `json:"privileged_groups,omitempty"`
}

// Enabled reports the account is not disabled.
func (a *Account) Enabled() bool { return !a.UAC.Disabled() }

// Privileged reports membership of at least one privileged group.
func (a *Account) Privileged() bool { return len(a.PrivilegedGroups) > 0 }

// RID is the account's relative identifier (500 for Administrator).
func (a *Account) RID() uint32 { return RID(a.SID) }

// User is a user account (including managed service accounts and krbtgt).
type User struct {
	Account
}

// Computer is a computer account.
type Computer struct {
	Account
	DNSHostName string `json:"dns_host_name,omitempty"`
	OS          string `json:"os,omitempty"`         // operatingSystem
	OSVersion   string `json:"os_version,omitempty"` // operatingSystemVersion
	// IsDC reports a domain controller (SERVER_TRUST_ACCOUNT, or primary
	// group 516/521).
	IsDC bool `json:"is_dc"`
	// IsRODC reports a read-only DC (PARTIAL_SECRETS_ACCOUNT or primary group 521).
	IsRODC bool `json:"is_rodc,omitempty"`
	LAPS   LAPS `json:"laps"`
}

// LAPS is what the directory shows of a computer's local administrator
// password management. Only presence and expiry are collected — never a
// password.
type LAPS struct {
	// Legacy reports ms-Mcs-AdmPwdExpirationTime is set (Microsoft LAPS).
	Legacy bool `json:"legacy"`
	// LegacyExpiry is ms-Mcs-AdmPwdExpirationTime.
	LegacyExpiry time.Time `json:"legacy_expiry,omitempty"`
	// Windows reports msLAPS-PasswordExpirationTime is set (Windows LAPS).
	Windows bool `json:"windows"`
	// WindowsExpiry is msLAPS-PasswordExpirationTime.
	WindowsExpiry time.Time `json:"windows_expiry,omitempty"`
	// SchemaLegacy / SchemaWindows report the attributes exist in the
	// schema at all (a missing schema extension means no LAPS anywhere).
	SchemaLegacy  bool `json:"schema_legacy,omitempty"`
	SchemaWindows bool `json:"schema_windows,omitempty"`
}

// Managed reports either LAPS flavour manages the computer.
func (l LAPS) Managed() bool { return l.Legacy || l.Windows }

// Expiry is the later of the two expiry times (zero if unmanaged).
func (l LAPS) Expiry() time.Time {
	if l.WindowsExpiry.After(l.LegacyExpiry) {
		return l.WindowsExpiry
	}
	return l.LegacyExpiry
}

// Group is a security or distribution group.
type Group struct {
	DN          string `json:"dn"`
	SID         string `json:"sid"`
	Name        string `json:"name"` // sAMAccountName
	Description string `json:"description,omitempty"`
	// GroupType is groupType (0x2 global, 0x4 domain local, 0x8 universal,
	// 0x80000000 security, 0x1 builtin).
	GroupType  int32 `json:"group_type"`
	AdminCount int   `json:"admin_count"`
	// Members are the direct member DNs (users, computers, groups, foreign
	// security principals).
	Members  []string `json:"members,omitempty"`
	MemberOf []string `json:"member_of,omitempty"` // direct memberOf

	// Filled by Snapshot.Resolve:

	// EffectiveGroups are the groups this group is nested in, transitively.
	EffectiveGroups []string `json:"effective_groups,omitempty"`
	// EffectiveMembers are every non-group member DN, transitively,
	// including accounts whose primary group this is; sorted.
	EffectiveMembers []string `json:"effective_members,omitempty"`
	// Privileged is the PrivilegedGroupNames name when this is a privileged
	// group, else "".
	Privileged string `json:"privileged,omitempty"`
}

// RID is the group's relative identifier (512 for Domain Admins).
func (g *Group) RID() uint32 { return RID(g.SID) }

// Security reports a security (not distribution) group.
func (g *Group) Security() bool { return uint32(g.GroupType)&0x80000000 != 0 }

// Trust is a trustedDomain object.
type Trust struct {
	DN       string `json:"dn"`
	Partner  string `json:"partner"`             // trustPartner (DNS name)
	FlatName string `json:"flat_name,omitempty"` // NetBIOS name
	SID      string `json:"sid,omitempty"`       // securityIdentifier
	// Direction is trustDirection: 1 inbound, 2 outbound, 3 bidirectional.
	Direction int `json:"direction"`
	// Type is trustType: 1 downlevel (NT4), 2 uplevel (AD), 3 MIT realm.
	Type int `json:"type"`
	// Attributes is trustAttributes (Trust* bits).
	Attributes  uint32    `json:"attributes"`
	EncTypes    EncTypes  `json:"enc_types"` // msDS-SupportedEncryptionTypes
	WhenCreated time.Time `json:"when_created,omitempty"`
}

// trustAttributes bits (MS-ADTS 6.1.6.7.9).
const (
	TrustNonTransitive           = 0x1
	TrustUplevelOnly             = 0x2
	TrustQuarantinedDomain       = 0x4 // SID filtering on an external trust
	TrustForestTransitive        = 0x8
	TrustCrossOrganization       = 0x10 // selective authentication
	TrustWithinForest            = 0x20
	TrustTreatAsExternal         = 0x40
	TrustUsesRC4                 = 0x80
	TrustCrossOrgNoTGTDelegation = 0x200
	TrustPIM                     = 0x400
	TrustCrossOrgEnableTGTDeleg  = 0x800
)

// SIDFiltering reports whether SID history from the partner is filtered:
// quarantine on external trusts; forest trusts filter unless treated as
// external. Trusts within the forest do not filter.
func (t *Trust) SIDFiltering() bool {
	switch {
	case t.Attributes&TrustWithinForest != 0:
		return false
	case t.Attributes&TrustForestTransitive != 0:
		return t.Attributes&TrustTreatAsExternal == 0
	default:
		return t.Attributes&TrustQuarantinedDomain != 0
	}
}

// Inbound reports the partner's users can authenticate here.
func (t *Trust) Inbound() bool { return t.Direction&1 != 0 }

// Outbound reports our users can authenticate to the partner.
func (t *Trust) Outbound() bool { return t.Direction&2 != 0 }

// GPO is a groupPolicyContainer.
type GPO struct {
	DN          string `json:"dn"`
	GUID        string `json:"guid"` // cn, "{31B2F340-016D-11D2-945F-00C04FB984F9}"
	DisplayName string `json:"display_name"`
	FileSysPath string `json:"file_sys_path,omitempty"` // gPCFileSysPath
	Version     int    `json:"version"`                 // versionNumber
	// Flags is the flags attribute: 1 user part disabled, 2 computer part
	// disabled, 3 all disabled.
	Flags       int       `json:"flags"`
	WhenChanged time.Time `json:"when_changed,omitempty"`
	// ACL is the container's nTSecurityDescriptor.
	ACL *SecurityDescriptor `json:"acl,omitempty"`
	// LinkedTo are the DNs (domain, OUs, sites) whose gPLink names this GPO.
	LinkedTo []string `json:"linked_to,omitempty"`
}

// GPLink is one entry of a gPLink attribute.
type GPLink struct {
	GPODN    string `json:"gpo_dn"`
	Disabled bool   `json:"disabled,omitempty"`
	Enforced bool   `json:"enforced,omitempty"`
}

// CertTemplate is an AD CS pKICertificateTemplate.
type CertTemplate struct {
	DN            string `json:"dn"`
	Name          string `json:"name"` // cn
	DisplayName   string `json:"display_name,omitempty"`
	SchemaVersion int    `json:"schema_version"` // msPKI-Template-Schema-Version
	// NameFlag is msPKI-Certificate-Name-Flag (CTNameFlag* bits).
	NameFlag uint32 `json:"name_flag"`
	// EnrollmentFlag is msPKI-Enrollment-Flag (CTEnroll* bits).
	EnrollmentFlag uint32 `json:"enrollment_flag"`
	// PrivateKeyFlag is msPKI-Private-Key-Flag.
	PrivateKeyFlag uint32 `json:"private_key_flag"`
	// RASignatures is msPKI-RA-Signature: authorized signatures required.
	RASignatures int `json:"ra_signatures"`
	// EKUs is pKIExtendedKeyUsage.
	EKUs []string `json:"ekus,omitempty"`
	// ApplicationPolicies is msPKI-Certificate-Application-Policy (used
	// instead of EKUs by schema version 2+ templates).
	ApplicationPolicies []string `json:"application_policies,omitempty"`
	// RAApplicationPolicies is msPKI-RA-Application-Policies.
	RAApplicationPolicies []string `json:"ra_application_policies,omitempty"`
	// ACL is the template's nTSecurityDescriptor (who may enroll, who may
	// edit).
	ACL *SecurityDescriptor `json:"acl,omitempty"`
	// PublishedBy are the names of the enrollment services (CAs) that offer
	// this template; empty means nobody can enroll in it.
	PublishedBy []string `json:"published_by,omitempty"`
}

// Template flag bits.
const (
	CTNameFlagEnrolleeSuppliesSubject        = 0x1
	CTNameFlagEnrolleeSuppliesSubjectAltName = 0x10000
	CTEnrollPendAllRequests                  = 0x2 // manager approval
	CTEnrollNoSecurityExtension              = 0x80000
)

// Well-known EKU / application policy OIDs.
const (
	EKUClientAuth       = "1.3.6.1.5.5.7.3.2"
	EKUPKINITClient     = "1.3.6.1.5.2.3.4"
	EKUSmartcardLogon   = "1.3.6.1.4.1.311.20.2.2"
	EKUAnyPurpose       = "2.5.29.37.0"
	EKUCertRequestAgent = "1.3.6.1.4.1.311.20.2.1"
	EKUServerAuth       = "1.3.6.1.5.5.7.3.1"
)

// Usages are the effective EKUs: the application policies when set
// (schema ≥ 2), else pKIExtendedKeyUsage.
func (c *CertTemplate) Usages() []string {
	if len(c.ApplicationPolicies) > 0 {
		return c.ApplicationPolicies
	}
	return c.EKUs
}

func (c *CertTemplate) hasUsage(oids ...string) bool {
	for _, u := range c.Usages() {
		for _, o := range oids {
			if u == o {
				return true
			}
		}
	}
	return false
}

// NoEKU reports a template without any EKU (a subordinate-CA-like
// certificate usable for anything).
func (c *CertTemplate) NoEKU() bool { return len(c.Usages()) == 0 }

// AnyPurpose reports the Any Purpose EKU or no EKU at all (ESC2).
func (c *CertTemplate) AnyPurpose() bool { return c.NoEKU() || c.hasUsage(EKUAnyPurpose) }

// ClientAuthentication reports an EKU that permits domain authentication
// (client auth, PKINIT, smart card logon, any purpose or none) (ESC1).
func (c *CertTemplate) ClientAuthentication() bool {
	return c.AnyPurpose() || c.hasUsage(EKUClientAuth, EKUPKINITClient, EKUSmartcardLogon)
}

// RequestAgent reports the Certificate Request Agent EKU (ESC3).
func (c *CertTemplate) RequestAgent() bool { return c.hasUsage(EKUCertRequestAgent) }

// EnrolleeSuppliesSubject reports CT_FLAG_ENROLLEE_SUPPLIES_SUBJECT.
func (c *CertTemplate) EnrolleeSuppliesSubject() bool {
	return c.NameFlag&CTNameFlagEnrolleeSuppliesSubject != 0
}

// ManagerApproval reports CT_FLAG_PEND_ALL_REQUESTS.
func (c *CertTemplate) ManagerApproval() bool { return c.EnrollmentFlag&CTEnrollPendAllRequests != 0 }

// EnrollmentService is a pKIEnrollmentService (an enterprise CA).
type EnrollmentService struct {
	DN          string `json:"dn"`
	Name        string `json:"name"` // cn (the CA name)
	DNSHostName string `json:"dns_host_name,omitempty"`
	// CASubject is the subject of cACertificate, when parseable.
	CASubject string `json:"ca_subject,omitempty"`
	// Templates are the published template names (certificateTemplates).
	Templates []string `json:"templates,omitempty"`
	Flags     uint32   `json:"flags"`
	// ACL is the enrollment service object's nTSecurityDescriptor.
	ACL *SecurityDescriptor `json:"acl,omitempty"`
}
