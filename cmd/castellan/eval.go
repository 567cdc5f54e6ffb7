package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/castellan-itdr/castellan/connector/config"
	"github.com/castellan-itdr/castellan/connector/pipeline"
	"github.com/castellan-itdr/castellan/detections/eval"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

func newEvalCmd() *cobra.Command {
	var labels string
	var ruleSets, dcs, sigmaDirs []string
	var verbose bool
	cmd := &cobra.Command{
		Use:   "eval --labels MANIFEST.tsv DIR",
		Short: "Replay a labelled corpus and report detection per ATT&CK technique and tactic",
		Long: "Replays every file listed in the manifest (TSV with a header naming at least path and technique; paths\n" +
			"relative to DIR), each through a fresh detection state, and prints per technique and per tactic how many\n" +
			"files raised an alert with the labelled technique (or its parent / sub-technique), the alerts on files of\n" +
			"other labels, and the recall. The last line is \"recall H/N (P%)\".",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			entries, err := eval.OpenManifest(labels)
			if err != nil {
				return exitError{code: 2, err: err}
			}
			cfg := config.Default()
			cfg.Detections.Rules = append([]string{config.BuiltinRules}, ruleSets...)
			cfg.Detections.DomainControllers = dcs
			cfg.Detections.Sigma = append(cfg.Detections.Sigma, sigmaDirs...)
			rules, err := pipeline.LoadRules(cfg.Detections)
			if err != nil {
				return exitError{code: 2, err: err}
			}
			{
				srules, problems, err := pipeline.LoadSigma(cfg.Detections)
				if err != nil {
					return exitError{code: 2, err: err}
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "eval: %d Sigma rule(s) loaded, %d not supported\n", len(srules), len(problems))
			}
			results := make([]eval.FileResult, 0, len(entries))
			for _, e := range entries {
				proc, err := pipeline.NewProcessorWithRules(cfg, rules)
				if err != nil {
					return err
				}
				r := evalFile(cmd.Context(), proc, filepath.Join(args[0], e.Path), e)
				if verbose {
					fmt.Fprintf(cmd.ErrOrStderr(), "%-9s %-5v %4d events  alerts %v  %s\n", e.Technique, r.Detected, r.Events, r.Techniques, e.Path)
				}
				if r.Err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "eval: %s: %v\n", e.Path, r.Err)
				}
				results = append(results, r)
			}
			return eval.Report(cmd.OutOrStdout(), results)
		},
	}
	cmd.Flags().StringVar(&labels, "labels", "", "manifest TSV (columns path, technique, optional tactic)")
	cmd.Flags().StringArrayVar(&ruleSets, "rules", nil, "extra rule directory (repeatable)")
	cmd.Flags().StringArrayVar(&sigmaDirs, "sigma", nil, "extra directory of Sigma rules (repeatable); the built-in Sigma set always runs")
	cmd.Flags().StringSliceVar(&dcs, "dc", nil, "domain controller names")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "print each file's outcome to stderr")
	_ = cmd.MarkFlagRequired("labels")
	return cmd
}

// evalFile replays one file and scores its alerts against the label.
func evalFile(ctx context.Context, proc *pipeline.Processor, path string, e eval.Entry) eval.FileResult {
	var techniques []string
	st, err := pipeline.Replay(ctx, proc, []string{path}, pipeline.ReplayOptions{
		Out: io.Discard,
		OnRecord: func(r schema.Record) {
			if a, ok := r.(schema.Alert); ok {
				techniques = append(techniques, a.Threat.Technique.ID)
			}
		},
	})
	res := eval.Score(e, st.Events, techniques)
	res.Err = err
	return res
}
