package entra

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	"github.com/microsoftgraph/msgraph-sdk-go/identityprotection"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/castellan-itdr/castellan/connector/config"
	"github.com/castellan-itdr/castellan/connector/respond"
	"github.com/castellan-itdr/castellan/connector/sources/entra/entracred"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Directory is an Entra tenant. It implements respond.Directory.
type Directory struct {
	client *msgraphsdk.GraphServiceClient
	tenant string
}

// New returns the directory of cfg: the entra source's settings (package
// entraauth), with its defaults for what cfg leaves empty, authenticated
// by the same credential construction (package entracred): client
// secret, client certificate, managed identity or workload identity. It
// validates cfg and makes no network call. opts may carry a test transport
// for the token endpoint.
func New(cfg config.ResponseEntra, opts azcore.ClientOptions) (*Directory, error) {
	s := cfg.WithDefaults()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	cred, err := entracred.New(s, opts)
	if err != nil {
		return nil, err
	}
	return NewWithCredential(cred, s.GraphEndpoint(), s.TenantID)
}

// NewWithCredential returns the directory at graphURL (base URL with
// version) authenticating with cred.
func NewWithCredential(cred azcore.TokenCredential, graphURL, tenant string) (*Directory, error) {
	u, err := url.Parse(graphURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("graph url %q: not absolute", graphURL)
	}
	scope := u.Scheme + "://" + u.Host + "/.default"
	switch u.Hostname() {
	case "localhost", "127.0.0.1", "::1":
		scope = "https://graph.microsoft.com/.default"
	}
	// The valid hosts must list the Graph host or kiota silently sends no
	// token (reference §4.6 item 1).
	client, err := msgraphsdk.NewGraphServiceClientWithCredentialsAndHosts(cred, []string{scope}, []string{u.Hostname()})
	if err != nil {
		return nil, err
	}
	client.GetAdapter().SetBaseUrl(graphURL)
	return &Directory{client: client, tenant: tenant}, nil
}

// Name implements respond.Directory.
func (d *Directory) Name() string { return "entra" }

var userSelect = []string{"id", "userPrincipalName", "displayName", "accountEnabled", "onPremisesSyncEnabled"}

// userState is the part of a user the records show.
type userState struct {
	AccountEnabled        bool   `json:"accountEnabled"`
	OnPremisesSyncEnabled bool   `json:"onPremisesSyncEnabled,omitempty"`
	RiskState             string `json:"riskState,omitempty"`
	RiskLevel             string `json:"riskLevel,omitempty"`
}

func (d *Directory) getUser(ctx context.Context, key string) (models.Userable, error) {
	u, err := d.client.Users().ByUserId(key).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: userSelect}})
	if err != nil {
		return nil, describe(err)
	}
	return u, nil
}

