package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/castellan-itdr/castellan/connector/config"
	"github.com/castellan-itdr/castellan/connector/pipeline"
	"github.com/castellan-itdr/castellan/detections/engine"
	"github.com/castellan-itdr/castellan/detections/rules"
	"github.com/castellan-itdr/castellan/mappings/mitre"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

func newRulesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "rules", Short: "List and test detection rules"}
	cmd.AddCommand(newRulesListCmd(), newRulesTestCmd(), newRulesTuneCmd())
	return cmd
}

// loadRuleSets loads the built-in rules and extra directories, including
// the rules a default config disables (listed and tested like the others).
func loadRuleSets(extra []string) ([]*engine.Rule, error) {
	d := config.Default().Detections
	d.Rules = append(d.Rules, extra...)
	d.Disabled = nil
	return pipeline.LoadRules(d)
}

// enabledByDefault reports whether a default config runs the rule.
func enabledByDefault(id string) bool { return !slices.Contains(config.DefaultDisabled(), id) }

// ruleJSON is the --json shape of one rule.
type ruleJSON struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Severity string `json:"severity"`
	Status   string `json:"status"`
	Kind     string `json:"kind"`
	// Enabled is false for the rules a default config disables
	// (detections.disabled; see config.DefaultDisabled).
	Enabled       bool     `json:"enabled"`
	Tactic        string   `json:"tactic"`
	TacticName    string   `json:"tactic_name"`
	Technique     string   `json:"technique"`
	TechniqueName string   `json:"technique_name"`
	MDI           []int    `json:"mdi"`
	File          string   `json:"file"`
	Tests         int      `json:"tests"`
	Description   string   `json:"description"`
	Tags          []string `json:"tags,omitempty"`
}

func newRulesListCmd() *cobra.Command {
	var asJSON bool
	var extra []string
	cmd := &cobra.Command{
		Use:   "list [--json] [--rules DIR]...",
		Short: "List the rules (built-in plus any --rules directories)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rs, err := loadRuleSets(extra)
			if err != nil {
				return exitError{code: 2, err: err}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				list := make([]ruleJSON, 0, len(rs))
				for _, r := range rs {
					j := ruleJSON{ID: r.ID, Title: r.Title, Severity: r.Severity.String(), Status: r.Status, Kind: r.Kind, Enabled: enabledByDefault(r.ID),
						Tactic: r.Tactic, Technique: r.Technique, MDI: r.MDI, File: r.File, Tests: len(r.Tests), Description: strings.TrimSpace(r.Description)}
					if j.MDI == nil {
						j.MDI = []int{}
					}
					if t, ok := mitre.LookupTactic(r.Tactic); ok {
						j.TacticName = t.Name
					}
					if t, ok := mitre.LookupTechnique(r.Technique); ok {
						j.TechniqueName = t.Name
					}
					list = append(list, j)
				}
				return printJSON(out, list)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSEVERITY\tTACTIC\tTECHNIQUE\tKIND\tTITLE")
			for _, r := range rs {
				title := r.Title
				if !enabledByDefault(r.ID) {
					title += "  [off by default]"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Severity, r.Tactic, r.Technique, r.Kind, title)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	cmd.Flags().StringArrayVar(&extra, "rules", nil, "extra rule directory (repeatable)")
	return cmd
}

func newRulesTestCmd() *cobra.Command {
	var extra []string
	var root string
	cmd := &cobra.Command{
		Use:   "test [--rules DIR]... [--root DIR]",
		Short: "Run every rule's positive and negative samples",
		Long: "Runs each rule's tests: every sample file is decoded as Windows JSON lines (or normalized\n" +
			"event records, as `replay --events` writes them) and run through the rule alone;\n" +
			"the alert count must equal the expected one. Sample paths resolve against the rule file's directory, then --root\n" +
			"(default: the current directory). Samples are enriched with rules.SampleEntities: DCs DC01-DC09, honeytoken svc-honeypot.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rs, err := loadRuleSets(extra)
			if err != nil {
				return exitError{code: 2, err: err}
			}
			ents := rules.SampleEntities()
			return runRuleTests(cmd.OutOrStdout(), rs, root, rules.DecodeSample, ents.Enrich)
		},
	}
	cmd.Flags().StringArrayVar(&extra, "rules", nil, "extra rule directory (repeatable)")
	cmd.Flags().StringVar(&root, "root", ".", "directory that sample paths are relative to")
	return cmd
}

func runRuleTests(out io.Writer, rs []*engine.Rule, root string, decode func([]byte) (schema.Event, error), enrich func(*schema.Event)) error {
	failed, passed := 0, 0
	for _, r := range rs {
		problems := []string{}
		if err := engine.Check(r); err != nil {
			problems = append(problems, err.Error())
		}
		open := func(p string) (io.ReadCloser, error) {
			if !filepath.IsAbs(p) && r.File != "" {
				if f, err := os.Open(filepath.Join(filepath.Dir(r.File), p)); err == nil {
					return f, nil
				}
			}
			if !filepath.IsAbs(p) {
				p = filepath.Join(root, p)
			}
			return os.Open(p)
		}
		for _, res := range engine.RunTests(r, open, decode, enrich) {
			switch {
			case res.Err != nil:
				problems = append(problems, fmt.Sprintf("%s: %v", res.Sample, res.Err))
			case res.Got != res.Expect:
				problems = append(problems, fmt.Sprintf("%s: %d alert(s), want %d", res.Sample, res.Got, res.Expect))
			}
		}
		if len(problems) == 0 {
			passed++
			fmt.Fprintf(out, "ok    %s (%d samples)\n", r.ID, len(r.Tests))
			continue
		}
		failed++
		fmt.Fprintf(out, "FAIL  %s\n", r.ID)
		for _, p := range problems {
			fmt.Fprintf(out, "      %s\n", p)
		}
	}
	fmt.Fprintf(out, "rules: %d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return exitError{code: 1, err: fmt.Errorf("%d rule(s) failed their tests", failed)}
	}
	return nil
}
