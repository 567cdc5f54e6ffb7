// Package posture assesses the identity security posture of an Active
// Directory domain (and, when collected, its Entra ID tenant) from a
// directory snapshot (mappings/directory): the misconfigurations Microsoft
// Defender for Identity reports as "identity security posture assessments",
// plus the checks PingCastle and Purple Knight users expect.
//
// Each Assessment has a stable id, a title, a severity, a category, what it
// checks, remediation steps, an ATT&CK technique where one applies and the
// MDI assessment it answers. Check runs every assessment on a snapshot and
// returns one schema.Finding per affected entity whose Evidence says how
// the problem was detected — the attribute value or ACE that proves it —
// which is what MDI users say its findings lack.
//
// Score turns a run into a 0–100 posture score with a per-category
// breakdown (see Score for the weighting); History keeps the scores in the
// state file so the trend is visible; WriteReport renders a self-contained
// HTML report.
package posture
