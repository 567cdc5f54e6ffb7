// Package engine compiles detection rules (YAML, see detections/rules) once
// into matchers and evaluates normalized events against them with bounded
// state.
//
// A rule is one of three kinds:
//
//   - match: one alert per event that satisfies the rule's where/not
//     predicates;
//   - threshold: count matching events per group_by key in a sliding
//     event-time window and fire when the count reaches the threshold
//     (with distinct: count distinct values of that field instead);
//   - distinct: shorthand for threshold with distinct.
//
// A rule's where block is a map of field path (see schema.Field) to a value
// or a list of values (any of); every entry must hold. A path may carry one
// modifier: field|contains, field|startswith, field|endswith, field|re (a Go
// regular expression) or field|exists (true/false). Comparisons ignore case;
// booleans compare as "true"/"false". An event is excluded when every entry
// of the optional not block holds. Rules with an event.kind equality are
// indexed by kind, so an event is only evaluated by the rules that can match
// it.
//
// After a stateful rule fires for a key, the key is suppressed until one
// full window has passed since the firing; then it re-arms. Per rule the
// engine holds at most Options.MaxKeysPerRule keys (least recently updated
// keys are evicted first) and per key only what the rule needs: the last
// threshold timestamps, or a capped value → last-seen map. Stale keys are
// expired lazily and by a periodic sweep driven by event time, never by the
// wall clock, so replays are deterministic: the same input gives the same
// alerts with the same ids.
//
// An Engine is not safe for concurrent use; the pipeline serializes calls.
// Its state can be saved with Snapshot and loaded with Restore.
package engine
