package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/connector/config"
	"github.com/castellan-itdr/castellan/connector/pipeline"
	"github.com/castellan-itdr/castellan/connector/respond"
	"github.com/castellan-itdr/castellan/connector/state"
	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/sinks/delivery"
)

// respondCommands are the operator's actions: subcommand, action, help.
var respondCommands = []struct{ use, action, short string }{
	{"disable-user", respond.DisableUser, "Disable the account (AD userAccountControl ACCOUNTDISABLE, Entra accountEnabled=false)"},
	{"enable-user", respond.EnableUser, "Re-enable the account (the inverse of disable-user)"},
	{"force-password-change", respond.ForcePasswordChange, "Require a password change at next logon (AD pwdLastSet=0)"},
	{"reset-password", respond.ResetPassword, "Reset the AD password to a random value that is never shown or recorded (LDAPS)"},
	{"remove-from-privileged-groups", respond.RemoveFromPrivilegedGroups, "Remove the AD account from every group that grants privilege, directly or by nesting (recorded for undo)"},
	{"add-to-groups", respond.AddToGroups, "Add the AD account to the given groups (--group DN, repeatable): the inverse of remove-from-privileged-groups"},
	{"revoke-sessions", respond.RevokeSessions, "Revoke the Entra user's sign-in sessions (refresh tokens)"},
	{"confirm-compromised", respond.ConfirmCompromised, "Confirm the Entra user compromised (Identity Protection risk high)"},
	{"dismiss-risk", respond.DismissRisk, "Dismiss the Entra user's Identity Protection risk"},
}

func newRespondCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "respond",
		Short: "Contain an identity in AD or Entra ID (dry run unless --enforce); every action is audited to the sinks",
		Long: "Response actions with guard rails: a dry run (the default) reads the account and reports what would change;\n" +
			"--enforce acts. Protected accounts (Administrator, krbtgt, domain controllers, response.protected_accounts and\n" +
			"members of response.protected_groups) are refused, enforced actions are rate limited (response.rate_limit),\n" +
			"and every enforced change can be undone with `castellan respond undo --action ID`. Each action's record goes\n" +
			"to the configured sinks and is printed.",
	}
	for _, c := range respondCommands {
		cmd.AddCommand(newRespondActionCmd(c.use, c.action, c.short))
	}
	cmd.AddCommand(newRespondUndoCmd())
	return cmd
}

// respondFlags are the flags every respond subcommand shares.
type respondFlags struct {
	cfgPath, operator, incident string
	enforce, dryRun             bool
	timeout                     time.Duration
}

func (f *respondFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.cfgPath, "config", "c", "castellan.yaml", "config file (its response: section and sinks)")
	cmd.Flags().BoolVar(&f.enforce, "enforce", false, "act (the default is a dry run that changes nothing)")
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "only report what would change (the default)")
	cmd.Flags().StringVar(&f.operator, "operator", "", "who acts, for the audit record (default $USER)")
	cmd.Flags().StringVar(&f.incident, "incident", "", "incident id the action belongs to")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 30*time.Second, "how long to wait for the action and for the sinks")
}

func (f *respondFlags) mode() (string, error) {
	if f.enforce && f.dryRun {
		return "", exitError{code: 2, err: errors.New("--enforce and --dry-run exclude each other")}
	}
	if f.enforce {
		return respond.Enforce, nil
	}
	return respond.DryRun, nil
}

func (f *respondFlags) trigger() string {
	name := f.operator
	if name == "" {
		name = os.Getenv("USER")
	}
	if name == "" {
		name = "cli"
	}
	return respond.OperatorTrigger(name)
}

// run checks the mode, builds the Responder from the config, lets act do
// the work within the timeout and reports the record it returns.
func (f *respondFlags) run(cmd *cobra.Command, act func(ctx context.Context, r *respond.Responder, mode string) (schema.Action, error)) error {
	mode, err := f.mode()
	if err != nil {
		return err
	}
	cfg, r, err := loadResponder(f.cfgPath)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
	defer cancel()
	rec, err := act(ctx, r, mode)
	if err != nil {
		return err
	}
	return report(cmd.Context(), cmd.OutOrStdout(), cfg, rec, f.timeout)
}

func newRespondActionCmd(use, action, short string) *cobra.Command {
	var f respondFlags
	var identity, directory string
	var groups []string
	cmd := &cobra.Command{
		Use:   use + " --identity X [--enforce] [-c FILE]",
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd, func(ctx context.Context, r *respond.Responder, mode string) (schema.Action, error) {
				req := respond.Request{Action: action, Directory: directory, Identity: identity, Mode: mode,
					Trigger: f.trigger(), IncidentID: f.incident}
				if action == respond.AddToGroups {
					if len(groups) == 0 {
						return schema.Action{}, exitError{code: 2, err: errors.New("add-to-groups needs --group DN")}
					}
					req.Params = map[string][]string{respond.ParamGroups: groups}
				}
				return r.Run(ctx, req), nil
			})
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&identity, "identity", "", "the account: AD sAMAccountName, DOMAIN\\name, UPN, DN or SID; Entra UPN or object id")
	cmd.Flags().StringVar(&directory, "directory", "", "ad or entra (default: the only one offering the action; an object id means entra)")
	if action == respond.AddToGroups {
		cmd.Flags().StringArrayVar(&groups, "group", nil, "group DN to add the account to (repeatable)")
	}
	_ = cmd.MarkFlagRequired("identity")
	return cmd
}

