package entra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	abstractions "github.com/microsoft/kiota-abstractions-go"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/castellan-itdr/castellan/mappings/directory"
)

// Graph paths the posture snapshot reads (v1.0), with the permissions they
// need: RoleManagement.Read.Directory, User.Read.All,
// AuditLog.Read.All (registration details), Policy.Read.All (Conditional
// Access), Application.Read.All.
const (
	PathRoleDefinitions             = "roleManagement/directory/roleDefinitions"
	PathRoleAssignments             = "roleManagement/directory/roleAssignments"
	PathRoleAssignmentInstances     = "roleManagement/directory/roleAssignmentScheduleInstances"
	PathRoleEligibilitySchedules    = "roleManagement/directory/roleEligibilitySchedules"
	PathUsers                       = "users"
	PathUserRegistrationDetails     = "reports/authenticationMethods/userRegistrationDetails"
	PathConditionalAccessPolicies   = "identity/conditionalAccess/policies"
	PathApplications                = "applications"
	PathServicePrincipals           = "servicePrincipals"
	snapshotPageSize                = 999 // $top maximum of users, applications, servicePrincipals
	maxSnapshotObjectsPerCollection = 5_000_000
)

// Snapshotter reads the Entra side of a posture snapshot
// (directory.Entra) from Microsoft Graph.
type Snapshotter struct {
	tenant  string
	adapter abstractions.RequestAdapter
	retry   *khttp.RetryHandlerOptions
	now     func() time.Time
}

// NewSnapshotter validates cfg (the same settings as the entra source) and
// builds the credential and Graph client; no network call is made.
func NewSnapshotter(cfg *Config) (*Snapshotter, error) {
	cred, err := validCredential(cfg)
	if err != nil {
		return nil, err
	}
	return newSnapshotter(cred, endpointsOf(cfg).graphURL, cfg.TenantID)
}

// NewSnapshotterWithCredential builds a Snapshotter on a credential the
// caller provides (tests against graphfake; a host with its own token
// source). graphURL includes the version ("https://graph.microsoft.com/v1.0").
func NewSnapshotterWithCredential(cred azcore.TokenCredential, graphURL, tenant string) (*Snapshotter, error) {
	if cred == nil {
		return nil, errors.New("entra: nil credential")
	}
	return newSnapshotter(cred, graphURL, tenant)
}

func newSnapshotter(cred azcore.TokenCredential, graphURL, tenant string) (*Snapshotter, error) {
	p, err := NewGraphPager(cred, graphURL)
	if err != nil {
		return nil, err
	}
	gp := p.(*graphPager)
	return &Snapshotter{tenant: tenant, adapter: gp.adapter, retry: gp.retry, now: time.Now}, nil
}

// GraphError is a Graph error response: HTTP status and OData code.
type GraphError struct {
	Path    string
	Status  int
	Code    string
	Message string
}

func (e *GraphError) Error() string {
	return fmt.Sprintf("graph: GET %s: HTTP %d %s: %s", e.Path, e.Status, e.Code, e.Message)
}

// optional reports an error that means "this tenant cannot serve this"
// (missing licence or permission) rather than a failure: 403, and 400
// with a licence code.
func optional(err error) bool {
	var ge *GraphError
	return errors.As(err, &ge) && (ge.Status == http.StatusForbidden ||
		(ge.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(ge.Code+ge.Message), "license")))
}

