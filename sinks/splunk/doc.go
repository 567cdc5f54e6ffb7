// Package splunk is the Splunk sink: records go to the HTTP Event Collector
// (HEC) JSON endpoint /services/collector/event as batches of concatenated
// event objects, one sourcetype per record kind (castellan:event, :alert,
// :incident, :finding, :action), with the record's own time and the CIM
// field names of mappings/cim added to the event, and the record id as the
// indexed field castellan_id (for dedup searches: HEC itself does not
// deduplicate, so a lost response can index a batch twice).
//
// It is a small client of its own on net/http (no maintained Go HEC library
// exists). Push classifies every HEC answer for sinks/delivery:
//
//   - 200 → delivered; with use_ack, only once /services/collector/ack says
//     so within ack_timeout (else the batch is retried);
//   - 400 codes 5, 6, 12, 13, 15 (data errors) with invalid-event-number k:
//     HEC indexed the events before k, so those are acknowledged, event k
//     is dead-lettered and only the events after it are retried; without
//     invalid-event-number the batch is split to isolate the bad event;
//   - 400 codes 7, 10, 11, 14, 16 and 401/403 → permanent (configuration),
//     with a hint;
//   - 413 → split the batch;
//   - 429 and 503 → throttled, honouring Retry-After; other 5xx and network
//     errors → retry.
//
// A batch larger than max_batch_bytes is sent as several requests; a
// failure part-way reports the earlier requests as delivered. The token is
// a secret.Secret and never appears in errors or logs.
package splunk
