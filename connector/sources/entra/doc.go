// Package entra is the Microsoft Entra ID source: it polls Microsoft Graph
// v1.0 for sign-ins (/auditLogs/signIns), directory audits
// (/auditLogs/directoryAudits), risk detections
// (/identityProtection/riskDetections) and risky users
// (/identityProtection/riskyUsers), normalizes each record with
// mappings/entra and hands batches to the pipeline.
//
// # Polling and exactly-once
//
// Each resource is windowed on its date property (createdDateTime,
// activityDateTime, detectedDateTime, riskLastUpdatedDateTime). A poll asks
// for "<date> ge <since − overlap>" — since being the newest record time
// already handed off, start_at before now on the first run — follows every
// @odata.nextLink, and drops records whose id it has seen. Graph ingests
// records minutes late (reference §4.4), so the overlap re-reads the recent
// past each poll: a record that shows up late with an older date is picked
// up by a later poll, exactly once, as long as it is no older than the
// overlap when it appears. The ids seen within the overlap window are
// remembered (at most MaxRecent per resource, the oldest forgotten first).
//
// Every batch carries the resource's checkpoint — key "graph:<resource>",
// JSON {"since": RFC 3339, "recent": {"<unix second>": [short ids]}} — and
// the source's state moves only after ConsumeBatch returned nil; a restart
// resumes from the committed checkpoint. Graph's sort order is not relied
// upon: batches handed off mid-listing commit their ids but not the
// watermark, which advances only when a listing completes, so a listing
// that fails half-way (a throttling storm, a 5xx) loses nothing and
// repeats nothing.
//
// # Throttling and errors
//
// Requests go through msgraph-sdk-go's middleware. 429, 503 and 504 are
// retried by kiota's retry handler, configured per request: up to 5 retries,
// each after the response's Retry-After (seconds or HTTP date), else
// exponential from 3 s, at most 180 s in all. A longer storm fails the
// poll: the failure is logged once and counted (source_poll_errors), and
// the next poll repeats the listing from the unchanged watermark. Other
// errors (401, 403 for a missing licence or permission, 400) are treated
// the same way; they surface as Graph's OData error code and message. Pages
// after the first map errors the same way (the page iterator's error
// mapping is registered, reference §4.6 item 6).
//
// # The Graph client
//
// The SDK sits behind the Pager interface; NewGraphPager is the
// msgraph-sdk-go implementation and the only code here that imports the
// SDK's packages (msgraph-sdk-go takes minutes and gigabytes to compile
// cold). Records are not decoded into the SDK's typed models and
// serialized back: the page type keeps each element of "value" as the JSON
// Graph sent (via kiota's parse tree), which keeps beta and unknown
// properties and the exact values, so a record maps identically whether it
// arrived through Graph or Event Hubs. msgraphcore.PageIterator follows the
// next links. The client lists the Graph host as a valid host (without it
// kiota silently sends no token) and authenticates with azidentity:
// client secret, client certificate (PEM or PKCS#12), managed identity
// (system- or user-assigned) or workload identity.
//
// Counters (label source="<id>"): source_events, source_decode_errors,
// source_poll_errors, source_duplicates (records re-read by the overlap and
// skipped), source_recent_evicted.
//
// The graphfake subpackage is a local double of these endpoints and of the
// Entra token endpoint.
package entra
