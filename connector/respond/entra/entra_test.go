package entra

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/castellan-itdr/castellan/connector/config"
	"github.com/castellan-itdr/castellan/connector/respond"
	"github.com/castellan-itdr/castellan/connector/sources/entra/entraauth"
	"github.com/castellan-itdr/castellan/connector/sources/entra/graphfake"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

const (
	annID = "6f1a0c2e-0b7e-4a55-9a52-0d5a2c6e0a01"
	bobID = "6f1a0c2e-0b7e-4a55-9a52-0d5a2c6e0a02"
)

// setup starts the Graph and token doubles and a responder acting on
// Entra through them with a client secret (the full azidentity flow).
func setup(t *testing.T, protected ...string) (*graphfake.Server, *respond.Responder) {
	t.Helper()
	g := graphfake.New()
	t.Cleanup(g.Close)
	g.RequireToken("tok-123")
	idp := graphfake.NewTokenServer("tenant-1", "client-1", "s3cret", "tok-123")
	t.Cleanup(idp.Close)
	g.AddUser(graphfake.User{ID: annID, UserPrincipalName: "ann@contoso.com", AccountEnabled: true})
	g.AddUser(graphfake.User{ID: bobID, UserPrincipalName: "bob@contoso.com", AccountEnabled: true})
	g.SetRisk(annID, "atRisk", "medium")
	d, err := New(config.ResponseEntra{TenantID: "tenant-1", ClientID: "client-1",
		Auth:     entraauth.Auth{Method: entraauth.AuthClientSecret, ClientSecret: "s3cret"},
		GraphURL: g.URL(), AuthorityHost: idp.URL()}, azcore.ClientOptions{Transport: idp.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return g, respond.New(respond.Options{Directories: []respond.Directory{d}, ProtectedAccounts: protected})
}

func do(t *testing.T, r *respond.Responder, action, identity, mode string) schema.Action {
	t.Helper()
	rec := r.Run(context.Background(), respond.Request{Action: action, Identity: identity, Mode: mode, Trigger: "operator:test"})
	t.Logf("%s %s %s → %s: %s | before %s | after %s", mode, action, identity, rec.Result, rec.Reason, rec.Before, rec.After)
	return rec
}

// writes returns the non-GET requests recorded since index from.
func writes(g *graphfake.Server, from int) []graphfake.ActionRequest {
	var out []graphfake.ActionRequest
	for _, r := range g.ActionRequests()[from:] {
		if r.Method != "GET" {
			out = append(out, r)
		}
	}
	return out
}

// wantWrite asserts exactly one write with method, path and JSON body.
func wantWrite(t *testing.T, got []graphfake.ActionRequest, method, path, body string, status int) {
	t.Helper()
	if len(got) != 1 {
		t.Fatalf("%d write requests %+v, want one %s %s", len(got), got, method, path)
	}
	r := got[0]
	if r.Method != method || r.Path != path || r.Status != status {
		t.Fatalf("request %s %s → %d, want %s %s → %d", r.Method, r.Path, r.Status, method, path, status)
	}
	if body == "" {
		if r.Body != "" {
			t.Fatalf("body %q, want none", r.Body)
		}
		return
	}
	var a, b any
	if err := json.Unmarshal([]byte(r.Body), &a); err != nil {
		t.Fatalf("body %q: %v", r.Body, err)
	}
	_ = json.Unmarshal([]byte(body), &b)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("body %s, want %s", r.Body, body)
	}
}

func want(t *testing.T, rec schema.Action, result, reason string) {
	t.Helper()
	if rec.Result != result || !strings.Contains(rec.Reason, reason) {
		t.Fatalf("%s: %s %q, want %s containing %q", rec.Type, rec.Result, rec.Reason, result, reason)
	}
}

func TestDisableEnableSendsThePatch(t *testing.T) {
	g, r := setup(t)
	n := len(g.ActionRequests())
	want(t, do(t, r, respond.DisableUser, "ann@contoso.com", respond.DryRun), respond.Simulated, "would change: account disabled")
	if w := writes(g, n); len(w) != 0 {
		t.Fatalf("the dry run wrote %+v", w)
	}
	n = len(g.ActionRequests())
	rec := do(t, r, respond.DisableUser, "ann@contoso.com", respond.Enforce)
	want(t, rec, respond.Succeeded, "account disabled (accountEnabled false)")
	wantWrite(t, writes(g, n), "PATCH", "/v1.0/users/"+annID, `{"@odata.type":"#microsoft.graph.user","accountEnabled":false}`, 204)
	if u, _ := g.User(annID); u.AccountEnabled {
		t.Fatal("still enabled")
	}
	if rec.Before != `{"accountEnabled":true}` || rec.After != `{"accountEnabled":false}` || rec.Target.ID != annID || rec.Target.UPN != "ann@contoso.com" {
		t.Errorf("record %+v", rec)
	}
	n = len(g.ActionRequests())
	want(t, do(t, r, respond.DisableUser, annID, respond.Enforce), respond.Succeeded, "no change: account already disabled")
	if w := writes(g, n); len(w) != 0 {
		t.Fatalf("the idempotent repeat wrote %+v", w)
	}
	n = len(g.ActionRequests())
	undo, err := r.Undo(context.Background(), rec.ID, "operator:test", respond.Enforce)
	if err != nil {
		t.Fatal(err)
	}
	want(t, undo, respond.Succeeded, "account enabled")
	wantWrite(t, writes(g, n), "PATCH", "/v1.0/users/"+annID, `{"@odata.type":"#microsoft.graph.user","accountEnabled":true}`, 204)
	if u, _ := g.User(annID); !u.AccountEnabled {
		t.Fatal("undo did not re-enable")
	}
}

func TestRevokeSessionsSendsThePost(t *testing.T) {
	g, r := setup(t)
	n := len(g.ActionRequests())
	rec := do(t, r, respond.RevokeSessions, "bob@contoso.com", respond.Enforce)
	want(t, rec, respond.Succeeded, "sign-in sessions revoked")
	wantWrite(t, writes(g, n), "POST", "/v1.0/users/"+bobID+"/revokeSignInSessions", "", 200)
	if g.Revocations(bobID) != 1 {
		t.Fatal("no revocation")
	}
	if _, err := r.Undo(context.Background(), rec.ID, "t", respond.Enforce); err == nil || !strings.Contains(err.Error(), "cannot be restored") {
		t.Errorf("undo of a revocation: %v", err)
	}
}

func TestConfirmCompromisedAndDismiss(t *testing.T) {
	g, r := setup(t)
	n := len(g.ActionRequests())
	rec := do(t, r, respond.ConfirmCompromised, "ann@contoso.com", respond.Enforce)
	want(t, rec, respond.Succeeded, "confirmed compromised")
	wantWrite(t, writes(g, n), "POST", "/v1.0/identityProtection/riskyUsers/confirmCompromised", `{"userIds":["`+annID+`"]}`, 204)
	if rec.Before != `{"accountEnabled":true,"riskState":"atRisk","riskLevel":"medium"}` ||
		rec.After != `{"accountEnabled":true,"riskState":"confirmedCompromised","riskLevel":"high"}` {
		t.Errorf("before %s after %s", rec.Before, rec.After)
	}
	want(t, do(t, r, respond.ConfirmCompromised, annID, respond.Enforce), respond.Succeeded, "no change: user already confirmed compromised")
	n = len(g.ActionRequests())
	undo, err := r.Undo(context.Background(), rec.ID, "t", respond.Enforce)
	if err != nil {
		t.Fatal(err)
	}
	want(t, undo, respond.Succeeded, "risk dismissed")
	wantWrite(t, writes(g, n), "POST", "/v1.0/identityProtection/riskyUsers/dismiss", `{"userIds":["`+annID+`"]}`, 204)
	// bob has no risk record (404 on riskyUsers/{id}): nothing to dismiss.
	want(t, do(t, r, respond.DismissRisk, "bob@contoso.com", respond.Enforce), respond.Succeeded, "no change: user has no risk to dismiss")
}

func TestEntraErrorsAndProtection(t *testing.T) {
	g, r := setup(t, "BOB@contoso.com")
	want(t, do(t, r, respond.DisableUser, "nobody@contoso.com", respond.Enforce), respond.Failed, "HTTP 404 Request_ResourceNotFound")
	want(t, do(t, r, respond.DisableUser, "not-an-identity", respond.Enforce), respond.Failed, "neither a UPN nor an object id")
	n := len(g.ActionRequests())
	want(t, do(t, r, respond.DisableUser, bobID, respond.Enforce), respond.Refused, "protected account: BOB@contoso.com is listed")
	if w := writes(g, n); len(w) != 0 {
		t.Fatalf("a refused action wrote %+v", w)
	}
	// A Graph failure becomes a failed record with the OData code.
	g.Fail(1, 403, "Authorization_RequestDenied", "")
	want(t, do(t, r, respond.RevokeSessions, "ann@contoso.com", respond.Enforce), respond.Failed, "HTTP 403 Authorization_RequestDenied")
}
