// Package rules is Castellan's built-in detection rule library: one YAML
// file per rule under detections/rules/<tactic-shortname>/<id>.yml, embedded
// in the binary. Rules are data (see detections/engine for the format);
// each names its evidence, its known false positives and the samples under
// samples/rules/<id>/ that its tests replay.
package rules
