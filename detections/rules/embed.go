package rules

import (
	"embed"

	"github.com/castellan-itdr/castellan/detections/engine"
	"github.com/castellan-itdr/castellan/detections/entities"
)

// FS holds every built-in rule file.
//
//go:embed */*.yml
var FS embed.FS

// Load parses and compiles the built-in rules, sorted by id.
func Load() ([]*engine.Rule, error) { return engine.LoadDir(FS, ".") }

// SampleEntities is the estate the rule samples assume: the synthetic
// domain's domain controllers DC01–DC09 (DC01 and DC02 at 10.0.0.10 and
// 10.0.0.11 in the network captures) and one honeytoken account. The
// meta-test and `castellan rules test` enrich sample events with it, the way
// the connector enriches live events from its config.
func SampleEntities() *entities.Store {
	return entities.New(entities.Options{
		DomainControllers: []string{"DC01", "DC02", "DC03", "DC04", "DC05", "DC06", "DC07", "DC08", "DC09",
			"10.0.0.10", "10.0.0.11"}, // DC01 and DC02 in the network sensor samples
		Honeytokens: []string{"svc-honeypot"},
	})
}
