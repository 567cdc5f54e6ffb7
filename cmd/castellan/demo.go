package main

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/castellan-itdr/castellan/connector/config"
	"github.com/castellan-itdr/castellan/connector/pipeline"
	"github.com/castellan-itdr/castellan/detections/correlate"
	"github.com/castellan-itdr/castellan/mappings/schema"
	"github.com/castellan-itdr/castellan/samples"
)

//go:embed demo.yaml
var demoConfig []byte

func newDemoCmd() *cobra.Command {
	var dir, scenario string
	var seed int64
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Generate a synthetic domain's day with an attack, run the full pipeline, print the incidents",
		Long: "Generates the default scenario (benign activity of a few hundred users plus a multi-stage attack)\n" +
			"into a directory, runs the daemon's pipeline over it with an embedded config (no SIEM needed),\n" +
			"and prints the incidents it found and where the JSON lines went.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if dir == "" {
				d, err := os.MkdirTemp("", "castellan-demo-")
				if err != nil {
					return err
				}
				dir = d
			}
			dir, _ = filepath.Abs(dir)
			man, err := samples.Generate(samples.Options{Scenario: scenario, Seed: seed, OutDir: filepath.Join(dir, "input")})
			if err != nil {
				return err
			}
			total := 0
			for _, f := range man.Files {
				total += f.Events
			}
			cloud := ""
			if man.Cloud != nil {
				total += man.Cloud.Events
				cloud = fmt.Sprintf(" and %d Entra ID sign-ins", man.Cloud.Events)
			}
			fmt.Fprintf(out, "Generated scenario %q (seed %d): %d events from %d hosts%s, %d users → %s\n",
				man.Scenario, man.Seed, total, len(man.Files), cloud, man.Users, filepath.Join(dir, "input"))

			os.Setenv("CASTELLAN_DEMO_DIR", dir)
			cfg, err := config.Parse(demoConfig, "demo.yaml (embedded)", pipeline.Registry())
			if err != nil {
				return err
			}
			p, err := pipeline.New(cfg, pipeline.Options{Logger: newLogger(cfg.Log)})
			if err != nil {
				return err
			}
			start := time.Now()
			if err := p.Run(cmd.Context(), time.Minute); err != nil {
				return err
			}
			elapsed := time.Since(start)
			outFile := filepath.Join(dir, "output", "castellan.jsonl")
			alerts, incidents, err := readOutput(outFile)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "Pipeline: %d events → %d alerts → %d incident(s) in %s\n\n", total, alerts, len(incidents), elapsed.Round(time.Millisecond))
			printIncidents(out, incidents)
			fmt.Fprintf(out, "\nJSON lines (alerts and every incident version): %s\n", outFile)
			fmt.Fprintf(out, "Replay the same input offline:  castellan replay --dc DC01,DC02 %s\n", filepath.Join(dir, "input"))
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "working directory (default: a new temporary directory)")
	cmd.Flags().StringVar(&scenario, "scenario", "default", "scenario to generate")
	cmd.Flags().Int64Var(&seed, "seed", 1, "random seed")
	return cmd
}

// readOutput reads the sink's JSON lines: it counts alerts and keeps the
// latest version of each incident.
func readOutput(path string) (alerts int, incidents []schema.Incident, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	byID := map[string]schema.Incident{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var head struct {
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal(sc.Bytes(), &head); err != nil {
			return 0, nil, fmt.Errorf("%s: %w", path, err)
		}
		switch head.Kind {
		case schema.RecordAlert:
			alerts++
		case schema.RecordIncident:
			var inc schema.Incident
			if err := json.Unmarshal(sc.Bytes(), &inc); err != nil {
				return 0, nil, fmt.Errorf("%s: %w", path, err)
			}
			if prev, ok := byID[inc.ID]; !ok || inc.Version > prev.Version {
				byID[inc.ID] = inc
			}
		}
	}
	return alerts, pipeline.FinalIncidents(byID), sc.Err()
}

func printIncidents(out io.Writer, incidents []schema.Incident) {
	if len(incidents) == 0 {
		fmt.Fprintln(out, "No incidents.")
		return
	}
	sort.SliceStable(incidents, func(i, j int) bool { return incidents[i].Severity > incidents[j].Severity })
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INCIDENT\tSEVERITY\tIDENTITY\tALERTS\tTACTICS\tTECHNIQUES\tFIRST SEEN\tLAST SEEN")
	for _, inc := range incidents {
		var tactics, techniques []string
		for _, t := range inc.Threat.Tactics {
			tactics = append(tactics, cmpOr(t.Name, t.ID))
		}
		for _, t := range inc.Threat.Techniques {
			techniques = append(techniques, t.ID)
		}
		identity := correlate.Primary(inc)
		if len(inc.Priority) > 0 { // the identity most at risk
			identity = inc.Priority[0].Identity
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", inc.ID[:12], inc.Severity, identity, len(inc.Alerts),
			strings.Join(tactics, ", "), strings.Join(techniques, ", "),
			inc.FirstSeen.UTC().Format("2006-01-02 15:04:05"), inc.LastSeen.UTC().Format("15:04:05"))
	}
	tw.Flush()
	for _, inc := range incidents {
		fmt.Fprintf(out, "\n%s  %s (v%d, %s)\n", inc.ID[:12], inc.Title, inc.Version, inc.Status)
		fmt.Fprintf(out, "  users: %s   ips: %s   hosts: %s\n", list(inc.Entities.Users), list(inc.Entities.IPs), list(inc.Entities.Hosts))
		cloud := 0
		for _, a := range inc.Alerts {
			plane := "on-prem"
			if isCloudRule(a.RuleID) {
				plane = "cloud"
				cloud++
			}
			fmt.Fprintf(out, "  %s  %-7s %-9s %-10s %s\n", a.Timestamp.UTC().Format("15:04:05"), plane, a.Technique, a.Severity, a.Title)
		}
		if cloud > 0 && cloud < len(inc.Alerts) {
			fmt.Fprintf(out, "  hybrid: %d on-prem and %d cloud alert(s) on one identity chain\n", len(inc.Alerts)-cloud, cloud)
		}
		for i, p := range inc.Priority {
			if i == 3 {
				fmt.Fprintf(out, "  priority: … and %d more identities (castellan identities top)\n", len(inc.Priority)-i)
				break
			}
			var factors []string
			for _, f := range p.Factors {
				factors = append(factors, fmt.Sprintf("%s %s×%d=%d", f.RuleID, f.Severity, f.Count, f.Points))
			}
			fmt.Fprintf(out, "  priority: %s %d (percentile %d): %s\n", p.Identity, p.Score, p.Percentile, strings.Join(factors, ", "))
		}
	}
}

// isCloudRule reports whether a rule id names a cloud (Entra ID) rule: the
// built-in library names them cloud-*.
func isCloudRule(id string) bool { return strings.HasPrefix(id, "cloud-") }

func list(v []string) string {
	if len(v) == 0 {
		return "-"
	}
	return strings.Join(v, ", ")
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
