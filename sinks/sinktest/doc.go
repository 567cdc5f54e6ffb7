// Package sinktest is the shared contract every Castellan sink passes, plus
// helpers for the local doubles of the SIEM APIs (sub-packages hecfake,
// esfake, dcefake).
//
// A sink is tested by describing it in a Harness: how to start a fresh
// Double (a local fake of the target API, driven by the test), how to
// build the sink's delivery.Pusher pointed at it, and the sink's encoder
// (Harness.Encode: records are queued through it, as the pipeline does). CheckContract then runs the
// subtests below, each against a fresh double, with a real delivery.Queue in
// a bbolt file in t.TempDir() and a real delivery.Sender with fast backoff
// (MaxItems 100, MinBackoff 10ms, MaxBackoff 200ms):
//
//  1. deliver: 1,000 alerts and 20 incidents; every id accepted exactly once,
//     nothing dead-lettered.
//  2. retry-503: FailNext(3, 503) → all delivered exactly once.
//  3. retry-after-429: FailNext(1, 429, Retry-After 1s) → the next push starts
//     at least 1s after the throttled one ended (measured around the
//     Pusher); all delivered exactly once.
//  4. reject: Reject(2 ids) → exactly those 2 are dead-lettered; every other
//     id is delivered exactly once; the rejected ids are not stored.
//  5. restart: after 3 successful pushes the double fails (503) for 1.5s; the
//     sender is shut down and the db closed while records are queued; the db
//     is reopened with a new queue, a new pusher and a new sender → all
//     delivered exactly once.
//  6. mixed-formats (sinks with an encoder): records queued as schema JSON
//     (before an upgrade, or replayed dead letters) between records in the
//     sink's own format; all delivered exactly once, nothing dead-lettered.
//  7. lost-responses: DropResponses(2) → all delivered; exactly once where
//     the double DedupesByID, at least once otherwise; nothing dead-lettered.
//
// "Exactly once" is checked against Double.Accepted: a sink that resends
// records the target already stored (for example a whole HEC batch after an
// invalid-event-number) fails it even against a target that does not
// deduplicate.
//
// CheckFaultRecovery is the long acceptance test: n alerts flow while the
// double fails with 503 or 429 for faultFor; after the recovery the process
// is "killed" right after the target stored a batch and before the queue
// removed it, then restarted from the same file. All records arrive, none
// twice where the target deduplicates, nothing is dead-lettered.
//
// Faults implements the fault-injection half of Double (FailNext, FailFor,
// DropResponses) so a double only has to call Faults.Next at the top of its
// handler and write its API's own error body.
package sinktest