func newRespondUndoCmd() *cobra.Command {
	var f respondFlags
	var actionID string
	cmd := &cobra.Command{
		Use:   "undo --action ID [--enforce] [-c FILE]",
		Short: "Reverse an enforced action from its journal record (dry run unless --enforce)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd, func(ctx context.Context, r *respond.Responder, mode string) (schema.Action, error) {
				rec, err := r.Undo(ctx, actionID, f.trigger(), mode)
				if err != nil {
					return rec, exitError{code: 1, err: err}
				}
				return rec, nil
			})
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&actionID, "action", "", "id of the enforced action to undo")
	_ = cmd.MarkFlagRequired("action")
	return cmd
}

// loadResponder loads the config and builds its Responder.
func loadResponder(path string) (*config.Config, *respond.Responder, error) {
	cfg, err := loadConfig(path)
	if err != nil {
		return nil, nil, err
	}
	if cfg.Response.AD == nil && cfg.Response.Entra == nil {
		return nil, nil, exitError{code: 2, err: fmt.Errorf("%s: no response.ad or response.entra configured", path)}
	}
	r, err := pipeline.NewResponder(cfg.Response)
	if err != nil {
		return nil, nil, exitError{code: 2, err: err}
	}
	return cfg, r, nil
}

// report prints the record, delivers it to the sinks and maps its result
// to the exit status: 0 succeeded or simulated, 1 failed, 3 refused.
func report(ctx context.Context, out io.Writer, cfg *config.Config, rec schema.Action, timeout time.Duration) error {
	fmt.Fprintf(out, "%s %s on %s: %s\n", strings.ToUpper(rec.Result), rec.Type, targetName(rec.Target), rec.Reason)
	if rec.Before != "" {
		fmt.Fprintf(out, "  before: %s\n  after:  %s\n", rec.Before, rec.After)
	}
	fmt.Fprintf(out, "  action id: %s (mode %s, trigger %s)\n", rec.ID, rec.Mode, rec.Trigger)
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s\n", raw)
	deliverActions(ctx, out, cfg, []schema.Action{rec}, timeout)
	switch rec.Result {
	case respond.Failed:
		return exitError{code: 1, err: errors.New("the action failed")}
	case respond.Refused:
		return exitError{code: 3, err: errors.New("the action was refused")}
	}
	return nil
}

func targetName(u schema.User) string {
	switch {
	case u.UPN != "" && u.Name == u.UPN:
		return u.UPN
	case u.Domain != "" && u.Name != "":
		return u.Domain + `\` + u.Name
	}
	return u.Name
}

// deliverActions queues the records for every sink that takes actions,
// in the state file's durable queues as the daemon does, and waits up to
// timeout for delivery; what is left stays queued for the daemon. When
// the daemon holds the state file, each sink is pushed to directly.
func deliverActions(ctx context.Context, out io.Writer, cfg *config.Config, recs []schema.Action, timeout time.Duration) {
	quiet := slog.New(slog.DiscardHandler)
	st, err := state.Open(cfg.State.Path)
	locked := errors.Is(err, state.ErrLocked)
	if err != nil && !locked {
		fmt.Fprintf(out, "sinks: cannot open %s (%v); the record above is not delivered\n", cfg.State.Path, err)
		return
	}
	if st != nil {
		defer st.Close()
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for _, id := range sortedKeys(cfg.Sinks) {
		s, err := pipeline.BuildSink(cfg.Sinks[id], component.SinkSettings{ID: id, Logger: quiet}, out)
		if err != nil {
			fmt.Fprintf(out, "sink %s: %v\n", id, err)
			continue
		}
		var items []delivery.Item
		for _, r := range recs {
			if !s.Selection.Takes(r.RecordKind(), r.RecordSeverity()) {
				continue
			}
			encode := s.Encode
			if encode == nil {
				encode = delivery.NewItem
			}
			it, err := encode(r)
			if err != nil {
				fmt.Fprintf(out, "sink %s: encode: %v\n", id, err)
				continue
			}
			items = append(items, it)
		}
		if len(items) == 0 {
			_ = s.Close()
			continue
		}
		if s.Start != nil {
			if err := s.Start(dctx); err != nil && locked {
				fmt.Fprintf(out, "sink %s: start: %v\n", id, err)
			}
		}
		if locked { // the daemon owns the queues: push directly
			if err := s.Pusher.Push(dctx, items); err != nil {
				fmt.Fprintf(out, "sink %s: NOT delivered (%v); the daemon holds %s\n", id, err, cfg.State.Path)
			} else {
				fmt.Fprintf(out, "sink %s: delivered\n", id)
			}
			_ = s.Close()
			continue
		}
		q, err := delivery.NewQueue(st.DB(), id)
		if err == nil {
			err = q.Enqueue(items)
		}
		if err != nil {
			fmt.Fprintf(out, "sink %s: queue: %v\n", id, err)
			_ = s.Close()
			continue
		}
		snd := delivery.NewSender(id, q, s.Pusher, s.Sender, quiet, nil)
		snd.Start()
		derr := snd.Drain(dctx)
		_ = snd.Shutdown(context.WithoutCancel(dctx))
		_ = s.Close()
		if derr != nil {
			fmt.Fprintf(out, "sink %s: queued, %d record(s) left for the daemon to deliver (%v)\n", id, q.Len(), derr)
		} else {
			fmt.Fprintf(out, "sink %s: delivered\n", id)
		}
	}
}
