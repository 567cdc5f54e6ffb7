// Command castellan is the Castellan CLI: the daemon (run), the offline
// replay, the demo, config validation, rule listing and testing, and the
// sample generator. It is the only place that calls os.Exit.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// exitError carries a process exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }

func main() {
	root := newRootCmd()
	if err := root.Execute(); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			if ee.err != nil && ee.err.Error() != "" {
				fmt.Fprintln(os.Stderr, "castellan:", ee.err)
			}
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "castellan:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "castellan",
		Short:         "Identity threat detection and response for Active Directory and Entra ID",
		Long:          "Castellan ingests on-prem AD and Entra ID telemetry, detects identity attacks, correlates them into\nincidents mapped to MITRE ATT&CK, and delivers them to your SIEM.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newDemoCmd(),
		newReplayCmd(),
		newRunCmd(),
		newValidateCmd(),
		newRulesCmd(),
		newSamplesCmd(),
		newSinksCmd(),
		newEvalCmd(),
		newPostureCmd(),
		newVersionCmd(),
		newIdentitiesCmd(),
		newRespondCmd(),
	)
	return root
}

// printJSON writes v as indented JSON (the commands' --json output).
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
