package config

import (
	"fmt"
	"github.com/castellan-itdr/castellan/detections/engine"
	"log/slog"
	"os"
	"time"
)

// Defaults applied by [Default] and by [Parse] to every setting the file omits.
const (
	DefaultStatePath        = "castellan.db"
	DefaultLogLevel         = "info"
	DefaultLogFormat        = "text"
	DefaultWindow           = 24 * time.Hour
	DefaultMaxOpenIncidents = 10000
	DefaultMaxKeysPerRule   = 100000
	// BuiltinRules is the detections.rules entry naming the embedded rule
	// library; every other entry is a directory.
	BuiltinRules = "builtin"
)

// Validator is implemented by component configs. Validate reports every
// problem it finds, preferably as errors.Join of errors worded
// "field: problem" (or *FieldError values); [Config.Validate] prefixes each
// with the component's path. Validate must not touch the network.
type Validator interface{ Validate() error }

// Registry maps a component type ("winjson", "file", "stdout", ...) to a
// constructor of its default config: a pointer to a struct with yaml tags
// that implements Validator. Each call must return a fresh value. The
// caller (the pipeline's explicit component list) builds it; this package
// has no global registry.
type Registry struct {
	Sources map[string]func() Validator
	Sinks   map[string]func() Validator
	// Posture maps the collectors of the posture section ("ldap", and
	// "entra" when one is registered) to their default configs.
	Posture map[string]func() Validator
}

// Config is the whole decoded configuration.
type Config struct {
	State State `yaml:"state"`
	Log   Log   `yaml:"log"`
	// Sources is keyed by component id ("type" or "type/name"), decoded
	// through Registry.Sources.
	Sources     map[string]Component `yaml:"sources"`
	Detections  Detections           `yaml:"detections"`
	Correlation Correlation          `yaml:"correlation"`
	Metrics     Metrics              `yaml:"metrics"`
	// Sinks is keyed by component id, decoded through Registry.Sinks.
	Sinks map[string]Component `yaml:"sinks"`
	// Response configures response actions and their guard rails.
	Response Response `yaml:"response"`
	// Posture configures identity posture assessment (zero without a
	// posture section).
	Posture Posture `yaml:"posture,omitempty"`
}

// Component is one configured source or sink.
type Component struct {
	ID     string    // as written in the file: "type" or "type/name"
	Type   string    // the registry key, e.g. "winjson"
	Name   string    // the part after "/", or "" for a bare type
	Config Validator // the component's own config, from its Registry constructor
}

// MarshalYAML writes the component as its own config, so a marshalled
// Config reads like the file it came from (secrets redacted).
func (c Component) MarshalYAML() (any, error) { return c.Config, nil }

// State configures the embedded state store.
type State struct {
	// Path of the bbolt file; default "castellan.db".
	Path string `yaml:"path"`
}

// Log configures the process logger.
type Log struct {
	Level  string `yaml:"level"`  // debug | info | warn | error; default info
	Format string `yaml:"format"` // text | json; default text
}

// SlogLevel returns Level as a slog.Level (info for an unknown level, which
// Validate rejects anyway).
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// Detections configures the detection engine.
type Detections struct {
	// Rules lists rule sets: "builtin" (the embedded library) or directories.
	Rules []string `yaml:"rules"`
	// Sigma lists Sigma rule sets (SigmaHQ format) run beside the native
	// rules: "builtin" (the curated set shipped with Castellan) or
	// directories. Default [builtin].
	Sigma []string `yaml:"sigma"`
	// Disabled lists rule ids that are not loaded.
	Disabled []string `yaml:"disabled"`
	// DomainControllers lists DC account or host names (without "$") and
	// DC IP addresses; events by these accounts get user.is_dc set, network
	// events source/destination/host.is_dc by address.
	DomainControllers []string `yaml:"domain_controllers"`
	// Honeytokens lists account names whose any use is suspicious.
	Honeytokens []string `yaml:"honeytokens"`
	// Identities is a static identity mapping file (YAML or JSON) linking
	// Entra ID users to their AD accounts — users: [{upn, object_id,
	// on_prem_sid, sam_account_name, domain}] — so the cloud events of a
	// listed user carry the on-prem account and correlate with on-prem
	// alerts. Links are also learned from events (on-prem SIDs, the
	// sign-ins' onPremisesSecurityIdentifier). Read at startup.
	Identities string `yaml:"identities"`
	// MaxKeysPerRule bounds the state one rule keeps (group keys).
	MaxKeysPerRule int `yaml:"max_keys_per_rule"`
	// Tuning maps a rule id (or "*" for every rule) to exclusions and a
	// threshold override; rule ids are checked against the loaded rules.
	Tuning map[string]engine.RuleTuning `yaml:"tuning"`
}

// Metrics configures the daemon's HTTP endpoint for Prometheus metrics
// (/metrics) and health (/healthz).
type Metrics struct {
	// Listen is "host:port"; empty disables the endpoint.
	Listen string `yaml:"listen"`
}

// Correlation configures alert → incident correlation.
type Correlation struct {
	// Window is how long an incident stays open for new alerts; default 24h.
	Window time.Duration `yaml:"window"`
	// MaxOpenIncidents bounds the open incidents kept in state.
	MaxOpenIncidents int `yaml:"max_open_incidents"`
}

// DefaultDisabled lists built-in rules that are off unless a config enables
// them by setting detections.disabled explicitly:
//   - golden-ticket-tgs-without-tgt needs the Security log of EVERY domain
//     controller (a DC only logs the TGTs it issued); with some DCs missing
//     it alerts on every ticket whose TGT came from another DC.
//   - net-golden-ticket-tgs-without-as is its network-sensor twin: it needs
//     a sensor on every DC (a TGS exchange on one DC for a TGT another DC
//     issued looks the same as a forged TGT).
func DefaultDisabled() []string {
	return []string{"golden-ticket-tgs-without-tgt", "net-golden-ticket-tgs-without-as"}
}

// Default returns a configuration with every default filled in and no
// sources or sinks (so it does not pass Validate until a sink is added).
func Default() *Config {
	return &Config{
		State:       State{Path: DefaultStatePath},
		Log:         Log{Level: DefaultLogLevel, Format: DefaultLogFormat},
		Sources:     map[string]Component{},
		Detections:  Detections{Rules: []string{BuiltinRules}, Sigma: []string{BuiltinRules}, Disabled: DefaultDisabled(), MaxKeysPerRule: DefaultMaxKeysPerRule},
		Correlation: Correlation{Window: DefaultWindow, MaxOpenIncidents: DefaultMaxOpenIncidents},
		Sinks:       map[string]Component{},
		Response:    DefaultResponse(),
	}
}

// Load reads the file at path and parses it with [Parse]. It does not call
// Validate.
func Load(path string, reg Registry) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(data, path, reg)
}

// Parse decodes data strictly, after substituting ${env:NAME} references
// in scalar values, on top of [Default]. file names the source in error
// messages. All decode problems found are returned joined, each a
// *DecodeError with file, line and path, in file order. Parse does not call
// Validate.
func Parse(data []byte, file string, reg Registry) (*Config, error) {
	return parse(data, file, reg, os.LookupEnv)
}
