package directory

import "time"

// Entra is the Entra ID (Azure AD) side of a snapshot, read from Microsoft
// Graph.
type Entra struct {
	TenantID string    `json:"tenant_id"`
	Taken    time.Time `json:"taken"`
	// Roles are the directory role definitions that have at least one
	// assignment (active or eligible), with those assignments.
	Roles []EntraRole `json:"roles,omitempty"`
	// Users are the tenant's users with their authentication-method
	// registration (userRegistrationDetails).
	Users             []EntraUser             `json:"users,omitempty"`
	CAPolicies        []CAPolicy              `json:"ca_policies,omitempty"`
	Applications      []EntraApplication      `json:"applications,omitempty"`
	ServicePrincipals []EntraServicePrincipal `json:"service_principals,omitempty"`
	// Warnings lists what could not be read (a missing permission, a
	// licence-gated endpoint such as PIM or registration reports).
	Warnings []string `json:"warnings,omitempty"`
}

// EntraRole is a directory role definition.
type EntraRole struct {
	ID          string `json:"id"`          // roleDefinition id (= template id for built-in roles)
	TemplateID  string `json:"template_id"` // roleTemplateId
	DisplayName string `json:"display_name"`
	BuiltIn     bool   `json:"built_in"`
	// Privileged reports a role in PrivilegedEntraRoles.
	Privileged  bool                  `json:"privileged"`
	Assignments []EntraRoleAssignment `json:"assignments,omitempty"`
}

// Assignment kinds.
const (
	AssignmentActive   = "active"   // roleAssignment / assignment schedule instance
	AssignmentEligible = "eligible" // PIM eligibility schedule
)

// EntraRoleAssignment is one principal holding (or eligible for) a role.
type EntraRoleAssignment struct {
	ID            string `json:"id"`
	Kind          string `json:"kind"` // active | eligible
	PrincipalID   string `json:"principal_id"`
	PrincipalType string `json:"principal_type,omitempty"` // user | group | servicePrincipal
	PrincipalName string `json:"principal_name,omitempty"` // UPN or display name
	// DirectoryScopeID is "/" for tenant-wide.
	DirectoryScopeID string `json:"directory_scope_id,omitempty"`
	// Start and End bound the assignment; a zero End means permanent.
	Start time.Time `json:"start,omitempty"`
	End   time.Time `json:"end,omitempty"`
	// ViaPIM reports an active assignment that came from activating an
	// eligibility (assignmentType "Activated"), not a standing one.
	ViaPIM bool `json:"via_pim,omitempty"`
}

// Permanent reports an assignment without an end.
func (a EntraRoleAssignment) Permanent() bool { return a.End.IsZero() }

// EntraUser is a user and their authentication-method registration.
type EntraUser struct {
	ID                string `json:"id"`
	UPN               string `json:"upn"`
	DisplayName       string `json:"display_name,omitempty"`
	Enabled           bool   `json:"enabled"`
	UserType          string `json:"user_type,omitempty"` // Member | Guest
	OnPremisesSID     string `json:"on_premises_sid,omitempty"`
	OnPremisesSync    bool   `json:"on_premises_sync,omitempty"`
	OnPremisesSAMName string `json:"on_premises_sam_name,omitempty"`
	// Registration is from reports/authenticationMethods/userRegistrationDetails;
	// nil when that report could not be read.
	Registration *AuthRegistration `json:"registration,omitempty"`
}

// AuthRegistration is a userRegistrationDetails record.
type AuthRegistration struct {
	IsAdmin             bool      `json:"is_admin"`
	MFARegistered       bool      `json:"mfa_registered"`
	MFACapable          bool      `json:"mfa_capable"`
	PasswordlessCapable bool      `json:"passwordless_capable"`
	SSPRRegistered      bool      `json:"sspr_registered"`
	Methods             []string  `json:"methods,omitempty"`        // methodsRegistered
	DefaultMethod       string    `json:"default_method,omitempty"` // userPreferredMethodForSecondaryAuthentication
	Updated             time.Time `json:"updated,omitempty"`
}

// CAPolicy is a Conditional Access policy, reduced to what posture checks.
type CAPolicy struct {
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	// State is enabled, disabled or enabledForReportingButNotEnforced.
	State               string   `json:"state"`
	IncludeUsers        []string `json:"include_users,omitempty"` // ids, "All", "GuestsOrExternalUsers"
	ExcludeUsers        []string `json:"exclude_users,omitempty"`
	IncludeGroups       []string `json:"include_groups,omitempty"`
	ExcludeGroups       []string `json:"exclude_groups,omitempty"`
	IncludeRoles        []string `json:"include_roles,omitempty"` // role template ids
	ExcludeRoles        []string `json:"exclude_roles,omitempty"`
	IncludeApplications []string `json:"include_applications,omitempty"`
	ExcludeApplications []string `json:"exclude_applications,omitempty"`
	ClientAppTypes      []string `json:"client_app_types,omitempty"`
	UserRiskLevels      []string `json:"user_risk_levels,omitempty"`
	SignInRiskLevels    []string `json:"sign_in_risk_levels,omitempty"`
	// Operator joins BuiltInControls: "AND" or "OR".
	Operator        string   `json:"operator,omitempty"`
	BuiltInControls []string `json:"built_in_controls,omitempty"` // mfa, block, compliantDevice, …
	// AuthenticationStrength is the display name of a required
	// authentication strength, "" if none.
	AuthenticationStrength string `json:"authentication_strength,omitempty"`
}

