package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/castellan-itdr/castellan/samples"
	"github.com/castellan-itdr/castellan/samples/pcapgen"
)

func newSamplesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "samples", Short: "Generate synthetic telemetry"}
	var o samples.Options
	var size string
	gen := &cobra.Command{
		Use:   "generate --scenario NAME --seed N --out DIR [--format json|evtx|pcap] [--size 1GB]",
		Short: "Write a deterministic scenario (benign activity plus attack chains) as JSON lines or real EVTX",
		Long: "Writes one file per logging host (Winlogbeat- and NXLog-shaped JSON lines, or EVTX with --format evtx)\n" +
			"and manifest.json with the ground truth. --size repeats benign days after the scenario's day until the\n" +
			"files reach that size (e.g. 1GB), for benchmarks; output streams, memory stays flat.\n" +
			"--format pcap writes DIR/dc-traffic.pcap instead: a domain controller's network traffic (DNS, Kerberos,\n" +
			"LDAP, SMB2 with NTLM) for the network sensor benchmarks (--size, default 100MB).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Format == "pcap" {
				return generatePcap(cmd, o, size)
			}
			if size != "" {
				n, err := samples.ParseSize(size)
				if err != nil {
					return exitError{code: 2, err: err}
				}
				o.Size = n
			}
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
	gen.Flags().StringVar(&o.Format, "format", "json", "output format: json, evtx or pcap")
	gen.Flags().StringVar(&size, "size", "", "target total size, e.g. 500MB or 1GB (default: one day)")
	_ = gen.MarkFlagRequired("out")
	cmd.AddCommand(gen)
	return cmd
}

// generatePcap writes the synthetic DC capture of --format pcap.
func generatePcap(cmd *cobra.Command, o samples.Options, size string) error {
	n := int64(100e6)
	if size != "" {
		var err error
		if n, err = samples.ParseSize(size); err != nil {
			return exitError{code: 2, err: err}
		}
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(o.OutDir, "dc-traffic.pcap")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	st, err := pcapgen.Generate(f, pcapgen.Options{Size: n, Seed: o.Seed})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %d bytes, %d packets, %d client sessions\n", path, st.Bytes, st.Packets, st.Rounds)
	return nil
}
