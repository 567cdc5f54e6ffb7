package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/castellan-itdr/castellan/connector/config"
	"github.com/castellan-itdr/castellan/connector/pipeline"
	"github.com/castellan-itdr/castellan/connector/state"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

func newIdentitiesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "identities",
		Short: "Identities most at risk: investigation priority scores",
	}
	cmd.AddCommand(newIdentitiesTopCmd())
	return cmd
}

func newIdentitiesTopCmd() *cobra.Command {
	var (
		path, identities string
		replay, dcs      []string
		asJSON           bool
		n                int
	)
	cmd := &cobra.Command{
		Use:   "top (-c FILE | --replay PATH...) [--json] [-n N]",
		Short: "List the identities with the highest investigation priority, factor by factor",
		Long: "Lists identities by investigation priority score: the sum of the points of their alerts and\n" +
			"abnormal-activity detections over the last 7 days of event time (informational 1, low 5,\n" +
			"medium 10, high 30, critical 50), with the percentile among all scored identities and the\n" +
			"factors (rule, severity, count, points) that make it up.\n\n" +
			"With -c it reads the scores the daemon keeps in its state file (stop the daemon first: it\n" +
			"holds the file locked). With --replay it computes them from log files (as `castellan replay`\n" +
			"reads them), using -c's detections settings when given.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var top []schema.IdentityPriority
			var err error
			switch {
			case len(replay) > 0:
				top, err = topFromReplay(cmd, path, replay, dcs, identities, n)
			case path != "":
				top, err = topFromState(path, n)
			default:
				return exitError{code: 2, err: errors.New("identities top: give -c FILE (the daemon's state) or --replay PATH")}
			}
			if err != nil {
				return err
			}
			if asJSON {
				if top == nil {
					top = []schema.IdentityPriority{}
				}
				return printJSON(cmd.OutOrStdout(), top)
			}
			printTopIdentities(cmd.OutOrStdout(), top)
			return nil
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "", "config file (YAML): read its state file, or take its detections settings for --replay")
	cmd.Flags().StringArrayVar(&replay, "replay", nil, "compute from these files or directories instead of the daemon's state (repeatable)")
	cmd.Flags().StringSliceVar(&dcs, "dc", nil, "with --replay and no -c: domain controller names (comma-separated)")
	cmd.Flags().StringVar(&identities, "identities", "", "with --replay and no -c: identity mapping file (Entra user ↔ AD account)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	cmd.Flags().IntVarP(&n, "top", "n", 10, "how many identities (0: all)")
	return cmd
}

// topFromState reads the scores the daemon committed to its state file.
func topFromState(path string, n int) ([]schema.IdentityPriority, error) {
	cfg, err := config.Load(path, pipeline.Registry())
	if err != nil {
		return nil, err
	}
	store, err := state.Open(cfg.State.Path)
	if errors.Is(err, state.ErrLocked) {
		return nil, fmt.Errorf("%w: the daemon is running; stop it, or compute from files with --replay", err)
	}
	if err != nil {
		return nil, err
	}
	defer store.Close()
	return pipeline.TopIdentitiesFromState(store, n)
}

// topFromReplay runs the processor over files and scores what it found.
func topFromReplay(cmd *cobra.Command, path string, paths, dcs []string, identities string, n int) ([]schema.IdentityPriority, error) {
	cfg := config.Default()
	if path != "" {
		c, err := config.Load(path, pipeline.Registry())
		if err != nil {
			return nil, err
		}
		cfg = c
	} else {
		cfg.Detections.DomainControllers = dcs
		cfg.Detections.Identities = identities
	}
	proc, err := pipeline.NewProcessor(cfg)
	if err != nil {
		return nil, err
	}
	if _, err := pipeline.Replay(cmd.Context(), proc, paths, pipeline.ReplayOptions{Out: io.Discard, Warn: cmd.ErrOrStderr()}); err != nil {
		return nil, err
	}
	return proc.TopIdentities(n), nil
}

func printTopIdentities(out io.Writer, top []schema.IdentityPriority) {
	if len(top) == 0 {
		fmt.Fprintln(out, "No scored identities (no alerts in the last 7 days).")
		return
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RANK\tIDENTITY\tSCORE\tPERCENTILE\tALERTS\tFACTORS")
	for i, p := range top {
		alerts := 0
		factors := make([]string, 0, len(p.Factors))
		for _, f := range p.Factors {
			alerts += f.Count
			kind := ""
			if f.Kind != "alert" {
				kind = f.Kind + " "
			}
			factors = append(factors, fmt.Sprintf("%s%s (%s ×%d = %d)", kind, f.RuleID, f.Severity, f.Count, f.Points))
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%d\t%s\n", i+1, p.Identity, p.Score, p.Percentile, alerts, strings.Join(factors, ", "))
	}
	tw.Flush()
}