// Enabled reports state "enabled" (report-only does not enforce).
func (p CAPolicy) Enabled() bool { return p.State == "enabled" }

// RequiresMFA reports the grant controls demand MFA (the mfa control or an
// authentication strength).
func (p CAPolicy) RequiresMFA() bool {
	if p.AuthenticationStrength != "" {
		return true
	}
	for _, c := range p.BuiltInControls {
		if c == "mfa" {
			return true
		}
	}
	return false
}

// Blocks reports the block grant control.
func (p CAPolicy) Blocks() bool {
	for _, c := range p.BuiltInControls {
		if c == "block" {
			return true
		}
	}
	return false
}

// EntraCredential is a password (client secret) or key (certificate)
// credential of an application or service principal. Secret values are
// never collected.
type EntraCredential struct {
	KeyID       string    `json:"key_id"`
	Kind        string    `json:"kind"` // password | certificate
	DisplayName string    `json:"display_name,omitempty"`
	Start       time.Time `json:"start,omitempty"`
	End         time.Time `json:"end,omitempty"`
}

// Credential kinds.
const (
	CredentialPassword    = "password"
	CredentialCertificate = "certificate"
)

// EntraApplication is an application registration.
type EntraApplication struct {
	ID             string            `json:"id"`
	AppID          string            `json:"app_id"`
	DisplayName    string            `json:"display_name"`
	SignInAudience string            `json:"sign_in_audience,omitempty"`
	Credentials    []EntraCredential `json:"credentials,omitempty"`
	Created        time.Time         `json:"created,omitempty"`
}

// EntraServicePrincipal is a service principal (an app's instance in the
// tenant, or a managed identity).
type EntraServicePrincipal struct {
	ID          string `json:"id"`
	AppID       string `json:"app_id"`
	DisplayName string `json:"display_name"`
	// Type is servicePrincipalType: Application, ManagedIdentity, Legacy, SocialIdp.
	Type             string            `json:"type,omitempty"`
	Enabled          bool              `json:"enabled"`
	AppOwnerTenantID string            `json:"app_owner_tenant_id,omitempty"`
	Credentials      []EntraCredential `json:"credentials,omitempty"`
}

// Built-in role template ids of the roles treated as privileged (Microsoft's
// "privileged" label plus the tier-0 roles).
const (
	RoleGlobalAdministrator                   = "62e90394-69f5-4237-9190-012177145e10"
	RolePrivilegedRoleAdministrator           = "e8611ab8-c189-46e8-94e1-60213ab1f814"
	RolePrivilegedAuthenticationAdministrator = "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"
	RoleSecurityAdministrator                 = "194ae4cb-b126-40b2-bd5b-6091b380977d"
	RoleUserAdministrator                     = "fe930be7-5e62-47db-91af-98c3a49a38b1"
	RoleApplicationAdministrator              = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
	RoleCloudApplicationAdministrator         = "158c047a-c907-4556-b7ef-446551a6b5f7"
	RoleAuthenticationAdministrator           = "c4e39bd9-1100-46d3-8c65-fb160da0071f"
	RoleHybridIdentityAdministrator           = "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2"
	RoleConditionalAccessAdministrator        = "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9"
	RoleExchangeAdministrator                 = "29232cdf-9323-42fd-ade2-1d097af3e4de"
	RoleSharePointAdministrator               = "f28a1f50-f6e7-4571-818b-6a12f2af6b6c"
	RoleIntuneAdministrator                   = "3a2c62db-5318-420d-8d74-23affee5d9d5"
	RoleHelpdeskAdministrator                 = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
)

// PrivilegedEntraRoles maps privileged role template ids to their names.
var PrivilegedEntraRoles = map[string]string{
	RoleGlobalAdministrator:                   "Global Administrator",
	RolePrivilegedRoleAdministrator:           "Privileged Role Administrator",
	RolePrivilegedAuthenticationAdministrator: "Privileged Authentication Administrator",
	RoleSecurityAdministrator:                 "Security Administrator",
	RoleUserAdministrator:                     "User Administrator",
	RoleApplicationAdministrator:              "Application Administrator",
	RoleCloudApplicationAdministrator:         "Cloud Application Administrator",
	RoleAuthenticationAdministrator:           "Authentication Administrator",
	RoleHybridIdentityAdministrator:           "Hybrid Identity Administrator",
	RoleConditionalAccessAdministrator:        "Conditional Access Administrator",
	RoleExchangeAdministrator:                 "Exchange Administrator",
	RoleSharePointAdministrator:               "SharePoint Administrator",
	RoleIntuneAdministrator:                   "Intune Administrator",
	RoleHelpdeskAdministrator:                 "Helpdesk Administrator",
}
