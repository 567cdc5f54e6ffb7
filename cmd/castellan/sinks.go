package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/castellan-itdr/castellan/connector/component"
	"github.com/castellan-itdr/castellan/connector/config"
	"github.com/castellan-itdr/castellan/connector/pipeline"
	"github.com/castellan-itdr/castellan/connector/state"
	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/sinks/delivery"
)

func newSinksCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "sinks", Short: "Test sinks and manage their dead letters"}
	dl := &cobra.Command{Use: "deadletter", Short: "List or replay records a sink rejected permanently"}
	dl.AddCommand(newDeadletterListCmd(), newDeadletterReplayCmd())
	cmd.AddCommand(newSinksTestCmd(), dl)
	return cmd
}

// openQueues opens the state file of a config and the queues of the
// selected sinks (all configured ones when sink is empty).
func openQueues(cfgPath, sink string) (*state.Store, map[string]*delivery.Queue, error) {
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return nil, nil, err
	}
	var ids []string
	for id := range cfg.Sinks {
		if sink == "" || sink == id {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, nil, exitError{code: 2, err: fmt.Errorf("no sink %q in %s", sink, cfgPath)}
	}
	sort.Strings(ids)
	st, err := state.Open(cfg.State.Path)
	if err != nil {
		if errors.Is(err, state.ErrLocked) {
			err = fmt.Errorf("%w (stop the daemon first)", err)
		}
		return nil, nil, err
	}
	qs := map[string]*delivery.Queue{}
	for _, id := range ids {
		q, err := delivery.NewQueue(st.DB(), id)
		if err != nil {
			st.Close()
			return nil, nil, err
		}
		qs[id] = q
	}
	return st, qs, nil
}

func newDeadletterListCmd() *cobra.Command {
	var cfgPath, sink string
	var limit int
	cmd := &cobra.Command{
		Use:   "list -c FILE [--sink ID]",
		Short: "List dead-lettered records per sink",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, qs, err := openQueues(cfgPath, sink)
			if err != nil {
				return err
			}
			defer st.Close()
			out := cmd.OutOrStdout()
			for _, id := range sortedKeys(qs) {
				dls, err := qs[id].DeadLetters()
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "%s: %d dead-lettered, %d queued\n", id, len(dls), qs[id].Len())
				for i, d := range dls {
					if i == limit {
						fmt.Fprintf(out, "  … %d more\n", len(dls)-limit)
						break
					}
					fmt.Fprintf(out, "  %-8s %s  %s\n", d.Item.Kind, d.Item.ID, d.Reason)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "config file")
	cmd.Flags().StringVar(&sink, "sink", "", "only this sink id")
	cmd.Flags().IntVar(&limit, "limit", 20, "records to show per sink")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

func newDeadletterReplayCmd() *cobra.Command {
	var cfgPath, sink string
	cmd := &cobra.Command{
		Use:   "replay -c FILE [--sink ID]",
		Short: "Move dead-lettered records back into their sink's queue (the daemon delivers them on its next start)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, qs, err := openQueues(cfgPath, sink)
			if err != nil {
				return err
			}
			defer st.Close()
			for _, id := range sortedKeys(qs) {
				n, err := qs[id].ReplayDeadLetters()
				if err != nil {
					return fmt.Errorf("%s: %w", id, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %d record(s) re-queued\n", id, n)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "config file")
	cmd.Flags().StringVar(&sink, "sink", "", "only this sink id")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

// canary is the test incident `castellan sinks test` sends.
func canary(now time.Time) schema.Incident {
	return schema.Incident{
		ID:        schema.StableID("canary", now.UTC().Format(time.RFC3339Nano)),
		Version:   1,
		Timestamp: now.UTC(),
		Status:    schema.IncidentClosed,
		Title:     "Castellan test incident (castellan sinks test) — safe to ignore",
		Severity:  schema.SeverityInformational,
		RiskScore: schema.SeverityInformational.RiskScore(),
		FirstSeen: now.UTC(),
		LastSeen:  now.UTC(),
		Threat: schema.IncidentThreat{
			Framework:  schema.FrameworkATTACK,
			Tactics:    []schema.Tactic{{ID: "TA0006", Name: "Credential Access"}},
			Techniques: []schema.Technique{{ID: "T1110.003", Name: "Password Spraying"}},
		},
		Entities: schema.Entities{Users: []string{`CASTELLAN\canary`}, IPs: []string{"192.0.2.1"}},
	}
}

func newSinksTestCmd() *cobra.Command {
	var cfgPath string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "test -c FILE",
		Short: "Send a canary incident straight to every configured sink and print the result per sink",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cfgPath)
			if err != nil {
				return err
			}
			return testSinks(cmd.Context(), cmd.OutOrStdout(), cfg, timeout)
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "config file")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "per-sink timeout")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

func testSinks(ctx context.Context, out io.Writer, cfg *config.Config, timeout time.Duration) error {
	inc := canary(time.Now())
	failed := 0
	ids := make([]string, 0, len(cfg.Sinks))
	for id := range cfg.Sinks {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	quiet := slog.New(slog.DiscardHandler)
	for _, id := range ids {
		start := time.Now()
		err := func() error {
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			s, err := pipeline.BuildSink(cfg.Sinks[id], component.SinkSettings{ID: id, Logger: quiet}, out)
			if err != nil {
				return err
			}
			defer s.Close()
			if s.Start != nil {
				if err := s.Start(cctx); err != nil {
					return fmt.Errorf("start: %w", err)
				}
			}
			// Encode the canary as the pipeline queues it for this sink.
			encode := s.Encode
			if encode == nil {
				encode = delivery.NewItem
			}
			item, err := encode(inc)
			if err != nil {
				return fmt.Errorf("encode: %w", err)
			}
			return s.Pusher.Push(cctx, []delivery.Item{item})
		}()
		if err != nil {
			failed++
			fmt.Fprintf(out, "FAIL  %-24s %s\n", id, strings.ReplaceAll(err.Error(), "\n", "; "))
			continue
		}
		fmt.Fprintf(out, "ok    %-24s canary incident %s delivered in %s\n", id, inc.ID[:12], time.Since(start).Round(time.Millisecond))
	}
	if failed > 0 {
		return exitError{code: 1, err: fmt.Errorf("%d of %d sink(s) failed", failed, len(ids))}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
