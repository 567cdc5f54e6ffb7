package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/castellan-itdr/castellan/connector/pipeline"
	"github.com/castellan-itdr/castellan/connector/state"
	"github.com/castellan-itdr/castellan/detections/posture"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

func newPostureCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "posture", Short: "Assess identity security posture (AD and Entra) and export the findings"}
	cmd.AddCommand(newPostureRunCmd(), newPostureListCmd())
	return cmd
}

func newPostureRunCmd() *cobra.Command {
	var path, report string
	var asJSON bool
	var drain time.Duration
	cmd := &cobra.Command{
		Use:   "run -c FILE [--report posture.html] [--json]",
		Short: "Collect the directory once, run every assessment, print the result, queue the findings to the sinks and write the HTML report",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			if !cfg.Posture.Enabled() {
				return exitError{code: 2, err: fmt.Errorf("%s has no posture section (posture: {ldap: {...}})", path)}
			}
			pc, err := pipeline.PostureOnlyConfig(cfg)
			if err != nil {
				return exitError{code: 2, err: err}
			}
			if report != "" {
				pc.Posture.Report = report
			}
			log := newLogger(cfg.Log)
			p, err := pipeline.New(pc, pipeline.Options{Logger: log, Stdout: cmd.ErrOrStderr()})
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if err := p.Start(ctx); err != nil {
				_ = p.Shutdown(context.Background())
				if errors.Is(err, state.ErrLocked) {
					err = fmt.Errorf("%w (the daemon holds the state file: its posture.schedule exports on its own)", err)
				}
				return err
			}
			res, runErr := p.RunPosture(ctx)
			var hist []posture.HistoryPoint
			if runErr == nil {
				hist, _ = p.PostureHistory(2)
			}
			dctx, cancel := context.WithTimeout(context.Background(), drain)
			defer cancel()
			if derr := p.Drain(dctx); derr != nil && runErr == nil {
				log.Warn("not every finding was delivered yet; they stay queued for the next run or the daemon", "err", derr)
			}
			if err := errors.Join(runErr, p.Shutdown(dctx)); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return writePostureJSON(out, res, hist)
			}
			writePostureTable(out, res, hist)
			return nil
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "", "config file (YAML) with a posture section")
	cmd.Flags().StringVar(&report, "report", "", "write the HTML report here (default posture.report from the config; none if neither)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON instead of a table")
	cmd.Flags().DurationVar(&drain, "drain-timeout", 30*time.Second, "how long to wait for the sinks to take the findings (the rest stays queued)")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

func writePostureTable(w io.Writer, res pipeline.PostureResult, hist []posture.HistoryPoint) {
	r := res.Run
	trend := ""
	if len(hist) == 2 {
		switch d := hist[1].Score.Total - hist[0].Score.Total; {
		case d > 0:
			trend = fmt.Sprintf(" (up %d since %s)", d, hist[0].At.UTC().Format("2006-01-02"))
		case d < 0:
			trend = fmt.Sprintf(" (down %d since %s)", -d, hist[0].At.UTC().Format("2006-01-02"))
		default:
			trend = " (unchanged since " + hist[0].At.UTC().Format("2006-01-02 15:04") + ")"
		}
	}
	fmt.Fprintf(w, "Identity posture of %s at %s: score %d/100%s\n", r.Domain, r.At.UTC().Format(time.RFC3339), r.Score.Total, trend)
	var sev []string
	for s := schema.SeverityCritical; s >= schema.SeverityLow; s-- {
		sev = append(sev, fmt.Sprintf("%s %d (%s)", s, r.Score.Findings[s.String()], plural(r.Score.Failed[s.String()], "assessment")))
	}
	fmt.Fprintf(w, "Findings by severity: %s\n", strings.Join(sev, ", "))
	var cats []string
	for _, c := range r.Score.Categories {
		cats = append(cats, fmt.Sprintf("%s %d", c.Category, c.Score))
	}
	fmt.Fprintf(w, "By category: %s\n\n", strings.Join(cats, ", "))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tID\tTITLE\tENTITIES")
	for s := schema.SeverityCritical; s >= schema.SeverityInformational; s-- {
		for _, res := range r.Results {
			if res.Status == posture.StatusFailed && res.Assessment.Severity == s {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", s, res.Assessment.ID, res.Assessment.Title, len(res.Findings))
			}
		}
	}
	tw.Flush()
	passed, skipped := 0, 0
	for _, res := range r.Results {
		switch res.Status {
		case posture.StatusPassed:
			passed++
		case posture.StatusNotApplicable, posture.StatusError:
			skipped++
		}
	}
	fmt.Fprintf(w, "\n%d assessments passed, %d not applicable.", passed, skipped)
	var q []string
	for id, n := range res.Queued {
		q = append(q, fmt.Sprintf("%s %d", id, n))
	}
	if len(q) > 0 {
		fmt.Fprintf(w, " Records queued: %s.", strings.Join(sortedStrings(q), ", "))
	}
	if res.Report != "" {
		fmt.Fprintf(w, " Report: %s", res.Report)
	}
	fmt.Fprintln(w)
}

