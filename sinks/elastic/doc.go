// Package elastic is the Elasticsearch sink. It writes records as ECS
// documents (package mappings/ecs) with the _bulk API:
//
//   - alerts, events, findings and actions: op "create" with _id = record id
//     into the data streams logs-castellan.<kind>-<namespace>. A resend of a
//     stored record gets a per-item 409 version_conflict_engine_exception,
//     which counts as delivered, so redelivery after a crash stores nothing
//     twice. Alerts carry event.kind "alert", message, event.severity
//     21/47/73/99, event.risk_score and event.ingested, so Elastic Security's
//     prebuilt "External Alerts" rule (which reads logs-*) raises them as
//     Security alerts.
//   - incidents: op "index" with _id = incident id into the plain index
//     castellan-incidents-<namespace>. Every new version overwrites the last,
//     so the index always shows the latest version of each incident (data
//     streams are append-only, which is why incidents are not in one).
//
// Start checks the cluster (GET /) and installs the component and index
// templates of mappings/ecs unless install_templates is false. Push calls
// the same setup lazily if Start was not called or failed.
//
// # Why the _bulk call and not esutil.BulkIndexer
//
// delivery.Sender needs every Push to return only after every item of the
// batch has an outcome, and it needs the HTTP status and Retry-After of a
// failed request to choose between retry, wait, split (413) and dead-letter.
// BulkIndexer is asynchronous (workers, flush on size or interval), and on a
// whole-request failure (v8.19.7) it calls OnError and each item's OnFailure
// with an error string, without the status or headers. The sink therefore
// sends one (or, above flush_bytes, several sequential) _bulk requests per
// batch through the client's Bulk API and reads the items itself. The
// client's own retries are disabled (its default retries 502/503/504 three
// times, immediately, and ignores Retry-After): delivery owns retrying.
//
// # Outcomes
//
// Per item: 200/201 delivered; 409 on create delivered (already stored);
// 429 retryable (delivery.Throttled); 5xx retryable; any other 4xx
// permanent (dead-lettered with the error type and reason). Whole request:
// 401/403 permanent (with a hint about credentials and privileges); 413
// delivery.TooLarge (the sender halves the batch); 429 and 503 Throttled
// with the server's Retry-After; other 5xx, network errors and timeouts
// retryable; other 4xx permanent.
package elastic