// list GETs path with query and calls fn with every element of every page.
func (s *Snapshotter) list(ctx context.Context, path string, query url.Values, fn func(json.RawMessage) error) error {
	u, err := url.Parse(strings.TrimRight(s.adapter.GetBaseUrl(), "/") + "/" + path)
	if err != nil {
		return err
	}
	u.RawQuery = query.Encode()
	ri := abstractions.NewRequestInformation()
	ri.Method = abstractions.GET
	ri.SetUri(*u)
	ri.Headers.TryAdd("Accept", "application/json")
	ri.AddRequestOptions([]abstractions.RequestOption{s.retry})
	wrap := func(err error) error {
		var oe *odataerrors.ODataError
		if errors.As(err, &oe) {
			ge := &GraphError{Path: path, Status: oe.ResponseStatusCode}
			if e := oe.GetErrorEscaped(); e != nil {
				if c := e.GetCode(); c != nil {
					ge.Code = *c
				}
				if m := e.GetMessage(); m != nil {
					ge.Message = *m
				}
			}
			return ge
		}
		return fmt.Errorf("graph: GET %s: %w", path, err)
	}
	first, err := s.adapter.Send(ctx, ri, newRawPage, errorMappings)
	if err != nil {
		return wrap(err)
	}
	if first == nil {
		return fmt.Errorf("graph: GET %s: empty response", path)
	}
	it, err := msgraphcore.NewPageIterator[json.RawMessage](first, s.adapter, newRawPage)
	if err != nil {
		return err
	}
	it.SetReqOptions([]abstractions.RequestOption{s.retry})
	n := 0
	var cbErr error
	err = it.Iterate(ctx, func(raw json.RawMessage) bool {
		if n++; n > maxSnapshotObjectsPerCollection {
			cbErr = fmt.Errorf("graph: GET %s: more than %d objects", path, maxSnapshotObjectsPerCollection)
			return false
		}
		cbErr = fn(raw)
		return cbErr == nil
	})
	if cbErr != nil {
		return cbErr
	}
	if err != nil {
		return wrap(err)
	}
	return nil
}

// listInto decodes every element into T and appends it.
func listInto[T any](ctx context.Context, s *Snapshotter, path string, query url.Values, out *[]T) error {
	return s.list(ctx, path, query, func(raw json.RawMessage) error {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("graph: GET %s: decode: %w", path, err)
		}
		*out = append(*out, v)
		return nil
	})
}

