// Package samples produces the data Castellan is tested and demonstrated with.
//
// It holds two things:
//
//   - a deterministic scenario generator ([Generate]) that builds a synthetic Active
//     Directory domain (CORP, corp.castellan.test), simulates a working day of benign
//     activity on it and, depending on the scenario, an attack chain on top. The result is
//     written as Windows Security and System events, one file per logging host: JSON lines
//     in the two shapes the winjson source reads (Winlogbeat/ECS and flat NXLog), or real
//     EVTX files (package samples/evtxwrite) holding the same records, plus a manifest.json
//     holding the ground truth (attacker, compromised account, stages with their ATT&CK
//     techniques and times). [Options.Size] pads the data set to a target size with further
//     benign days, streamed with flat memory (1 GB of EVTX in seconds). The same [Options]
//     always give byte-identical files, so the output can back golden tests, demos,
//     detection regression checks and load tests.
//   - small committed samples per detection rule under samples/rules/<rule-id>/, referenced
//     by the rules' own tests (maintained with the rule library, not generated here).
//
// The generator itself lives in package samples/scenario; this package is its public entry
// point and owns the on-disk formats.
package samples
