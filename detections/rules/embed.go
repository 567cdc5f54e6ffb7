package rules

import (
	"embed"

	"github.com/castellan-itdr/castellan/detections/engine"
)

// FS holds every built-in rule file.
//
//go:embed */*.yml
var FS embed.FS

// Load parses and compiles the built-in rules, sorted by id.
func Load() ([]*engine.Rule, error) { return engine.LoadDir(FS, ".") }
