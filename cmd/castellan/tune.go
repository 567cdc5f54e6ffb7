package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/castellan-itdr/castellan/connector/config"
	"github.com/castellan-itdr/castellan/connector/pipeline"
	"github.com/castellan-itdr/castellan/detections/engine"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

func newRulesTuneCmd() *cobra.Command {
	var cfgPath, tuningPath string
	var dcs []string
	var show int
	cmd := &cobra.Command{
		Use:   "tune --tuning PROPOSED.yaml [-c CONFIG] [--dc DC01,DC02] PATH...",
		Short: "Show what a proposed tuning (exclusions, thresholds) would have suppressed or added on a replay",
		Long: "Replays PATH... twice: with the current tuning (detections.tuning of -c CONFIG, or none) and with the\n" +
			"proposed one, and lists the alerts the change would suppress and the ones it would add, per rule.\n" +
			"PROPOSED.yaml has the shape of detections.tuning:\n\n" +
			"  password-spray: { exclude_ips: [10.20.0.0/16], threshold: 20 }\n" +
			"  \"*\": { exclude_accounts: [\"svc-scanner\"] }",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			base := config.Default()
			if cfgPath != "" {
				c, err := loadConfig(cfgPath)
				if err != nil {
					return err
				}
				base = c
			}
			if len(dcs) > 0 {
				base.Detections.DomainControllers = dcs
			}
			data, err := os.ReadFile(tuningPath)
			if err != nil {
				return exitError{code: 2, err: err}
			}
			var proposed map[string]engine.RuleTuning
			dec := yaml.NewDecoder(bytesReader(data))
			dec.KnownFields(true)
			if err := dec.Decode(&proposed); err != nil && err != io.EOF {
				return exitError{code: 2, err: fmt.Errorf("%s: %w", tuningPath, err)}
			}
			after := *base
			after.Detections.Tuning = proposed
			before, err := replayAlerts(cmd.Context(), base, args)
			if err != nil {
				return err
			}
			tuned, err := replayAlerts(cmd.Context(), &after, args)
			if err != nil {
				return err
			}
			suppressed, added := engine.DiffAlerts(before, tuned)
			printTuneDiff(cmd.OutOrStdout(), before, tuned, suppressed, added, show)
			return nil
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "config whose detections (rules, DCs, current tuning) are the baseline")
	cmd.Flags().StringVar(&tuningPath, "tuning", "", "proposed tuning (YAML, the shape of detections.tuning)")
	cmd.Flags().StringSliceVar(&dcs, "dc", nil, "domain controller names")
	cmd.Flags().IntVar(&show, "show", 10, "alerts to list per rule")
	_ = cmd.MarkFlagRequired("tuning")
	return cmd
}

func replayAlerts(ctx context.Context, cfg *config.Config, paths []string) ([]schema.Alert, error) {
	proc, err := pipeline.NewProcessor(cfg)
	if err != nil {
		return nil, exitError{code: 2, err: err}
	}
	var alerts []schema.Alert
	_, err = pipeline.Replay(ctx, proc, paths, pipeline.ReplayOptions{Out: io.Discard, OnRecord: func(r schema.Record) {
		if a, ok := r.(schema.Alert); ok {
			alerts = append(alerts, a)
		}
	}})
	return alerts, err
}

func printTuneDiff(w io.Writer, before, after, suppressed, added []schema.Alert, show int) {
	fmt.Fprintf(w, "alerts: %d now, %d with the proposed tuning (%d suppressed, %d added)\n", len(before), len(after), len(suppressed), len(added))
	for _, part := range []struct {
		label  string
		alerts []schema.Alert
	}{{"SUPPRESSED", suppressed}, {"ADDED", added}} {
		if len(part.alerts) == 0 {
			continue
		}
		byRule := map[string][]schema.Alert{}
		for _, a := range part.alerts {
			byRule[a.Rule.ID] = append(byRule[a.Rule.ID], a)
		}
		ids := make([]string, 0, len(byRule))
		for id := range byRule {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		fmt.Fprintf(w, "\n%s\n", part.label)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, id := range ids {
			list := byRule[id]
			fmt.Fprintf(tw, "%s\t%d alert(s)\t\t\n", id, len(list))
			for i, a := range list {
				if i == show {
					fmt.Fprintf(tw, "\t… %d more\t\t\n", len(list)-show)
					break
				}
				fmt.Fprintf(tw, "\t%s\t%s\t%s\n", a.Timestamp.UTC().Format("2006-01-02 15:04:05"), alertEntity(a), a.Message)
			}
		}
		tw.Flush()
	}
}

func alertEntity(a schema.Alert) string {
	switch {
	case a.User.Name != "" && a.Source.IP != "":
		return a.User.Identity() + " from " + a.Source.IP
	case a.User.Name != "":
		return a.User.Identity()
	case a.Source.IP != "":
		return a.Source.IP
	}
	return a.Host.Name
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
