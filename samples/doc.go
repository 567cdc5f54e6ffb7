// Package samples produces the data Castellan is tested and demonstrated with.
//
// It holds two things:
//
//   - a deterministic scenario generator ([Generate]) that builds a synthetic Active
//     Directory domain (CORP, corp.castellan.test), simulates a working day of benign
//     activity on it and, depending on the scenario, an attack chain on top. The result is
//     written as Windows Security and System events in JSON lines, one file per logging
//     host, in the two shapes the winjson source reads (Winlogbeat/ECS and flat NXLog), plus
//     a manifest.json holding the ground truth (attacker, compromised account, stages with
//     their ATT&CK techniques and times). The same [Options] always give byte-identical
//     files, so the output can back golden tests, demos and detection regression checks.
//   - small committed samples per detection rule under samples/rules/<rule-id>/, referenced
//     by the rules' own tests (maintained with the rule library, not generated here).
//
// The generator itself lives in package samples/scenario; this package is its public entry
// point and owns the on-disk formats.
package samples
