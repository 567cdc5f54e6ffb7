package respond

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Modes of a request.
const (
	DryRun  = "dry_run"
	Enforce = "enforce"
)

// Results of an action record (schema.Action.Result).
const (
	Succeeded = "succeeded"
	Failed    = "failed"
	Refused   = "refused"
	Simulated = "simulated"
)

// Action names. The containment actions are what rules and operators ask
// for; enable_user, add_to_groups, cancel_password_change and dismiss_risk
// restore, and are what undo runs.
const (
	DisableUser                = "disable_user"
	EnableUser                 = "enable_user"
	ForcePasswordChange        = "force_password_change"
	CancelPasswordChange       = "cancel_password_change"
	ResetPassword              = "reset_password"
	RemoveFromPrivilegedGroups = "remove_from_privileged_groups"
	AddToGroups                = "add_to_groups"
	RevokeSessions             = "revoke_sessions"
	ConfirmCompromised         = "confirm_compromised"
	DismissRisk                = "dismiss_risk"
)

// restorative actions are not rate limited: undoing a containment must
// never be blocked by the limit that containment used up.
var restorative = []string{EnableUser, AddToGroups, CancelPasswordChange}

// ParamGroups is the Params key of add_to_groups: the group DNs.
const ParamGroups = "groups"

// Request asks for one action on one identity.
type Request struct {
	Action string
	// Directory is "ad" or "entra"; empty picks the only directory that
	// offers Action, else the one the identity's shape points to (see
	// Responder.pick).
	Directory string
	// Identity names the account: for AD a sAMAccountName, DOMAIN\name,
	// UPN, DN or SID; for Entra a UPN or object id.
	Identity string
	Mode     string // dry_run (default) or enforce
	// Trigger is the operator ("operator:alice") or the rule id.
	Trigger string
	// Rule is the rule id when a rule triggered the action; it keys the
	// per-rule rate limit.
	Rule       string
	IncidentID string
	// Params carries action arguments (ParamGroups for add_to_groups).
	Params map[string][]string
	// UndoOf is the id of the action this request undoes.
	UndoOf string
}

// Subject is a resolved account.
type Subject struct {
	Directory string
	// Key is how the directory addresses the account: a DN or an object id.
	Key  string
	User schema.User
	// Protected says why the account must never be acted on ("" if not):
	// a built-in account, a domain controller, a protected group member.
	Protected string
	// Aliases are the account's names, matched case-insensitively against
	// the configured protected accounts.
	Aliases []string
}

// Change is what an action did, or in a dry run would do.
type Change struct {
	// Before and After describe the account's relevant state as JSON,
	// never secrets. In a dry run After is the predicted state.
	Before, After string
	// Changed is false when the account already was in the wanted state.
	Changed bool
	// Note explains a no-op or a detail ("already disabled").
	Note string
	// Undo is the request that reverses the change; nil when the change
	// cannot be reversed (NotReversible says why).
	Undo          *Undo
	NotReversible string
}

// Undo is the inverse of an enforced action.
type Undo struct {
	Action string              `json:"action"`
	Params map[string][]string `json:"params,omitempty"`
}

// Action is one response action on one directory. Run reads the subject's
// state and, when apply is true, changes it; with apply false it changes
// nothing and predicts the outcome. Run must be idempotent: asked for a
// state the account is already in, it succeeds with Changed false.
type Action interface {
	Name() string
	Run(ctx context.Context, s Subject, params map[string][]string, apply bool) (Change, error)
}

// Directory resolves identities and offers actions.
type Directory interface {
	// Name is "ad" or "entra".
	Name() string
	// Resolve finds exactly one account for identity.
	Resolve(ctx context.Context, identity string) (Subject, error)
	// Actions lists what the directory can do.
	Actions() []Action
}

// Options configure a Responder.
type Options struct {
	Directories []Directory
	// ProtectedAccounts are names (any alias) never acted on.
	ProtectedAccounts []string
	// PerHour and PerRulePerHour cap enforced containment actions in any
	// sliding hour; 0 means no cap.
	PerHour, PerRulePerHour int
	// Journal persists the rate-limit window and undo data; nil keeps
	// them in memory (per process).
	Journal *Journal
	// Timeout bounds each action (default 30s).
	Timeout time.Duration
	// Now is the clock (tests).
	Now func() time.Time
}

