package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/castellan-itdr/castellan/connector/config"
	"github.com/castellan-itdr/castellan/connector/respond"
	"github.com/castellan-itdr/castellan/connector/respond/entra"
	"github.com/castellan-itdr/castellan/connector/telemetry"
	"github.com/castellan-itdr/castellan/detections/engine"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// NewResponder builds the Responder of the response section: its AD and
// Entra directories, protected accounts and groups, rate limit and
// journal file. With neither directory configured the journal stays in
// memory and every action fails with "no configured directory offers …".
func NewResponder(cfg config.Response) (*respond.Responder, error) {
	opts := respond.Options{
		ProtectedAccounts: cfg.ProtectedAccounts,
		PerHour:           cfg.RateLimit.PerHour,
		PerRulePerHour:    cfg.RateLimit.PerRulePerHour,
	}
	if cfg.AD != nil {
		ad, err := respond.NewAD(*cfg.AD, cfg.ProtectedGroups)
		if err != nil {
			return nil, err
		}
		opts.Directories = append(opts.Directories, ad)
	}
	if cfg.Entra != nil {
		d, err := entra.New(*cfg.Entra, azcore.ClientOptions{})
		if err != nil {
			return nil, fmt.Errorf("response.entra: %w", err)
		}
		opts.Directories = append(opts.Directories, d)
	}
	if len(opts.Directories) > 0 {
		j, err := respond.OpenJournal(cfg.Journal)
		if err != nil {
			return nil, err
		}
		opts.Journal = j
	}
	return respond.New(opts), nil
}

// entraOnly are actions only Entra offers.
var entraOnly = []string{respond.RevokeSessions, respond.ConfirmCompromised, respond.DismissRisk}

// alertResponse runs the response blocks of rules as they fire: the
// pipeline notes each alert and incident a batch emits, then runs the
// actions of the batch's alerts (with the incident each joined) and adds
// the Action records to the same commit as the alerts.
type alertResponse struct {
	r        *respond.Responder
	global   string // response.mode
	rules    map[string]*engine.RuleResponse
	counters *telemetry.Counters

	alerts    []schema.Alert
	incidents map[string]string // alert id → incident id
}

// newAlertResponse returns nil when no loaded rule has a response block.
func newAlertResponse(cfg *config.Config, rules []*engine.Rule, r *respond.Responder, counters *telemetry.Counters) (*alertResponse, error) {
	blocks := map[string]*engine.RuleResponse{}
	for _, rule := range rules {
		if rule.Response != nil {
			blocks[rule.ID] = rule.Response
		}
	}
	if len(blocks) == 0 {
		return nil, nil
	}
	if r == nil {
		var err error
		if r, err = NewResponder(cfg.Response); err != nil {
			return nil, err
		}
	}
	return &alertResponse{r: r, global: cfg.Response.Mode, rules: blocks, counters: counters, incidents: map[string]string{}}, nil
}

// note remembers alerts of rules with a response block and the incident
// each alert joined. Safe on a nil receiver.
func (h *alertResponse) note(rec schema.Record) {
	if h == nil {
		return
	}
	switch v := rec.(type) {
	case schema.Alert:
		if h.rules[v.Rule.ID] != nil {
			h.alerts = append(h.alerts, v)
		}
	case schema.Incident:
		for _, a := range v.Alerts {
			h.incidents[a.ID] = v.ID
		}
	}
}

// run performs the noted alerts' actions and returns their records,
// forgetting the notes. A rule that fires several times on one user in a
// batch runs each action once. Safe on a nil receiver.
func (h *alertResponse) run(ctx context.Context) []schema.Action {
	if h == nil || len(h.alerts) == 0 {
		if h != nil {
			clear(h.incidents)
		}
		return nil
	}
	var out []schema.Action
	done := map[string]bool{} // rule, action, user: once per batch
	for _, a := range h.alerts {
		block := h.rules[a.Rule.ID]
		mode, note := respond.DryRun, ""
		if block.Mode == engine.ResponseEnforce {
			if h.global == config.ResponseEnforce {
				mode = respond.Enforce
			} else {
				note = " (the rule asks for enforce; response.mode is dry_run)"
			}
		}
		identity, dir := alertIdentity(a.User)
		for _, action := range block.Actions {
			key := a.Rule.ID + "\x00" + action + "\x00" + identity
			if done[key] {
				continue
			}
			done[key] = true
			req := respond.Request{Action: action, Identity: identity, Mode: mode, Trigger: a.Rule.ID, Rule: a.Rule.ID,
				IncidentID: h.incidents[a.ID]}
			if slices.Contains(entraOnly, action) {
				req.Directory = "entra"
			} else {
				req.Directory = dir
			}
			rec := h.r.Run(ctx, req)
			rec.Reason += note
			h.counters.Add(telemetry.Key("response_actions", "result", rec.Result), 1)
			out = append(out, rec)
		}
	}
	h.alerts = h.alerts[:0]
	clear(h.incidents)
	return out
}

// alertIdentity picks how to name the alert's user to a directory and
// which directory that is ("" lets the Responder choose): a SID or
// DOMAIN\name is AD, an object id is Entra, a UPN alone is left to the
// Responder.
func alertIdentity(u schema.User) (identity, directory string) {
	switch {
	case strings.HasPrefix(strings.ToUpper(u.ID), "S-1-5-21-"):
		return u.ID, "ad"
	case respond.IsGUID(u.ID):
		return u.ID, "entra"
	case u.Domain != "" && u.Name != "":
		return u.Domain + `\` + u.Name, "ad"
	case u.UPN != "":
		return u.UPN, ""
	}
	return u.Name, ""
}
