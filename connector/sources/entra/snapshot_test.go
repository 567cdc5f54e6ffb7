package entra

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/castellan-itdr/castellan/connector/sources/entra/graphfake"
	"github.com/castellan-itdr/castellan/mappings/directory"
)

const (
	gaTemplate   = directory.RoleGlobalAdministrator
	helpdeskTmpl = directory.RoleHelpdeskAdministrator
	customRole   = "11111111-2222-3333-4444-555555555555"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// seedTenant fills the fake with a small tenant, shaped as Graph returns it.
func seedTenant(t *testing.T, fake *graphfake.Server) {
	t.Helper()
	add := func(path string, objs ...any) {
		t.Helper()
		if err := fake.AddDirectory(path, objs...); err != nil {
			t.Fatal(err)
		}
	}
	type m = map[string]any
	user := func(id, upn string) m {
		return m{"@odata.type": "#microsoft.graph.user", "id": id, "displayName": strings.Split(upn, "@")[0], "userPrincipalName": upn}
	}
	add(graphfake.RoleDefinitions,
		m{"id": gaTemplate, "displayName": "Global Administrator", "templateId": gaTemplate, "isBuiltIn": true, "isEnabled": true},
		m{"id": helpdeskTmpl, "displayName": "Helpdesk Administrator", "templateId": helpdeskTmpl, "isBuiltIn": true, "isEnabled": true},
		m{"id": customRole, "displayName": "Custom Reader", "templateId": customRole, "isBuiltIn": false, "isEnabled": true},
		m{"id": "99999999-0000-0000-0000-000000000000", "displayName": "Unused", "templateId": "99999999-0000-0000-0000-000000000000", "isBuiltIn": true})
	add(graphfake.RoleAssignments,
		m{"id": "ra-alice", "principalId": "u-alice", "roleDefinitionId": gaTemplate, "directoryScopeId": "/", "principal": user("u-alice", "alice@contoso.test")},
		m{"id": "ra-bob", "principalId": "u-bob", "roleDefinitionId": gaTemplate, "directoryScopeId": "/", "principal": user("u-bob", "bob@contoso.test")},
		m{"id": "ra-sp", "principalId": "sp-1", "roleDefinitionId": customRole, "directoryScopeId": "/",
			"principal": m{"@odata.type": "#microsoft.graph.servicePrincipal", "id": "sp-1", "displayName": "Backup App"}})
	add(graphfake.RoleAssignmentInstances,
		m{"id": "rai-alice", "principalId": "u-alice", "roleDefinitionId": gaTemplate, "directoryScopeId": "/", "assignmentType": "Assigned",
			"memberType": "Direct", "startDateTime": "2025-01-01T00:00:00Z", "endDateTime": nil},
		m{"id": "rai-bob", "principalId": "u-bob", "roleDefinitionId": gaTemplate, "directoryScopeId": "/", "assignmentType": "Activated",
			"memberType": "Direct", "startDateTime": "2026-11-28T08:00:00Z", "endDateTime": "2026-11-28T16:00:00Z"})
	add(graphfake.RoleEligibilitySchedules,
		m{"id": "es-carol", "principalId": "u-carol", "roleDefinitionId": gaTemplate, "directoryScopeId": "/", "status": "Provisioned", "memberType": "Direct",
			"principal":    user("u-carol", "carol@contoso.test"),
			"scheduleInfo": m{"startDateTime": "2026-01-01T00:00:00Z", "expiration": m{"type": "noExpiration", "endDateTime": nil, "duration": nil}}},
		m{"id": "es-bob", "principalId": "u-bob", "roleDefinitionId": gaTemplate, "directoryScopeId": "/", "status": "Provisioned", "memberType": "Direct",
			"principal":    user("u-bob", "bob@contoso.test"),
			"scheduleInfo": m{"startDateTime": "2026-06-01T00:00:00Z", "expiration": m{"type": "afterDuration", "endDateTime": nil, "duration": "P180D"}}},
		m{"id": "es-dave", "principalId": "u-dave", "roleDefinitionId": helpdeskTmpl, "directoryScopeId": "/", "status": "Provisioned", "memberType": "Direct",
			"principal":    user("u-dave", "dave@contoso.test"),
			"scheduleInfo": m{"startDateTime": "2026-01-01T00:00:00Z", "expiration": m{"type": "afterDateTime", "endDateTime": "2027-01-01T00:00:00Z"}}},
		m{"id": "es-old", "principalId": "u-dave", "roleDefinitionId": gaTemplate, "directoryScopeId": "/", "status": "Revoked",
			"scheduleInfo": m{"expiration": m{"type": "noExpiration"}}})
	add(graphfake.Users,
		m{"id": "u-alice", "userPrincipalName": "alice@contoso.test", "displayName": "Alice", "accountEnabled": true, "userType": "Member",
			"onPremisesSecurityIdentifier": "S-1-5-21-1-2-3-1105", "onPremisesSyncEnabled": true, "onPremisesSamAccountName": "alice", "mail": "alice@contoso.test"},
		m{"id": "u-bob", "userPrincipalName": "bob@contoso.test", "displayName": "Bob", "accountEnabled": true, "userType": "Member",
			"onPremisesSecurityIdentifier": nil, "onPremisesSyncEnabled": nil},
		m{"id": "u-carol", "userPrincipalName": "carol@contoso.test", "displayName": "Carol", "accountEnabled": false, "userType": "Member"})
	add(graphfake.UserRegistrationDetails,
		m{"id": "u-alice", "userPrincipalName": "alice@contoso.test", "isAdmin": true, "isMfaRegistered": true, "isMfaCapable": true,
			"isPasswordlessCapable": false, "isSsprRegistered": true, "methodsRegistered": []string{"microsoftAuthenticatorPush", "softwareOneTimePasscode"},
			"userPreferredMethodForSecondaryAuthentication": "push", "lastUpdatedDateTime": "2026-11-27T10:00:00Z"},
		m{"id": "u-bob", "userPrincipalName": "bob@contoso.test", "isAdmin": true, "isMfaRegistered": false, "isMfaCapable": false,
			"isPasswordlessCapable": false, "isSsprRegistered": false, "methodsRegistered": []string{}, "lastUpdatedDateTime": "2026-11-27T10:00:00Z"})
	add(graphfake.ConditionalAccessPolicies,
		m{"id": "ca-1", "displayName": "Require MFA for admins", "state": "enabled",
			"conditions": m{"users": m{"includeRoles": []string{gaTemplate}, "excludeUsers": []string{"u-breakglass"}},
				"applications": m{"includeApplications": []string{"All"}}, "clientAppTypes": []string{"all"}},
			"grantControls": m{"operator": "OR", "builtInControls": []string{"mfa"}}},
		m{"id": "ca-2", "displayName": "Block legacy auth (report only)", "state": "enabledForReportingButNotEnforced",
			"conditions": m{"users": m{"includeUsers": []string{"All"}}, "applications": m{"includeApplications": []string{"All"}},
				"clientAppTypes": []string{"exchangeActiveSync", "other"}},
			"grantControls": m{"operator": "OR", "builtInControls": []string{"block"}}},
		m{"id": "ca-3", "displayName": "Phishing-resistant for everyone", "state": "disabled",
			"conditions":    m{"users": m{"includeUsers": []string{"All"}}, "applications": m{"includeApplications": []string{"All"}}},
			"grantControls": m{"operator": "OR", "builtInControls": []string{}, "authenticationStrength": m{"id": "00000000-0000-0000-0000-000000000004", "displayName": "Phishing-resistant MFA"}}})
	add(graphfake.Applications,
		m{"id": "app-1", "appId": "appid-1", "displayName": "Backup App", "signInAudience": "AzureADMyOrg", "createdDateTime": "2024-05-01T00:00:00Z",
			"passwordCredentials": []m{{"keyId": "k-pw", "displayName": "prod secret", "hint": "abc", "secretText": nil, "startDateTime": "2024-05-01T00:00:00Z", "endDateTime": "2099-01-01T00:00:00Z"}},
			"keyCredentials":      []m{{"keyId": "k-cert", "displayName": "CN=backup", "type": "AsymmetricX509Cert", "usage": "Verify", "startDateTime": "2025-01-01T00:00:00Z", "endDateTime": "2026-01-01T00:00:00Z"}}})
	add(graphfake.ServicePrincipals,
		m{"id": "sp-1", "appId": "appid-1", "displayName": "Backup App", "servicePrincipalType": "Application", "accountEnabled": true,
			"appOwnerOrganizationId": "tenant-1", "passwordCredentials": []m{}, "keyCredentials": []m{}},
		m{"id": "sp-2", "appId": "appid-2", "displayName": "Old Integration", "servicePrincipalType": "Application", "accountEnabled": false,
			"passwordCredentials": []m{{"keyId": "k-sp", "startDateTime": "2020-01-01T00:00:00Z", "endDateTime": "2021-01-01T00:00:00Z"}}})
}

func wantTenant() *directory.Entra {
	active := directory.AssignmentActive
	eligible := directory.AssignmentEligible
	return &directory.Entra{
		TenantID: testTenant,
		Taken:    ts("2026-11-28T12:00:00Z"),
		Roles: []directory.EntraRole{
			{ID: gaTemplate, TemplateID: gaTemplate, DisplayName: "Global Administrator", BuiltIn: true, Privileged: true, Assignments: []directory.EntraRoleAssignment{
				{ID: "ra-alice", Kind: active, PrincipalID: "u-alice", PrincipalType: "user", PrincipalName: "alice@contoso.test", DirectoryScopeID: "/", Start: ts("2025-01-01T00:00:00Z")},
				{ID: "ra-bob", Kind: active, PrincipalID: "u-bob", PrincipalType: "user", PrincipalName: "bob@contoso.test", DirectoryScopeID: "/",
					Start: ts("2026-11-28T08:00:00Z"), End: ts("2026-11-28T16:00:00Z"), ViaPIM: true},
				{ID: "es-bob", Kind: eligible, PrincipalID: "u-bob", PrincipalType: "user", PrincipalName: "bob@contoso.test", DirectoryScopeID: "/",
					Start: ts("2026-06-01T00:00:00Z"), End: ts("2026-06-01T00:00:00Z").Add(180 * 24 * time.Hour)},
				{ID: "es-carol", Kind: eligible, PrincipalID: "u-carol", PrincipalType: "user", PrincipalName: "carol@contoso.test", DirectoryScopeID: "/", Start: ts("2026-01-01T00:00:00Z")},
			}},
			{ID: helpdeskTmpl, TemplateID: helpdeskTmpl, DisplayName: "Helpdesk Administrator", BuiltIn: true, Privileged: true, Assignments: []directory.EntraRoleAssignment{
				{ID: "es-dave", Kind: eligible, PrincipalID: "u-dave", PrincipalType: "user", PrincipalName: "dave@contoso.test", DirectoryScopeID: "/",
					Start: ts("2026-01-01T00:00:00Z"), End: ts("2027-01-01T00:00:00Z")},
			}},
			{ID: customRole, TemplateID: customRole, DisplayName: "Custom Reader", Assignments: []directory.EntraRoleAssignment{
				{ID: "ra-sp", Kind: active, PrincipalID: "sp-1", PrincipalType: "servicePrincipal", PrincipalName: "Backup App", DirectoryScopeID: "/"},
			}},
		},
		Users: []directory.EntraUser{
			{ID: "u-alice", UPN: "alice@contoso.test", DisplayName: "Alice", Enabled: true, UserType: "Member", OnPremisesSID: "S-1-5-21-1-2-3-1105",
				OnPremisesSync: true, OnPremisesSAMName: "alice", Registration: &directory.AuthRegistration{IsAdmin: true, MFARegistered: true, MFACapable: true,
					SSPRRegistered: true, Methods: []string{"microsoftAuthenticatorPush", "softwareOneTimePasscode"}, DefaultMethod: "push", Updated: ts("2026-11-27T10:00:00Z")}},
			{ID: "u-bob", UPN: "bob@contoso.test", DisplayName: "Bob", Enabled: true, UserType: "Member",
				Registration: &directory.AuthRegistration{IsAdmin: true, Methods: []string{}, Updated: ts("2026-11-27T10:00:00Z")}},
			{ID: "u-carol", UPN: "carol@contoso.test", DisplayName: "Carol", Enabled: false, UserType: "Member", Registration: &directory.AuthRegistration{}},
		},
		CAPolicies: []directory.CAPolicy{
			{ID: "ca-1", DisplayName: "Require MFA for admins", State: "enabled", IncludeRoles: []string{gaTemplate}, ExcludeUsers: []string{"u-breakglass"},
				IncludeApplications: []string{"All"}, ClientAppTypes: []string{"all"}, Operator: "OR", BuiltInControls: []string{"mfa"}},
			{ID: "ca-2", DisplayName: "Block legacy auth (report only)", State: "enabledForReportingButNotEnforced", IncludeUsers: []string{"All"},
				IncludeApplications: []string{"All"}, ClientAppTypes: []string{"exchangeActiveSync", "other"}, Operator: "OR", BuiltInControls: []string{"block"}},
			{ID: "ca-3", DisplayName: "Phishing-resistant for everyone", State: "disabled", IncludeUsers: []string{"All"}, IncludeApplications: []string{"All"},
				Operator: "OR", BuiltInControls: []string{}, AuthenticationStrength: "Phishing-resistant MFA"},
		},
		Applications: []directory.EntraApplication{
			{ID: "app-1", AppID: "appid-1", DisplayName: "Backup App", SignInAudience: "AzureADMyOrg", Created: ts("2024-05-01T00:00:00Z"), Credentials: []directory.EntraCredential{
				{KeyID: "k-pw", Kind: directory.CredentialPassword, DisplayName: "prod secret", Start: ts("2024-05-01T00:00:00Z"), End: ts("2099-01-01T00:00:00Z")},
				{KeyID: "k-cert", Kind: directory.CredentialCertificate, DisplayName: "CN=backup", Start: ts("2025-01-01T00:00:00Z"), End: ts("2026-01-01T00:00:00Z")},
			}},
		},
		ServicePrincipals: []directory.EntraServicePrincipal{
			{ID: "sp-1", AppID: "appid-1", DisplayName: "Backup App", Type: "Application", Enabled: true, AppOwnerTenantID: "tenant-1"},
			{ID: "sp-2", AppID: "appid-2", DisplayName: "Old Integration", Type: "Application", Enabled: false, Credentials: []directory.EntraCredential{
				{KeyID: "k-sp", Kind: directory.CredentialPassword, Start: ts("2020-01-01T00:00:00Z"), End: ts("2021-01-01T00:00:00Z")},
			}},
		},
	}
}

func newTestSnapshotter(t *testing.T, fake *graphfake.Server, token string) *Snapshotter {
	t.Helper()
	s, err := newSnapshotter(staticCred(token), fake.URL(), testTenant)
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return ts("2026-11-28T12:00:00Z") }
	return s
}

