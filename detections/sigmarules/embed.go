package sigmarules

import "embed"

// FS holds every curated Sigma rule file (load with sigma.Load(FS, ".")).
//
//go:embed *.yml
var FS embed.FS