// Resolve implements respond.Directory: identity is a UPN or object id.
func (d *Directory) Resolve(ctx context.Context, identity string) (respond.Subject, error) {
	id := strings.TrimSpace(identity)
	if !respond.IsGUID(id) && !strings.Contains(id, "@") {
		return respond.Subject{}, fmt.Errorf("%q is neither a UPN nor an object id", identity)
	}
	u, err := d.getUser(ctx, id)
	if err != nil {
		return respond.Subject{}, err
	}
	oid, upn := deref(u.GetId()), deref(u.GetUserPrincipalName())
	if oid == "" {
		return respond.Subject{}, errors.New("graph returned a user without an id")
	}
	return respond.Subject{
		Directory: "entra",
		Key:       oid,
		User:      schema.User{Name: upn, ID: oid, UPN: upn, Domain: d.tenant},
		Aliases:   []string{oid, upn},
	}, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// state reads the user's state, with its risk when withRisk.
func (d *Directory) state(ctx context.Context, id string, withRisk bool) (userState, error) {
	u, err := d.getUser(ctx, id)
	if err != nil {
		return userState{}, err
	}
	st := userState{AccountEnabled: deref(u.GetAccountEnabled()), OnPremisesSyncEnabled: deref(u.GetOnPremisesSyncEnabled())}
	if withRisk {
		ru, err := d.client.IdentityProtection().RiskyUsers().ByRiskyUserId(id).Get(ctx, nil)
		var oe *odataerrors.ODataError
		switch {
		case errors.As(err, &oe) && oe.ResponseStatusCode == 404:
			st.RiskState, st.RiskLevel = "none", "none"
		case err != nil:
			return st, describe(err)
		default:
			if s := ru.GetRiskState(); s != nil {
				st.RiskState = s.String()
			}
			if l := ru.GetRiskLevel(); l != nil {
				st.RiskLevel = l.String()
			}
		}
	}
	return st, nil
}

// Actions implements respond.Directory.
func (d *Directory) Actions() []respond.Action {
	return []respond.Action{
		action{respond.DisableUser, d.setEnabled(false)},
		action{respond.EnableUser, d.setEnabled(true)},
		action{respond.RevokeSessions, d.revokeSessions},
		action{respond.ConfirmCompromised, d.riskAction(true)},
		action{respond.DismissRisk, d.riskAction(false)},
	}
}

type runFunc func(ctx context.Context, s respond.Subject, apply bool) (respond.Change, error)

type action struct {
	name string
	run  runFunc
}

func (a action) Name() string { return a.name }

func (a action) Run(ctx context.Context, s respond.Subject, _ map[string][]string, apply bool) (respond.Change, error) {
	return a.run(ctx, s, apply)
}

func (d *Directory) setEnabled(enable bool) runFunc {
	return func(ctx context.Context, s respond.Subject, apply bool) (respond.Change, error) {
		st, err := d.state(ctx, s.Key, false)
		if err != nil {
			return respond.Change{}, err
		}
		before := respond.State(st)
		verb, inverse := "disabled", respond.EnableUser
		if enable {
			verb, inverse = "enabled", respond.DisableUser
		}
		if st.AccountEnabled == enable {
			return respond.Change{Before: before, After: before, Note: "account already " + verb}, nil
		}
		want := st
		want.AccountEnabled = enable
		note := fmt.Sprintf("account %s (accountEnabled %t)", verb, enable)
		if st.OnPremisesSyncEnabled {
			note += "; WARNING: the user is synced from AD, which will overwrite this: act on AD too"
		}
		ch := respond.Change{Before: before, After: respond.State(want), Changed: true, Note: note, Undo: &respond.Undo{Action: inverse}}
		if !apply {
			return ch, nil
		}
		body := models.NewUser()
		body.SetAccountEnabled(&enable)
		if _, err := d.client.Users().ByUserId(s.Key).Patch(ctx, body, nil); err != nil {
			return respond.Change{Before: before}, describe(err)
		}
		after, err := d.state(ctx, s.Key, false)
		if err != nil {
			return ch, err
		}
		ch.After = respond.State(after)
		if after.AccountEnabled != enable {
			return ch, fmt.Errorf("accountEnabled reads %t after the change", after.AccountEnabled)
		}
		return ch, nil
	}
}

// revokeSessions invalidates refresh tokens and session cookies; access
// tokens already issued stay valid for their lifetime (about an hour)
// unless continuous access evaluation applies.
func (d *Directory) revokeSessions(ctx context.Context, s respond.Subject, apply bool) (respond.Change, error) {
	st, err := d.state(ctx, s.Key, false)
	if err != nil {
		return respond.Change{}, err
	}
	before := respond.State(st)
	ch := respond.Change{Before: before, After: before, Changed: true,
		Note:          "sign-in sessions revoked (refresh tokens invalidated; issued access tokens live up to about an hour)",
		NotReversible: "revoked sessions cannot be restored; the user signs in again"}
	if !apply {
		return ch, nil
	}
	resp, err := d.client.Users().ByUserId(s.Key).RevokeSignInSessions().PostAsRevokeSignInSessionsPostResponse(ctx, nil)
	if err != nil {
		return respond.Change{Before: before}, describe(err)
	}
	if v := resp.GetValue(); v == nil || !*v {
		return respond.Change{Before: before}, errors.New("revokeSignInSessions answered false")
	}
	return ch, nil
}

// riskAction confirms the user compromised (risk high) or dismisses its
// risk.
func (d *Directory) riskAction(confirm bool) runFunc {
	return func(ctx context.Context, s respond.Subject, apply bool) (respond.Change, error) {
		st, err := d.state(ctx, s.Key, true)
		if err != nil {
			return respond.Change{}, err
		}
		before := respond.State(st)
		want := st
		var ch respond.Change
		if confirm {
			if st.RiskState == "confirmedCompromised" {
				return respond.Change{Before: before, After: before, Note: "user already confirmed compromised"}, nil
			}
			want.RiskState, want.RiskLevel = "confirmedCompromised", "high"
			ch = respond.Change{Note: "user confirmed compromised (risk high)", Undo: &respond.Undo{Action: respond.DismissRisk}}
		} else {
			if st.RiskState == "none" || st.RiskState == "dismissed" || st.RiskState == "" {
				return respond.Change{Before: before, After: before, Note: "user has no risk to dismiss"}, nil
			}
			want.RiskState, want.RiskLevel = "dismissed", "none"
			ch = respond.Change{Note: "user risk dismissed", NotReversible: "a dismissed risk cannot be restored; confirm the user compromised if needed"}
		}
		ch.Before, ch.After, ch.Changed = before, respond.State(want), true
		if !apply {
			return ch, nil
		}
		if confirm {
			body := identityprotection.NewRiskyUsersConfirmCompromisedPostRequestBody()
			body.SetUserIds([]string{s.Key})
			err = d.client.IdentityProtection().RiskyUsers().ConfirmCompromised().Post(ctx, body, nil)
		} else {
			body := identityprotection.NewRiskyUsersDismissPostRequestBody()
			body.SetUserIds([]string{s.Key})
			err = d.client.IdentityProtection().RiskyUsers().Dismiss().Post(ctx, body, nil)
		}
		if err != nil {
			return respond.Change{Before: before}, describe(err)
		}
		after, err := d.state(ctx, s.Key, true)
		if err != nil {
			return ch, err
		}
		ch.After = respond.State(after)
		return ch, nil
	}
}

// describe adds the OData code and status to an SDK error.
func describe(err error) error {
	var oe *odataerrors.ODataError
	if errors.As(err, &oe) {
		code, msg := "", ""
		if e := oe.GetErrorEscaped(); e != nil {
			code, msg = deref(e.GetCode()), deref(e.GetMessage())
		}
		return fmt.Errorf("graph: HTTP %d %s: %s", oe.ResponseStatusCode, code, msg)
	}
	return err
}