// TestEntraSnapshot reads a seeded tenant through the real SDK client,
// with pages of two objects, and compares the whole result.
func TestEntraSnapshot(t *testing.T) {
	fake := graphfake.New()
	defer fake.Close()
	fake.RequireToken("tok-1")
	fake.SetDirectoryPageSize(2)
	seedTenant(t, fake)
	got, err := newTestSnapshotter(t, fake, "tok-1").Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := wantTenant()
	for i := range want.Roles {
		if i < len(got.Roles) && !reflect.DeepEqual(got.Roles[i], want.Roles[i]) {
			t.Errorf("role %d:\n got %+v\nwant %+v", i, got.Roles[i], want.Roles[i])
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("snapshot differs:\n got %+v\nwant %+v", got, want)
	}
	// Permanent vs eligible, as posture asks.
	ga := got.Roles[0]
	if !ga.Assignments[0].Permanent() || ga.Assignments[1].Permanent() || !ga.Assignments[3].Permanent() {
		t.Error("alice (standing) and carol (eligible, no expiry) are permanent; bob's activation is not")
	}
	// Paging really happened: more requests than endpoints.
	paged := 0
	for _, r := range fake.Requests() {
		if r.Query.Get("$skiptoken") != "" {
			paged++
		}
		if r.Path == "/v1.0/"+graphfake.Users && r.Query.Get("$skiptoken") == "" && r.Query.Get("$top") != "999" {
			t.Errorf("users requested without $top=999: %v", r.Query)
		}
	}
	// Without $top the server pages by 2: role definitions (4 objects),
	// assignments (3), eligibility schedules (4) and CA policies (3) take
	// one next page each; $top=999 endpoints fit one page.
	if paged != 4 {
		t.Errorf("%d next-page requests, want 4", paged)
	}
}

// TestEntraSnapshotUnlicensed: a tenant without PIM or the registration
// report (403) still yields a snapshot, with warnings and no registration.
func TestEntraSnapshotUnlicensed(t *testing.T) {
	fake := graphfake.New()
	defer fake.Close()
	seedTenant(t, fake)
	fake.FailDirectory(graphfake.RoleEligibilitySchedules, http.StatusForbidden, "AadPremiumLicenseRequired", "The tenant needs an AAD Premium 2 license.")
	fake.FailDirectory(graphfake.RoleAssignmentInstances, http.StatusForbidden, "AadPremiumLicenseRequired", "The tenant needs an AAD Premium 2 license.")
	fake.FailDirectory(graphfake.UserRegistrationDetails, http.StatusForbidden, "Authentication_RequestFromNonPremiumTenantOrB2CTenant", "Tenant is not a B2C tenant and doesn't have premium license")
	got, err := newTestSnapshotter(t, fake, "tok").Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Warnings) != 3 || !strings.Contains(strings.Join(got.Warnings, "\n"), "AadPremiumLicenseRequired") {
		t.Errorf("warnings = %q", got.Warnings)
	}
	for _, u := range got.Users {
		if u.Registration != nil {
			t.Errorf("user %s has a registration without the report", u.UPN)
		}
	}
	for _, r := range got.Roles {
		for _, a := range r.Assignments {
			if a.Kind == directory.AssignmentEligible || a.ViaPIM || !a.End.IsZero() {
				t.Errorf("role %s: assignment %+v needs PIM data", r.DisplayName, a)
			}
		}
	}
}

