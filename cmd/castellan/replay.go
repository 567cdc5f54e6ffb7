package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/castellan-itdr/castellan/connector/config"
	"github.com/castellan-itdr/castellan/connector/pipeline"
)

func newReplayCmd() *cobra.Command {
	var ruleSets, dcs, sigmaDirs []string
	var events bool
	var outPath string
	cmd := &cobra.Command{
		Use:   "replay [--rules DIR]... [--events] [--out FILE] PATH...",
		Short: "Run detection and correlation offline over files; JSON lines to stdout",
		Long: "Reads each PATH (file or directory), detects its format by content, runs the rules and correlation,\n" +
			"and writes one JSON object per line: alerts as they fire, then the final version of each incident\n" +
			"(or, with --events, the normalized events). Each object has a \"kind\" field. Counts go to stderr.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg := config.Default()
			cfg.Detections.Rules = append([]string{config.BuiltinRules}, ruleSets...)
			cfg.Detections.DomainControllers = dcs
			cfg.Detections.Sigma = append(cfg.Detections.Sigma, sigmaDirs...)
			proc, err := pipeline.NewProcessor(cfg)
			if err != nil {
				return exitError{code: 2, err: err}
			}
			out := cmd.OutOrStdout()
			if outPath != "" {
				f, err := os.Create(outPath)
				if err != nil {
					return err
				}
				defer f.Close()
				out = f
			}
			st, err := pipeline.Replay(cmd.Context(), proc, args, pipeline.ReplayOptions{Events: events, Out: out, Warn: cmd.ErrOrStderr()})
			fmt.Fprintf(cmd.ErrOrStderr(), "replay: %d file(s), %d line(s), %d event(s), %d bad line(s), %d alert(s), %d incident(s)\n",
				st.Files, st.Lines, st.Events, st.DecodeErrors, st.Alerts, st.Incidents)
			if st.Records > 0 || st.Damaged > 0 || st.Skipped > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "replay: %d EVTX record(s) or capture event(s), %d damaged record(s)/packet(s) skipped, %d unrecognized file(s) skipped\n",
					st.Records, st.Damaged, st.Skipped)
			}
			return err
		},
	}
	cmd.Flags().StringArrayVar(&ruleSets, "rules", nil, "extra rule directory (repeatable); the built-in library is always loaded")
	cmd.Flags().StringArrayVar(&sigmaDirs, "sigma", nil, "extra directory of Sigma rules (repeatable); the built-in Sigma set always runs")
	cmd.Flags().StringSliceVar(&dcs, "dc", nil, "domain controller names (comma-separated), so DC replication is not DCSync")
	cmd.Flags().BoolVar(&events, "events", false, "write the normalized events instead of alerts and incidents")
	cmd.Flags().StringVar(&outPath, "out", "", "write to FILE instead of stdout")
	return cmd
}
