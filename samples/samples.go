package samples

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/castellan-itdr/castellan/samples/scenario"
)

// Options selects what [Generate] produces.
type Options struct {
	Scenario string    // one of [Scenarios]; "" means "default"
	Seed     int64     // drives every random choice
	OutDir   string    // created if missing; existing files of the same names are replaced
	Start    time.Time // start of the simulated day; zero means 2026-03-02T00:00:00Z
	Format   string    // OutputJSON ("" too) or OutputEVTX
	// Size is the target size in bytes of all event files together. Zero writes one day of
	// the scenario. Otherwise the scenario's day is followed by copies of its benign
	// activity on the next days (times shifted by whole days, record numbers continuing)
	// until the files reach Size; they end up less than 64 KiB above it for EVTX and one
	// event line above it for JSON. The scenario's own day is always written in full.
	Size int64
}

// Output formats of [Options.Format].
const (
	OutputJSON = "json" // JSON lines, Winlogbeat or NXLog shaped per host
	OutputEVTX = "evtx" // Windows XML Event Log files, as Windows writes them
)

// Manifest describes a generated data set and holds its ground truth. Generate writes it as
// manifest.json next to the event files.
type Manifest struct {
	Scenario string       `json:"scenario"`
	Seed     int64        `json:"seed"`
	Files    []FileInfo   `json:"files"`
	Users    int          `json:"users"` // benign user accounts in the domain
	Attacker AttackerInfo `json:"attacker"`
	Stages   []Stage      `json:"stages"`
	// Cloud is the Entra ID sign-in file (the domain is synchronized to
	// Entra ID), absent when the scenario has none.
	Cloud *CloudInfo `json:"cloud,omitempty"`
}

// Formats of generated files.
const (
	FormatWinlogbeat = scenario.FormatWinlogbeat // Winlogbeat / ECS document per line
	FormatNXLog      = scenario.FormatNXLog      // flat NXLog im_msvistalog JSON per line
	FormatEVTX       = "evtx"                    // Windows XML Event Log
)

// FileInfo describes one generated event file.
type FileInfo struct {
	Path   string `json:"path"`   // relative to OutDir
	Format string `json:"format"` // FormatWinlogbeat, FormatNXLog or FormatEVTX
	Host   string `json:"host"`   // FQDN of the logging host
	Events int    `json:"events"`
}

// AttackerInfo is the ground truth about the attack chain. It is zero for scenarios
// without an attack.
type AttackerInfo struct {
	SourceIP        string   `json:"source_ip"`
	SourceHost      string   `json:"source_host"`
	CompromisedUser string   `json:"compromised_user"` // sAMAccountName
	Domain          string   `json:"domain"`           // DNS domain name
	ASREPRoasted    string   `json:"asrep_roasted,omitempty"`
	Kerberoasted    []string `json:"kerberoasted,omitempty"` // service accounts, sorted
	// CloudAccount is the Kerberoasted account then used to sign in to
	// Entra ID from abroad (CloudIP): the hybrid step of the attack.
	CloudAccount string `json:"cloud_account,omitempty"`
	CloudIP      string `json:"cloud_ip,omitempty"`
}

// Stage is one step of the attack chain with its MITRE ATT&CK technique.
type Stage struct {
	Name      string    `json:"name"`
	Technique string    `json:"technique"`
	Start     time.Time `json:"start"` // first event of the stage
	End       time.Time `json:"end"`   // last event of the stage
	Events    int       `json:"events"`
}

// ManifestFile is the name of the manifest Generate writes into OutDir.
const ManifestFile = "manifest.json"

// ErrUnknownScenario is returned by Generate for a scenario name not in [Scenarios].
var ErrUnknownScenario = errors.New("unknown scenario")

// ErrUnknownFormat is returned by Generate for an output format other than OutputJSON and
// OutputEVTX.
var ErrUnknownFormat = errors.New("unknown output format")

// Scenarios returns the names of the available scenarios, sorted. "default" is a benign
// working day with an attack chain on top; "benign" is the same day without the attack.
func Scenarios() []string { return scenario.Names() }

// Generate builds the scenario and writes one event file per logging host (JSON lines or
// EVTX, see [Options.Format]), the day's Entra ID sign-ins (CloudFile, Graph JSON lines)
// and manifest.json into opts.OutDir. Files are sorted by
// time, record numbers increase within each file, and the same Options always produce
// byte-identical output. Output is streamed: memory stays flat whatever opts.Size.
func Generate(opts Options) (Manifest, error) {
	name := opts.Scenario
	if name == "" {
		name = "default"
	}
	if !slices.Contains(Scenarios(), name) {
		return Manifest{}, fmt.Errorf("samples: %w %q (known: %v)", ErrUnknownScenario, name, Scenarios())
	}
	format := opts.Format
	if format == "" {
		format = OutputJSON
	}
	if format != OutputJSON && format != OutputEVTX {
		return Manifest{}, fmt.Errorf("samples: %w %q (known: %s, %s)", ErrUnknownFormat, opts.Format, OutputJSON, OutputEVTX)
	}
	if opts.OutDir == "" {
		return Manifest{}, errors.New("samples: OutDir is required")
	}
	if opts.Size < 0 {
		return Manifest{}, fmt.Errorf("samples: negative Size %d", opts.Size)
	}
	res, err := scenario.Build(name, opts.Seed, opts.Start)
	if err != nil {
		return Manifest{}, fmt.Errorf("samples: %w", err)
	}
	var benign *scenario.Result
	if opts.Size > 0 {
		// Same seed, same domain and record numbering: the scenario's day without the attack.
		if benign, err = scenario.Build("benign", opts.Seed, opts.Start); err != nil {
			return Manifest{}, fmt.Errorf("samples: %w", err)
		}
	}
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return Manifest{}, fmt.Errorf("samples: create output directory: %w", err)
	}

	m := Manifest{Scenario: name, Seed: opts.Seed, Users: len(res.Domain.Users),
		Files: []FileInfo{}, Stages: []Stage{}}
	counts, err := writeEvents(opts.OutDir, format, opts.Size, res, benign)
	if err != nil {
		return Manifest{}, fmt.Errorf("samples: %w", err)
	}
	for i, f := range res.Files {
		fi := FileInfo{Path: f.Name, Format: f.Format, Host: f.Computer, Events: counts[i]}
		if format == OutputEVTX {
			fi.Path, fi.Format = evtxName(f.Name), FormatEVTX
		}
		m.Files = append(m.Files, fi)
	}
	a := res.Attacker
	m.Attacker = AttackerInfo{SourceIP: a.SourceIP, SourceHost: a.SourceHost,
		CompromisedUser: a.CompromisedUser, Domain: a.Domain, ASREPRoasted: a.ASREPRoasted,
		Kerberoasted: a.Kerberoasted, CloudAccount: a.CloudAccount, CloudIP: a.CloudIP}
	if len(res.Cloud) > 0 {
		ci, err := writeCloud(opts.OutDir, res.Cloud)
		if err != nil {
			return Manifest{}, fmt.Errorf("samples: %w", err)
		}
		m.Cloud = &ci
	}
	for _, s := range res.Stages {
		m.Stages = append(m.Stages, Stage{Name: s.Name, Technique: s.Technique,
			Start: s.Start, End: s.End, Events: s.Events})
	}
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Manifest{}, fmt.Errorf("samples: encode manifest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(opts.OutDir, ManifestFile), append(body, '\n'), 0o644); err != nil {
		return Manifest{}, fmt.Errorf("samples: write manifest: %w", err)
	}
	return m, nil
}