// Responder runs actions through the guard rails and returns the audit
// record of each. Safe for concurrent use.
type Responder struct {
	opts Options
	mu   sync.Mutex // serializes enforced actions: the rate limit is check-then-act
}

// New returns a Responder.
func New(opts Options) *Responder {
	if opts.Journal == nil {
		opts.Journal = MemoryJournal()
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Responder{opts: opts}
}

// Offers reports whether some directory offers action.
func (r *Responder) Offers(action string) bool {
	for _, d := range r.opts.Directories {
		if findAction(d, action) != nil {
			return true
		}
	}
	return false
}

func findAction(d Directory, name string) Action {
	for _, a := range d.Actions() {
		if a.Name() == name {
			return a
		}
	}
	return nil
}

// pick chooses the directory for a request: the named one, else the only
// one offering the action, else by the identity's shape: a SID, a DN or
// DOMAIN\name is AD; a GUID is Entra; anything else (a UPN, a bare name)
// goes to AD when AD offers the action.
func (r *Responder) pick(req Request) (Directory, Action, error) {
	var offering []Directory
	for _, d := range r.opts.Directories {
		if req.Directory != "" && d.Name() != req.Directory {
			continue
		}
		if findAction(d, req.Action) != nil {
			offering = append(offering, d)
		}
	}
	switch len(offering) {
	case 0:
		if req.Directory != "" {
			return nil, nil, fmt.Errorf("directory %q is not configured or does not offer %s", req.Directory, req.Action)
		}
		return nil, nil, fmt.Errorf("no configured directory offers %s", req.Action)
	case 1:
		return offering[0], findAction(offering[0], req.Action), nil
	}
	want := "ad"
	if IsGUID(req.Identity) {
		want = "entra"
	}
	for _, d := range offering {
		if d.Name() == want {
			return d, findAction(d, req.Action), nil
		}
	}
	return offering[0], findAction(offering[0], req.Action), nil
}

// Run performs (or simulates) one action and returns its audit record. It
// never panics on bad input: every problem becomes a failed or refused
// record with the reason.
func (r *Responder) Run(ctx context.Context, req Request) schema.Action {
	now := r.opts.Now().UTC()
	if req.Mode == "" {
		req.Mode = DryRun
	}
	rec := schema.Action{
		Timestamp:  now,
		Type:       req.Action,
		Mode:       req.Mode,
		Trigger:    req.Trigger,
		IncidentID: req.IncidentID,
		Target:     schema.User{Name: req.Identity},
	}
	rec.ID = schema.ActionID(req.Action, req.Identity, req.Trigger, now)
	fail := func(result, format string, a ...any) schema.Action {
		rec.Result = result
		rec.Reason = fmt.Sprintf(format, a...)
		if req.UndoOf != "" {
			rec.Reason = "undo of " + req.UndoOf + ": " + rec.Reason
		}
		return rec
	}
	if req.Mode != DryRun && req.Mode != Enforce {
		return fail(Failed, "mode %q: want dry_run or enforce", req.Mode)
	}
	if strings.TrimSpace(req.Identity) == "" {
		return fail(Failed, "no identity given")
	}
	dir, act, err := r.pick(req)
	if err != nil {
		return fail(Failed, "%v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	subj, err := dir.Resolve(ctx, req.Identity)
	if err != nil {
		return fail(Failed, "%s: resolve %q: %v", dir.Name(), req.Identity, err)
	}
	rec.Target = subj.User
	if subj.Protected != "" {
		return fail(Refused, "protected account: %s", subj.Protected)
	}
	if name, ok := r.protectedByConfig(subj); ok {
		return fail(Refused, "protected account: %s is listed in response.protected_accounts", name)
	}

	if req.Mode == DryRun {
		ch, err := act.Run(ctx, subj, req.Params, false)
		if err != nil {
			return fail(Failed, "%s: %s (dry run): %v", dir.Name(), req.Action, err)
		}
		rec.Result, rec.Before, rec.After = Simulated, ch.Before, ch.After
		rec.Reason = "dry run: " + describe(ch, true)
		return rec
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	limited := !slices.Contains(restorative, req.Action) && req.UndoOf == ""
	if limited {
		if err := r.opts.Journal.Allow(now, req.Rule, r.opts.PerHour, r.opts.PerRulePerHour); err != nil {
			return fail(Refused, "%v", err)
		}
	}
	ch, err := act.Run(ctx, subj, req.Params, true)
	if err != nil {
		// A failed attempt may have changed something: it counts, and a
		// partial change is journaled so it can be undone.
		rec.Before = ch.Before
		if ch.Changed {
			rec.After = ch.After
			rec = fail(Failed, "%s: %s: %v", dir.Name(), req.Action, err)
			_ = r.opts.Journal.Record(JournalEntry{Action: rec, Directory: dir.Name(), Key: subj.Key, Undo: ch.Undo, NotReversible: ch.NotReversible}, req.Rule, limited)
			return rec
		}
		if limited {
			_ = r.opts.Journal.Count(now, req.Rule)
		}
		return fail(Failed, "%s: %s: %v", dir.Name(), req.Action, err)
	}
	rec.Result, rec.Before, rec.After = Succeeded, ch.Before, ch.After
	rec.Reason = describe(ch, false)
	if req.UndoOf != "" {
		rec.Reason = "undo of " + req.UndoOf + ": " + rec.Reason
	}
	entry := JournalEntry{Action: rec, Directory: dir.Name(), Key: subj.Key, Undo: ch.Undo, NotReversible: ch.NotReversible}
	if ch.Changed && ch.Undo == nil && ch.NotReversible == "" {
		entry.NotReversible = "the action has no inverse"
	}
	if err := r.opts.Journal.Record(entry, req.Rule, limited); err != nil {
		rec.Reason += fmt.Sprintf(" (WARNING: journal write failed, undo data lost: %v)", err)
	}
	return rec
}

// describe words a change for the record's reason.
func describe(ch Change, dry bool) string {
	switch {
	case !ch.Changed && ch.Note != "":
		return "no change: " + ch.Note
	case !ch.Changed:
		return "no change: already in the wanted state"
	case dry && ch.Note != "":
		return "would change: " + ch.Note
	case dry:
		return "would change the account"
	case ch.Note != "":
		s := ch.Note
		if ch.Undo == nil && ch.NotReversible != "" {
			s += "; not reversible: " + ch.NotReversible
		}
		return s
	}
	return "changed"
}

// protectedByConfig matches the subject's aliases against the configured
// protected accounts.
func (r *Responder) protectedByConfig(s Subject) (string, bool) {
	for _, p := range r.opts.ProtectedAccounts {
		for _, a := range s.Aliases {
			if a != "" && strings.EqualFold(strings.TrimSpace(p), a) {
				return p, true
			}
		}
	}
	return "", false
}

// ErrNotFound is returned by Undo for an unknown action id.
var ErrNotFound = errors.New("no such enforced action in the journal")

// Undo reverses an enforced action recorded in the journal by running its
// inverse in mode (dry_run to preview). The inverse is not rate limited.
func (r *Responder) Undo(ctx context.Context, actionID, trigger, mode string) (schema.Action, error) {
	e, err := r.opts.Journal.Get(actionID)
	if err != nil {
		return schema.Action{}, err
	}
	if e.Undo == nil {
		why := e.NotReversible
		if why == "" {
			why = "it changed nothing"
		}
		return schema.Action{}, fmt.Errorf("action %s (%s on %s) cannot be undone: %s", actionID, e.Action.Type, e.Key, why)
	}
	return r.Run(ctx, Request{
		Action: e.Undo.Action, Directory: e.Directory, Identity: e.Key, Mode: mode,
		Trigger: trigger, IncidentID: e.Action.IncidentID, Params: e.Undo.Params, UndoOf: actionID,
	}), nil
}

// State renders a state description as compact JSON.
func State(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

// IsGUID reports whether s looks like an object id.
func IsGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}