// TestEntraSnapshotErrors: a failing required endpoint and a rejected
// token fail the snapshot with the Graph status and code.
func TestEntraSnapshotErrors(t *testing.T) {
	fake := graphfake.New()
	defer fake.Close()
	seedTenant(t, fake)
	fake.FailDirectory(graphfake.Users, http.StatusBadRequest, "Request_BadRequest", "Invalid request.")
	_, err := newTestSnapshotter(t, fake, "tok").Snapshot(context.Background())
	var ge *GraphError
	if !errors.As(err, &ge) || ge.Status != 400 || ge.Code != "Request_BadRequest" || ge.Path != PathUsers {
		t.Errorf("err = %v, want GraphError 400 Request_BadRequest on users", err)
	}
	fake.FailDirectory(graphfake.Users, 0, "", "")
	fake.RequireToken("right")
	_, err = newTestSnapshotter(t, fake, "wrong").Snapshot(context.Background())
	if !errors.As(err, &ge) || ge.Status != 401 || ge.Code != "InvalidAuthenticationToken" {
		t.Errorf("err = %v, want 401 InvalidAuthenticationToken", err)
	}
}

func TestISODuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"P180D": 180 * 24 * time.Hour, "PT8H": 8 * time.Hour, "P1DT2H30M": 26*time.Hour + 30*time.Minute, "P2W": 14 * 24 * time.Hour} {
		if got, ok := isoDuration(in); !ok || got != want {
			t.Errorf("isoDuration(%q) = %v %v, want %v", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "P", "180D", "P1Y", "PT5X", "P5"} {
		if _, ok := isoDuration(bad); ok {
			t.Errorf("isoDuration(%q) accepted", bad)
		}
	}
}
