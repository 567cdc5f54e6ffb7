package schema

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Severity orders alerts, incidents and findings. The zero value is
// informational.
type Severity int

// Severities, lowest first.
const (
	SeverityInformational Severity = iota
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = [...]string{"informational", "low", "medium", "high", "critical"}

// String returns the lower-case name.
func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity parses a severity name (case-insensitive; "info" accepted).
func ParseSeverity(name string) (Severity, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "info" {
		return SeverityInformational, nil
	}
	for i, s := range severityNames {
		if s == n {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want informational, low, medium, high or critical)", name)
}

// Raise returns the next severity up, capped at critical.
func (s Severity) Raise() Severity {
	if s >= SeverityCritical {
		return SeverityCritical
	}
	return s + 1
}

// RiskScore maps a severity onto ECS event.risk_score (0-100).
func (s Severity) RiskScore() int {
	return [...]int{10, 21, 47, 73, 99}[max(0, min(int(s), 4))]
}

// MarshalJSON writes the name.
func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads the name.
func (s *Severity) UnmarshalJSON(b []byte) error {
	var n string
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	v, err := ParseSeverity(n)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// MarshalText / UnmarshalText let Severity be used in YAML and map keys.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses the name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