type postureJSON struct {
	Domain     string              `json:"domain"`
	SnapshotID string              `json:"snapshot_id"`
	At         time.Time           `json:"at"`
	Score      posture.Score       `json:"score"`
	Previous   *int                `json:"previous_score,omitempty"`
	Results    []postureResultJSON `json:"results"`
	Queued     map[string]int      `json:"queued"`
	Report     string              `json:"report,omitempty"`
}

type postureResultJSON struct {
	ID       string           `json:"id"`
	Title    string           `json:"title"`
	Severity schema.Severity  `json:"severity"`
	Category posture.Category `json:"category"`
	Status   string           `json:"status"`
	Entities int              `json:"entities"`
	Error    string           `json:"error,omitempty"`
	Findings []schema.Finding `json:"findings,omitempty"`
}

func writePostureJSON(w io.Writer, res pipeline.PostureResult, hist []posture.HistoryPoint) error {
	r := res.Run
	out := postureJSON{Domain: r.Domain, SnapshotID: r.SnapshotID, At: r.At, Score: r.Score, Queued: res.Queued, Report: res.Report}
	if len(hist) == 2 {
		prev := hist[0].Score.Total
		out.Previous = &prev
	}
	for _, x := range r.Results {
		out.Results = append(out.Results, postureResultJSON{ID: x.Assessment.ID, Title: x.Assessment.Title, Severity: x.Assessment.Severity,
			Category: x.Assessment.Category, Status: x.Status, Entities: len(x.Findings), Error: x.Err, Findings: x.Findings})
	}
	return printJSON(w, out)
}

type assessmentJSON struct {
	ID          string           `json:"id"`
	Title       string           `json:"title"`
	Severity    schema.Severity  `json:"severity"`
	Category    posture.Category `json:"category"`
	MDI         string           `json:"mdi,omitempty"`
	Technique   string           `json:"technique,omitempty"`
	Description string           `json:"description"`
	Remediation []string         `json:"remediation"`
}

func newPostureListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List the posture assessments",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			all := posture.Assessments()
			if asJSON {
				list := make([]assessmentJSON, 0, len(all))
				for _, a := range all {
					list = append(list, assessmentJSON{ID: a.ID, Title: a.Title, Severity: a.Severity, Category: a.Category, MDI: a.MDI, Technique: a.Technique, Description: a.Description, Remediation: a.Remediation})
				}
				return printJSON(out, list)
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSEVERITY\tCATEGORY\tTITLE")
			for _, a := range all {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.ID, a.Severity, a.Category, a.Title)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (id, title, severity, category, mdi, technique, description, remediation)")
	return cmd
}

func sortedStrings(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
