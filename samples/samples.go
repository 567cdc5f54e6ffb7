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
}

// Manifest describes a generated data set and holds its ground truth. Generate writes it as
// manifest.json next to the event files.
type Manifest struct {
	Scenario string       `json:"scenario"`
	Seed     int64        `json:"seed"`
	Files    []FileInfo   `json:"files"`
	Users    int          `json:"users"` // benign user accounts in the domain
	Attacker AttackerInfo `json:"attacker"`
	Stages   []Stage      `json:"stages"`
}

// Formats of generated files.
const (
	FormatWinlogbeat = scenario.FormatWinlogbeat // Winlogbeat / ECS document per line
	FormatNXLog      = scenario.FormatNXLog      // flat NXLog im_msvistalog JSON per line
)

// FileInfo describes one generated JSON-lines file.
type FileInfo struct {
	Path   string `json:"path"`   // relative to OutDir
	Format string `json:"format"` // FormatWinlogbeat or FormatNXLog
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

// Scenarios returns the names of the available scenarios, sorted. "default" is a benign
// working day with an attack chain on top; "benign" is the same day without the attack.
func Scenarios() []string { return scenario.Names() }

// Generate builds the scenario and writes one JSON-lines file per logging host plus
// manifest.json into opts.OutDir. Files are sorted by time, record numbers increase within
// each file, and the same Options always produce byte-identical output.
func Generate(opts Options) (Manifest, error) {
	name := opts.Scenario
	if name == "" {
		name = "default"
	}
	if !slices.Contains(Scenarios(), name) {
		return Manifest{}, fmt.Errorf("samples: %w %q (known: %v)", ErrUnknownScenario, name, Scenarios())
	}
	if opts.OutDir == "" {
		return Manifest{}, errors.New("samples: OutDir is required")
	}
	res, err := scenario.Build(name, opts.Seed, opts.Start)
	if err != nil {
		return Manifest{}, fmt.Errorf("samples: %w", err)
	}
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return Manifest{}, fmt.Errorf("samples: create output directory: %w", err)
	}

	m := Manifest{Scenario: name, Seed: opts.Seed, Users: len(res.Domain.Users),
		Files: []FileInfo{}, Stages: []Stage{}}
	byFile := make(map[string][]scenario.Event, len(res.Files))
	for _, e := range res.Events {
		byFile[e.File] = append(byFile[e.File], e)
	}
	for _, f := range res.Files {
		evs := byFile[f.Name]
		slices.SortStableFunc(evs, func(a, b scenario.Event) int { return a.Time.Compare(b.Time) })
		data := encodeFile(f, evs)
		if err := os.WriteFile(filepath.Join(opts.OutDir, f.Name), data, 0o644); err != nil {
			return Manifest{}, fmt.Errorf("samples: write %s: %w", f.Name, err)
		}
		m.Files = append(m.Files, FileInfo{Path: f.Name, Format: f.Format, Host: f.Computer, Events: len(evs)})
	}
	a := res.Attacker
	m.Attacker = AttackerInfo{SourceIP: a.SourceIP, SourceHost: a.SourceHost,
		CompromisedUser: a.CompromisedUser, Domain: a.Domain, ASREPRoasted: a.ASREPRoasted,
		Kerberoasted: a.Kerberoasted}
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
