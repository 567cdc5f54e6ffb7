package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/castellan-itdr/castellan/samples"
)

func newSamplesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "samples", Short: "Generate synthetic telemetry"}
	var o samples.Options
	gen := &cobra.Command{
		Use:   "generate --scenario NAME --seed N --out DIR",
		Short: "Write a deterministic scenario (benign activity plus attack chains) as JSON lines",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			man, err := samples.Generate(o)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, f := range man.Files {
				fmt.Fprintf(out, "%-28s %-10s %7d events\n", f.Path, f.Format, f.Events)
			}
			for _, s := range man.Stages {
				fmt.Fprintf(out, "stage %-22s %-10s %s – %s (%d events)\n", s.Name, s.Technique,
					s.Start.UTC().Format("15:04:05"), s.End.UTC().Format("15:04:05"), s.Events)
			}
			fmt.Fprintf(out, "wrote %s (manifest.json holds the ground truth)\n", o.OutDir)
			return nil
		},
	}
	gen.Flags().StringVar(&o.Scenario, "scenario", "default", "scenario: "+strings.Join(samples.Scenarios(), ", "))
	gen.Flags().Int64Var(&o.Seed, "seed", 1, "random seed (same seed, same bytes)")
	gen.Flags().StringVar(&o.OutDir, "out", "", "output directory")
	_ = gen.MarkFlagRequired("out")
	cmd.AddCommand(gen)
	return cmd
}
