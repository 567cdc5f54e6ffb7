package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/castellan-itdr/castellan/connector/config"
	"github.com/castellan-itdr/castellan/connector/pipeline"
)

// loadConfig reads and validates a config file. Every problem is returned,
// one per line, as an exitError with code 2.
func loadConfig(path string) (*config.Config, error) {
	cfg, err := config.Load(path, pipeline.Registry())
	if err == nil {
		err = cfg.Validate()
	}
	if err == nil {
		var proc *pipeline.Processor
		proc, err = pipeline.NewProcessor(cfg) // loads the rules and checks tuning against them
		if err == nil && len(proc.SigmaProblems) > 0 {
			fmt.Fprintf(os.Stderr, "%s: %d Sigma rule(s) not loaded (unsupported constructs):\n", path, len(proc.SigmaProblems))
			for _, p := range proc.SigmaProblems {
				fmt.Fprintf(os.Stderr, "  %s (%s): %s\n", p.File, p.RuleID, p.Reason)
			}
		}
	}
	if err != nil {
		problems := config.Problems(err)
		msg := fmt.Sprintf("%s: %d problem(s):", path, len(problems))
		for _, p := range problems {
			msg += "\n  " + p
		}
		return nil, exitError{code: 2, err: errors.New(msg)}
	}
	return cfg, nil
}

func newValidateCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "validate -c FILE",
		Short: "Check a config file; print every problem with its path (exit 2) or exit 0",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: OK (%d source(s), %d sink(s))\n", path, len(cfg.Sources), len(cfg.Sinks))
			return nil
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "", "config file (YAML)")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}
