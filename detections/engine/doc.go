// Package engine compiles detection rules (YAML, see detections/rules) once
// into matchers and evaluates normalized events against them with bounded
// state.
//
// A rule is one of these kinds:
//
//   - match: one alert per event that satisfies the rule's where/not
//     predicates;
//   - threshold: count matching events per group_by key in a sliding
//     event-time window and fire when the count reaches the threshold
//     (with distinct: count distinct values of that field instead);
//   - distinct: shorthand for threshold with distinct;
//   - sequence: ordered steps (each with where/not, count, optional
//     distinct) for one group_by key within window, measured from the
//     first step's first evidence event; one alert per completed sequence,
//     then the key resets. While later steps are awaited the first step
//     keeps sliding, so an expired sequence restarts from fresh first-step
//     evidence;
//   - new_value: the first sighting of a new_value field value for a
//     group_by key, once learning has passed since the rule's first
//     matching event; values unseen for forget are forgotten, at most
//     max_values are kept per key (oldest evicted);
//   - missing_predecessor: an event (where) whose key has no predecessor
//     event within the preceding within. Events wait in a bounded FIFO
//     until the engine's event time passes their time plus grace; nothing
//     is judged before learning has passed since the rule's first event;
//     one alert per key per within. Flush judges what is still waiting at
//     the end of a finite input;
//   - travel: impossible travel. For each group_by key (a user) the last
//     located event (cloud.latitude / cloud.longitude) is held; a new one
//     within window of it that lies at least min_distance km away and
//     needs more than max_speed km/h to reach fires one alert (evidence:
//     both events; values: both places), then the key is suppressed for
//     window. Events without a location are skipped (SkippedEmptyValue).
//     Known VPN egress ranges are excluded with tuning exclude_ips.
//
// A rule's where block is a map of field path (see schema.Field) to a value
// or a list of values (any of); every entry must hold. A path may carry one
// modifier: field|contains, field|startswith, field|endswith, field|re (a Go
// regular expression) or field|exists (true/false). Comparisons ignore case;
// booleans compare as "true"/"false". An event is excluded when every entry
// of the optional not block holds; not may also be a list of such blocks,
// and then the event is excluded when any one of them holds (not:
// [{event.dataset: netsensor}, {user.name|endswith: $}]). Rules with an event.kind equality are
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
// Options.Tuning layers operator configuration over the rules: account,
// host and address exclusions (excluded events never reach a rule's
// state), threshold overrides and disabled rules; see Tuning. DiffAlerts
// compares two replays to show what a tuning would suppress.
//
// An Engine is not safe for concurrent use; the pipeline serializes calls.
// Its state can be saved with Snapshot and loaded with Restore.
package engine