// Graph JSON shapes (field names as msgraph-sdk-go v1.89.0's models).
type (
	gPrincipal struct {
		ODataType         string `json:"@odata.type"`
		ID                string `json:"id"`
		DisplayName       string `json:"displayName"`
		UserPrincipalName string `json:"userPrincipalName"`
	}
	gRoleDefinition struct {
		ID          string `json:"id"`
		DisplayName string `json:"displayName"`
		TemplateID  string `json:"templateId"`
		IsBuiltIn   bool   `json:"isBuiltIn"`
	}
	gRoleAssignment struct {
		ID               string      `json:"id"`
		PrincipalID      string      `json:"principalId"`
		RoleDefinitionID string      `json:"roleDefinitionId"`
		DirectoryScopeID string      `json:"directoryScopeId"`
		Principal        *gPrincipal `json:"principal"`
	}
	gAssignmentInstance struct {
		gRoleAssignment
		AssignmentType string     `json:"assignmentType"` // Assigned | Activated
		StartDateTime  *time.Time `json:"startDateTime"`
		EndDateTime    *time.Time `json:"endDateTime"`
	}
	gEligibilitySchedule struct {
		gRoleAssignment
		Status       string `json:"status"`
		ScheduleInfo struct {
			StartDateTime *time.Time `json:"startDateTime"`
			Expiration    struct {
				Type        string     `json:"type"` // noExpiration | afterDateTime | afterDuration
				EndDateTime *time.Time `json:"endDateTime"`
				Duration    string     `json:"duration"`
			} `json:"expiration"`
		} `json:"scheduleInfo"`
	}
	gUser struct {
		ID                           string `json:"id"`
		UserPrincipalName            string `json:"userPrincipalName"`
		DisplayName                  string `json:"displayName"`
		AccountEnabled               *bool  `json:"accountEnabled"`
		UserType                     string `json:"userType"`
		OnPremisesSecurityIdentifier string `json:"onPremisesSecurityIdentifier"`
		OnPremisesSyncEnabled        *bool  `json:"onPremisesSyncEnabled"`
		OnPremisesSamAccountName     string `json:"onPremisesSamAccountName"`
	}
	gRegistration struct {
		ID                    string    `json:"id"`
		IsAdmin               bool      `json:"isAdmin"`
		IsMfaRegistered       bool      `json:"isMfaRegistered"`
		IsMfaCapable          bool      `json:"isMfaCapable"`
		IsPasswordlessCapable bool      `json:"isPasswordlessCapable"`
		IsSsprRegistered      bool      `json:"isSsprRegistered"`
		MethodsRegistered     []string  `json:"methodsRegistered"`
		PreferredSecondary    string    `json:"userPreferredMethodForSecondaryAuthentication"`
		LastUpdatedDateTime   time.Time `json:"lastUpdatedDateTime"`
	}
	gCAPolicy struct {
		ID          string `json:"id"`
		DisplayName string `json:"displayName"`
		State       string `json:"state"`
		Conditions  struct {
			Users struct {
				IncludeUsers  []string `json:"includeUsers"`
				ExcludeUsers  []string `json:"excludeUsers"`
				IncludeGroups []string `json:"includeGroups"`
				ExcludeGroups []string `json:"excludeGroups"`
				IncludeRoles  []string `json:"includeRoles"`
				ExcludeRoles  []string `json:"excludeRoles"`
			} `json:"users"`
			Applications struct {
				IncludeApplications []string `json:"includeApplications"`
				ExcludeApplications []string `json:"excludeApplications"`
			} `json:"applications"`
			ClientAppTypes   []string `json:"clientAppTypes"`
			UserRiskLevels   []string `json:"userRiskLevels"`
			SignInRiskLevels []string `json:"signInRiskLevels"`
		} `json:"conditions"`
		GrantControls *struct {
			Operator               string   `json:"operator"`
			BuiltInControls        []string `json:"builtInControls"`
			AuthenticationStrength *struct {
				DisplayName string `json:"displayName"`
			} `json:"authenticationStrength"`
		} `json:"grantControls"`
	}
	gCredential struct {
		KeyID         string     `json:"keyId"`
		DisplayName   string     `json:"displayName"`
		StartDateTime *time.Time `json:"startDateTime"`
		EndDateTime   *time.Time `json:"endDateTime"`
	}
	gApp struct {
		ID                   string        `json:"id"`
		AppID                string        `json:"appId"`
		DisplayName          string        `json:"displayName"`
		SignInAudience       string        `json:"signInAudience"`
		CreatedDateTime      *time.Time    `json:"createdDateTime"`
		ServicePrincipalType string        `json:"servicePrincipalType"`
		AccountEnabled       *bool         `json:"accountEnabled"`
		AppOwnerOrgID        string        `json:"appOwnerOrganizationId"`
		PasswordCredentials  []gCredential `json:"passwordCredentials"`
		KeyCredentials       []gCredential `json:"keyCredentials"`
	}
)

func tval(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func bval(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

func principalKind(p *gPrincipal) string {
	if p == nil {
		return ""
	}
	return strings.TrimPrefix(p.ODataType, "#microsoft.graph.")
}

func principalName(p *gPrincipal) string {
	if p == nil {
		return ""
	}
	if p.UserPrincipalName != "" {
		return p.UserPrincipalName
	}
	return p.DisplayName
}

func credentials(pw, keys []gCredential) []directory.EntraCredential {
	var out []directory.EntraCredential
	for _, c := range pw {
		out = append(out, directory.EntraCredential{KeyID: c.KeyID, Kind: directory.CredentialPassword, DisplayName: c.DisplayName, Start: tval(c.StartDateTime), End: tval(c.EndDateTime)})
	}
	for _, c := range keys {
		out = append(out, directory.EntraCredential{KeyID: c.KeyID, Kind: directory.CredentialCertificate, DisplayName: c.DisplayName, Start: tval(c.StartDateTime), End: tval(c.EndDateTime)})
	}
	return out
}

// Snapshot reads roles with their active and eligible assignments, users
// with their authentication-method registration, Conditional Access
// policies, and applications and service principals with their
// credentials (metadata only; Graph never returns secret values here).
// Endpoints a tenant cannot serve (PIM and registration reports need
// Entra ID P1/P2; a missing permission is 403) become warnings; any other
// error fails the snapshot.
func (s *Snapshotter) Snapshot(ctx context.Context) (*directory.Entra, error) {
	e := &directory.Entra{TenantID: s.tenant, Taken: s.now().UTC()}
	sel := func(fields string) url.Values { return url.Values{"$select": {fields}} }
	top := func(v url.Values) url.Values { v.Set("$top", fmt.Sprint(snapshotPageSize)); return v }
	expand := url.Values{"$expand": {"principal"}}

	// Roles.
	var defs []gRoleDefinition
	if err := listInto(ctx, s, PathRoleDefinitions, sel("id,displayName,templateId,isBuiltIn"), &defs); err != nil {
		return nil, err
	}
	var active []gRoleAssignment
	if err := listInto(ctx, s, PathRoleAssignments, expand, &active); err != nil {
		return nil, err
	}
	var instances []gAssignmentInstance
	if err := listInto(ctx, s, PathRoleAssignmentInstances, nil, &instances); err != nil {
		if !optional(err) {
			return nil, err
		}
		e.Warnings = append(e.Warnings, "role assignment schedule instances (PIM) unavailable, end dates unknown: "+err.Error())
	}
	var eligible []gEligibilitySchedule
	if err := listInto(ctx, s, PathRoleEligibilitySchedules, expand, &eligible); err != nil {
		if !optional(err) {
			return nil, err
		}
		e.Warnings = append(e.Warnings, "role eligibility schedules (PIM) unavailable: "+err.Error())
	}
	e.Roles = buildRoles(defs, active, instances, eligible)

	// Users and their registration.
	var users []gUser
	if err := listInto(ctx, s, PathUsers, top(sel("id,userPrincipalName,displayName,accountEnabled,userType,onPremisesSecurityIdentifier,onPremisesSyncEnabled,onPremisesSamAccountName")), &users); err != nil {
		return nil, err
	}
	var regs []gRegistration
	regOK := true
	if err := listInto(ctx, s, PathUserRegistrationDetails, nil, &regs); err != nil {
		if !optional(err) {
			return nil, err
		}
		regOK = false
		e.Warnings = append(e.Warnings, "authentication method registration report unavailable: "+err.Error())
	}
	regByID := map[string]*gRegistration{}
	for i := range regs {
		regByID[regs[i].ID] = &regs[i]
	}
	for _, u := range users {
		eu := directory.EntraUser{ID: u.ID, UPN: u.UserPrincipalName, DisplayName: u.DisplayName, Enabled: bval(u.AccountEnabled, true),
			UserType: u.UserType, OnPremisesSID: u.OnPremisesSecurityIdentifier, OnPremisesSync: bval(u.OnPremisesSyncEnabled, false),
			OnPremisesSAMName: u.OnPremisesSamAccountName}
		if r := regByID[u.ID]; r != nil {
			eu.Registration = &directory.AuthRegistration{IsAdmin: r.IsAdmin, MFARegistered: r.IsMfaRegistered, MFACapable: r.IsMfaCapable,
				PasswordlessCapable: r.IsPasswordlessCapable, SSPRRegistered: r.IsSsprRegistered, Methods: r.MethodsRegistered,
				DefaultMethod: r.PreferredSecondary, Updated: r.LastUpdatedDateTime.UTC()}
		} else if regOK {
			// The report lists every member user; absent means nothing registered.
			eu.Registration = &directory.AuthRegistration{}
		}
		e.Users = append(e.Users, eu)
	}

	// Conditional Access.
	var cas []gCAPolicy
	if err := listInto(ctx, s, PathConditionalAccessPolicies, nil, &cas); err != nil {
		if !optional(err) {
			return nil, err
		}
		e.Warnings = append(e.Warnings, "Conditional Access policies unavailable: "+err.Error())
	}
	for _, p := range cas {
		c := p.Conditions
		cp := directory.CAPolicy{ID: p.ID, DisplayName: p.DisplayName, State: p.State,
			IncludeUsers: c.Users.IncludeUsers, ExcludeUsers: c.Users.ExcludeUsers, IncludeGroups: c.Users.IncludeGroups,
			ExcludeGroups: c.Users.ExcludeGroups, IncludeRoles: c.Users.IncludeRoles, ExcludeRoles: c.Users.ExcludeRoles,
			IncludeApplications: c.Applications.IncludeApplications, ExcludeApplications: c.Applications.ExcludeApplications,
			ClientAppTypes: c.ClientAppTypes, UserRiskLevels: c.UserRiskLevels, SignInRiskLevels: c.SignInRiskLevels}
		if g := p.GrantControls; g != nil {
			cp.Operator, cp.BuiltInControls = g.Operator, g.BuiltInControls
			if g.AuthenticationStrength != nil {
				cp.AuthenticationStrength = g.AuthenticationStrength.DisplayName
			}
		}
		e.CAPolicies = append(e.CAPolicies, cp)
	}

	// Applications and service principals.
	var apps []gApp
	if err := listInto(ctx, s, PathApplications, top(sel("id,appId,displayName,signInAudience,createdDateTime,passwordCredentials,keyCredentials")), &apps); err != nil {
		return nil, err
	}
	for _, a := range apps {
		e.Applications = append(e.Applications, directory.EntraApplication{ID: a.ID, AppID: a.AppID, DisplayName: a.DisplayName,
			SignInAudience: a.SignInAudience, Created: tval(a.CreatedDateTime), Credentials: credentials(a.PasswordCredentials, a.KeyCredentials)})
	}
	var sps []gApp
	if err := listInto(ctx, s, PathServicePrincipals, top(sel("id,appId,displayName,servicePrincipalType,accountEnabled,appOwnerOrganizationId,passwordCredentials,keyCredentials")), &sps); err != nil {
		return nil, err
	}
	for _, a := range sps {
		e.ServicePrincipals = append(e.ServicePrincipals, directory.EntraServicePrincipal{ID: a.ID, AppID: a.AppID, DisplayName: a.DisplayName,
			Type: a.ServicePrincipalType, Enabled: bval(a.AccountEnabled, true), AppOwnerTenantID: a.AppOwnerOrgID,
			Credentials: credentials(a.PasswordCredentials, a.KeyCredentials)})
	}
	return e, nil
}

// buildRoles groups assignments under their role definitions. Active
// assignments come from roleAssignments (authoritative), enriched with the
// schedule instance of the same principal, role and scope (end date,
// activated through PIM); eligible ones from roleEligibilitySchedules.
// Only roles with at least one assignment are kept.
func buildRoles(defs []gRoleDefinition, active []gRoleAssignment, instances []gAssignmentInstance, eligible []gEligibilitySchedule) []directory.EntraRole {
	key := func(a gRoleAssignment) string {
		return a.PrincipalID + "|" + a.RoleDefinitionID + "|" + a.DirectoryScopeID
	}
	inst := map[string]gAssignmentInstance{}
	for _, i := range instances {
		inst[key(i.gRoleAssignment)] = i
	}
	byID := map[string]*directory.EntraRole{}
	var order []string
	role := func(id string) *directory.EntraRole {
		if r := byID[id]; r != nil {
			return r
		}
		r := &directory.EntraRole{ID: id, TemplateID: id}
		byID[id] = r
		order = append(order, id)
		return r
	}
	for _, d := range defs {
		r := role(d.ID)
		r.DisplayName, r.BuiltIn = d.DisplayName, d.IsBuiltIn
		if d.TemplateID != "" {
			r.TemplateID = d.TemplateID
		}
	}
	used := map[string]bool{}
	for _, a := range active {
		r := role(a.RoleDefinitionID)
		as := directory.EntraRoleAssignment{ID: a.ID, Kind: directory.AssignmentActive, PrincipalID: a.PrincipalID,
			PrincipalType: principalKind(a.Principal), PrincipalName: principalName(a.Principal), DirectoryScopeID: a.DirectoryScopeID}
		if i, ok := inst[key(a)]; ok {
			as.Start, as.End = tval(i.StartDateTime), tval(i.EndDateTime)
			as.ViaPIM = strings.EqualFold(i.AssignmentType, "Activated")
		}
		r.Assignments = append(r.Assignments, as)
		used[r.ID] = true
	}
	for _, el := range eligible {
		if el.Status != "" && !strings.EqualFold(el.Status, "Provisioned") {
			continue
		}
		r := role(el.RoleDefinitionID)
		as := directory.EntraRoleAssignment{ID: el.ID, Kind: directory.AssignmentEligible, PrincipalID: el.PrincipalID,
			PrincipalType: principalKind(el.Principal), PrincipalName: principalName(el.Principal), DirectoryScopeID: el.DirectoryScopeID,
			Start: tval(el.ScheduleInfo.StartDateTime)}
		switch exp := el.ScheduleInfo.Expiration; {
		case strings.EqualFold(exp.Type, "noExpiration"):
		case exp.EndDateTime != nil:
			as.End = tval(exp.EndDateTime)
		default: // afterDuration: start + ISO 8601 duration
			d, ok := isoDuration(exp.Duration)
			if !ok || as.Start.IsZero() {
				d = 0 // unknown length: keep it bounded rather than permanent
			}
			as.End = as.Start.Add(d)
			if as.End.IsZero() {
				as.End = time.Unix(0, 0).UTC()
			}
		}
		r.Assignments = append(r.Assignments, as)
		used[r.ID] = true
	}
	var out []directory.EntraRole
	for _, id := range order {
		if !used[id] {
			continue
		}
		r := byID[id]
		_, r.Privileged = directory.PrivilegedEntraRoles[r.TemplateID]
		sort.SliceStable(r.Assignments, func(i, j int) bool {
			if r.Assignments[i].Kind != r.Assignments[j].Kind {
				return r.Assignments[i].Kind < r.Assignments[j].Kind
			}
			return r.Assignments[i].PrincipalID < r.Assignments[j].PrincipalID
		})
		out = append(out, *r)
	}
	return out
}

// isoDuration parses the ISO 8601 durations Graph uses in schedules
// (P[nW][nD][T[nH][nM][nS]]; no years or months).
func isoDuration(v string) (time.Duration, bool) {
	rest, ok := strings.CutPrefix(strings.ToUpper(v), "P")
	if !ok || rest == "" {
		return 0, false
	}
	var total time.Duration
	inTime := false
	num := ""
	for _, c := range rest {
		switch {
		case c >= '0' && c <= '9' || c == '.':
			num += string(c)
		case c == 'T':
			inTime = true
		default:
			var f float64
			if _, err := fmt.Sscanf(num, "%g", &f); err != nil {
				return 0, false
			}
			num = ""
			unit := map[rune]time.Duration{'W': 7 * 24 * time.Hour, 'D': 24 * time.Hour}
			if inTime {
				unit = map[rune]time.Duration{'H': time.Hour, 'M': time.Minute, 'S': time.Second}
			}
			u, ok := unit[c]
			if !ok {
				return 0, false
			}
			total += time.Duration(f * float64(u))
		}
	}
	return total, num == ""
}
